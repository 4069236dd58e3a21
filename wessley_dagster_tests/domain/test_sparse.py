"""Identifier-aware words and the BM25 sparse vectors built from them."""

from wessley_dagster.domain.identifiers import identifier_words, spelled_out
from wessley_dagster.domain.sparse import encode_document, encode_query, token_index, tokens


def test_identifiers_split_into_the_words_a_technician_reads():
    assert identifier_words("CANH") == ("can", "h")
    assert identifier_words("/IGN_OUT3") == ("ign", "out", "3")
    assert identifier_words("Net-(R55-Pad2)") == ("net", "r", "55", "pad", "2")
    assert identifier_words("CanHigh") == ("can", "high")
    assert identifier_words("VBATSW") == ("vbat", "sw")
    assert identifier_words("ground") == ("ground",) and identifier_words("main") == ("main",)
    assert spelled_out("PUMP_EN") == ["enable"]


def test_tokens_stem_and_drop_stop_words_but_keep_identifiers():
    assert tokens("what protects the CAN lines") == ["protect", "can", "line"]
    assert tokens("protection of the line") == ["protect", "line"]
    assert "in" in tokens("pin IN of U3") and "in" not in tokens("the part in the box")


def test_bm25_document_weights_saturate_and_normalise_length():
    one = encode_document("relay")
    three = encode_document("relay relay relay")
    long = encode_document("relay " + " ".join(f"w{i}" for i in range(300)))
    w = lambda v: dict(zip(v.indices, v.values, strict=True))[token_index("relay")]  # noqa: E731
    assert w(one) < w(three) < 3 * w(one)  # term frequency saturates
    assert w(long) < w(one)  # a long document weighs each occurrence less
    assert encode_query("relay relay fuse").values == [1.0, 1.0]
    # the dictionary term a name carries is on both sides: "CANH" meets "CAN high" and back
    assert set(encode_query("can high").indices) <= set(encode_query("CANH").indices)
