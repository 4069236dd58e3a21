"""Semantic search: a dense prefetch and a BM25 sparse prefetch fused with RRF inside Qdrant."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from wessley_dagster.domain.embedders import Embedder
from wessley_dagster.domain.identifiers import identifier_words
from wessley_dagster.domain.kinds import DRAWING_KINDS, kinds_named
from wessley_dagster.domain.sparse import encode_query
from wessley_dagster.search.graph_expansion import expand_hits
from wessley_dagster.stores.graph import GraphStore
from wessley_dagster.stores.vectors import Focus, Fusion, Hit, VectorQuery, VectorStore


class SearchMode(StrEnum):
    """How a query is matched: both vectors fused (the default), the dense or the sparse alone."""

    HYBRID = "hybrid"
    DENSE = "dense"
    SPARSE = "sparse"


# Search finds parts and nets; text windows and page summaries are searched when asked for.
DEFAULT_CHUNK_TYPES: tuple[str, ...] = ("component", "net")


@dataclass(frozen=True)
class SearchTuning:
    """What a search can be tuned by at query time. `bench/search_quality.py` chooses among
    SEARCH_TUNINGS leave-one-board-out; the first is the default."""

    name: str
    fusion: Fusion = "rrf"
    prefetch: int = 40  # candidates per side before fusion
    focus: bool = True  # also search within the kinds a question names, and nets when it asks for a line


SEARCH_TUNINGS: tuple[SearchTuning, ...] = tuple(
    SearchTuning(f"{fusion} k{prefetch}{'' if focus else ' no-focus'}", fusion, prefetch, focus)
    for focus in (True, False)
    for fusion in ("dbsf", "rrf")
    for prefetch in (15, 40)
)
# The choice on all ten boards with the default embedder (bench/RESULTS.md): distribution-based
# fusion of 15 candidates a side, with the focus on the kinds a question names.
DEFAULT_TUNING = SEARCH_TUNINGS[0]


# Words by which a question asks for a net rather than a part.
NET_WORDS = frozenset({"net", "nets", "line", "lines", "signal", "signals", "rail", "rails", "wire", "wires"})


def question_focus(query: str) -> list[Focus]:
    """What the question names, searched as narrower scopes fused with the whole: the kinds of
    part it names ("the CAN transceiver", "MOSFETs"), and nets when it asks for a line or signal."""
    focus = []
    kinds = kinds_named(query)
    if kinds:
        focus.append(Focus(kinds=kinds, chunk_types=["component"]))
    if NET_WORDS & set(identifier_words(query)):
        focus.append(Focus(chunk_types=["net"]))
    return focus


def semantic_search(
    store: VectorStore,
    embedder: Embedder,
    project_id: str,
    query: str,
    limit: int = 5,
    chunk_types: Sequence[str] | None = DEFAULT_CHUNK_TYPES,
    score_threshold: float | None = None,
    mode: SearchMode = SearchMode.HYBRID,
    expand_graph: bool = False,
    graph: GraphStore | None = None,
    tuning: SearchTuning = DEFAULT_TUNING,
) -> list[Hit]:
    """The best `limit` chunks of one project for a question. `chunk_types=None` searches every
    type. With `expand_graph`, each component or net hit carries its neighbourhood (`graph`)."""
    if mode not in SearchMode.__members__.values():
        raise ValueError(f"mode must be one of {', '.join(SearchMode)}, not {mode!r}")
    request = VectorQuery(
        focus=question_focus(query) if tuning.focus else [],
        project_ids=[project_id],
        dense=embedder.embed_query([query])[0] if mode != SearchMode.SPARSE else None,
        sparse=encode_query(query) if mode != SearchMode.DENSE else None,
        limit=limit,
        chunk_types=list(chunk_types) if chunk_types else None,
        score_threshold=score_threshold,
        hide_drawings=not DRAWING_KINDS.intersection(kinds_named(query)),
        fusion=tuning.fusion,
        prefetch=tuning.prefetch,
    )
    hits = store.query(request)
    if expand_graph:
        if graph is None:
            raise ValueError("expand_graph needs the graph store")
        expand_hits(graph, hits)
    return hits
