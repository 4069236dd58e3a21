"""A PDF's text layer as bundle text spans: one span per word, with page and bbox.

Rotated text is read in its own direction: a glyph whose text matrix turns it a quarter turn
counter-clockwise reads bottom-to-top (KiCad's rotated labels), clockwise reads top-to-bottom.
Reading both with one direction is what makes "C49" come out as "94C".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pdfplumber

from wessley_dagster.domain.bundle import DISALLOWED_IN_TEXT, TextSpan

ENGINE = "pdf-text"


def _rotation(obj: dict[str, Any]) -> str:
    if obj.get("object_type") != "char" or obj.get("upright", True):
        return "upright"
    return "up" if obj["matrix"][1] > 0 else "down"


def read_text_spans(pdf_path: Path) -> tuple[list[TextSpan], int]:
    """(spans, page count). Span ids are `p<page>-w<n>` in reading order per page."""
    spans: list[TextSpan] = []
    with pdfplumber.open(pdf_path) as pdf:
        for page_no, page in enumerate(pdf.pages, start=1):
            words = []
            for rotation, char_dir in (("upright", "ltr"), ("up", "btt"), ("down", "ttb")):
                part = page.filter(lambda o, r=rotation: o.get("object_type") != "char" or _rotation(o) == r)
                words += (
                    part.extract_words(char_dir_rotated=char_dir, y_tolerance=1)
                    if rotation != "upright"
                    else part.extract_words(y_tolerance=1)
                )
            words.sort(key=lambda w: (round(w["top"]), w["x0"]))
            for n, word in enumerate(words):
                # Broken font maps yield control characters; they are no text, and a bundle refuses them.
                text = DISALLOWED_IN_TEXT.sub("", word["text"])
                if not text.strip():
                    continue
                spans.append(
                    TextSpan(
                        id=f"p{page_no}-w{n}",
                        text=text,
                        page=page_no,
                        bbox=(word["x0"], word["top"], word["x1"], word["bottom"]),
                        confidence=1.0,  # a text layer is exact, unlike OCR
                        engine=ENGINE,
                    )
                )
        return spans, len(pdf.pages)
