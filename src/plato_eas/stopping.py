"""This process was told to stop (SIGTERM, or SIGINT from a terminal).

A daemon's signal handler calls :func:`request`; every wait of a retry loop — reconnecting to
the database or to the broker — waits through :func:`sleep`, which is cut short by a request
and then raises :class:`StopRequested`. So a worker or scheduler that is waiting out an
outage still stops at once, instead of after its reconnect patience.
"""

from __future__ import annotations

import time

from .errors import EasError

TICK = 0.1  # seconds: how soon a wait notices a request
_requested = False  # a plain flag: a signal handler must not take locks


class StopRequested(EasError):
    """Raised from a retry loop's wait once a stop was requested."""

    def __init__(self) -> None:
        super().__init__("stopped while waiting to reconnect")


def request() -> None:
    """Ask every wait of this process to end (safe in a signal handler: sets a flag)."""
    global _requested
    _requested = True


def requested() -> bool:
    return _requested


def reset() -> None:
    """A daemon starting afresh (tests run several in one process) forgets an old request."""
    global _requested
    _requested = False


def sleep(seconds: float) -> None:
    """Wait ``seconds``, or raise :class:`StopRequested` as soon as a stop is requested."""
    end = time.monotonic() + seconds
    while not _requested:
        left = end - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(TICK, left))
    raise StopRequested()
