"""The OpenAI provider against a local server that checks each request as the API documents it."""

import itertools
import time
from collections import deque

import pytest

from wessley_dagster.domain.embedders import EmbeddingError, embed_cached
from wessley_dagster.stores.openai_embedder import (
    MAX_INPUT_TOKENS,
    MAX_INPUTS,
    MAX_REQUEST_TOKENS,
    OpenAIEmbedder,
    count_tokens,
)
from wessley_dagster_tests.domain.test_embedders import DictCache
from wessley_dagster_tests.fake_openai import KEY, FakeOpenAI, vector_for


@pytest.fixture
def fake():
    server = FakeOpenAI().start()
    yield server
    server.stop()
    assert server.violations == []  # every request the provider sent kept the documented contract


def embedder(fake: FakeOpenAI, **kw) -> OpenAIEmbedder:
    return OpenAIEmbedder(api_key=kw.pop("api_key", KEY), base_url=fake.base_url, **kw)


def test_requests_and_answers_follow_the_api(fake):
    texts = [f"K{i}: relay, switches the fuel pump" for i in range(5)]
    vectors = embedder(fake, dimensions=64).embed(texts)
    (seen,) = fake.requests
    assert seen.body == {
        "model": "text-embedding-3-small",
        "input": texts,
        "dimensions": 64,
        "encoding_format": "base64",
    }
    assert vectors == [pytest.approx(vector_for(t, 64)) for t in texts]  # answered in reverse, put back in order


def test_packing_stops_at_2048_inputs(fake):
    texts = [f"net N{i}" for i in range(MAX_INPUTS * 2 + 5)]
    emb = embedder(fake, dimensions=8)
    vectors = emb.embed(texts)
    assert sorted(len(r.inputs) for r in fake.requests) == [5, MAX_INPUTS, MAX_INPUTS]  # answered in any order
    assert vectors[-1] == pytest.approx(vector_for(texts[-1], 8))
    assert emb.usage()["requests"] == 3 and emb.usage()["inputs"] == len(texts)


def test_packing_stops_at_300k_tokens_and_splits_long_inputs(fake):
    word = " relay"  # one token
    long = word * 3 * MAX_INPUT_TOKENS  # three input limits of text
    near_limit = [f"{i}:" + word * (MAX_INPUT_TOKENS - 10) for i in range(60)]
    emb = embedder(fake, dimensions=16)
    vectors = emb.embed([long, *near_limit])
    assert all(r.tokens <= MAX_REQUEST_TOKENS for r in fake.requests) and len(fake.requests) >= 2
    assert sum(r.tokens for r in fake.requests) == emb.usage()["prompt_tokens"]
    pieces = [i for r in fake.requests for i in r.inputs if not i[0].isdigit()]
    assert len(pieces) >= 3 and all(count_tokens(p) <= MAX_INPUT_TOKENS for p in pieces)
    assert "".join(pieces) == long  # split, never truncated
    weights = [count_tokens(p) for p in pieces]
    merged = [sum(vector_for(p, 16)[k] * w for p, w in zip(pieces, weights, strict=True)) for k in range(16)]
    norm = sum(v * v for v in merged) ** 0.5
    assert vectors[0] == pytest.approx([v / norm for v in merged])


def test_429_honours_retry_after_and_backs_off_without_it(fake):
    fake.faults.extend([("status", 429, {"Retry-After": "1"}), ("status", 429), ("drop",), ("status", 500)])
    vectors = embedder(fake, dimensions=8).embed(["relay"])
    gaps = [b.at - a.at for a, b in itertools.pairwise(fake.requests)]
    assert len(fake.requests) == 5 and vectors[0] == pytest.approx(vector_for("relay", 8))
    assert 0.95 <= gaps[0] < 2.5  # Retry-After: 1
    assert all(0.2 <= g < 10 for g in gaps[1:])  # exponential backoff with jitter
    assert gaps[3] > gaps[1]  # growing


def test_the_last_failure_names_status_and_size_and_keeps_finished_batches(fake):
    emb = embedder(fake, dimensions=8, max_retries=1, max_in_flight=1)
    texts = [f"part {i}" for i in range(MAX_INPUTS + 10)]
    fake.faults.extend([("ok",), ("status", 503), ("status", 503)])
    cache = DictCache()
    with pytest.raises(EmbeddingError, match=r"HTTP 503 after 2 tries, for a request of 10 inputs") as err:
        embed_cached(emb, texts, cache)
    assert err.value.retryable
    assert len(cache.data) == MAX_INPUTS  # the first request's vectors were kept
    before = len(fake.requests)
    _, fresh = embed_cached(emb, texts, cache)  # the rerun embeds only the rest
    assert fresh == 10 and [len(r.inputs) for r in fake.requests[before:]] == [10]
    embed_cached(emb, texts, cache)
    assert len(fake.requests) == before + 1  # and an unchanged input calls the provider zero times


def test_a_wrong_key_fails_at_once_without_showing_it(fake):
    started = time.monotonic()
    with pytest.raises(EmbeddingError) as err:
        embedder(fake, api_key="sk-wrong-key-value").embed(["relay"])
    assert "HTTP 401" in str(err.value) and "OPENAI_API_KEY" in str(err.value)
    assert "sk-wrong" not in str(err.value) and err.value.__cause__ is None and not err.value.retryable
    assert time.monotonic() - started < 1.0  # no retry


def test_a_bad_request_is_not_retried(fake):
    fake.faults.append(("status", 400))
    with pytest.raises(EmbeddingError, match=r"HTTP 400"):
        embedder(fake, dimensions=8).embed(["relay"])
    assert len(fake.requests) == 1


def test_requests_in_flight_are_bounded(fake):
    fake.latency = 0.2
    emb = embedder(fake, dimensions=8, max_in_flight=2)
    started = time.monotonic()
    emb.embed([f"n{i}" for i in range(MAX_INPUTS * 4)])
    elapsed = time.monotonic() - started
    assert len(fake.requests) == 4 and elapsed > 0.35  # two at a time: at least two rounds of 0.2 s
    assert fake.faults == deque()
