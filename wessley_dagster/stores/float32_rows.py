"""A stored float32 matrix read a block of rows at a time: a 1,000-page vehicle's 1,536-d
embeddings are 376 MB, and the vector index only needs the rows of the batch it is writing."""

import weakref
from collections.abc import Iterator
from typing import IO, Any

import numpy as np

BLOCK_ROWS = 4_096


class Float32Rows:
    """Raw little-endian float32 rows of `shape` in a seekable `file` (which it closes). Iterating
    yields the rows in order, reading `BLOCK_ROWS` at a time; `np.asarray` reads them all."""

    def __init__(self, file: IO[bytes], shape: tuple[int, int], name: str) -> None:
        expected = 4 * shape[0] * shape[1]
        size = file.seek(0, 2)
        if size != expected:
            file.close()
            raise ValueError(f"{name}: {size} bytes, expected float32 rows of shape {list(shape)}")
        self.shape, self.name, self._file = shape, name, file
        weakref.finalize(self, file.close)

    def __len__(self) -> int:
        return self.shape[0]

    def blocks(self) -> Iterator[np.ndarray]:
        rows = self.shape[0]
        for start in range(0, rows, BLOCK_ROWS):
            yield self._read(start, min(BLOCK_ROWS, rows - start))

    def __iter__(self) -> Iterator[np.ndarray]:
        for block in self.blocks():
            yield from block

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        whole = self._read(0, self.shape[0])
        return whole if dtype is None else whole.astype(dtype, copy=False)

    def _read(self, start: int, count: int) -> np.ndarray:
        dimension = self.shape[1]
        self._file.seek(4 * dimension * start)
        data = self._file.read(4 * dimension * count)
        if len(data) != 4 * dimension * count:  # the file changed under us since it was opened
            raise ValueError(f"{self.name}: rows {start}-{start + count} are cut short")
        return np.frombuffer(data, dtype="<f4").reshape(count, dimension)
