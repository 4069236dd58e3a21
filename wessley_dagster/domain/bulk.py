"""Building large object graphs at once. No Dagster here."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector paused while a large document is parsed into objects that all
    live on: otherwise each collection rescans everything built so far, and reading a 5 MB
    netlist took 1.6x longer than linear growth allows (its time grew as size^1.56). Nothing
    parsed forms a cycle, and refcounting still frees what is dropped. Usable as a decorator;
    nesting keeps the outermost state."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
