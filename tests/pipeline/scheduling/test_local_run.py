"""The embedded run (scheduling/local_run.py) through its action: what check mode reports
without running anything, and why a run that ended did not succeed — worker processes that
could not start, or what the workers were running when the timeout passed (real SQLite, real
worker processes)."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import threading

from job_helpers import null_chain, queued_job
from pipeline_helpers import chain

from plato_eas import actions, cli
from plato_eas.db import Database
from plato_eas.worker.worker import serve


def test_local_run_check_mode_runs_nothing_and_counts_the_work_left(installed):
    actions.submit(installed, chain=chain("null_parallel"))
    preview = actions.local_run(installed, workers=3, job_name="null_parallel",
                                check_mode=True)
    assert preview["changed"] is True
    assert preview["msg"] == "would run 3 worker(s) for 1 unfinished task(s)"
    assert actions.report(installed, "progress")["total"]["done"] == 0  # nothing ran
    actions.local_run(installed, workers=1, job_name="null_parallel", timeout=60)
    after = actions.local_run(installed, job_name="null_parallel", check_mode=True)
    assert after["changed"] is False and "for 0 unfinished" in after["msg"]


def test_local_run_says_why_it_did_not_succeed(installed):
    actions.submit(installed, chain=chain("failing"))
    result = actions.local_run(installed, workers=1, job_name="failing", timeout=60)
    assert result["failure"] == result["msg"] == (
        "1 task(s) failed; see plato.eas.errors_info (`eas report errors`; `eas reschedule` "
        "tries again); stopped: no more progress possible: 1 task waits for inputs from "
        "failed tasks")
    actions.submit(installed, chain=chain("null_parallel"))
    result = actions.local_run(installed, workers=1, job_name="null_parallel", timeout=0.01)
    assert result["timed_out"]
    assert result["failure"].startswith("timed out after 0.01 s with work left")
    # a worker may have claimed the task in the 0.01 s: its attempt goes back to the queue
    assert re.search(r"; [01] attempts? returned to the queue$", result["failure"])


def _job(name: str, sleep: float | None = None) -> dict:
    task = {"task": "null", "name": "nap"}
    if sleep:
        task["sleep"] = sleep
    return {"job_name": name, "task_list": [task]}


def test_workers_that_cannot_start_are_reported_and_the_run_stops(installed, capsys):
    actions.submit(installed, chain=_job("quick"))
    # a damaged database: the scheduler does not need the worker-host table, a worker does
    with sqlite3.connect(installed.db_path) as conn:
        conn.execute("ALTER TABLE eas_worker_host RENAME TO eas_worker_host_gone")
    result = actions.local_run(installed, workers=2, job_name="quick", timeout=60)
    assert not result["finished"] and not result["timed_out"]
    assert result["stopped"] == "no worker process could start"
    assert len(result["worker_errors"]) == 2
    for report in result["worker_errors"]:
        assert report.startswith("worker ") and " could not start: " in report
        assert "eas_worker_host" in report and "\n" not in report

    # eas run prints each reason and exits non-zero, with no traceback
    assert cli.main(["--db-path", installed.db_path, "--data-dir", installed.data_dir,
                     "run", "--workers", "1", "--job", "quick", "--timeout", "60"]) == 1
    out, err = capsys.readouterr()
    assert "could not start" in out and "stopped: no worker process could start" in out
    assert "Traceback" not in out + err


def test_timeout_names_what_the_workers_were_running(installed):
    # an older job's long task is queued first: the only worker serves it (oldest first)
    actions.submit(installed, chain=_job("older", sleep=4))
    actions.schedule(installed)
    serve(installed, until_empty=True, task_types=["execution_chain"])  # queues the nap
    actions.submit(installed, chain=_job("newer"))
    result = actions.local_run(installed, workers=1, job_name="newer", timeout=1.5)
    assert result["timed_out"] and not result["finished"]
    assert result["stopped"].startswith("timed out after 1.5 s with work left; the workers "
                                        "were running attempt ")
    assert "(null, job older)" in result["stopped"]
    assert result["worker_errors"] == []


def test_a_worker_killed_mid_run_is_reported_and_replaced(installed):
    killed: list[int] = []

    def kill_the_napper() -> None:
        with Database(installed) as db:
            rows = db.read(lambda tx: tx.tuples(
                "SELECT h.hostname FROM eas_scheduling_attempt a JOIN eas_worker_host h "
                "ON h.hostId = a.hostId WHERE a.isRunning = 1"))
        for (hostname,) in rows:
            pid = int(hostname.rsplit("/", 1)[1])
            if pid not in killed:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

    actions.submit(installed, chain=_job("nap", sleep=3))
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set() and not killed:
            kill_the_napper()
            stop.wait(0.1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        result = actions.local_run(installed.replace(max_heartbeat_age=1.0), workers=1,
                                   job_name="nap", timeout=120)
    finally:
        stop.set()
        watcher.join()
    assert result["finished"], result["stopped"]
    assert result["worker_errors"] == [f"worker {killed[0]} stopped (killed by signal 9); "
                                       "restarted"]


def test_local_run_tells_unqueued_tasks_from_cancelled_ones(installed):
    """Tasks taken off the queue by empty_queue wait for reschedule; the tasks of a cancelled
    job are cancelled, and the run says which is which."""
    queued = queued_job(installed, null_chain("emptied", 2))
    assert actions.empty_queue(installed, job_name="emptied")["attempt_ids"] == queued
    emptied = actions.local_run(installed, workers=1, job_name="emptied", timeout=60)
    assert emptied["unqueued"] == 2
    assert emptied["msg"] == (
        "stopped: no more progress possible: 2 tasks are waiting: taken off the queue by "
        "empty-queue, they are not scheduled again until `eas reschedule` "
        "(plato.eas.reschedule) queues them")

    queued_job(installed, null_chain("victim", 3))
    actions.cancel(installed, "victim")
    cancelled = actions.local_run(installed, workers=1, job_name="victim", timeout=60)
    assert cancelled["unqueued"] == 0
    assert cancelled["msg"] == (
        "stopped: no more progress possible: job victim is cancelled (3 tasks); "
        "`eas reschedule --job victim` (plato.eas.reschedule) resumes it")
