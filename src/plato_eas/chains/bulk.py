"""Working on a whole chain at once (validating, expanding, registering hundreds of thousands
of tasks) without Python's cyclic garbage collector walking it over and over."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic collector for a bulk step. Such a step makes hundreds of thousands of
    small objects (and no reference cycles), and every full collection would walk the whole
    chain again: a fifth to a third of the time of a 100,000-task chain. Reference counting
    still frees everything; the collector resumes (if it was on) when the step ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
