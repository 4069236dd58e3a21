"""The code location: assembles assets, checks, jobs, sensors, schedules, resources and executor."""

from importlib.metadata import version

from dagster import AssetSpec, Definitions, load_assets_from_modules

from wessley_dagster.assets import bundle, chunks, embeddings, exports, extraction, indexes, job_record
from wessley_dagster.checks import ALL_CHECKS
from wessley_dagster.execution import build_executor, tune_collector
from wessley_dagster.jobs import ingest_job, quota_reset_job
from wessley_dagster.resources.profiles import deployment_resources
from wessley_dagster.schedules import monthly_quota_reset, nightly_reconcile
from wessley_dagster.sensors import ingest_failure_sensor, ingest_success_sensor, upload_sensor
from wessley_dagster.settings import current_settings

PACKAGE_VERSION = version("wessley-dagster")


def _versioned(spec: AssetSpec) -> AssetSpec:
    """A code version on every asset: its own if it has one, else the package's."""
    return spec.replace_attributes(code_version=spec.code_version or PACKAGE_VERSION)


tune_collector()
defs = Definitions(
    assets=[
        a.map_asset_specs(_versioned)
        for a in load_assets_from_modules([bundle, extraction, chunks, embeddings, indexes, exports, job_record])
    ],
    asset_checks=ALL_CHECKS,
    jobs=[ingest_job, quota_reset_job],
    sensors=[upload_sensor, ingest_success_sensor, ingest_failure_sensor],
    schedules=[nightly_reconcile, monthly_quota_reset],
    resources=deployment_resources(),
    executor=build_executor(current_settings()),
)
