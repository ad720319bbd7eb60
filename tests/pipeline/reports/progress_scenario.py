"""A task database whose latest attempts are in every state, written through the attempt
lifecycle (model/attempts.py) on any engine, and the straightforward definition of the
progress counts to compare the report with: every task joined to its latest attempt."""

from __future__ import annotations

from collections import defaultdict

from plato_eas.db import Database
from plato_eas.model import attempts

NOW = 1_000_000.0
MAX_AGE = 60.0
# task number: job (tasks 1-15; j2 is the job that gets cancelled)
JOBS = {n: ("j2" if n in (9, 10, 12, 15) else "j1") for n in range(1, 16)}
# task number: the state its latest attempt settled in, after build() (others: None)
SETTLED = {1: "done", 3: "failed", 4: "done", 10: "cancelled", 15: "done"}

# The report's states by the SPEC's words, written out here rather than imported.
REFERENCE = """
SELECT tt.taskTypeName,
  CASE WHEN a.schedulingAttemptId IS NULL THEN 'waiting'
       WHEN a.errorFail = 1 THEN 'failed'
       WHEN a.isFinished = 1 THEN 'done'
       WHEN a.isQueued = 0 AND a.isRunning = 0 AND a.endTime IS NOT NULL THEN 'cancelled'
       WHEN a.isRunning = 1 AND COALESCE(a.latestHeartbeat, a.startTime, 0) < ? THEN 'stalled'
       WHEN a.isRunning = 1 THEN 'running'
       WHEN a.isQueued = 1 THEN 'queued'
       ELSE 'waiting' END AS state, COUNT(*)
FROM eas_task t JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId
LEFT JOIN eas_scheduling_attempt a ON a.schedulingAttemptId =
  (SELECT MAX(x.schedulingAttemptId) FROM eas_scheduling_attempt x WHERE x.taskId = t.taskId)
WHERE (? IS NULL OR t.jobName = ?)
GROUP BY tt.taskTypeName, state
"""


def reference_counts(db: Database, job_name: str | None) -> dict[str, dict[str, int]]:
    found = db.read(lambda tx: tx.tuples(REFERENCE, (NOW - MAX_AGE, job_name, job_name)))
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for type_name, state, count in found:
        out[type_name][state] = int(count)
    return dict(out)


def _queue(tx, task_ids: list[int], now: float) -> dict[int, int]:
    """{task id: its new queued attempt}."""
    sql = ("SELECT taskId, priority FROM eas_task WHERE taskId IN ("  # noqa: S608
           + ", ".join("?" for _ in task_ids) + ")")
    made = attempts.create_queued_for(tx, sql, list(task_ids), now)
    return {int(task_id): int(attempt_id) for attempt_id, task_id, _ in made}


def build(db: Database) -> dict[int, int]:
    """Fifteen tasks of two types in two jobs; returns {task number: task id}. Latest
    attempts: done (1st attempt, and after a retry), failed for good, failed then waiting
    for its retry, stalled (a sweep's retry that stalled again), running, queued, unqueued
    (waiting), cancelled (queued and running ones), done then rescheduled (queued again),
    cancelled then rescheduled, and tasks that never had an attempt."""
    def tasks(tx) -> dict[int, int]:
        tx.executemany("INSERT INTO eas_task_types (taskTypeName) VALUES (?)",
                       [("progress_alpha",), ("progress_beta",)])
        types = dict(tx.tuples("SELECT taskTypeName, taskTypeId FROM eas_task_types WHERE "
                               "taskTypeName LIKE 'progress_%'"))
        ids = {}
        for n, job in JOBS.items():
            type_id = types["progress_alpha" if n % 2 else "progress_beta"]
            ids[n] = tx.insert(
                "INSERT INTO eas_task (createdTime, isFullyConfigured, taskTypeId, jobName,"
                " taskName, workingDirectory) VALUES (?, 1, ?, ?, ?, '')",
                (NOW, type_id, job, f"t{n}"))
        return ids

    ids = db.run(tasks)
    host = db.run(lambda tx: tx.insert("INSERT INTO eas_worker_host (hostname) VALUES ('h')"))

    def run(tx, attempt_id: int, passed: bool | None, at: float) -> None:
        assert attempts.take(tx, attempt_id, host, at)
        if passed is not None:
            assert attempts.finish(tx, attempt_id, passed, None if passed else "boom",
                                   1.0, 1.0, 1.0, at + 1)

    def lifecycle(tx) -> None:
        first = _queue(tx, [ids[n] for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14, 15)],
                       NOW - 500)
        run(tx, first[ids[1]], True, NOW - 400)                    # done
        run(tx, first[ids[2]], False, NOW - 400)                   # failed, retry waits
        attempts.plan_retry(tx, ids[2], NOW + 1000)
        run(tx, first[ids[3]], False, NOW - 400)                   # failed for good
        run(tx, first[ids[4]], False, NOW - 400)                   # failed, retried, done
        attempts.plan_retry(tx, ids[4], NOW - 300)
        run(tx, first[ids[5]], None, NOW - 400)                    # stalls: swept below
        assert attempts.fail_stalled(tx, MAX_AGE, NOW - 250) == [(first[ids[5]], ids[5])]
        attempts.plan_retry(tx, ids[5], NOW - 240)
        retried = {int(task_id): int(attempt_id)
                   for attempt_id, task_id, _ in attempts.queue_due_retries(tx, NOW - 200)}
        assert set(retried) == {ids[4], ids[5]}
        run(tx, retried[ids[4]], True, NOW - 150)
        run(tx, retried[ids[5]], None, NOW - 150)                  # stalled again, unswept
        run(tx, first[ids[6]], None, NOW - 10)                     # running
        attempts.unqueue(tx, [first[ids[8]]])                      # waiting (unqueued)
        run(tx, first[ids[10]], None, NOW - 10)                    # running, then cancelled
        run(tx, first[ids[13]], True, NOW - 100)                   # done, then rescheduled
        run(tx, first[ids[15]], True, NOW - 100)                   # done (in job j2)
        attempts.cancel_job(tx, "j2", "cancelled by a test", NOW - 5)   # 9 and 10
        _queue(tx, [ids[13]], NOW - 3)
        _queue(tx, [ids[9]], NOW - 2)                              # cancelled, rescheduled

    db.run(lifecycle)
    return ids
