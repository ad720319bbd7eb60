"""Transactions on real SQLite: reads take no write lock, a unit is rolled back on error, and
driver errors reach the caller as one line."""

from __future__ import annotations

import threading

import pytest

from plato_eas.db import Database
from plato_eas.errors import DatabaseError


def _count(tx) -> int:
    return tx.scalar("SELECT COUNT(*) FROM eas_worker_host")


def test_a_read_takes_no_write_lock(db):
    inside, release = threading.Event(), threading.Event()

    def reader(tx):
        inside.set()
        release.wait(10)
        return _count(tx)

    thread = threading.Thread(target=lambda: db.read(reader))
    thread.start()
    inside.wait(10)
    with Database(db.settings) as writer:  # would wait for the write lock behind a writer
        writer.run(lambda tx: tx.execute("INSERT INTO eas_worker_host (hostname) VALUES ('w')"))
    release.set()
    thread.join(10)
    assert db.read(_count) == 1


def test_a_failed_unit_is_rolled_back(db):
    def unit(tx):
        tx.execute("INSERT INTO eas_worker_host (hostname) VALUES ('lost')")
        raise RuntimeError("the unit failed half-way")

    with pytest.raises(RuntimeError):
        db.run(unit)
    assert db.read(_count) == 0


def test_a_bad_statement_is_a_one_line_database_error(db):
    with pytest.raises(DatabaseError) as err:
        db.read(lambda tx: tx.scalar("SELECT nothing FROM nowhere"))
    assert str(err.value).startswith("sqlite:") and "\n" not in str(err.value)
