"""Time limits: an attempt past its task's ``time_limit`` (or its type's default in the
registry) is killed — the task runner and every process the task started — and recorded as
failed with "time limit of N s exceeded"; the worker goes on with the next attempt. A
control-flow expansion runs in the task runner under the same watch (and a memory limit), so
a runaway expansion fails its task while heartbeats go on."""

from __future__ import annotations

import multiprocessing
import subprocess
import time

import yaml
from pipeline_helpers import alive, attempt_rows, wait_for

from plato_eas import actions
from plato_eas.chains import expand
from plato_eas.tasks.api import implementations
from plato_eas.tasks.registry import _text
from plato_eas.tasks.testing import null_task
from plato_eas.worker.worker import Worker

CTX = multiprocessing.get_context("fork")


def _run_all(settings) -> float:
    """Schedule and run until nothing is left; returns the seconds it took."""
    start = time.monotonic()
    while actions.schedule(settings)["attempt_ids"]:
        Worker(settings).run(until_empty=True)
    return time.monotonic() - start


def _by_name(settings) -> dict[str, dict]:
    return {r["taskName"]: r for r in attempt_rows(settings)}


def _hangs_with_a_child(pid_file):
    """A null task that starts a process of its own, then hangs (sleep)."""
    def task(run):
        if run.description.get("name") == "hung":
            sleeper = subprocess.Popen(["sleep", "300"])  # noqa: S607 - a test helper
            pid_file.write_text(f"{sleeper.pid}\n")
        return null_task(run)
    return task


def test_task_past_its_time_limit_is_killed_with_its_processes(installed, monkeypatch,
                                                                tmp_path):
    pid_file = tmp_path / "sleeper.pid"
    monkeypatch.setitem(implementations(), "null", _hangs_with_a_child(pid_file))
    actions.submit(installed, chain={"job_name": "limits", "task_list": [
        {"task": "null", "name": "hung", "sleep": 8, "time_limit": 1},
        {"task": "null", "name": "after"}]})
    took = _run_all(installed)
    rows = _by_name(installed)
    assert (rows["hung"]["isFinished"], rows["hung"]["errorFail"]) == (1, 1)
    assert rows["hung"]["errorText"] == "time limit of 1 s exceeded"
    assert (rows["after"]["isFinished"], rows["after"]["errorFail"]) == (1, 0)
    assert took < 6
    errors = actions.report(installed, "errors", job_name="limits")["rows"]
    assert any(r["message"] == "time limit of 1 s exceeded" for r in errors)
    sleeper = int(pid_file.read_text())
    assert wait_for(lambda: not alive(sleeper), 5), "the task's own process outlived it"


def test_registry_sets_a_default_time_limit_that_a_task_overrides(installed, tmp_path):
    registry = yaml.safe_load(_text(None)[0])
    for entry in registry["task_types"]:
        if entry["name"] == "null":
            entry["time_limit"] = 1
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump(registry))
    limited = installed.replace(registry_file=str(path))
    actions.submit(limited, chain={"job_name": "defaults", "task_list": [
        {"task": "null", "name": "default", "sleep": 8},
        {"task": "null", "name": "own", "sleep": 1.5, "time_limit": 30}]})
    took = _run_all(limited)
    rows = _by_name(limited)
    assert rows["default"]["errorText"] == "time limit of 1 s exceeded"
    assert (rows["own"]["isFinished"], rows["own"]["errorFail"]) == (1, 0)
    assert took < 8


def _serve(settings) -> None:
    Worker(settings).run(until_empty=True)


def _spin(ctx, *_):
    while True:
        pass


def test_runaway_expansion_fails_its_task_in_time_while_heartbeats_go_on(installed,
                                                                          monkeypatch):
    fast = installed.replace(max_heartbeat_age=0.8)  # a heartbeat every 0.2 s
    monkeypatch.setitem(expand.EXPANDERS, "execution_conditional", _spin)
    actions.submit(fast, chain={"job_name": "runaway", "task_list": [
        {"task": "execution_conditional", "name": "spin", "criterion": True, "time_limit": 2,
         "task_list": [{"task": "null"}]},
        {"task": "null", "name": "after"}]})
    actions.schedule(fast)
    _serve(fast)  # the root chain
    actions.schedule(fast)
    worker = CTX.Process(target=_serve, args=(fast,))
    worker.start()
    worker.join(20)
    try:
        assert worker.exitcode == 0, "the worker is stuck in the expansion"
    finally:
        if worker.is_alive():
            worker.kill()
            worker.join()
    rows = _by_name(fast)
    spin = rows["spin"]
    assert (spin["isFinished"], spin["errorFail"]) == (1, 1)
    assert spin["errorText"] == "time limit of 2 s exceeded"
    assert spin["latestHeartbeat"] - spin["startTime"] >= 1.0  # it beat while expanding
    assert (rows["after"]["isFinished"], rows["after"]["errorFail"]) == (1, 0)


def _hog(ctx, *_):
    bytes(3 * 2**30)  # 3 GiB of address space (calloc: no page is touched)
    return []


def test_expansion_that_exhausts_its_memory_limit_fails_its_task(installed, monkeypatch):
    monkeypatch.setitem(expand.EXPANDERS, "execution_conditional", _hog)
    actions.submit(installed, chain={"job_name": "hog", "task_list": [
        {"task": "execution_conditional", "name": "hog", "criterion": True,
         "task_list": [{"task": "null"}]},
        {"task": "null", "name": "after"}]})
    _run_all(installed)
    rows = _by_name(installed)
    assert (rows["hog"]["isFinished"], rows["hog"]["errorFail"]) == (1, 1)
    assert "memory limit" in rows["hog"]["errorText"]
    assert rows["after"]["errorFail"] == 0
