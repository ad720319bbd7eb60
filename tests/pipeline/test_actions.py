"""The actions that are more than a call through: the embedded run's worker count, the worker
daemon's count, submission in check mode, and the worker plan fed with live queue depths
(real SQLite; the embedded run itself: scheduling/test_local_run.py)."""

from __future__ import annotations

import pytest
from pipeline_helpers import chain

from plato_eas import actions
from plato_eas.errors import ConfigError


def test_local_run_refuses_no_workers(installed):
    with pytest.raises(ConfigError, match="workers must be at least 1, not 0"):
        actions.local_run(installed, workers=0)


def test_worker_until_empty_reports_what_it_ran(installed):
    actions.submit(installed, chain=chain("null_parallel"))
    actions.schedule(installed)
    ran = actions.worker(installed, task_types=["execution_chain"], until_empty=True)
    assert ran == {"changed": True, "attempts_run": 1,
                   "msg": "worker stopped after running 1 attempt"}
    assert actions.worker(installed, task_types=["execution_chain"], until_empty=True) == {
        "changed": False, "attempts_run": 0, "msg": "worker stopped after running 0 attempts"}


def test_worker_plan_scales_from_the_live_queue_depths(installed):
    actions.submit(installed, chain=chain("null_parallel"))
    actions.schedule(installed)  # one execution_chain attempt queued
    plan = actions.worker_plan(installed, scaling={"tasks_per_replica": 1})
    assert plan["changed"] is False
    assert plan["scaling"]["queue_depths"]["execution_chain"] == 1
    assert plan["scaling"]["demand"]["eas-base"] == 1
    given = actions.worker_plan(installed, scaling={}, queue_depths={"null": 25})
    assert given["scaling"]["queue_depths"] == {"null": 25}


def test_worker_plan_refuses_malformed_options_in_one_line(installed):
    with pytest.raises(ConfigError, match="worker plan options are malformed"):
        actions.worker_plan(installed, replicas={"eas-base": "many"})


def test_submit_in_check_mode_validates_and_says_a_real_run_registers(installed):
    planned = actions.submit(installed, chain=chain("null_parallel"), check_mode=True)
    assert planned["changed"] is True and planned["task_id"] is None
    checked = actions.submit(installed, chain=chain("null_parallel"), validate_only=True,
                             check_mode=True)
    assert checked["changed"] is False
    assert actions.report(installed, "progress")["rows"] == []  # nothing registered
