import multiprocessing
from pathlib import Path

import pytest

from wessley_dagster.domain.chunking import build_chunks
from wessley_dagster.domain.sparse import encode_document, encode_query
from wessley_dagster.search import SEARCH_TUNINGS, semantic_search, similar_components
from wessley_dagster.search.similarity import UnknownComponent
from wessley_dagster.stores import vectors
from wessley_dagster.stores.qdrant_edge import EdgeVectorStore
from wessley_dagster.stores.qdrant_server import QdrantServerVectorStore
from wessley_dagster.stores.vectors import Focus, VectorPoint, VectorQuery, point_id, sparse_vectors
from wessley_dagster_tests.conftest import SPEEDUINO
from wessley_dagster_tests.domain.test_chunking import load


@pytest.fixture(params=["edge", "qdrant-local"])
def store(request, tmp_path: Path):
    s = (
        EdgeVectorStore(tmp_path, "docs")
        if request.param == "edge"
        else QdrantServerVectorStore("docs", path=str(tmp_path))
    )
    yield s
    s.close()


def points(project: str, job: str, n: int, chunk_type: str = "text") -> list[VectorPoint]:
    return [
        VectorPoint(
            id=point_id(project, job, f"c{i}"),
            vector=[1.0, float(i), 0.0, 0.5],
            payload={"project_id": project, "job_id": job, "chunk_type": chunk_type, "page": i, "chunk_id": f"c{i}"},
        )
        for i in range(n)
    ]


def test_a_large_jobs_sparse_vectors_encoded_aside_equal_those_encoded_here(monkeypatch):
    chunks = build_chunks(load(SPEEDUINO))
    here = list(sparse_vectors(chunks))
    assert here == [encode_document(c.text, c.terms) for c in chunks] and len(chunks) > 20
    monkeypatch.setattr(vectors, "ASIDE_FROM_CHUNKS", 1)
    monkeypatch.setattr(vectors, "SPARSE_BLOCK", 7)  # several blocks, the last one short
    before = set(multiprocessing.active_children())
    aside = sparse_vectors(chunks)
    assert next(aside) == here[0] and len(set(multiprocessing.active_children()) - before) == 1  # the helper
    assert [here[0], *aside] == here
    assert set(multiprocessing.active_children()) <= before


def test_a_write_that_stops_half_way_leaves_no_helper_behind(monkeypatch):
    monkeypatch.setattr(vectors, "ASIDE_FROM_CHUNKS", 1)
    monkeypatch.setattr(vectors, "SPARSE_BLOCK", 3)
    before = set(multiprocessing.active_children())
    aside = sparse_vectors(build_chunks(load(SPEEDUINO)))
    next(aside)
    aside.close()  # as when the store's write fails with blocks still queued
    assert set(multiprocessing.active_children()) <= before


def test_replace_job_is_idempotent_and_drops_stale_points(store):
    store.ensure_collection(4)
    store.replace_job("p", "j1", points("p", "j1", 5), "load-1")
    store.replace_job("p", "j2", points("p", "j2", 3), "load-1")
    assert (store.count("p", "j1"), store.count("p", "j2"), store.count("p"), store.total()) == (5, 3, 8, 8)
    store.replace_job("p", "j1", points("p", "j1", 5), "load-2")
    assert store.count("p", "j1") == 5
    store.replace_job("p", "j1", points("p", "j1", 2), "load-3")
    assert (store.count("p", "j1"), store.count("p", "j2")) == (2, 3)


def test_search_is_filtered_by_project_and_chunk_type(store):
    store.ensure_collection(4)
    store.replace_job("a", "j", points("a", "j", 4), "l")
    store.replace_job("b", "j", points("b", "j", 4, chunk_type="net"), "l")
    query = [1.0, 0.0, 0.0, 0.5]

    def search(project: str, **kw):
        return store.query(VectorQuery(project_ids=[project], dense=query, **kw))

    hits = search("a", limit=10)
    assert len(hits) == 4 and {h.payload["project_id"] for h in hits} == {"a"}
    assert hits[0].payload["chunk_id"] == "c0"
    assert search("a", chunk_types=["net"]) == []
    assert len(search("b", chunk_types=["net"], limit=2)) == 2
    assert all(h.score >= 0.99 for h in search("a", score_threshold=0.99))
    both = store.query(VectorQuery(project_ids=["a", "b"], dense=query, limit=20))
    assert {h.payload["project_id"] for h in both} == {"a", "b"}


def test_dimension_is_enforced(store):
    assert store.dimension() is None
    store.ensure_collection(4)
    assert store.dimension() == 4
    with pytest.raises(ValueError, match="holds 4-d vectors, got 8-d"):
        store.ensure_collection(8)


def test_point_ids_are_stable_and_scoped():
    assert point_id("p", "j", "c") == point_id("p", "j", "c")
    assert len({point_id("p", "j", "c"), point_id("p", "k", "c"), point_id("q", "j", "c")}) == 3


class WordEmbedder:
    """Dense vectors that only know a few words: enough to tell the modes apart."""

    model, dimension = "words-4", 4
    WORDS = ("relay", "fuse", "regulator", "pump")

    def embed(self, texts):
        return [[1.0 if w in t.lower() else 0.0 for w in self.WORDS] or [0.0] * 4 for t in texts]

    embed_query = embed


PARTS = {
    "K1": ("relay", "K1: relay, switches the fuel pump. pins 1 to FP_OUT"),
    "K2": ("relay", "K2: relay, switches the cooling fan. pins 1 to FAN_OUT"),
    "F1": ("fuse", "F1: fuse 10 A, overcurrent protection of VBAT"),
    "U1": ("voltage regulator", "U1: voltage regulator, makes 5 V for the sensors"),
}


