"""Artifacts IO manager: every per-job asset value as a file under `<project>/<job>/` in the
storage chain (S3 → Supabase Storage → local folder). A list of models (spans, components,
chunks) is NDJSON, one model a line, written as it is serialised; any other value is JSON. Both
are serialised with pydantic from the asset's type annotation, so reading back yields the same
typed objects."""

from collections.abc import Iterable, Iterator
from typing import Any, get_args, get_origin

from dagster import ConfigurableIOManager, InputContext, MetadataValue, OutputContext, ResourceDependency
from pydantic import BaseModel, TypeAdapter

from wessley_dagster.domain.bulk import paused_gc
from wessley_dagster.domain.bundle import split_partition_key
from wessley_dagster.domain.exports import ExportFile
from wessley_dagster.resources.storage import StorageResource
from wessley_dagster.retries import retry_only_transient
from wessley_dagster.stores.objects import FallbackStore, StoredObject

EXPORTS = "exports"
NDJSON = "application/x-ndjson"
LINES_PER_WRITE = 5_000


def job_prefix(partition_key: str) -> str:
    project_id, job_id = split_partition_key(partition_key)
    return f"{project_id}/{job_id}"


def _is_exports(annotation: Any) -> bool:
    """Export files are stored one object each under `exports/`, not as one JSON value."""
    return get_origin(annotation) is list and get_args(annotation) == (ExportFile,)


def _row_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a `list[Model]` value, which is stored as NDJSON."""
    args = get_args(annotation)
    if get_origin(annotation) is list and len(args) == 1 and isinstance(args[0], type):
        return args[0] if issubclass(args[0], BaseModel) else None
    return None


def _ndjson(models: Iterable[BaseModel]) -> Iterator[bytes]:
    """NDJSON lines, a few thousand per write; JSON escapes every line break inside a value."""
    batch: list[bytes] = []
    for model in models:
        batch.append(model.model_dump_json().encode())
        if len(batch) == LINES_PER_WRITE:
            yield b"\n".join(batch) + b"\n"
            batch = []
    if batch:
        yield b"\n".join(batch) + b"\n"


def _where(stored: StoredObject, label: str) -> dict[str, MetadataValue]:
    """A stored object's place (a clickable path or URL), its size as a number, and its backend."""
    local = stored.url.startswith("file://")
    place = MetadataValue.path(stored.url.removeprefix("file://")) if local else MetadataValue.url(stored.url)
    return {
        label: place,
        f"{label} bytes": MetadataValue.int(stored.size),
        f"{label} backend": MetadataValue.text(stored.backend),
    }


def _put(store: FallbackStore, key: str, data: bytes | Iterable[bytes], content_type: str) -> StoredObject:
    if isinstance(data, bytes):
        return store.put(key, data, content_type)
    return store.put_stream(key, data, content_type)


class ArtifactsIOManager(ConfigurableIOManager):
    """Stores each per-job asset value under `<project>/<job>/` in the artifact storage chain, and
    reads it back as the type it was written with."""

    storage: ResourceDependency[StorageResource]

    @property
    def kind(self) -> str:
        return self.storage.kind

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        with retry_only_transient(f"storing {context.asset_key.path[-1]}"):
            self._store(context, obj)

    def _store(self, context: OutputContext, obj: Any) -> None:
        store = self.storage.object_store()
        prefix = job_prefix(context.asset_partition_key)  # also set for a backfill's one-partition range
        name = context.asset_key.path[-1]
        annotation = context.dagster_type.typing_type
        if _is_exports(annotation):
            written = {f.name: _put(store, f"{prefix}/{EXPORTS}/{f.name}", f.data, f.content_type) for f in obj}
            for stale in store.list(f"{prefix}/{EXPORTS}/"):
                if stale.key.rsplit("/", 1)[-1] not in written:
                    store.delete(stale.key)
            context.add_output_metadata(
                {k: v for n, o in sorted(written.items()) for k, v in _where(o, f"{EXPORTS}/{n}").items()}
            )
            return
        if _row_model(annotation) is not None:
            stored = store.put_stream(f"{prefix}/{name}.ndjson", _ndjson(obj), NDJSON)
            store.delete(f"{prefix}/{name}.json")  # the same value as stored before it was NDJSON
        else:
            stored = store.put(f"{prefix}/{name}.json", TypeAdapter(annotation).dump_json(obj), "application/json")
        context.add_output_metadata(_where(stored, stored.key.rsplit("/", 1)[-1]))

    def load_input(self, context: InputContext) -> Any:
        with retry_only_transient(f"reading {context.asset_key.path[-1]}"):
            return self._load(context)

    def _load(self, context: InputContext) -> Any:
        store = self.storage.object_store()
        prefix = job_prefix(context.asset_partition_key)
        name = context.asset_key.path[-1]
        annotation = context.dagster_type.typing_type
        if _is_exports(annotation):
            listed = store.list(f"{prefix}/{EXPORTS}/")
            if not listed:
                raise FileNotFoundError(f"{prefix}/{EXPORTS}/ is in no storage backend; materialize {name} first")
            return [ExportFile(o.key.rsplit("/", 1)[-1], o.content_type, store.get(o.key) or b"") for o in listed]
        model = _row_model(annotation)
        key = f"{prefix}/{name}.{'ndjson' if model else 'json'}"
        data = store.get(key)
        if data is None:
            raise FileNotFoundError(f"{key} is in no storage backend; materialize {name} first")
        if model is None:
            return TypeAdapter(annotation).validate_json(data)
        rows = TypeAdapter(model)
        with paused_gc():
            return [rows.validate_json(line) for line in data.split(b"\n") if line]
