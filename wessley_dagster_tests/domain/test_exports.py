"""Every export stays valid for any bundle the reader accepts: the GraphML parses with a strict XML
parser and with networkx."""

import io
import json
import xml.etree.ElementTree as ET
from typing import Any

import networkx as nx
import pytest

from wessley_dagster.domain.bundle import read_bundle
from wessley_dagster.domain.exports import build_exports
from wessley_dagster.domain.graph_model import bundle_to_graph, graphml_chunks
from wessley_dagster_tests.conftest import SPEEDUINO, SYNTHETIC
from wessley_dagster_tests.domain.test_bundle import files_of, json_change

# Everything a text field may hold: markup characters, tab and newline, CR-free line breaks of
# other scripts, C1's NEL, astral characters, XML-looking strings.
AWKWARD = "K3 <relay> & \"pump\" 'coil'\ttab\nline ]]> <!-- --> \u0085 \u2028 Ω µ 🚗 \U0001f50c"


def exported(bundle: Any) -> dict[str, bytes]:
    return {e.name: e.data if isinstance(e.data, bytes) else b"".join(e.data) for e in build_exports(bundle)}


def test_exports_of_awkward_but_accepted_text_are_valid():
    def awkward(data):
        data[0]["value"] = AWKWARD
        data[0]["notes"] = {AWKWARD: [AWKWARD]}

    files = json_change("components.json", awkward)
    exports = exported(read_bundle(files.get))
    ET.fromstring(exports["graph.graphml"])  # strict: raises on any character XML 1.0 forbids
    graph = nx.read_graphml(io.BytesIO(exports["graph.graphml"]))
    assert AWKWARD in {attrs.get("value") for _, attrs in graph.nodes(data=True)}


def test_sample_exports_are_valid():
    graphml = exported(read_bundle(files_of(SYNTHETIC).get))["graph.graphml"]
    nodes = ET.fromstring(graphml).findall(".//{http://graphml.graphdrawing.org/xmlns}node")
    assert nx.read_graphml(io.BytesIO(graphml)).number_of_nodes() == len(nodes) == 86


def _as_networkx_writes_it(payload) -> bytes:
    """The export as networkx's own GraphML writer makes it from the same payload: the oracle."""
    graph = nx.MultiDiGraph()
    for label, rows in payload.nodes.items():
        for row in rows:
            attrs = {k: json.dumps(v) if isinstance(v, list) else v for k, v in row["props"].items()}
            graph.add_node(row["key"], **attrs, labels=f":{label}")
    for group in payload.all_rels():
        for start, end in group.pairs:
            graph.add_edge(start, end, type=group.type)
    buffer = io.BytesIO()
    nx.write_graphml(graph, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("source", [SYNTHETIC, SPEEDUINO])
def test_the_streamed_graphml_reads_back_as_networkx_would_write_it(source):
    payload = bundle_to_graph(read_bundle(files_of(source).get))
    chunks = list(graphml_chunks(payload, rows_per_chunk=7))  # many chunks: each ends where a row ends
    ours = nx.read_graphml(io.BytesIO(b"".join(chunks)), force_multigraph=True)
    theirs = nx.read_graphml(io.BytesIO(_as_networkx_writes_it(payload)), force_multigraph=True)
    assert dict(ours.nodes(data=True)) == dict(theirs.nodes(data=True))
    assert sorted(ours.edges(data="type")) == sorted(theirs.edges(data="type")) != []
