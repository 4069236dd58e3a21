"""Artifacts IO manager: every per-job asset value as a file under `<project>/<job>/` in the
storage chain (S3 → Supabase Storage → local folder). Values are serialised with pydantic from
the asset's type annotation, so reading back yields the same typed objects."""

from typing import Any, get_args, get_origin

from dagster import ConfigurableIOManager, InputContext, MetadataValue, OutputContext, ResourceDependency
from pydantic import TypeAdapter

from wessley_dagster.domain.bundle import split_partition_key
from wessley_dagster.domain.exports import ExportFile
from wessley_dagster.resources.storage import StorageResource
from wessley_dagster.retries import retry_only_transient
from wessley_dagster.stores.objects import StoredObject

EXPORTS = "exports"


def job_prefix(partition_key: str) -> str:
    project_id, job_id = split_partition_key(partition_key)
    return f"{project_id}/{job_id}"


def _is_exports(annotation: Any) -> bool:
    """Export files are stored one object each under `exports/`, not as one JSON value."""
    return get_origin(annotation) is list and get_args(annotation) == (ExportFile,)


def _where(stored: StoredObject, label: str) -> dict[str, MetadataValue]:
    """A stored object's place (a clickable path or URL), its size as a number, and its backend."""
    local = stored.url.startswith("file://")
    place = MetadataValue.path(stored.url.removeprefix("file://")) if local else MetadataValue.url(stored.url)
    return {
        label: place,
        f"{label} bytes": MetadataValue.int(stored.size),
        f"{label} backend": MetadataValue.text(stored.backend),
    }


class ArtifactsIOManager(ConfigurableIOManager):
    """Stores each per-job asset value under `<project>/<job>/` in the artifact storage chain, and
    reads it back as the type it was written with."""

    storage: ResourceDependency[StorageResource]

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        with retry_only_transient(f"storing {context.asset_key.path[-1]}"):
            self._store(context, obj)

    def _store(self, context: OutputContext, obj: Any) -> None:
        store = self.storage.object_store()
        prefix = job_prefix(context.asset_partition_key)  # also set for a backfill's one-partition range
        name = context.asset_key.path[-1]
        if _is_exports(context.dagster_type.typing_type):
            written = {f.name: store.put(f"{prefix}/{EXPORTS}/{f.name}", f.data, f.content_type) for f in obj}
            for stale in store.list(f"{prefix}/{EXPORTS}/"):
                if stale.key.rsplit("/", 1)[-1] not in written:
                    store.delete(stale.key)
            context.add_output_metadata(
                {k: v for n, o in sorted(written.items()) for k, v in _where(o, f"{EXPORTS}/{n}").items()}
            )
            return
        data = TypeAdapter(context.dagster_type.typing_type).dump_json(obj)
        stored = store.put(f"{prefix}/{name}.json", data, "application/json")
        context.add_output_metadata(_where(stored, f"{name}.json"))

    def load_input(self, context: InputContext) -> Any:
        with retry_only_transient(f"reading {context.asset_key.path[-1]}"):
            return self._load(context)

    def _load(self, context: InputContext) -> Any:
        store = self.storage.object_store()
        prefix = job_prefix(context.asset_partition_key)
        name = context.asset_key.path[-1]
        if _is_exports(context.dagster_type.typing_type):
            listed = store.list(f"{prefix}/{EXPORTS}/")
            if not listed:
                raise FileNotFoundError(f"{prefix}/{EXPORTS}/ is in no storage backend; materialize {name} first")
            return [
                ExportFile(name=o.key.rsplit("/", 1)[-1], data=store.get(o.key) or b"", content_type=o.content_type)
                for o in listed
            ]
        data = store.get(f"{prefix}/{name}.json")
        if data is None:
            raise FileNotFoundError(f"{prefix}/{name}.json is in no storage backend; materialize {name} first")
        return TypeAdapter(context.dagster_type.typing_type).validate_json(data)
