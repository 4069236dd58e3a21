"""Vectors scaled to length 1, as every local embedder gives them. No Dagster here."""

import numpy as np


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (a zero row stays zero), in float64, as float32 rows: at once,
    not row by row in Python, which took a third of WordLlama's time."""
    rows = np.asarray(matrix, dtype=np.float64)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0).astype(np.float32)
