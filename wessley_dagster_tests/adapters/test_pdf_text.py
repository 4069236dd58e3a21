from wessley_dagster.adapters.pdf_text import read_text_spans
from wessley_dagster_tests.conftest import REPO

PDF = REPO / "data" / "sources" / "speeduino-v0.4.3d" / "v0.4__THT__Latest__v0.4.3d.pdf"


def test_text_layer_spans_with_page_and_bbox():
    spans, pages = read_text_spans(PDF)
    assert pages == 7 and len(spans) > 1500
    assert {s.page for s in spans} == set(range(1, 8))
    assert all(s.bbox[0] <= s.bbox[2] and s.bbox[1] <= s.bbox[3] and s.engine == "pdf-text" for s in spans)
    assert len({s.id for s in spans}) == len(spans)


def test_rotated_kicad_labels_read_the_right_way_round():
    texts = {s.text for s in read_text_spans(PDF)[0]}
    for label in ("JP4", "R29", "R30", "C22", "D14", "Serial", "Power"):
        assert label in texts
    for reversed_label in ("4PJ", "92R", "22C", "41D", "laireS"):
        assert reversed_label not in texts
