"""The attempt lifecycle (model/attempts.py): one definition of "stalled" for the reports, the
sweep and the retries; take, heartbeat and release on real SQLite."""

from __future__ import annotations

import time

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.worker.worker import Worker


def _one_queued_null(settings) -> int:
    """Submit one null task, expand its chain, queue it; returns its attempt id."""
    actions.submit(settings, chain={"job_name": "one", "task_list": [{"task": "null"}]})
    actions.schedule(settings)
    Worker(settings, task_types=["execution_chain"]).run(until_empty=True)
    with Database(settings) as db:  # queued by the expansion's own transaction
        (attempt_id,) = db.read(lambda tx: [r[0] for r in tx.tuples(
            "SELECT schedulingAttemptId FROM eas_scheduling_attempt WHERE isQueued = 1")])
    return attempt_id


def _attempts_of_task_of(settings, attempt_id: int) -> list[dict]:
    with Database(settings) as db:
        return db.read(lambda tx: tx.rows(
            "SELECT * FROM eas_scheduling_attempt WHERE taskId = (SELECT taskId FROM "
            "eas_scheduling_attempt WHERE schedulingAttemptId = ?) "
            "ORDER BY schedulingAttemptId", (attempt_id,)))


def test_an_attempt_that_died_before_its_first_heartbeat_is_stalled_swept_and_retried(
        installed):
    fast = installed.replace(max_heartbeat_age=1.0)
    attempt_id = _one_queued_null(fast)
    # A worker took the attempt long ago and died before recording any heartbeat.
    with Database(fast) as db:
        db.run(lambda tx: tx.execute(
            "UPDATE eas_scheduling_attempt SET isQueued = 0, isRunning = 1, hostId = NULL, "
            "startTime = ?, latestHeartbeat = NULL WHERE schedulingAttemptId = ?",
            (time.time() - 60, attempt_id)))
    progress = actions.report(fast, "progress")["total"]
    assert (progress["stalled"], progress["running"]) == (1, 0)
    assert actions.schedule(fast, check_mode=True)["stalled"] == [attempt_id]
    swept = actions.schedule(fast)
    assert swept["stalled"] == [attempt_id] and len(swept["requeued"]) == 1
    assert Worker(fast, task_types=["null"]).run(until_empty=True) == 1
    rows = _attempts_of_task_of(fast, attempt_id)
    assert [(a["errorFail"], a["isFinished"]) for a in rows] == [(1, 1), (0, 1)]
    assert rows[0]["errorText"].startswith("stalled")


def test_take_release_heartbeat_and_finish_change_only_the_state_they_leave(installed):
    from plato_eas.model import attempts

    attempt_id = _one_queued_null(installed)
    with Database(installed) as db:
        host = db.run(lambda tx: tx.insert("INSERT INTO eas_worker_host (hostname) VALUES ('h')"))
        assert db.run(lambda tx: attempts.take(tx, attempt_id, host, 100.0)) is True
        assert db.run(lambda tx: attempts.take(tx, attempt_id, host, 101.0)) is False
        assert db.run(lambda tx: attempts.taken_by(tx, host, 100.0)) == attempt_id
        assert db.run(lambda tx: attempts.taken_by(tx, host, 101.0)) is None
        db.run(lambda tx: attempts.heartbeat(tx, attempt_id, 150.0))
        assert db.run(lambda tx: attempts.release(tx, attempt_id)) is True
        assert db.run(lambda tx: attempts.release(tx, attempt_id)) is False  # queued again
        db.run(lambda tx: attempts.heartbeat(tx, attempt_id, 160.0))  # not running: no-op
        row = _attempts_of_task_of(installed, attempt_id)[0]
        assert (row["isQueued"], row["isRunning"], row["latestHeartbeat"]) == (1, 0, None)
        assert db.run(lambda tx: attempts.take(tx, attempt_id, host, 200.0)) is True
        done = (True, None, 1.0, 0.5, 0.5, 210.0)
        assert db.run(lambda tx: attempts.finish(tx, attempt_id, *done)) is True
        assert db.run(lambda tx: attempts.finish(tx, attempt_id, *done)) is False


def test_a_late_result_after_the_sweep_is_discarded_and_the_failure_awaits_its_retry(
        installed):
    from plato_eas.model import attempts

    attempt_id = _one_queued_null(installed)
    with Database(installed) as db:
        assert db.run(lambda tx: attempts.take(tx, attempt_id, 1, 100.0)) is True
        swept = db.run(lambda tx: attempts.fail_stalled(tx, 60.0, 200.0))
        assert [a for a, _ in swept] == [attempt_id]
        late = (True, None, 1.0, 0.5, 0.5, 201.0)
        assert db.run(lambda tx: attempts.finish(tx, attempt_id, *late)) is False
        row = _attempts_of_task_of(installed, attempt_id)[0]
        assert (row["failureKind"], row["retryAt"]) == ("stalled", 200.0)
        assert db.read(lambda tx: attempts.failures_due(tx, 199.0)) == []
        (due,) = db.read(lambda tx: attempts.failures_due(tx, 202.0))
        assert (due["attempt_id"], due["kind"], due["open"]) == (attempt_id, "stalled", 1)
        task = swept[0][1]
        retry = db.run(lambda tx: attempts.plan_retry(tx, task, 250.0))
        db.run(lambda tx: attempts.decided(tx, [attempt_id]))
        assert db.read(lambda tx: attempts.failures_due(tx, 300.0)) == []
        assert db.run(lambda tx: attempts.queue_due_retries(tx, 240.0)) == []
        queued = db.run(lambda tx: attempts.queue_due_retries(tx, 260.0))
        assert [attempt_id for attempt_id, _, _ in queued] == [retry]
        logs = db.read(lambda tx: tx.tuples(
            "SELECT severity, message FROM eas_log_messages WHERE generatedByTaskExecution = ?",
            (attempt_id,)))
        assert logs == [(40, "stalled: no heartbeat for more than 60 s")]


def test_a_failed_attempt_records_its_kind_and_asks_for_a_retry_decision(installed):
    from plato_eas.model import attempts

    attempt_id = _one_queued_null(installed)
    with Database(installed) as db:
        db.run(lambda tx: attempts.take(tx, attempt_id, 1, 100.0))
        failed = (False, "time limit of 5 s exceeded", 5.0, 0.1, 0.1, 106.0, "time_limit")
        assert db.run(lambda tx: attempts.finish(tx, attempt_id, *failed)) is True
    row = _attempts_of_task_of(installed, attempt_id)[0]
    assert (row["errorFail"], row["failureKind"], row["retryAt"]) == (1, "time_limit", 106.0)
