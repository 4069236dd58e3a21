"""The graph rows a bundle becomes."""

import pytest

from wessley_dagster.domain.bundle import read_bundle
from wessley_dagster.domain.graph_model import (
    COMPONENT,
    CONTRACT_PROPERTIES,
    JOB_LABELS,
    JUNCTION,
    LINE_SEGMENT,
    NET,
    PIN,
    TEXT_SPAN,
    bundle_to_graph,
)
from wessley_dagster_tests.conftest import BUNDLES


@pytest.mark.parametrize(
    "folder", sorted(p.parent for p in BUNDLES.glob("*/*/manifest.json")), ids=lambda p: p.parent.name
)
def test_only_a_bundles_extra_fields_are_properties_outside_the_contract(folder):
    """A first load names the contract's properties in its CREATE and sets any other with a
    slower statement: whatever `bundle_to_graph` adds itself must be among the contract's."""
    bundle = read_bundle(lambda name: (folder / name).read_bytes() if (folder / name).exists() else None)
    items = {
        COMPONENT: bundle.components,
        PIN: [pin for c in bundle.components for pin in c.pins],
        NET: bundle.netlist.nets,
        TEXT_SPAN: bundle.text_spans,
        JUNCTION: bundle.netlist.junctions,
        LINE_SEGMENT: bundle.netlist.line_segments,
    }
    payload = bundle_to_graph(bundle)
    for label in JOB_LABELS:
        extras = {name for item in items[label] for name in item.model_extra or {}}
        outside = {name for row in payload.nodes[label] for name in row["props"]} - set(CONTRACT_PROPERTIES[label])
        assert outside <= extras, f"{label}: {sorted(outside - extras)}"
