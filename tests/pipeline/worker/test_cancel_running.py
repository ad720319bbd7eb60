"""A running attempt whose job is cancelled: its worker notices within a few seconds, kills the
task runner and every process the task started, records nothing of it (the attempt stays
cancelled, not failed) and goes on with the next attempt. And a time limit is a failure of its
own kind, which a retry policy can count."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import time

import yaml
from job_helpers import attempt_rows, run_all
from pipeline_helpers import alive, wait_for

from plato_eas import actions
from plato_eas.tasks.api import implementations
from plato_eas.tasks.registry import _text
from plato_eas.tasks.testing import null_task
from plato_eas.worker.worker import Worker

CTX = multiprocessing.get_context("fork")


def _hangs_with_a_child(pid_file):
    def task(run):
        if run.description.get("name") == "long":
            sleeper = subprocess.Popen(["sleep", "300"])  # noqa: S607 - a test helper
            pid_file.write_text(f"{sleeper.pid}\n")
        return null_task(run)
    return task


def _serve(settings) -> None:
    Worker(settings, task_types=["null"]).run()


def test_a_running_attempt_of_a_cancelled_job_is_stopped_and_recorded_cancelled(
        installed, monkeypatch, tmp_path):
    pid_file = tmp_path / "sleeper.pid"
    monkeypatch.setitem(implementations(), "null", _hangs_with_a_child(pid_file))
    actions.submit(installed, chain={"job_name": "victim", "task_list": [
        {"task": "null", "name": "long", "sleep": 120}]})
    actions.schedule(installed)
    Worker(installed, task_types=["execution_chain"]).run(until_empty=True)
    actions.schedule(installed)
    worker = CTX.Process(target=_serve, args=(installed,))
    worker.start()
    try:
        assert wait_for(pid_file.exists, 30), "the task never started"
        sleeper = int(pid_file.read_text())
        cancelled = actions.cancel(installed, "victim")
        assert len(cancelled["running_attempt_ids"]) == 1
        stopped_at = time.monotonic()
        assert wait_for(lambda: not alive(sleeper), 15), "the task's process outlived the cancel"
        assert time.monotonic() - stopped_at < 10  # checked every 2 s
        (row,) = [r for r in attempt_rows(installed, "victim") if r["taskTypeName"] == "null"]
        assert (row["isRunning"], row["isFinished"], row["errorFail"]) == (0, 0, 0)
        assert row["errorText"] == "cancelled: job 'victim' was cancelled"

        actions.submit(installed, chain={"job_name": "next", "task_list": [
            {"task": "null", "name": "after"}]})
        actions.schedule(installed)
        Worker(installed, task_types=["execution_chain"]).run(until_empty=True)
        actions.schedule(installed)

        def next_done() -> bool:
            rows = [r for r in attempt_rows(installed, "next") if r["taskTypeName"] == "null"]
            return bool(rows) and rows[0]["isFinished"] == 1
        assert wait_for(next_done, 30), "the worker did not go on"
        assert worker.is_alive()
    finally:
        os.kill(worker.pid, signal.SIGTERM)
        worker.join(30)
    (row,) = [r for r in attempt_rows(installed, "victim") if r["taskTypeName"] == "null"]
    assert (row["isFinished"], row["errorFail"]) == (0, 0)  # nothing recorded late
    assert actions.report(installed, "jobs", job_name="victim")["rows"][0]["state"] == \
        "cancelled"


def test_time_limit_failures_are_retried_when_the_policy_counts_them(installed, tmp_path):
    registry = yaml.safe_load(_text(None)[0])
    for entry in registry["task_types"]:
        if entry["name"] == "null":
            entry["retry"] = {"max_retries": 1, "on": ["time_limit"]}
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump(registry))
    limited = installed.replace(registry_file=str(path))
    actions.submit(limited, chain={"job_name": "slow", "task_list": [
        {"task": "null", "name": "slow", "sleep": 8, "time_limit": 0.5}]})
    run_all(limited)
    rows = [r for r in attempt_rows(limited, "slow") if r["taskTypeName"] == "null"]
    assert [(r["errorFail"], r["failureKind"]) for r in rows] == [(1, "time_limit")] * 2
    assert all(r["errorText"] == "time limit of 0.5 s exceeded" for r in rows)
