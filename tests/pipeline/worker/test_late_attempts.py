"""Late and orphaned attempts never overwrite recorded products: an attempt writes its files
in a folder of its own and they move into place only while the attempt is still its worker's
(compare-and-set on the attempt row); a task runner dies with its worker, and takes the
processes its task started with it."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import subprocess
import time

from pipeline_helpers import alive, attempt_rows, wait_for

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.tasks.api import implementations
from plato_eas.tasks.testing import null_task
from plato_eas.worker.worker import Worker

CTX = multiprocessing.get_context("fork")


def _serve(settings) -> None:
    Worker(settings).run(until_empty=True)


def _versions(settings) -> list[dict]:
    with Database(settings) as db:
        return db.read(lambda tx: tx.rows(
            "SELECT v.*, p.filename FROM eas_product_version v "
            "JOIN eas_product p ON p.productId = v.productId ORDER BY v.productVersionId"))


def _pids_in(path) -> list[int]:
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_stalled_attempt_that_wakes_up_never_overwrites_the_recorded_file(installed,
                                                                          monkeypatch,
                                                                          tmp_path):
    fast = installed.replace(max_heartbeat_age=1.0)
    pid_file = tmp_path / "runner.pid"

    def tells_its_pid(run):
        if not pid_file.exists():
            pid_file.write_text(f"{os.getpid()}\n")
        return null_task(run)

    monkeypatch.setitem(implementations(), "null", tells_its_pid)
    actions.submit(fast, chain={"job_name": "late", "task_list": [
        {"task": "null", "name": "slow", "sleep": 3, "outputs": {"lightcurve": "x.lc"}}]})
    actions.schedule(fast)
    Worker(fast, task_types=["execution_chain"]).run(until_empty=True)
    actions.schedule(fast)
    late = CTX.Process(target=_serve, args=(fast,))
    late.start()
    stopped: list[int] = []
    try:
        assert wait_for(pid_file.exists, 20)
        runner = _pids_in(pid_file)[0]
        for pid in (late.pid, runner):  # the whole worker freezes mid-task
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)
        time.sleep(1.5)  # past the heartbeat age
        assert len(actions.schedule(fast)["requeued"]) == 1
        assert Worker(fast).run(until_empty=True) == 1  # the retry runs and is recorded
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
        late.join(30)
    assert late.exitcode == 0
    first, retry = [r for r in attempt_rows(fast) if r["taskName"] == "slow"]
    assert first["errorText"].startswith("stalled") and retry["errorFail"] == 0
    versions = _versions(fast)
    assert [v["generatedByTaskExecution"] for v in versions] == [retry["schedulingAttemptId"]]
    on_disk = (fast.output_dir / "x.lc").read_bytes()
    assert hashlib.md5(on_disk).hexdigest() == versions[0]["fileMD5"]
    assert f'"attempt_id": {retry["schedulingAttemptId"]}' in on_disk.decode()
    assert not list((fast.output_dir / ".attempts").iterdir())  # no staging folder left


def test_task_runner_and_its_processes_die_with_a_killed_worker(installed, monkeypatch,
                                                                tmp_path):
    pid_file = tmp_path / "pids"

    def starts_a_process(run):
        sleeper = subprocess.Popen(["sleep", "300"])  # noqa: S607 - a test helper
        pid_file.write_text(f"{os.getpid()} {sleeper.pid}\n")
        return null_task(run)

    monkeypatch.setitem(implementations(), "null", starts_a_process)
    actions.submit(installed, chain={"job_name": "orphans", "task_list": [
        {"task": "null", "name": "long", "sleep": 300, "outputs": {"lightcurve": "y.lc"}}]})
    actions.schedule(installed)
    Worker(installed, task_types=["execution_chain"]).run(until_empty=True)
    actions.schedule(installed)
    worker = CTX.Process(target=_serve, args=(installed,))
    worker.start()
    pids: list[int] = []
    try:
        assert wait_for(lambda: len(_pids_in(pid_file)) == 2, 20)
        pids = _pids_in(pid_file)
        os.kill(worker.pid, signal.SIGKILL)
        worker.join()
        assert wait_for(lambda: not any(alive(p) for p in pids), 5), \
            f"still running after their worker was killed: {[p for p in pids if alive(p)]}"
    finally:
        for pid in pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
