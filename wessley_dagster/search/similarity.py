"""Component similarity: parts of the same kind whose descriptions (what they are, their role,
their pins' functions) are closest, by the part's own dense and sparse vectors fused."""

from __future__ import annotations

from collections.abc import Sequence

from wessley_dagster.stores.vectors import Hit, VectorQuery, VectorStore


class UnknownComponent(LookupError):
    pass


def similar_components(
    store: VectorStore,
    project_id: str,
    component_id: str,
    limit: int = 5,
    other_projects: Sequence[str] = (),
    job_id: str | None = None,
) -> list[Hit]:
    """Components like `component_id` of `project_id` in this project and `other_projects` only.

    The caller decides which projects a user may see; nothing outside them is ever searched.
    With several jobs holding the part, `job_id` picks one (default: the first found)."""
    points = [
        p
        for p in store.component_points(project_id, component_id)
        if job_id is None or p.payload.get("job_id") == job_id
    ]
    if not points:
        raise UnknownComponent(f"no component {component_id!r} in project {project_id!r}")
    source = points[0]
    request = VectorQuery(
        project_ids=list(dict.fromkeys([project_id, *other_projects])),
        dense=source.vector,
        sparse=source.sparse,
        limit=limit,
        chunk_types=["component"],
        kind=source.payload.get("kind"),
        exclude_ids=[source.id],
    )
    return store.query(request)
