"""Graph-expanded answers: each component or net hit gets its neighbourhood from the graph."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from wessley_dagster.stores.graph import GraphStore
from wessley_dagster.stores.vectors import Hit


def expand_hits(graph: GraphStore, hits: Sequence[Hit]) -> None:
    """Set `hit.payload["graph"]`: a component's pins with their nets and the parts on them, or a
    net's pins. One graph read per job among the hits, anchored on the nodes' keys."""
    by_job: dict[tuple[str, str], list[Hit]] = defaultdict(list)
    for hit in hits:
        by_job[(hit.payload["project_id"], hit.payload["job_id"])].append(hit)
    for (project_id, job_id), group in by_job.items():
        components = [h.payload["component_id"] for h in group if h.payload.get("chunk_type") == "component"]
        nets = [h.payload["net"] for h in group if h.payload.get("chunk_type") == "net"]
        found = graph.expand(project_id, job_id, components, nets)
        pins_of: dict[str, list[dict]] = defaultdict(list)
        for row in found["components"]:
            pins_of[row["component_id"]].append(
                {"pin": row["pin"], "function": row["function"], "net": row["net"], "parts": row["others"]}
            )
        members_of: dict[str, list[dict]] = defaultdict(list)
        for row in found["nets"]:
            members_of[row["net"]].append({k: row[k] for k in ("component_id", "type", "pin")})
        for hit in group:
            p = hit.payload
            if p.get("chunk_type") == "component":
                p["graph"] = {"pins": pins_of.get(p["component_id"], [])}
            elif p.get("chunk_type") == "net":
                p["graph"] = {"members": members_of.get(p["net"], [])}
