"""The RabbitMQ queue (SPEC §5) against a real broker, on both database engines."""

from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from typing import Iterator

import pytest
from backend_helpers import add_null_tasks, attempt_rows, init, new_host

from plato_eas import actions
from plato_eas.db import Database, Tx
from plato_eas.errors import DatabaseError, QueueError
from plato_eas.queues.amqp import QUEUE_ARGUMENTS, AmqpQueue
from plato_eas.scheduling.scheduler import schedule_pass
from plato_eas.worker.worker import Worker

pytestmark = pytest.mark.amqp


@pytest.fixture(params=["sqlite", "mysql"])
def settings(request, tmp_path, rabbitmq, clean_queues):
    from backend_helpers import amqp_options, mysql_settings_for

    if request.param == "sqlite":
        from plato_eas.settings import Settings

        s = Settings(db_path=str(tmp_path / "eas.sqlite"), data_dir=str(tmp_path / "d"),
                     **amqp_options(rabbitmq))
    else:
        mariadb = request.getfixturevalue("mariadb")
        s, name = mysql_settings_for(mariadb, tmp_path, **amqp_options(rabbitmq))
        request.addfinalizer(lambda: mariadb.drop_database(name))
    init(s)
    for i in (1, 2, 3):
        assert new_host(s, f"h{i}") <= i
    return s


def queue_for(settings) -> tuple[Database, AmqpQueue]:
    db = Database(settings)
    return db, AmqpQueue(db)


@contextmanager
def opened(settings) -> Iterator[tuple[Database, AmqpQueue]]:
    """A queue on a database connection of its own, both closed at the end."""
    db, q = queue_for(settings)
    try:
        yield db, q
    finally:
        q.close()
        db.close()


def schedule(settings) -> list[int]:
    with Database(settings) as db:
        return schedule_pass(db)["attempt_ids"]


def test_init_queues_declares_one_durable_queue_per_task_type(settings, clean_queues):
    again = actions.init_queues(settings)
    assert again["changed"] is False and again["declared"] == []
    db, q = queue_for(settings)
    try:
        depths = q.depths(clean_queues)
        assert set(depths) == set(clean_queues)
        assert all(d == {"messages": 0, "ids": []} for d in depths.values())
        # durable, with priorities: redeclaring so is accepted, anything else is refused
        q._broker(lambda: q._ch.queue_declare(queue="null", durable=True,
                                              arguments=QUEUE_ARGUMENTS))
        with pytest.raises(QueueError, match="PRECONDITION_FAILED"):
            q._broker(lambda: q._ch.queue_declare(queue="null", durable=False,
                                                  arguments=QUEUE_ARGUMENTS))
        with pytest.raises(QueueError, match="inequivalent arg 'x-max-priority'"):
            q._broker(lambda: q._ch.queue_declare(queue="null", durable=True))
    finally:
        q.close()
        db.close()


def test_schedule_publish_claim_done(settings):
    add_null_tasks(settings, 5)
    ids = schedule(settings)
    assert len(ids) == 5
    db, q = queue_for(settings)
    try:
        assert q.depths(["null"]) == {"null": {"messages": 5, "ids": ids}}
        assert q.depths(["null"], show_ids=3) == {"null": {"messages": 5, "ids": []}}
        # depths consumed nothing; the outbox is empty after publish
        assert db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM eas_queue_outbox")) == 0
        claimed = []
        for _ in range(5):
            aid = q.claim(["null", "error"], host_id=1)
            claimed.append(aid)
            _finish(db, aid)
            q.done(aid)
        assert sorted(claimed) == ids
        assert q.claim(["null", "error"], host_id=1) is None
        assert q.depths(["null"])["null"]["messages"] == 0
    finally:
        q.close()
        db.close()
    rows = attempt_rows(settings)
    assert all(r["isFinished"] and not r["isQueued"] and r["hostId"] == 1 for r in rows)


def _finish(db: Database, attempt_id: int) -> None:
    db.run(lambda tx: tx.execute(
        "UPDATE eas_scheduling_attempt SET isRunning = 0, isFinished = 1, endTime = ? "
        "WHERE schedulingAttemptId = ?", (time.time(), attempt_id)))


def test_outbox_survives_a_crash_between_commit_and_publish(settings):
    """stage() commits with the attempts; a later publish() by anyone sends them."""
    task_ids = add_null_tasks(settings, 3)
    db, q = queue_for(settings)
    try:
        def unit(tx):
            ids = [tx.insert("INSERT INTO eas_scheduling_attempt (taskId, queuedTime, isQueued, "
                             "isRunning, isFinished, errorFail) VALUES (?, ?, 1, 0, 0, 0)",
                             (t, time.time())) for t in task_ids]
            q.stage(tx, {"null": ids})
            return ids

        ids = db.run(unit)  # ... and the scheduler "dies" here, before publish()
        assert q.depths(["null"])["null"]["messages"] == 0
        other_db, other = queue_for(settings)
        assert other.publish() == 3
        assert other.publish() == 0
        other.close()
        other_db.close()
        assert q.depths(["null"])["null"]["messages"] == 3
        got = [q.claim(["null"], 3) for _ in range(3)]
        assert sorted(got) == ids
    finally:
        q.close()
        db.close()


