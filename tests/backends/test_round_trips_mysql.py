"""One commit per attempt on MariaDB: the transaction that records an attempt also claims (and
loads) the worker's next one — and nothing is lost, held or run twice because of it, even when
the answer to that COMMIT is lost with the connection."""

from __future__ import annotations

import inspect

import pymysql
import pytest
from backend_helpers import add_null_tasks, init

from plato_eas.db import Database
from plato_eas.db.dialects import MysqlDialect
from plato_eas.queues.sql import SqlQueue
from plato_eas.scheduling.scheduler import schedule_pass
from plato_eas.worker.worker import Worker

pytestmark = pytest.mark.mysql


def _queued_nulls(settings, count: int) -> None:
    init(settings)
    add_null_tasks(settings, count)
    with Database(settings) as db:
        assert len(schedule_pass(db)["attempt_ids"]) == count


def _states(settings) -> list[tuple]:
    """(queued, running, finished, failed) of every attempt."""
    with Database(settings) as db:
        return db.read(lambda tx: tx.tuples(
            "SELECT isQueued, isRunning, isFinished, errorFail FROM eas_scheduling_attempt "
            "ORDER BY schedulingAttemptId"))


def _count_calls(monkeypatch, owner, name: str) -> list:
    calls: list = []
    real = getattr(owner, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    static = isinstance(inspect.getattr_static(owner, name), staticmethod)
    monkeypatch.setattr(owner, name, staticmethod(counted) if static else counted)
    return calls


def test_each_attempt_costs_one_commit(mysql_settings, monkeypatch):
    _queued_nulls(mysql_settings, 20)
    worker = Worker(mysql_settings, task_types=["null"])
    commits = _count_calls(monkeypatch, MysqlDialect, "commit")
    claims = _count_calls(monkeypatch, SqlQueue, "claim")
    assert worker.run(until_empty=True) == 20
    # a claim on its own at the start and the one that finds the queue empty; every other
    # attempt is claimed by the transaction recording the one before (before: 22 claims
    # committing on their own, 20 recording and 20 loading transactions)
    assert len(claims) == 2
    assert len(commits) == 20
    assert _states(mysql_settings) == [(0, 0, 1, 0)] * 20


def test_a_lost_answer_to_the_recording_commit_loses_no_claimed_attempt(
        mysql_settings, mariadb, monkeypatch):
    """The COMMIT that recorded an attempt and claimed the next went through, then the
    connection died before the worker heard of it: the re-run finds the attempt finished
    (not ours any more), and the worker must still run the attempt it claimed rather than
    leave it running under its host until it is swept as stalled."""
    _queued_nulls(mysql_settings, 5)
    worker = Worker(mysql_settings, task_types=["null"])
    real = MysqlDialect.commit
    cut: list = []

    def answer_lost(conn):
        real(conn)
        if worker.claimed or cut:  # the first recording transaction: it claimed the next
            return
        with conn.cursor() as cur:
            cur.execute("SELECT CONNECTION_ID()")
            cut.append(cur.fetchone())
        with mariadb.admin() as admin, admin.cursor() as cur:
            cur.execute("KILL CONNECTION %s", (list(cut[0].values())[0],))
        raise pymysql.err.OperationalError(2013, "Lost connection to server during query")

    monkeypatch.setattr(MysqlDialect, "commit", staticmethod(answer_lost))
    assert worker.run(until_empty=True) == 5
    assert len(cut) == 1
    assert _states(mysql_settings) == [(0, 0, 1, 0)] * 5


def test_amqp_each_attempt_costs_one_commit_and_no_worker_is_pushed_more_than_it_runs(
        mariadb, rabbitmq, clean_queues, tmp_path, monkeypatch):
    """With RabbitMQ the recording transaction claims the message fetched just before it;
    the consumer is cancelled meanwhile, so the broker pushes this worker nothing more
    while it runs an attempt: every other message stays ready for idle workers."""
    from backend_helpers import amqp_options, mysql_settings_for

    from plato_eas.queues.amqp import AmqpQueue

    settings, name = mysql_settings_for(mariadb, tmp_path, **amqp_options(rabbitmq))
    try:
        _queued_nulls(settings, 6)
        worker = Worker(settings, task_types=["null"])
        commits = _count_calls(monkeypatch, MysqlDialect, "commit")
        claims = _count_calls(monkeypatch, AmqpQueue, "claim")
        ready: list[int] = []
        with Database(settings) as db:
            probe = AmqpQueue(db)
            real_run = worker.runner.run

            def run(ctx, *args, **kwargs):
                ready.append(probe.depths(["null"])["null"]["messages"])
                return real_run(ctx, *args, **kwargs)

            worker.runner.run = run
            assert worker.run(until_empty=True) == 6
            left = probe.depths(["null"])["null"]["messages"]
            probe.close()
        assert ready == [5, 4, 3, 2, 1, 0] and left == 0
        assert len(claims) == 2 and len(commits) == 6
        assert _states(settings) == [(0, 0, 1, 0)] * 6
    finally:
        mariadb.drop_database(name)