def parts(project: str) -> list[VectorPoint]:
    dense = WordEmbedder()
    result = [
        VectorPoint(
            id=point_id(project, "j", f"component:{ref}"),
            vector=dense.embed([text])[0],
            sparse=encode_document(text),
            payload={
                "project_id": project,
                "job_id": "j",
                "chunk_type": "component",
                "component_id": ref,
                "kind": kind,
                "text": text,
            },
        )
        for ref, (kind, text) in PARTS.items()
    ]
    net = "net CANH (can high): bus line. U7 can transceiver pin CANH"
    result.append(
        VectorPoint(
            id=point_id(project, "j", "net:CANH"),
            vector=[0.0, 0.0, 0.0, 0.0],
            sparse=encode_document(net),
            payload={
                "project_id": project,
                "job_id": "j",
                "chunk_type": "net",
                "net": "CANH",
                "kind": "bus",
                "text": net,
            },
        )
    )
    return result


@pytest.fixture
def parts_store(store):
    store.ensure_collection(4)
    for project in ("mine", "theirs", "secret"):
        store.replace_job(project, "j", parts(project), "l")
    return store


@pytest.mark.parametrize("mode", ["dense", "sparse", "hybrid"])
def test_each_mode_finds_the_part_within_the_project(parts_store, mode):
    hits = semantic_search(parts_store, WordEmbedder(), "mine", "which relay switches the fuel pump", mode=mode)
    assert hits and {h.payload["project_id"] for h in hits} == {"mine"}
    assert hits[0].payload["component_id"] == "K1"
    assert hits[0].payload["kind"] == "relay"


def test_sparse_matches_identifiers_by_their_words(parts_store):
    hits = semantic_search(parts_store, WordEmbedder(), "mine", "CAN high line", mode="sparse")
    assert hits[0].payload["net"] == "CANH"
    assert set(encode_query("can high pin").indices) <= set(encode_query("the CANH pin").indices)


def test_drawing_only_parts_are_offered_only_when_asked_for(parts_store):
    text = "FID1: logo, fiducial near the relay"
    logo = VectorPoint(
        id=point_id("mine", "j", "component:FID1"),
        vector=WordEmbedder().embed([text])[0],
        sparse=encode_document(text),
        payload={
            "project_id": "mine",
            "job_id": "j",
            "chunk_type": "component",
            "component_id": "FID1",
            "kind": "logo",
            "flags": ["drawing-only"],
            "text": text,
        },
    )
    parts_store.replace_job("mine", "j", [*parts("mine"), logo], "l2")
    asked = lambda q: [h.payload.get("component_id") for h in semantic_search(parts_store, WordEmbedder(), "mine", q)]  # noqa: E731
    assert "FID1" not in asked("relay") and "K1" in asked("relay")
    assert asked("where is the fiducial logo")[0] == "FID1"


def test_focus_narrows_to_the_kind_the_question_names(parts_store):
    request = VectorQuery(
        project_ids=["mine"],
        sparse=encode_query("fuel pump protection"),
        limit=10,
        focus=[Focus(kinds=["fuse"], chunk_types=["component"])],
    )
    hits = parts_store.query(request)
    assert {h.payload["component_id"] for h in hits[:2]} == {"K1", "F1"}  # fused: the text match and the kind


def test_similar_components_stay_in_the_listed_projects(parts_store):
    hits = similar_components(parts_store, "mine", "K1", limit=10, other_projects=["theirs"])
    found = {(h.payload["project_id"], h.payload["component_id"]) for h in hits}
    assert found and all(kind == "relay" for kind in (h.payload["kind"] for h in hits))
    assert ("mine", "K1") not in found and ("mine", "K2") in found and ("theirs", "K1") in found
    assert not any(project == "secret" for project, _ in found)
    assert {h.payload["project_id"] for h in similar_components(parts_store, "mine", "K1", limit=10)} == {"mine"}
    with pytest.raises(UnknownComponent):
        similar_components(parts_store, "secret-2", "K1")


def test_score_threshold_and_limit(parts_store):
    hits = semantic_search(parts_store, WordEmbedder(), "mine", "relay", mode="dense", limit=1)
    assert len(hits) == 1
    assert semantic_search(parts_store, WordEmbedder(), "mine", "relay", mode="dense", score_threshold=1.01) == []


@pytest.mark.parametrize("tuning", [t for t in SEARCH_TUNINGS if t.prefetch == 15 and t.focus], ids=lambda t: t.name)
def test_hybrid_scores_read_zero_to_one_and_thresholds_mean_the_same(parts_store, tuning):
    def search(**kw):
        return semantic_search(parts_store, WordEmbedder(), "mine", "relay fuel pump", limit=5, tuning=tuning, **kw)

    hits = search()
    assert hits[0].payload["component_id"] == "K1" and all(0 < h.score <= 1.0 + 1e-6 for h in hits)
    if tuning.fusion == "rrf":
        assert hits[0].score == pytest.approx(1.0)  # first in every prefetch
    threshold = (hits[0].score + hits[-1].score) / 2
    kept = search(score_threshold=threshold)
    assert kept and len(kept) < len(hits) and all(h.score >= threshold for h in kept)


def test_a_focus_never_widens_the_chunk_types_asked_for(parts_store):
    hits = semantic_search(parts_store, WordEmbedder(), "mine", "which relay is on the CAN line", chunk_types=["net"])
    assert hits and {h.payload["chunk_type"] for h in hits} == {"net"}  # the relay focus is dropped, not widened
    query = VectorQuery(
        project_ids=["p"], chunk_types=["text"], focus=[Focus(kinds=["relay"], chunk_types=["component"])]
    )
    assert query.scopes() == [(["text"], None)]
