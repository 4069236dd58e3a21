"""Artifacts IO manager: every per-job asset value as a file under `<project>/<job>/` in the
storage chain (S3 → Supabase Storage → local folder). A list of models (spans, components,
chunks) is NDJSON, one model a line, written as it is serialised; any other value is JSON. Both
are serialised with pydantic from the asset's type annotation, so reading back yields the same
typed objects. A model naming a `FLOAT32_FIELD` (the embeddings' vectors) keeps that array beside
its JSON as raw little-endian float32 rows (`<name>.f32`), read back a block of rows at a time: a
1,000-page vehicle's 1,536-d vectors are 344 MiB as floats, and would be 459 MB more as base64 in
the JSON while written and read."""

import json
from collections.abc import Iterable, Iterator
from typing import Any, get_args, get_origin

import numpy as np
from dagster import ConfigurableIOManager, InputContext, MetadataValue, OutputContext, ResourceDependency
from pydantic import BaseModel, TypeAdapter

from wessley_dagster.domain.bulk import paused_gc
from wessley_dagster.domain.bundle import split_partition_key
from wessley_dagster.domain.exports import ExportFile
from wessley_dagster.resources.storage import StorageResource
from wessley_dagster.retries import retry_only_transient
from wessley_dagster.stores.float32_rows import Float32Rows
from wessley_dagster.stores.objects import FallbackStore, StoredObject

EXPORTS = "exports"
NDJSON = "application/x-ndjson"
FLOAT32 = "application/octet-stream"
LINES_PER_WRITE = 5_000
ROWS_PER_WRITE = 4_096


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


def _float32_field(annotation: Any) -> str | None:
    """The field a model stores beside its JSON as raw float32 rows, if it names one."""
    return getattr(annotation, "FLOAT32_FIELD", None) if isinstance(annotation, type) else None


def _float32_rows(array: np.ndarray) -> Iterator[bytes]:
    rows = np.ascontiguousarray(array, dtype="<f4")
    for start in range(0, max(len(rows), 1), ROWS_PER_WRITE):
        yield rows[start : start + ROWS_PER_WRITE].tobytes()


def _put_with_float32(store: FallbackStore, key: str, obj: BaseModel, field: str) -> StoredObject:
    """The array first, then the JSON naming it and its shape: the JSON is the commit point."""
    array = np.asarray(getattr(obj, field))
    body = store.put_stream(f"{key}.f32", _float32_rows(array), FLOAT32)
    reference = {"shape": list(array.shape), "float32_object": body.key.rsplit("/", 1)[-1]}
    head = {**obj.model_dump(mode="json", exclude={field}), field: reference}
    return store.put(f"{key}.json", json.dumps(head).encode(), "application/json")


def _with_float32(store: FallbackStore, prefix: str, annotation: Any, field: str, data: bytes) -> Any:
    """The model from its JSON with, if the JSON names one, its float32 object as `Float32Rows`,
    read as they are used (a JSON written before the array moved out of it holds the array)."""
    head = json.loads(data)
    reference = head.get(field)
    if not (isinstance(reference, dict) and "float32_object" in reference):
        return TypeAdapter(annotation).validate_json(data)
    key = f"{prefix}/{reference['float32_object']}"
    file = store.open(key)
    rows, dimension = reference["shape"]
    if file is None:
        raise ValueError(f"{key}: missing, expected float32 rows of shape {[rows, dimension]}")
    head[field] = Float32Rows(file, (rows, dimension), key)
    return TypeAdapter(annotation).validate_python(head)


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
        elif field := _float32_field(annotation):
            stored = _put_with_float32(store, f"{prefix}/{name}", obj, field)
        else:
            stored = store.put(f"{prefix}/{name}.json", TypeAdapter(annotation).dump_json(obj), "application/json")
        context.add_output_metadata(_where(stored, stored.key.rsplit("/", 1)[-1]))

    def load_input(self, context: InputContext) -> Any:
        with retry_only_transient(f"reading {context.asset_key.path[-1]}"):
            return self._load(context)

    def _load(self, context: InputContext) -> Any:
        store, prefix = self.storage.object_store(), job_prefix(context.asset_partition_key)
        return read_artifact(store, prefix, context.asset_key.path[-1], context.dagster_type.typing_type)


def read_artifact(store: FallbackStore, prefix: str, name: str, annotation: Any) -> Any:
    """An asset's value as stored under `prefix` (`<project>/<job>`), read as `annotation`."""
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
    if field := _float32_field(annotation):
        return _with_float32(store, prefix, annotation, field, data)
    if model is None:
        return TypeAdapter(annotation).validate_json(data)
    rows = TypeAdapter(model)
    with paused_gc():
        return [rows.validate_json(line) for line in data.split(b"\n") if line]