def test_redelivered_finished_and_duplicate_messages_are_skipped(settings):
    add_null_tasks(settings, 2)
    first, second = schedule(settings)
    db, q = queue_for(settings)
    try:
        # a duplicate message for `second` (e.g. a publisher that died before its delete)
        db.run(lambda tx: q.stage(tx, {"null": [second]}))
        q.publish()
        a = q.claim(["null"], 1)
        assert a == first
        _finish(db, a)
        q.close()  # the worker dies after recording, before its ack: redelivered
        b = q.claim(["null"], 2)  # skips the finished `first`, takes `second`
        assert b == second
        _finish(db, b)
        q.done(b)
        assert q.claim(["null"], 2) is None  # the duplicate of `second` is skipped too
        assert q.depths(["null"])["null"]["messages"] == 0
    finally:
        q.close()
        db.close()
    assert [r["hostId"] for r in attempt_rows(settings)] == [1, 2]


def test_release_puts_the_attempt_back(settings):
    add_null_tasks(settings, 1)
    (aid,) = schedule(settings)
    db, q = queue_for(settings)
    db2, q2 = queue_for(settings)
    try:
        assert q.claim(["null"], 1) == aid
        assert q2.claim(["null"], 2) is None
        q.release(aid)
        assert attempt_rows(settings)[0]["isQueued"] == 1
        assert q2.claim(["null"], 2) == aid
    finally:
        for x in (q, q2, db, db2):
            x.close()


def test_a_worker_holding_an_attempt_can_still_claim(settings):
    """prefetch 1 is exhausted by the first claim: a second claim fetches directly."""
    add_null_tasks(settings, 2)
    ids = schedule(settings)
    db, q = queue_for(settings)
    try:
        got = [q.claim(["null"], 1), q.claim(["null"], 1)]
        assert sorted(got) == ids
        assert q.claim(["null"], 1) is None
        for aid in got:
            q.done(aid)
    finally:
        q.close()
        db.close()


def test_purge_and_empty_queue_keep_database_and_broker_in_step(settings):
    add_null_tasks(settings, 4)
    ids = schedule(settings)
    planned = actions.empty_queue(settings, check_mode=True)
    assert planned["attempt_ids"] == ids and planned["changed"]
    with opened(settings) as (_db, q):
        assert q.depths(["null"])["null"]["messages"] == 4
    result = actions.empty_queue(settings, queues=["null"])
    assert result["attempt_ids"] == ids and result["per_queue"] == {"null": ids}
    assert not any(r["isQueued"] for r in attempt_rows(settings))
    with opened(settings) as (_db, q):
        assert q.depths(["null"]) == {"null": {"messages": 0, "ids": []}}
        assert q.claim(["null"], 1) is None
    assert actions.empty_queue(settings)["changed"] is False
    # reschedule queues them again, through the broker
    again = actions.reschedule(settings)
    assert len(again["attempt_ids"]) == 4
    info = actions.report(settings, "queue")
    assert info["changed"] is False


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_a_task_longer_than_twice_the_amqp_heartbeat_is_acked_once_and_run_once(
        settings, monkeypatch):
    """The worker answers broker heartbeats with each task heartbeat: the broker keeps the
    connection, so the ack after the task reaches it and nothing is delivered again."""
    monkeypatch.setattr(AmqpQueue, "heartbeat", 2)  # the broker drops a silent client in ~4 s
    fast = settings.replace(max_heartbeat_age=2.0)  # a task heartbeat every 0.5 s
    add_null_tasks(fast, 1, sleep=6.0)
    (attempt_id,) = schedule(fast)
    assert Worker(fast, task_types=["null"]).run(max_attempts=1) == 1
    # The worker has closed its connection: a message it did not manage to ack is back.
    with opened(fast) as (_db, q):
        assert q.depths(["null"])["null"]["messages"] == 0
    assert Worker(fast, task_types=["null"]).run(until_empty=True) == 0
    rows = attempt_rows(fast)
    assert [(r["schedulingAttemptId"], r["isFinished"], r["errorFail"]) for r in rows] == [
        (attempt_id, 1, 0)]


