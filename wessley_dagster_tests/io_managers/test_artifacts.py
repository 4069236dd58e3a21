"""The artifacts IO manager: a list of models is NDJSON, one model a line, and reads back as the
same typed models whatever its text holds; a value stored before as JSON is not left behind; the
embeddings' vectors are raw float32 rows beside their JSON, read back to the bit as they are used."""

import json
from pathlib import Path

import numpy as np
import pytest
from dagster import AssetKey, Failure, build_input_context, build_output_context
from dagster._core.types.dagster_type import resolve_dagster_type

from wessley_dagster.assets.embeddings import Embeddings
from wessley_dagster.domain.bundle import TextSpan
from wessley_dagster.io_managers.artifacts import LINES_PER_WRITE, ArtifactsIOManager
from wessley_dagster.resources.storage import StorageResource
from wessley_dagster.stores.float32_rows import Float32Rows
from wessley_dagster_tests.domain.test_exports import AWKWARD

SPANS = list[TextSpan]


def manager_in(tmp_path: Path) -> ArtifactsIOManager:
    storage = StorageResource(
        local_dir=str(tmp_path / "artifacts"),
        spool_dir=str(tmp_path / "tmp"),
        signing_key_file=str(tmp_path / "signing.key"),
        api_url="http://127.0.0.1:8000",
    )
    return ArtifactsIOManager(storage=storage)


def test_a_list_of_models_is_ndjson_that_reads_back_as_the_same_models(tmp_path: Path):
    manager = manager_in(tmp_path)
    spans = [
        TextSpan(
            id=f"s{i}",
            text=AWKWARD if i % 3 else f"R{i}",
            page=1 + i % 4,
            bbox=(0, 0, 1, 1),
            confidence=0.5,
            engine="pdf-text",
            extra_field={AWKWARD: [i]},
        )
        for i in range(LINES_PER_WRITE + 7)  # more than one write
    ]
    old = tmp_path / "artifacts" / "p" / "j" / "text_spans.json"  # the layout before NDJSON
    old.parent.mkdir(parents=True)
    old.write_text("[]")
    dagster_type = resolve_dagster_type(SPANS)
    key = AssetKey("text_spans")
    output = build_output_context(asset_key=key, partition_key="p__j", dagster_type=dagster_type)
    manager.handle_output(output, spans)

    stored = (tmp_path / "artifacts" / "p" / "j" / "text_spans.ndjson").read_bytes()
    lines = stored.decode().split("\n")  # NDJSON lines end at \n only, not at U+2028, NEL or a CR
    assert lines[-1] == "" and [json.loads(line)["id"] for line in lines[:-1]] == [s.id for s in spans]
    assert not old.exists()
    loaded = manager.load_input(build_input_context(asset_key=key, partition_key="p__j", dagster_type=dagster_type))
    assert loaded == spans and loaded[1].model_extra == {"extra_field": {AWKWARD: [1]}}


def embeddings_contexts(dagster_type):  # type: ignore[no-untyped-def]
    key = AssetKey("embeddings")
    return (
        build_output_context(asset_key=key, partition_key="p__j", dagster_type=dagster_type),
        build_input_context(asset_key=key, partition_key="p__j", dagster_type=dagster_type),
    )


def test_vectors_are_float32_rows_beside_their_json(tmp_path: Path):
    manager, folder = manager_in(tmp_path), tmp_path / "artifacts" / "p" / "j"
    vectors = np.random.default_rng(3).standard_normal((4_100, 6)).astype(np.float32)  # more than one write
    value = Embeddings(model="m", dimension=6, chunk_ids=[f"c{i}" for i in range(4_100)], vectors=vectors)
    output, read = embeddings_contexts(resolve_dagster_type(Embeddings))
    manager.handle_output(output, value)

    head = json.loads((folder / "embeddings.json").read_bytes())
    assert head["vectors"] == {"shape": [4_100, 6], "float32_object": "embeddings.f32"}
    assert (folder / "embeddings.f32").read_bytes() == vectors.astype("<f4").tobytes()
    loaded = manager.load_input(read)
    assert isinstance(loaded.vectors, Float32Rows)  # read as they are used, a block of rows at a time
    assert loaded.chunk_ids == value.chunk_ids and np.array_equal(loaded.vectors, vectors)
    assert np.array_equal(np.stack(list(loaded.vectors)), vectors)

    (folder / "embeddings.f32").write_bytes(vectors[:10].tobytes())  # cut short
    with pytest.raises(Failure, match=r"embeddings\.f32: 240 bytes, expected float32 rows of shape \[4100, 6\]"):
        manager.load_input(read)


def test_embeddings_stored_whole_in_their_json_still_read(tmp_path: Path):
    manager, folder = manager_in(tmp_path), tmp_path / "artifacts" / "p" / "j"
    vectors = np.arange(12, dtype=np.float32).reshape(3, 4)
    folder.mkdir(parents=True)
    old = Embeddings(model="m", dimension=4, chunk_ids=["a", "b", "c"], vectors=vectors)
    (folder / "embeddings.json").write_text(old.model_dump_json())  # the form before `embeddings.f32`
    _, read = embeddings_contexts(resolve_dagster_type(Embeddings))
    assert np.array_equal(manager.load_input(read).vectors, vectors)
