"""A bundle's files in write order: `manifest.json` last, because its arrival means the bundle is complete."""

from __future__ import annotations

import json

from wessley_dagster.domain.bundle import COMPONENTS, MANIFEST, NETLIST, TEXT_SPANS, Bundle


def bundle_files(bundle: Bundle) -> list[tuple[str, bytes, str]]:
    """(file name, bytes, content type) in write order."""
    dump = lambda model: model.model_dump(mode="json", exclude_none=True)  # noqa: E731
    return [
        (
            TEXT_SPANS,
            b"".join(json.dumps(dump(s)).encode() + b"\n" for s in bundle.text_spans),
            "application/x-ndjson",
        ),
        (COMPONENTS, json.dumps([dump(c) for c in bundle.components], indent=1).encode(), "application/json"),
        (NETLIST, json.dumps(dump(bundle.netlist), indent=1).encode(), "application/json"),
        (MANIFEST, json.dumps(dump(bundle.manifest), indent=1).encode(), "application/json"),
    ]
