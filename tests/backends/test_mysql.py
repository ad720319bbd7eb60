"""The MySQL/MariaDB engine of the database layer against a real MariaDB 10.11."""

from __future__ import annotations

import threading
import time

import pytest
from backend_helpers import add_null_tasks, init, new_host

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.db.dialects import MysqlDialect
from plato_eas.errors import DatabaseError
from plato_eas.queues.sql import SqlQueue
from plato_eas.scheduling.scheduler import schedule_pass

WINDOW = MysqlDialect.claim.window  # the oldest queued attempts claimers spread over

pytestmark = pytest.mark.mysql


def test_schema_is_innodb_utf8mb4(mysql_settings):
    actions.init_schema(mysql_settings)
    with Database(mysql_settings) as db:
        rows = db.read(lambda tx: tx.tuples(
            "SELECT table_name, engine, table_collation FROM information_schema.tables "
            "WHERE table_schema = DATABASE()"))
        level = db.read(lambda tx: tx.scalar("SELECT @@tx_isolation"))
    assert len(rows) >= 17
    assert {(engine, collation) for _, engine, collation in rows} == {("InnoDB", "utf8mb4_bin")}
    assert level == "READ-COMMITTED"


def test_wrong_credentials_and_unknown_database_fail_at_once_in_one_line(mysql_settings):
    for bad, expected in ((mysql_settings.replace(db_password="nope"),
                           "cannot connect to mysql://eas@127.0.0.1:"),
                          (mysql_settings.replace(db_name="no_such_db"),
                           "database 'no_such_db' does not exist on 127.0.0.1:")):
        started = time.monotonic()
        with pytest.raises(DatabaseError) as err, Database(bad) as db:
            db.read(lambda tx: tx.scalar("SELECT 1"))
        message = str(err.value)
        assert message.startswith(expected) and "\n" not in message and "nope" not in message
        assert time.monotonic() - started < 3


def _kill(mariadb, connection_id: int) -> None:
    with mariadb.admin() as conn, conn.cursor() as cur:
        cur.execute("KILL CONNECTION %s", (connection_id,))


def test_a_killed_idle_connection_is_replaced(mysql_settings, mariadb):
    with Database(mysql_settings) as db:
        first = db.read(lambda tx: tx.scalar("SELECT CONNECTION_ID()"))
        _kill(mariadb, first)
        time.sleep(0.1)
        second = db.read(lambda tx: tx.scalar("SELECT CONNECTION_ID()"))
        assert second != first


def test_a_unit_cut_by_a_lost_connection_is_run_again(mysql_settings, mariadb):
    actions.init_schema(mysql_settings)
    calls = []
    with Database(mysql_settings) as db:
        def unit(tx):
            calls.append(tx.scalar("SELECT CONNECTION_ID()"))
            if len(calls) == 1:
                _kill(mariadb, calls[0])
            return tx.insert("INSERT INTO eas_worker_host (hostname) VALUES (?)", ("x",))

        host = db.run(unit)
        assert len(calls) == 2 and calls[0] != calls[1]
        assert db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM eas_worker_host")) == 1
        assert host == db.read(lambda tx: tx.scalar("SELECT hostId FROM eas_worker_host"))


