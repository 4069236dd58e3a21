import numpy as np

from wessley_dagster.domain.unit_rows import unit_rows


def test_rows_are_scaled_to_length_one_and_a_zero_row_stays_zero():
    rows = unit_rows(np.array([[3.0, 4.0], [0.0, 0.0], [1e-30, 0.0]]))
    assert rows.dtype == np.float32
    assert rows.tolist() == [[0.6000000238418579, 0.800000011920929], [0.0, 0.0], [1.0, 0.0]]
