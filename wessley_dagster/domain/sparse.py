"""BM25 sparse vectors over identifier-aware tokens, for Qdrant's sparse index.

Documents carry BM25's saturated, length-normalised term frequency; queries carry each token
once. The inverse document frequency is Qdrant's own (`Modifier.IDF` on the sparse vector), so
the score of a query is BM25 with IDF over the whole collection. Tokens are the words of
`identifier_words` (CANH -> can h, /IGN_OUT3 -> ign out 3), stemmed with Snowball so that
"protects" meets "protection", minus English stop words. No Dagster here.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

from wessley_dagster.domain.identifiers import identifier_words
from wessley_dagster.domain.terms import find_terms

K1 = 1.2
B = 0.75
AVG_DOC_TOKENS = 80.0  # about a component description; fixed so a document's vector needs no corpus
_STOP_TEXT = """a an and are as at be by for from has have in into is it its of on or that the their this to
was were what which who whom why how where when with does do did i me my we our you your there these
those them they any all some one"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
# Pin and net names use some stop words as identifiers (IN, ON, OR): kept when written in capitals.
# "can" is never dropped: in a car it is a bus far more often than a verb.
_KEEP_UPPER = frozenset({"in", "on", "it", "do", "or", "an", "a", "i"})

_stemmer = snowballstemmer.stemmer("english")


@dataclass(frozen=True)
class SparseVector:
    indices: list[int]
    values: list[float]


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _stemmer.stemWord(word) if word.isalpha() and len(word) > 3 else word


@lru_cache(maxsize=65536)
def _token(word: str) -> str | None:
    """A word's stemmed token, None for a stop word (cached: a vehicle's words repeat). Numbers
    lose their leading zeros: "INJ-07" is injector 7."""
    if word.isdigit():
        return word.lstrip("0") or "0"
    return None if word in STOP_WORDS else _stem(word)


def tokens(text: str) -> list[str]:
    """The stemmed tokens BM25 counts. Upper-case ON, IN, OR are identifiers, not stop words."""
    upper = {w.lower() for w in text.split() if w.isupper()} & _KEEP_UPPER
    out = []
    for word in identifier_words(text):
        token = _token(word)
        if token is None:
            if word not in upper:
                continue
            token = _stem(word)
        out.append(token)
    return out


@lru_cache(maxsize=65536)
def token_index(token: str) -> int:
    """A stable 32-bit index for a token (Qdrant's sparse indices are u32)."""
    return zlib.crc32(token.encode("utf-8"))


def _vector(weights: dict[int, float]) -> SparseVector:
    ordered = sorted(weights.items())
    return SparseVector([i for i, _ in ordered], [w for _, w in ordered])


def _term_tokens(terms: Sequence[str]) -> list[str]:
    """The dictionary's canonical names as tokens: a text saying "motor driver" and a question
    saying "H-bridge" both carry "h-bridge", so a synonym matches whichever side it is on."""
    return [t for term in terms for t in tokens(term)]


def encode_document(text: str, terms: Sequence[str] | None = None) -> SparseVector:
    """`terms` are `find_terms(text)` when the caller already has them (a chunk's terms)."""
    found = find_terms(text) if terms is None else terms
    counts = Counter(token_index(t) for t in (*tokens(text), *_term_tokens(found)))
    length = sum(counts.values())
    norm = K1 * (1 - B + B * length / AVG_DOC_TOKENS)
    return _vector({i: tf * (K1 + 1) / (tf + norm) for i, tf in counts.items()})


def encode_documents(documents: Sequence[tuple[str, Sequence[str] | None]]) -> list[SparseVector]:
    """`encode_document` over (text, terms) pairs: a block of them is one call (and one message
    when they are encoded in another process)."""
    return [encode_document(text, terms) for text, terms in documents]


def encode_query(text: str) -> SparseVector:
    return _vector({token_index(t): 1.0 for t in (*tokens(text), *_term_tokens(find_terms(text)))})
