"""The artifacts IO manager: a list of models is NDJSON, one model a line, and reads back as the
same typed models whatever its text holds; a value stored before as JSON is not left behind."""

import json
from pathlib import Path

from dagster import AssetKey, build_input_context, build_output_context
from dagster._core.types.dagster_type import resolve_dagster_type

from wessley_dagster.domain.bundle import TextSpan
from wessley_dagster.io_managers.artifacts import LINES_PER_WRITE, ArtifactsIOManager
from wessley_dagster.resources.storage import StorageResource
from wessley_dagster_tests.domain.test_exports import AWKWARD

SPANS = list[TextSpan]


def test_a_list_of_models_is_ndjson_that_reads_back_as_the_same_models(tmp_path: Path):
    storage = StorageResource(
        local_dir=str(tmp_path / "artifacts"),
        spool_dir=str(tmp_path / "tmp"),
        signing_key_file=str(tmp_path / "signing.key"),
        api_url="http://127.0.0.1:8000",
    )
    manager = ArtifactsIOManager(storage=storage)
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
