import pytest

from wessley_dagster.adapters.importer import build_bundle
from wessley_dagster.adapters.pdf_text import read_text_spans
from wessley_dagster.adapters.source import JobInfo
from wessley_dagster_tests.conftest import REPO

PDF = REPO / "data" / "sources" / "speeduino-v0.4.3d" / "v0.4__THT__Latest__v0.4.3d.pdf"


def test_text_layer_spans_with_page_and_bbox():
    spans, pages = read_text_spans(PDF)
    assert pages == 7 and len(spans) > 1300
    assert {s.page for s in spans} == set(range(1, 8))
    assert all(s.bbox[0] <= s.bbox[2] and s.bbox[1] <= s.bbox[3] and s.engine == "pdf-text" for s in spans)
    assert len({s.id for s in spans}) == len(spans)


def test_rotated_kicad_labels_read_the_right_way_round():
    texts = {s.text for s in read_text_spans(PDF)[0]}
    for label in ("JP4", "R29", "R30", "C22", "D14", "Serial", "Power"):
        assert label in texts
    for reversed_label in ("4PJ", "92R", "22C", "41D", "laireS"):
        assert reversed_label not in texts


@pytest.mark.parametrize(
    ("netlist", "pdf"),
    [
        ("cantact-hw/cantact.net", "cantact-hw/cantact.pdf"),
        ("vesc-bldc-4.12/design__BLDC_4.net", "vesc-bldc-4.12/design__BLDC_4.pdf"),
    ],
)
def test_designators_on_eeschema_pdfs_are_words(netlist: str, pdf: str):
    """Eeschema PDFs set neighbouring lines close together: words are grouped with a tight line
    tolerance so that "U1" is not read as "U" and "1" (70 % of CANtact's parts went unlinked)."""
    sources = REPO / "data" / "sources"
    bundle, rate, _ = build_bundle("kicad", sources / netlist, JobInfo("t", "j"), sources / pdf)
    assert rate >= 0.95
    texts = {s.text for s in bundle.text_spans}
    assert {"U1", "C5", "D1", "R2"} <= texts
