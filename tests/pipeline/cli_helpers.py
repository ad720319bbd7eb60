"""Running ``eas`` as an operator does: a separate process, on pipes or on a terminal (pty)."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time

EAS = [sys.executable, "-m", "plato_eas.cli"]


def settings_args(settings) -> list[str]:
    return ["--db-path", settings.db_path, "--data-dir", settings.data_dir]


def eas(settings, *args: str, stdin: str | None = None, timeout: float = 120,
        env: dict | None = None) -> subprocess.CompletedProcess:
    """``eas`` with pipes for its standard streams (not a terminal)."""
    return subprocess.run([*EAS, *settings_args(settings), *args], input=stdin,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def eas_here(capsys, settings, *args: str) -> tuple[int, str, str]:
    """``eas`` in this process (faster; stdin is not a terminal): (status, stdout, stderr)."""
    from plato_eas.cli import main

    capsys.readouterr()
    status = main([*settings_args(settings), *args])
    out, err = capsys.readouterr()
    return status, out, err


def eas_on_terminal(settings, *args: str, answer: str | None = None,
                    ctrl_c_after: str | None = None, timeout: float = 120) -> tuple[int, str]:
    """``eas`` with a pseudo-terminal as stdin, stdout and stderr; ``answer`` is typed once
    the process has printed a question; Ctrl-C (SIGINT to its process group, as a terminal
    sends it) is pressed once it has printed ``ctrl_c_after``. Returns (exit status,
    everything it printed)."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "160", "LINES": "40"}
    proc = subprocess.Popen([*EAS, *settings_args(settings), *args], stdin=slave, stdout=slave,
                            stderr=slave, env=env, close_fds=True, start_new_session=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the terminal's other side is closed
                    break
                if not data:
                    break
                chunks.append(data)
                if answer is not None and b"[y/N]" in b"".join(chunks):
                    os.write(master, answer.encode() + b"\n")
                    answer = None
                if ctrl_c_after is not None and ctrl_c_after.encode() in b"".join(chunks):
                    os.killpg(proc.pid, signal.SIGINT)
                    ctrl_c_after = None
            elif proc.poll() is not None:
                break
        status = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return status, b"".join(chunks).decode(errors="replace")


def slow_chain(folder, job: str, tasks: int, sleep: float) -> str:
    """A chain file of ``tasks`` null tasks sleeping ``sleep`` s each; returns its path."""
    path = folder / f"{job}.json"
    path.write_text(json.dumps({"job_name": job, "task_list": [
        {"task": "null", "name": f"t{i}", "sleep": sleep} for i in range(tasks)]}))
    return str(path)
