"""Chunking throughput: our page-aware span windows vs LangChain's RecursiveCharacterTextSplitter,
at the same chunk size and overlap, on the same text (the Speeduino spans, repeated to ~1.2 MB).

Run: make bench   (or .venv/bin/python -m bench.chunking). The last line is `result: {json}`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from langchain_text_splitters import RecursiveCharacterTextSplitter

from wessley_dagster.domain.bundle import TextSpan, read_bundle
from wessley_dagster.domain.chunking import ChunkSettings, text_chunks

SPEEDUINO = Path(__file__).resolve().parents[1] / "data" / "bundles" / "speeduino" / "v0.4.3d"
SIZE, OVERLAP, REPEAT, ROUNDS = 1000, 200, 160, 3


def best_of(fn, rounds: int = ROUNDS) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(rounds):
        start = time.perf_counter()
        count = fn()
        best = min(best, time.perf_counter() - start)
    return best, count


def page_texts(spans: list[TextSpan]) -> list[str]:
    pages: dict[int, list[str]] = {}
    for s in sorted(spans, key=lambda s: (s.page, round(s.bbox[1]), s.bbox[0])):
        pages.setdefault(s.page, []).append(s.text)
    return [" ".join(words) for words in pages.values()]


def main() -> None:
    bundle = read_bundle(lambda n: (SPEEDUINO / n).read_bytes() if (SPEEDUINO / n).exists() else None)
    # Repeat the document as further pages, so both chunkers see the same ~1.2 MB of text.
    spans = [
        s.model_copy(update={"page": s.page + 10 * r, "id": f"{s.id}-{r}"})
        for r in range(REPEAT)
        for s in bundle.text_spans
    ]
    megabytes = sum(len(p.encode()) for p in page_texts(spans)) / 1e6

    settings = ChunkSettings(max_chars=SIZE, overlap_chars=OVERLAP)
    splitter = RecursiveCharacterTextSplitter(chunk_size=SIZE, chunk_overlap=OVERLAP)
    text_chunks(spans[:5000], settings), splitter.split_text(page_texts(spans[:5000])[0])  # warm-up

    # Both start from the same spans: the peer gets them joined per page in reading order.
    ours_s, ours_n = best_of(lambda: len(text_chunks(spans, settings)))
    peer_s, peer_n = best_of(lambda: sum(len(splitter.split_text(t)) for t in page_texts(spans)))
    result = {
        "megabytes": round(megabytes, 2),
        "wessley": {"chunks": ours_n, "seconds": round(ours_s, 3), "chunks_per_s": round(ours_n / ours_s),
                    "mb_per_s": round(megabytes / ours_s, 1)},
        "langchain_recursive": {"chunks": peer_n, "seconds": round(peer_s, 3), "chunks_per_s": round(peer_n / peer_s),
                                "mb_per_s": round(megabytes / peer_s, 1)},
        "speed_ratio_mb_per_s": round(peer_s / ours_s, 2),
    }  # fmt: skip
    print(f"wessley window chunker: {result['wessley']}")
    print(f"langchain RecursiveCharacterTextSplitter({SIZE}, {OVERLAP}): {result['langchain_recursive']}")
    print("result: " + json.dumps(result))


if __name__ == "__main__":
    main()