def test_deadlocks_are_retried_not_raised(mysql_settings):
    actions.init_schema(mysql_settings)
    with Database(mysql_settings) as db:
        db.run(lambda tx: tx.executemany(
            "INSERT INTO eas_worker_host (hostId, hostname) VALUES (?, ?)", [(1, "a"), (2, "b")]))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    tries = {1: 0, 2: 0}

    def worker(first: int, second: int) -> None:
        def unit(tx):
            tries[first] += 1
            tx.execute("UPDATE eas_worker_host SET hostname = ? WHERE hostId = ?", ("x", first))
            if tries[first] == 1:
                barrier.wait(timeout=10)
            tx.execute("UPDATE eas_worker_host SET hostname = ? WHERE hostId = ?", ("y", second))

        try:
            with Database(mysql_settings) as own:
                own.run(unit)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(1, 2)),
               threading.Thread(target=worker, args=(2, 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert tries[1] + tries[2] == 3  # one of them was chosen as the deadlock victim, re-ran


def _hold(tx, attempt_ids) -> None:
    """Lock attempts the way another long transaction would."""
    for attempt_id in attempt_ids:
        tx.rows("SELECT * FROM eas_scheduling_attempt WHERE schedulingAttemptId = ? FOR UPDATE",
                (attempt_id,))


def test_sql_claims_skip_rows_held_by_another_transaction(mysql_settings):
    init(mysql_settings)
    add_null_tasks(mysql_settings, 3)
    with Database(mysql_settings) as db:
        first, second, third = schedule_pass(db)["attempt_ids"]
    host = new_host(mysql_settings)
    with Database(mysql_settings) as holder, Database(mysql_settings) as claimer:
        queue = SqlQueue(claimer)
        with holder.transaction() as tx:
            _hold(tx, [first])
            started = time.monotonic()
            got = {queue.claim(["null"], host), queue.claim(["null"], host)}
            # Only the held row is left: nothing claimable now, said at once (not "wait 50 s").
            assert queue.claim(["null"], host) is None
            assert got == {second, third} and time.monotonic() - started < 2
        assert queue.claim(["null"], host) == first


def test_sql_claim_looks_past_a_window_of_held_rows(mysql_settings):
    init(mysql_settings)
    add_null_tasks(mysql_settings, WINDOW + 2)
    with Database(mysql_settings) as db:
        ids = schedule_pass(db)["attempt_ids"]
    host = new_host(mysql_settings)
    with Database(mysql_settings) as holder, Database(mysql_settings) as claimer:
        with holder.transaction() as tx:
            _hold(tx, ids[:WINDOW])
            started = time.monotonic()
            got = [SqlQueue(claimer).claim(["null"], host) for _ in range(3)]
            assert time.monotonic() - started < 2
        assert sorted(got[:2]) == ids[WINDOW:] and got[2] is None


def test_sql_claims_never_leave_the_oldest_attempt_behind(mysql_settings):
    """Claimers start at different places among the oldest queued attempts (fewer collisions),
    but one claimer moves on each claim: the oldest is taken within WINDOW claims."""
    init(mysql_settings)
    add_null_tasks(mysql_settings, 3 * WINDOW)
    with Database(mysql_settings) as db:
        ids = schedule_pass(db)["attempt_ids"]
    host = new_host(mysql_settings)
    with Database(mysql_settings) as db:
        queue = SqlQueue(db)
        got = [queue.claim(["null"], host) for _ in range(WINDOW)]
    assert ids[0] in got and len(set(got)) == WINDOW and set(got) <= set(ids[:2 * WINDOW])


def test_a_claim_whose_answer_was_lost_with_the_connection_finds_its_own_row(
        mysql_settings, mariadb, monkeypatch):
    """The UPDATE committed, then the connection died before the client heard of it: the
    retried claim must return that attempt (now running under our host), not take another."""
    import pymysql

    from plato_eas.db.database import Tx

    init(mysql_settings)
    add_null_tasks(mysql_settings, 3)
    with Database(mysql_settings) as db:
        ids = schedule_pass(db)["attempt_ids"]
    host = new_host(mysql_settings)
    real = Tx.execute_unless_locked
    cut = []

    def answer_lost(tx, sql, params=()):
        taken = real(tx, sql, params)
        if taken == 1 and not cut:
            cut.append(params[-1])
            _kill(mariadb, tx.scalar("SELECT CONNECTION_ID()"))
            raise pymysql.err.OperationalError(2013, "Lost connection to server during query")
        return taken

    monkeypatch.setattr(Tx, "execute_unless_locked", answer_lost)
    with Database(mysql_settings) as db:
        got = SqlQueue(db).claim(["null"], host)
        running = db.read(lambda tx: tx.tuples(
            "SELECT schedulingAttemptId, hostId FROM eas_scheduling_attempt "
            "WHERE isRunning = 1"))
    assert cut and got == cut[0] and got in ids
    assert running == [(got, host)]
