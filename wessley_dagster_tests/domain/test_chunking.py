import itertools
import json
from pathlib import Path

import pytest

from wessley_dagster.domain.bundle import read_bundle
from wessley_dagster.domain.chunking import ChunkSettings, build_chunks, text_chunks, window
from wessley_dagster_tests.conftest import SPEEDUINO, SYNTHETIC


def load(folder):
    return read_bundle(lambda name: (folder / name).read_bytes() if (folder / name).exists() else None)


def test_windows_respect_size_overlap_and_cover_every_unit():
    units = [(f"u{i}", "word " * (i % 7 + 1)) for i in range(200)]
    windows = window(units, max_chars=120, overlap_chars=30)
    assert all(len(text) <= 120 for text, _ in windows)
    covered = {i for _, ids in windows for i in ids}
    assert covered == {u for u, _ in units}
    for (_, prev), (_, nxt) in itertools.pairwise(windows):
        assert prev[-1] in nxt or set(prev) & set(nxt), "consecutive windows overlap"


def test_an_overlong_unit_is_split_on_whitespace():
    windows = window([("big", "abc " * 100)], max_chars=50, overlap_chars=0)
    assert len(windows) > 1 and all(len(t) <= 50 for t, _ in windows)
    assert all(ids == ["big"] for _, ids in windows)


def test_chunks_are_page_aware():
    bundle = load(SPEEDUINO)
    chunks = build_chunks(bundle, ChunkSettings(max_chars=400, overlap_chars=60))
    span_page = {s.id: s.page for s in bundle.text_spans}
    for chunk in (c for c in chunks if c.chunk_type == "text"):
        assert {span_page[s] for s in chunk.span_ids} == {chunk.page}


def test_one_description_per_component_net_and_page():
    bundle = load(SYNTHETIC)
    chunks = build_chunks(bundle)
    by_type = {t: [c for c in chunks if c.chunk_type == t] for t in ("component", "net", "page")}
    assert len(by_type["component"]) == 10 and len(by_type["net"]) == 10 and len(by_type["page"]) == 2
    f21 = next(c for c in chunks if c.chunk_id == "component:F21")
    assert f21.text.startswith("F21: fuse 15A, overcurrent protection. protects the path between VBAT")
    assert "page 1. pins 1 to VBAT (battery" in f21.text and "2 to VBAT_SW" in f21.text
    r12 = next(c for c in chunks if c.chunk_id == "component:R12")
    assert r12.text.startswith("R12: resistor 10 kΩ (10k)") and "pins 1 to IGN (ignition" in r12.text
    assert {"resistor", "10 kΩ", "ignition"} <= set(r12.terms)
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_chunking_is_deterministic():
    bundle = load(SYNTHETIC)
    assert build_chunks(bundle) == build_chunks(bundle)


PREVIOUS = json.loads((Path(__file__).parent / "previous_text_chunks.json").read_text())


@pytest.mark.parametrize("case", sorted(PREVIOUS))
def test_the_columnar_chunker_gives_the_previous_chunkers_output(case):
    """Recorded from the span-by-span chunker this one replaced, on the sample bundles."""
    name, sizes = case.split("@")
    size, overlap = (int(v) for v in sizes.split("/"))
    spans = load(SYNTHETIC.parents[1] / name).text_spans
    chunks = text_chunks(spans, ChunkSettings(max_chars=size, overlap_chars=overlap))
    assert [[c.page, c.text, c.span_ids] for c in chunks] == PREVIOUS[case]


def test_spans_out_of_reading_order_to_strip_or_split_give_the_same_windows():
    spans = load(SPEEDUINO).text_spans
    shuffled = spans[::-1]
    settings = ChunkSettings(max_chars=300, overlap_chars=50)
    assert [(c.text, c.span_ids) for c in text_chunks(shuffled, settings)] == [
        (c.text, c.span_ids) for c in text_chunks(spans, settings)
    ]
    messy = [s.model_copy(update={"text": f"  {s.text} "}) for s in spans[:50]]
    messy.append(spans[50].model_copy(update={"text": "word " * 200}))  # longer than a chunk
    messy.append(spans[51].model_copy(update={"text": "   "}))  # nothing to index
    chunks = text_chunks(messy, settings)
    assert all(len(c.text) <= 300 and not c.text.startswith(" ") for c in chunks)
    assert spans[50].id in {i for c in chunks for i in c.span_ids} and spans[51].id not in {
        i for c in chunks for i in c.span_ids
    }
