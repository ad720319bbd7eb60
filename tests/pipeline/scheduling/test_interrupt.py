"""`eas run` / local_run and `eas worker` honour signals and deadlines: on SIGINT (Ctrl-C),
SIGTERM or the run's timeout they stop at once, give their running attempts back to the queue
marked as interrupted (not failed), leave no process behind and print one line, never a
traceback; any worker can run the attempt again at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from pipeline_helpers import alive, attempt_rows, descendants, wait_for

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.tasks.api import implementations
from plato_eas.tasks.testing import null_task
from plato_eas.worker.worker import Worker

LONG = {"job_name": "long", "task_list": [{"task": "null", "name": "long", "sleep": 60}]}


def _long_attempt(settings) -> dict:
    return next(r for r in attempt_rows(settings) if r["taskName"] == "long")


def _running(settings) -> bool:
    rows = [r for r in attempt_rows(settings) if r["taskName"] == "long"]
    return bool(rows) and rows[-1]["isRunning"] == 1


def _notes(settings, attempt_id: int) -> list[tuple[int, str]]:
    with Database(settings) as db:
        return db.read(lambda tx: tx.tuples(
            "SELECT severity, message FROM eas_log_messages WHERE generatedByTaskExecution = ?",
            (attempt_id,)))


def _assert_returned_to_the_queue(settings) -> None:
    attempt = _long_attempt(settings)
    assert (attempt["isQueued"], attempt["isRunning"], attempt["isFinished"],
            attempt["errorFail"]) == (1, 0, 0, 0)
    notes = _notes(settings, attempt["schedulingAttemptId"])
    assert notes and all(level == 30 and "interrupted" in text for level, text in notes)
    assert actions.report(settings, "errors", job_name="long")["rows"] == []  # not a failure


def _runs_again_at_once(settings, monkeypatch) -> None:
    """The interrupted attempt is claimed and finished by the next worker, without waiting
    for the heartbeat age or a reschedule."""
    monkeypatch.setitem(implementations(), "null", lambda run: {})
    assert Worker(settings).run(until_empty=True) == 1
    again = _long_attempt(settings)
    assert (again["isFinished"], again["errorFail"]) == (1, 0)


def _spin(run):
    while True:
        pass


@pytest.mark.parametrize("kind", ["sleeping", "cpu-bound"])
def test_timeout_returns_at_once_and_gives_the_attempt_back(installed, monkeypatch, tmp_path,
                                                            kind):
    pid_file = tmp_path / "pids"
    def tells_its_pids(run):
        pid_file.write_text(f"{os.getppid()} {os.getpid()}\n")  # worker, runner
        if kind == "cpu-bound":
            _spin(run)
        return null_task(run)

    monkeypatch.setitem(implementations(), "null", tells_its_pids)
    actions.submit(installed, chain=LONG)
    start = time.monotonic()
    result = actions.local_run(installed, workers=1, job_name="long", timeout=3)
    took = time.monotonic() - start
    assert result["timed_out"] and not result["finished"]
    assert took < 9, f"local_run returned after {took:.1f} s"
    assert result["returned_to_queue"] == 1
    pids = [int(p) for p in pid_file.read_text().split()]
    assert not any(alive(p) for p in pids)
    _assert_returned_to_the_queue(installed)
    _runs_again_at_once(installed, monkeypatch)


def _environment(settings) -> dict:
    env = dict(os.environ, EAS_DB_PATH=settings.db_path, EAS_DATA_DIR=settings.data_dir)
    env.pop("EAS_CONFIG_FILE", None)
    return env


def _start(settings, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "plato_eas.cli", *args],
                            env=_environment(settings), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _interrupt(proc: subprocess.Popen, settings, how,
               least: int) -> tuple[int, str, str, list[int]]:
    """Wait until the long task runs and ``least`` processes run below ``proc``, note them,
    signal it; returns (exit status, stdout, stderr, the processes noted)."""
    try:
        assert wait_for(lambda: _running(settings), 30), proc.stderr.read()
        wait_for(lambda: len(descendants(proc.pid)) >= least, 5)
        below = descendants(proc.pid)
        how(proc)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, out, err, below


@pytest.mark.parametrize("how,status", [
    (lambda p: os.kill(p.pid, signal.SIGTERM), 128 + signal.SIGTERM),
    (lambda p: os.killpg(p.pid, signal.SIGINT), 128 + signal.SIGINT),  # a terminal's Ctrl-C
], ids=["SIGTERM", "Ctrl-C"])
def test_signalled_eas_run_returns_its_attempts_and_leaves_nothing_running(
        installed, monkeypatch, how, status):
    actions.submit(installed, chain=LONG)
    returncode, out, err, below = _interrupt(
        _start(installed, "run", "--workers", "2", "--job", "long"), installed, how,
        least=3)  # two workers and a task runner
    assert "Traceback" not in out + err
    assert err.strip() == "eas: interrupted; 1 attempt returned to the queue"
    assert returncode == status
    assert wait_for(lambda: not any(alive(p) for p in below), 3), \
        f"left running: {[p for p in below if alive(p)]}"
    _assert_returned_to_the_queue(installed)
    _runs_again_at_once(installed, monkeypatch)


def test_sigterm_to_a_service_worker_returns_its_attempt(installed, monkeypatch):
    actions.submit(installed, chain=LONG)
    actions.schedule(installed)
    Worker(installed, task_types=["execution_chain"]).run(until_empty=True)
    actions.schedule(installed)
    start = time.monotonic()
    returncode, out, err, below = _interrupt(_start(installed, "worker"), installed,
                                             lambda p: os.kill(p.pid, signal.SIGTERM),
                                             least=1)  # the task runner
    assert time.monotonic() - start < 20
    assert "Traceback" not in out + err
    assert "interrupted (SIGTERM); 1 attempt returned to the queue" in err
    assert returncode == 0
    assert wait_for(lambda: not any(alive(p) for p in below), 3)
    _assert_returned_to_the_queue(installed)
    _runs_again_at_once(installed, monkeypatch)
