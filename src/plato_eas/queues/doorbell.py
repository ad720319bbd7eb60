"""A doorbell between the processes of one embedded run (``eas run``): a pipe every process
holds both ends of. Ringing writes a byte; a waiter's ``select`` returns as soon as one is
there, so an idle worker claims an attempt the moment another process committed it, instead
of at the end of a sleep that grows while the queue is empty. A ring nobody waits for stays in
the pipe and ends the next wait at once: no wake-up is lost between a claim that found the
queue empty and the wait after it. The waits keep their timeouts: polling stays the safety
net (and is all there is between processes that share no doorbell, such as `eas worker` and
`eas scheduler`).
"""

from __future__ import annotations

import os
import select


class Doorbell:
    def __init__(self) -> None:
        self.fd, self._w = os.pipe()
        os.set_blocking(self.fd, False)
        os.set_blocking(self._w, False)

    def ring(self) -> None:
        try:
            os.write(self._w, b"!")
        except BlockingIOError:  # the pipe is full: it is ringing already
            pass

    def wait(self, timeout: float, *also: int) -> list[int]:
        """Wait until the bell rings, one of the descriptors ``also`` is readable or
        ``timeout`` seconds pass; returns the readable descriptors (the rings are taken)."""
        ready, _, _ = select.select([self.fd, *also], [], [], max(0.0, timeout))
        if self.fd in ready:
            self.drain()
        return ready

    def drain(self) -> None:
        try:
            while os.read(self.fd, 4096):
                pass
        except BlockingIOError:
            pass

    def close(self) -> None:
        for fd in (self.fd, self._w):
            try:
                os.close(fd)
            except OSError:
                pass
