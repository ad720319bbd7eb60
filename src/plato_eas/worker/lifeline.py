"""A task runner dies with its worker, and takes the processes its task started with it.

The runner leads a process group of its own and asks the kernel for SIGKILL when the worker
that forked it dies (``PR_SET_PDEATHSIG``, Linux). That signal does not reach the processes a
task starts, so a *guard* — a small process the worker forks once — holds the read end of a
pipe whose write end only the worker holds, and learns from it the process group of each new
runner. However the worker dies (SIGKILL included) the pipe reaches end-of-file and the guard
kills that whole group. A worker that stops normally kills the group itself and tells the
guard there is nothing left to kill.
"""

from __future__ import annotations

import ctypes
import os
import signal
import struct

PR_SET_PDEATHSIG = 1
_GROUP = struct.Struct("!i")


def die_with_parent(parent_pid: int) -> None:
    """In a freshly forked child: SIGKILL when the parent dies (exit at once if it already
    has). Not available outside Linux: the guard still kills the group."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:
        os._exit(1)


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class Guard:
    """The worker's side of the guard process."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.fd: int | None = None  # write end: a runner must close it right after fork

    def watch(self, pgid: int) -> None:
        """From now on, kill process group ``pgid`` if the worker dies (0: none)."""
        self.start()
        os.write(self.fd, _GROUP.pack(pgid))

    def start(self) -> None:
        if self.pid is not None:
            return
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(write_end)
                _guard_main(read_end)
            finally:
                os._exit(0)
        os.close(read_end)
        self.pid, self.fd = pid, write_end

    def close(self) -> None:
        if self.pid is None:
            return
        try:
            os.write(self.fd, _GROUP.pack(0))
        finally:
            os.close(self.fd)
            os.waitpid(self.pid, 0)
            self.pid = self.fd = None


def _guard_main(fd: int) -> None:
    """Wait for end-of-file on ``fd``, then kill the last group named on it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is for the worker
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the worker's own stop reaches us as EOF
    devnull = os.open(os.devnull, os.O_RDWR)
    for std in (0, 1, 2):  # never hold a caller's output pipe open
        os.dup2(devnull, std)
    os.closerange(3, fd)  # database and broker sockets: copies only, closing them is harmless
    os.closerange(fd + 1, os.sysconf("SC_OPEN_MAX"))
    pgid, pending = 0, b""
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        pending += chunk
        while len(pending) >= _GROUP.size:
            pgid = _GROUP.unpack(pending[:_GROUP.size])[0]
            pending = pending[_GROUP.size:]
    if pgid > 0:
        kill_group(pgid)