class _CommitFails:
    """A SQLite connection whose next COMMIT fails (a disk error at the worst moment)."""

    def __init__(self, conn):
        self._conn, self.armed = conn, True

    def execute(self, sql, *args):
        if sql == "COMMIT" and self.armed:
            self.armed = False
            raise sqlite3.OperationalError("disk I/O error")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._conn, name)


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_a_purge_whose_commit_fails_leaves_database_and_broker_agreeing(settings):
    add_null_tasks(settings, 3)
    ids = schedule(settings)
    with opened(settings) as (db, q):
        db._conn = _CommitFails(db.conn)
        with pytest.raises(DatabaseError):
            q.purge(["null"])
        assert q.depths(["null"]) == {"null": {"messages": 3, "ids": ids}}
    assert [r["isQueued"] for r in attempt_rows(settings)] == [1, 1, 1]


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_a_publish_whose_database_unit_is_retried_sends_each_message_once(
        settings, monkeypatch):
    add_null_tasks(settings, 3)
    execute, conflicts = Tx.execute, []

    def deadlock_once(tx, sql, params=()):
        if sql.startswith("DELETE FROM eas_queue_outbox") and not conflicts:
            conflicts.append(sql)
            raise sqlite3.OperationalError("database is locked")  # retryable: unit re-run
        return execute(tx, sql, params)

    monkeypatch.setattr(Tx, "execute", deadlock_once)
    ids = schedule(settings)
    assert conflicts
    with opened(settings) as (_db, q):
        assert q.depths(["null"]) == {"null": {"messages": 3, "ids": ids}}


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_a_large_batch_is_published_whole_on_a_connection_of_its_own(settings):
    count = AmqpQueue.batch_connection_min + 50
    add_null_tasks(settings, count)
    ids = schedule(settings)
    with opened(settings) as (db, q):
        assert q.depths(["null"], show_ids=count) == {"null": {"messages": count, "ids": ids}}
        assert db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM eas_queue_outbox")) == 0
        got = [q.claim(["null"], 1) for _ in range(count)]
        assert sorted(got) == ids


def test_wrong_password_fails_at_once_in_one_line(settings):
    bad = settings.replace(mq_password="wrong")
    started = time.monotonic()
    with Database(bad) as db, pytest.raises(QueueError) as err:
        AmqpQueue(db).declare(["null"])
    assert time.monotonic() - started < 5
    assert "refused the login" in str(err.value) and "\n" not in str(err.value)
    assert "wrong" not in str(err.value)


def test_unknown_vhost_fails_in_one_line(settings):
    bad = settings.replace(mq_vhost="no-such-vhost")
    with Database(bad) as db, pytest.raises(QueueError) as err:
        AmqpQueue(db).depths(["null"])
    assert "\n" not in str(err.value) and "no-such-vhost" in str(err.value)


def test_unreachable_broker_fails_after_backoff_in_one_line(settings):
    from backend_servers import free_port

    bad = settings.replace(mq_port=free_port())
    started = time.monotonic()
    with Database(bad) as db, pytest.raises(QueueError) as err:
        AmqpQueue(db, connect_patience=1.5).declare(["null"])
    # Backoff 0.2 s, 0.4 s, then 0.8 s unless that would pass the patience: at least three
    # tries and 0.6 s of waiting (more tries when each is quick), never long.
    assert 0.6 < time.monotonic() - started < 10
    assert str(err.value).startswith("cannot reach RabbitMQ amqp://eas@")
    assert "\n" not in str(err.value)


def tls(settings, rabbitmq, **changes):
    return settings.replace(**{"mq_port": rabbitmq.tls_port, "mq_tls": True,
                               "mq_ca_file": rabbitmq.ca_file, **changes})


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_tls_carries_the_whole_cycle(settings, rabbitmq, host):
    secure = tls(settings, rabbitmq, mq_host=host)
    actions.init_queues(secure)
    add_null_tasks(secure, 2)
    ids = schedule(secure)
    db, queue = queue_for(secure)
    with db:
        assert queue.describe().startswith("amqps://")
        got = [queue.claim(["null"], 1), queue.claim(["null"], 2)]
        listed = rabbitmq.ctl("list_connections", "port", "ssl", "ssl_protocol").stdout
        assert f"{rabbitmq.tls_port}\ttrue\ttlsv1.3" in listed  # our open connection
        for attempt_id in got:
            queue.done(attempt_id)
        queue.close()
    assert sorted(got) == sorted(ids)


def test_tls_refuses_a_broker_signed_by_another_ca_at_once(settings, rabbitmq, tmp_path):
    from backend_servers import make_tls_files

    other = make_tls_files(tmp_path / "other", "some other CA")["ca"]
    started = time.monotonic()
    with Database(tls(settings, rabbitmq, mq_ca_file=str(other))) as db, \
            pytest.raises(QueueError) as err:
        AmqpQueue(db).declare(["null"])
    assert time.monotonic() - started < 5
    message = str(err.value)
    assert "\n" not in message and "certificate verify failed" in message
    assert message.startswith(f"RabbitMQ amqps://eas@127.0.0.1:{rabbitmq.tls_port}/")


def test_tls_with_a_missing_ca_file_fails_in_one_line(settings, rabbitmq, tmp_path):
    missing = tmp_path / "no-such-ca.pem"
    with Database(tls(settings, rabbitmq, mq_ca_file=str(missing))) as db, \
            pytest.raises(QueueError) as err:
        AmqpQueue(db)
    assert str(err.value) == f"mq_ca_file {missing}: No such file or directory"
