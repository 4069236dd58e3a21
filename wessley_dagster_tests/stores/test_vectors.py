from pathlib import Path

import pytest

from wessley_dagster.stores.vectors import EdgeVectorStore, QdrantServerVectorStore, VectorPoint, point_id


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
    hits = store.search("a", [1.0, 0.0, 0.0, 0.5], limit=10)
    assert len(hits) == 4 and {h.payload["project_id"] for h in hits} == {"a"}
    assert hits[0].payload["chunk_id"] == "c0"
    assert store.search("a", [1.0, 0.0, 0.0, 0.5], chunk_types=["net"]) == []
    assert len(store.search("b", [1.0, 0.0, 0.0, 0.5], chunk_types=["net"], limit=2)) == 2
    assert all(h.score >= 0.99 for h in store.search("a", [1.0, 0.0, 0.0, 0.5], score_threshold=0.99))


def test_dimension_is_enforced(store):
    assert store.dimension() is None
    store.ensure_collection(4)
    assert store.dimension() == 4
    with pytest.raises(ValueError, match="holds 4-d vectors, got 8-d"):
        store.ensure_collection(8)


def test_point_ids_are_stable_and_scoped():
    assert point_id("p", "j", "c") == point_id("p", "j", "c")
    assert len({point_id("p", "j", "c"), point_id("p", "k", "c"), point_id("q", "j", "c")}) == 3
