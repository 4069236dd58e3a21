import itertools

from wessley_dagster.domain.bundle import read_bundle
from wessley_dagster.domain.chunking import ChunkSettings, build_chunks, window
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
