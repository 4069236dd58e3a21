"""Stored float32 rows are read a block at a time, in order, to the bit; a file of the wrong size
is refused with its name and shape, and the file is closed with the rows."""

import gc
import io

import numpy as np
import pytest

from wessley_dagster.stores import float32_rows
from wessley_dagster.stores.float32_rows import Float32Rows

MATRIX = np.random.default_rng(7).standard_normal((10, 3)).astype("<f4")


def test_rows_come_in_order_a_block_at_a_time(monkeypatch):
    monkeypatch.setattr(float32_rows, "BLOCK_ROWS", 4)
    rows = Float32Rows(io.BytesIO(MATRIX.tobytes()), (10, 3), "p/j/embeddings.f32")
    assert [len(block) for block in rows.blocks()] == [4, 4, 2]
    assert len(rows) == 10 and np.array_equal(np.stack(list(rows)), MATRIX)
    assert np.array_equal(np.asarray(rows), MATRIX) and np.asarray(rows, dtype=np.float64).dtype == np.float64
    assert np.array_equal(np.stack(list(rows)), MATRIX)  # iterated again from the start


def test_a_file_of_the_wrong_size_is_refused_and_closed():
    file = io.BytesIO(MATRIX[:9].tobytes())
    with pytest.raises(ValueError, match=r"p/j/embeddings\.f32: 108 bytes, expected float32 rows of shape \[10, 3\]"):
        Float32Rows(file, (10, 3), "p/j/embeddings.f32")
    assert file.closed


def test_a_file_cut_short_after_it_was_opened_is_reported_not_padded():
    file = io.BytesIO(MATRIX.tobytes())
    rows = Float32Rows(file, (10, 3), "p/j/embeddings.f32")
    file.truncate(100)
    with pytest.raises(ValueError, match=r"p/j/embeddings\.f32: rows 0-10 are cut short"):
        list(rows)


def test_the_file_is_closed_with_the_rows():
    file = io.BytesIO(MATRIX.tobytes())
    rows = Float32Rows(file, (10, 3), "m")
    del rows
    gc.collect()
    assert file.closed
