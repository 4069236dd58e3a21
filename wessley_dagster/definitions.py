"""The code location: assembles assets, checks, jobs, sensors, schedules and resources."""

from dagster import Definitions, in_process_executor, load_assets_from_modules

from wessley_dagster.assets import bundle, chunks, exports, extraction, indexes, job_record
from wessley_dagster.checks import ALL_CHECKS
from wessley_dagster.jobs import ingest_job
from wessley_dagster.resources import build_resources
from wessley_dagster.schedules import nightly_reconcile
from wessley_dagster.sensors import ingest_failure_sensor, ingest_success_sensor, upload_sensor

defs = Definitions(
    assets=load_assets_from_modules([bundle, extraction, chunks, indexes, exports, job_record]),
    asset_checks=ALL_CHECKS,
    jobs=[ingest_job],
    sensors=[upload_sensor, ingest_success_sensor, ingest_failure_sensor],
    schedules=[nightly_reconcile],
    resources=build_resources(),
    # One process per run rather than per step: on a small machine starting a process per step
    # cost more than the steps, and the embedded stores take one writer at a time anyway.
    executor=in_process_executor,
)
