"""SIGTERM and SIGINT during a save or restore: clean up first, then die of the signal.

Python's default SIGTERM ends the process on the spot, so no ``finally`` clause runs and a
partial dump (or a scratch table) stays behind. Inside :func:`interruptible` both signals
raise instead; once every ``finally`` has run, the signal is delivered again under the
previous handler, so the process ends (or raises KeyboardInterrupt) as it would have.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

from ...errors import BackupError

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Interrupted(BaseException):
    """Raised by the handlers below; a BaseException, so no ``except Exception`` eats it."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise(signum: int, frame) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread can take signals (and its owner handles them)
        return
    previous = {s: signal.signal(s, _raise) for s in SIGNALS}
    try:
        yield
    except Interrupted as exc:
        _restore(previous)
        signal.raise_signal(exc.signum)  # the previous disposition applies now
        name = signal.Signals(exc.signum).name
        raise BackupError(f"interrupted by {name}; nothing was left behind") from None
    finally:
        _restore(previous)


def _restore(previous: dict) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, signal.SIG_DFL if handler is None else handler)
