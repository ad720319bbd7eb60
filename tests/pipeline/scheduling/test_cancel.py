"""Cancel a job (scheduling/cancel.py) on the embedded default: its queued attempts leave the
queue, its running attempts end as cancelled, nothing of it is scheduled until `reschedule`
names it, and other jobs are untouched."""

from __future__ import annotations

import pytest
from job_helpers import (
    attempt_rows,
    attempts_of,
    job_row,
    new_host,
    null_chain,
    queued_job,
)

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.errors import JobError
from plato_eas.model import attempts
from plato_eas.queues.sql import SqlQueue


def test_cancel_ends_queued_and_running_attempts_and_nothing_is_scheduled_until_reschedule(
        installed):
    victim = queued_job(installed, null_chain("victim", 5))
    bystander = queued_job(installed, null_chain("bystander", 3))
    with Database(installed) as db:
        running = SqlQueue(db).claim(["null"], new_host(installed))
    assert running == victim[0]

    result = actions.cancel(installed, "victim")
    assert result["changed"] and result["cancelled"] and result["job_name"] == "victim"
    assert result["queued_attempt_ids"] == victim[1:]
    assert result["running_attempt_ids"] == [running]
    rows = {r["schedulingAttemptId"]: r for r in attempt_rows(installed, "victim")}
    for attempt_id in victim:
        row = rows[attempt_id]
        assert (row["isQueued"], row["isRunning"], row["isFinished"], row["errorFail"]) == \
            (0, 0, 0, 0), row
        assert row["endTime"] is not None and "cancelled" in row["errorText"]
    with Database(installed) as db:  # the worker's heartbeat tells it; a late result is lost
        assert db.run(lambda tx: attempts.heartbeat(tx, running, 1.0)) is False
        late = (True, None, 1.0, 0.5, 0.5, 2.0)
        assert db.run(lambda tx: attempts.finish(tx, running, *late)) is False
        logs = db.read(lambda tx: tx.tuples(
            "SELECT severity, message FROM eas_log_messages WHERE generatedByTaskExecution = ?",
            (running,)))
    assert logs == [(30, "cancelled: job 'victim' was cancelled")]

    assert attempts_of(installed, "bystander", queued=True) == bystander
    progress = actions.report(installed, "progress", job_name="victim")["total"]
    assert (progress["cancelled"], progress["queued"], progress["running"]) == (5, 0, 0)
    assert job_row(installed, "victim")["state"] == "cancelled"
    assert job_row(installed, "victim")["cancelled"] == 5
    assert job_row(installed, "bystander")["state"] == "running"
    assert actions.schedule(installed)["attempt_ids"] == []

    again = actions.cancel(installed, "victim")
    assert again["changed"] is False and again["cancelled"] is False

    everything = actions.reschedule(installed)
    assert everything["skipped"] == ["victim"] and everything["attempt_ids"] == []
    preview = actions.reschedule(installed, job_name="victim", check_mode=True)
    assert preview["resumed"] == ["victim"] and len(preview["task_ids"]) == 5
    assert job_row(installed, "victim")["state"] == "cancelled"  # check mode changed nothing
    resumed = actions.reschedule(installed, job_name="victim")
    assert resumed["resumed"] == ["victim"] and len(resumed["attempt_ids"]) == 5
    assert job_row(installed, "victim")["state"] == "running"
    done = actions.local_run(installed, workers=2, timeout=120)
    assert done["finished"], done["table"]
    assert job_row(installed, "victim")["done"] == 6  # the chain and its five tasks


def test_a_cancelled_job_is_not_expanded_further(installed):
    actions.submit(installed, chain=null_chain("early", 4))
    actions.schedule(installed)  # only the root chain's attempt is queued
    result = actions.cancel(installed, "early")
    assert len(result["queued_attempt_ids"]) == 1
    run = actions.local_run(installed, workers=1, job_name="early", timeout=60)
    assert not run["finished"] and not run["timed_out"]
    assert attempts_of(installed, "early") == []
    assert job_row(installed, "early")["state"] == "cancelled"


def test_cancel_in_check_mode_changes_nothing(installed):
    victim = queued_job(installed, null_chain("victim", 2))
    preview = actions.cancel(installed, "victim", check_mode=True)
    assert preview["changed"] and preview["queued_attempt_ids"] == victim
    assert attempts_of(installed, "victim", queued=True) == victim
    assert job_row(installed, "victim")["state"] == "running"


def test_an_unknown_job_is_refused_with_the_jobs_there_are(installed):
    queued_job(installed, null_chain("real", 1))
    with pytest.raises(JobError, match=r"no job named 'imaginary'; jobs: real"):
        actions.cancel(installed, "imaginary")
    with pytest.raises(JobError, match="no job named"):
        actions.empty_queue(installed, job_name="imaginary")


def test_empty_queue_of_one_job_leaves_the_others_queued(installed):
    mine = queued_job(installed, null_chain("mine", 3))
    theirs = queued_job(installed, null_chain("theirs", 2))
    check = actions.empty_queue(installed, job_name="mine", check_mode=True)
    assert check["attempt_ids"] == mine and attempts_of(installed, "mine", queued=True) == mine
    emptied = actions.empty_queue(installed, job_name="mine")
    assert emptied["changed"] and emptied["attempt_ids"] == mine
    assert emptied["per_queue"] == {"null": mine}
    assert attempts_of(installed, "mine", queued=True) == []
    assert attempts_of(installed, "theirs", queued=True) == theirs
    assert actions.empty_queue(installed, job_name="mine")["changed"] is False
    assert job_row(installed, "mine")["waiting"] == 3  # they wait for reschedule
    assert len(actions.reschedule(installed, job_name="mine")["attempt_ids"]) == 3
