"""Chunking throughput on a 50 MB corpus: our page-aware span windows vs LangChain's
RecursiveCharacterTextSplitter and semchunk, at the same chunk size and overlap, on the same text.

The corpus is the repo's real text spans (the sample bundles, the Speeduino schematic PDF's text
layer, the OSCC Eagle drawings' texts) tiled as further pages until it holds 50 MB of text. All
chunkers start from the same spans in columns: ours windows them directly; each peer gets every
page's spans joined in reading order (that join is inside its timing, as our ordering check and
joins are inside ours) and splits the page text with `len` as its length function. Best of
`--rounds` after a warm-up. Our chunks keep their page and the ids of the spans they cover.

Run: make bench (or .venv/bin/python -m bench.chunking [--mb 50 --size 256 --overlap 32]).
The last line is `result: {json}`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import semchunk
from langchain_text_splitters import RecursiveCharacterTextSplitter

from wessley_dagster.adapters.eagle import read_eagle
from wessley_dagster.adapters.pdf_text import read_text_spans
from wessley_dagster.domain.bundle import TextSpan, read_bundle
from wessley_dagster.domain.chunking import ChunkSettings, SpanColumns, text_windows

REPO = Path(__file__).resolve().parents[1]


def real_spans() -> list[TextSpan]:
    spans: list[TextSpan] = []
    for folder in (REPO / "data" / "bundles").glob("*/*"):
        if (folder / "manifest.json").exists():
            spans += read_bundle(lambda n, f=folder: (f / n).read_bytes() if (f / n).exists() else None).text_spans
    spans += read_text_spans(REPO / "data" / "sources" / "speeduino-v0.4.3d" / "v0.4__THT__Latest__v0.4.3d.pdf")[0]
    for sch in sorted((REPO / "data" / "sources" / "oscc").glob("*.sch")):
        spans += read_eagle(sch).text_spans
    return spans


def corpus(megabytes: float) -> SpanColumns:
    """The real spans in reading order, page after page, repeated until `megabytes` of text."""
    base = SpanColumns.from_spans(real_spans())
    order = base.reading_order()
    if order is not None:
        base = SpanColumns(
            [base.ids[i] for i in order],
            [base.texts[i] for i in order],
            base.pages[order],
            base.tops[order],
            base.x0s[order],
        )
    # Renumber pages 1..n so that copies follow each other.
    _, pages = np.unique(base.pages, return_inverse=True)
    pages = pages + 1
    size = sum(map(len, base.texts)) / 1e6
    copies = int(np.ceil(megabytes / size))
    span_pages = int(pages.max())
    return SpanColumns(
        ids=[f"{i}~{r}" for r in range(copies) for i in base.ids],
        texts=base.texts * copies,
        pages=np.concatenate([pages + span_pages * r for r in range(copies)]),
        tops=np.tile(base.tops, copies),
        x0s=np.tile(base.x0s, copies),
    )


def page_texts(columns: SpanColumns) -> list[str]:
    """What a peer starts from: each page's spans in reading order, joined by spaces."""
    order = columns.reading_order()
    texts = columns.texts if order is None else [columns.texts[i] for i in order]
    pages = columns.pages if order is None else columns.pages[order]
    bounds = [0, *(np.flatnonzero(np.diff(pages)) + 1).tolist(), len(texts)]
    return [" ".join(texts[a:b]) for a, b in itertools.pairwise(bounds)]


def best_of(fn: Callable[[], int], rounds: int) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(rounds):
        start = time.perf_counter()
        count = fn()
        best = min(best, time.perf_counter() - start)
    return best, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=50.0)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--overlap", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    columns = corpus(args.mb)
    megabytes = sum(len(t.encode()) for t in page_texts(columns)) / 1e6
    settings = ChunkSettings(max_chars=args.size, overlap_chars=args.overlap)
    langchain = RecursiveCharacterTextSplitter(chunk_size=args.size, chunk_overlap=args.overlap)
    semchunker = semchunk.chunkerify(len, chunk_size=args.size)
    runs: dict[str, Callable[[], int]] = {
        "wessley span windows": lambda: len(text_windows(columns, settings)),
        "langchain RecursiveCharacterTextSplitter": lambda: sum(
            len(langchain.split_text(t)) for t in page_texts(columns)
        ),
        "semchunk": lambda: sum(len(c) for c in semchunker(page_texts(columns), overlap=args.overlap)),
    }
    sample = SpanColumns(
        columns.ids[:20000], columns.texts[:20000], columns.pages[:20000], columns.tops[:20000], columns.x0s[:20000]
    )
    text_windows(sample, settings), langchain.split_text(" ".join(sample.texts))  # warm-up
    figures = {}
    print(
        f"corpus: {megabytes:.1f} MB, {len(columns.texts):,} spans, {int(columns.pages.max()):,} pages; "
        f"chunk size {args.size}, overlap {args.overlap} characters"
    )
    for name, run in runs.items():
        seconds, chunks = best_of(run, args.rounds)
        figures[name] = {
            "chunks": chunks,
            "seconds": round(seconds, 3),
            "chunks_per_s": round(chunks / seconds),
            "mb_per_s": round(megabytes / seconds, 1),
        }
        print(
            f"{name:42} {chunks:>9,} chunks {seconds:7.2f} s {chunks / seconds:>10,.0f} chunks/s "
            f"{megabytes / seconds:6.1f} MB/s"
        )
    ours = figures.pop("wessley span windows")
    fastest = max(figures, key=lambda k: figures[k]["mb_per_s"])
    ratio = round(ours["mb_per_s"] / figures[fastest]["mb_per_s"], 2)
    print(f"ours / fastest peer ({fastest}), MB/s: {ratio}x")
    result = {
        "corpus_mb": round(megabytes, 1),
        "chunks_per_s": ours["chunks_per_s"],
        "mb_per_s": ours["mb_per_s"],
        "fastest_peer": fastest,
        "ratio_mb_per_s": ratio,
        "peers": figures,
    }
    print("result: " + json.dumps(result))


if __name__ == "__main__":
    main()
