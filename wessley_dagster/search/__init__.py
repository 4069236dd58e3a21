"""Search over the stored data, always filtered by project: dense, sparse (BM25) or hybrid
retrieval fused by Qdrant (`hybrid.py`), component similarity (`similarity.py`), graph-expanded
answers (`graph_expansion.py`) and how hits are shown (`output.py`)."""

from wessley_dagster.search.graph_expansion import expand_hits
from wessley_dagster.search.hybrid import (
    DEFAULT_CHUNK_TYPES,
    SEARCH_TUNINGS,
    SearchMode,
    SearchTuning,
    semantic_search,
)
from wessley_dagster.search.output import format_hit, hit_record
from wessley_dagster.search.similarity import similar_components

__all__ = [
    "DEFAULT_CHUNK_TYPES",
    "SEARCH_TUNINGS",
    "SearchMode",
    "SearchTuning",
    "expand_hits",
    "format_hit",
    "hit_record",
    "semantic_search",
    "similar_components",
]
