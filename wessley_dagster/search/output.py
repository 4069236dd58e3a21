"""How a hit is shown: one line for people, one JSON object for scripts."""

from __future__ import annotations

from typing import Any

from wessley_dagster.stores.vectors import Hit


def hit_record(hit: Hit) -> dict[str, Any]:
    """score, chunk_type, page, job, component_id or net, kind, text (and the graph, when expanded)."""
    p = hit.payload
    record: dict[str, Any] = {
        "score": round(hit.score, 6),
        "chunk_type": p.get("chunk_type"),
        "page": p.get("page"),
        "job_id": p.get("job_id"),
    }
    if p.get("component_id"):
        record["component_id"] = p["component_id"]
    if p.get("net"):
        record["net"] = p["net"]
    if p.get("kind"):
        record["kind"] = p["kind"]
    if p.get("chunk_type") not in ("component", "net") and p.get("component_ids"):
        record["component_ids"] = p["component_ids"]
    record["text"] = p.get("text", "")
    if "graph" in p:
        record["graph"] = p["graph"]
    return record


def format_hit(hit: Hit) -> str:
    p = hit.payload
    where = f"page {p.get('page')}" if p.get("page") is not None else "no page"
    what = p.get("component_id") or p.get("net") or ", ".join(p.get("component_ids") or []) or p.get("chunk_type")
    line = f"{hit.score:.3f}  [{p.get('chunk_type')}] {where}, {what}: {str(p.get('text', ''))[:110]}"
    graph = p.get("graph") or {}
    if graph.get("pins"):
        near = sorted({o["component_id"] for pin in graph["pins"] for o in pin["parts"]})
        line += "\n        pins " + ", ".join(f"{x['pin']}→{x['net']}" for x in graph["pins"] if x["net"])
        line += "\n        connects to " + (", ".join(near) or "nothing")
    elif graph.get("members"):
        line += "\n        members " + ", ".join(f"{m['component_id']}.{m['pin']}" for m in graph["members"])
    return line
