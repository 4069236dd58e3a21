"""Search over the stored data: semantic search of chunks, always filtered by project.

Queries are expanded with the canonical names of the dictionary terms they mention ("GND" also
looks for "ground") before they are embedded with the same model as the chunks.
"""

from __future__ import annotations

from collections.abc import Sequence

from wessley_dagster.domain.embedders import Embedder
from wessley_dagster.domain.terms import expand_query
from wessley_dagster.stores.graph import GraphStore
from wessley_dagster.stores.vectors import Hit, VectorStore


def semantic_search(
    store: VectorStore,
    embedder: Embedder,
    project_id: str,
    query: str,
    limit: int = 5,
    chunk_types: Sequence[str] | None = None,
    score_threshold: float | None = None,
) -> list[Hit]:
    vector = embedder.embed([expand_query(query)])[0]
    return store.search(project_id, vector, limit=limit, chunk_types=chunk_types, score_threshold=score_threshold)


def format_hit(hit: Hit) -> str:
    p = hit.payload
    where = f"page {p.get('page')}" if p.get("page") is not None else "no page"
    what = p.get("component_id") or p.get("net") or p.get("chunk_type")
    return f"{hit.score:.3f}  [{p.get('chunk_type')}] {where}, {what}: {str(p.get('text', ''))[:110]}"


def graph_context(graph: GraphStore, hit: Hit) -> str:
    """What the graph says about a hit: a component's neighbours, or a net's members."""
    p = hit.payload
    if p.get("component_id"):
        near = graph.reach(p["project_id"], p["job_id"], p["component_id"])
        return "connects to " + (", ".join(r["component_id"] for r in near) or "nothing")
    if p.get("net"):
        members = graph.net_members(p["project_id"], p["net"], p["job_id"])
        return "members " + ", ".join(f"{m['component_id']}.{m['pin']}" for m in members)
    return ""
