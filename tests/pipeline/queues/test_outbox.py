"""The AMQP outbox on real SQLite: staged rows in batches, and the lease that lets one
publisher at a time send them (the broker side: tests/backends/test_amqp.py)."""

from __future__ import annotations

from plato_eas.queues import outbox


def _lock_and_take(lease):
    def unit(tx):
        tx.dialect.lock_scheduler(tx)
        return lease.take(tx)
    return unit


def test_one_publisher_holds_the_lease_until_it_gives_it_back(db):
    first, second = outbox.Lease(), outbox.Lease()
    assert db.run(_lock_and_take(first)) is True
    assert db.run(_lock_and_take(second)) is False
    assert db.run(_lock_and_take(first)) is True  # renewed by its holder
    db.run(first.release)
    assert db.run(_lock_and_take(second)) is True
    db.run(first.release)  # a stale release leaves the new holder's lease alone
    assert db.run(_lock_and_take(first)) is False


def test_a_lease_left_by_a_dead_publisher_expires(db, monkeypatch):
    dead, alive = outbox.Lease(), outbox.Lease()
    assert db.run(_lock_and_take(dead)) is True
    monkeypatch.setattr(outbox, "LEASE_SECONDS", -1.0)  # as if its time had run out
    assert db.run(_lock_and_take(dead)) is True
    assert db.run(_lock_and_take(alive)) is True


def test_staged_rows_come_back_in_order_and_go_when_deleted(db):
    def stage(tx):
        task = tx.insert("INSERT INTO eas_task (createdTime, isFullyConfigured, taskTypeId, "
                         "workingDirectory) VALUES (0, 1, 1, 'w')")
        ids = [tx.insert("INSERT INTO eas_scheduling_attempt (taskId, isQueued) VALUES (?, ?)",
                         (task, queued)) for queued in (1, 0, 1)]
        outbox.stage(tx, {"null": ids[:2], "error": ids[2:]})
        return ids

    assert not db.read(outbox.pending)
    ids = db.run(stage)
    rows = db.read(outbox.batch)
    assert [(r[1], r[2], r[3]) for r in rows] == [
        (ids[0], "null", 1), (ids[1], "null", 0), (ids[2], "error", 1)]
    db.run(lambda tx: outbox.drop_queues(tx, ["error"]))
    db.run(lambda tx: outbox.delete(tx, [rows[0][0]]))
    assert [r[1] for r in db.read(outbox.batch)] == [ids[1]]
