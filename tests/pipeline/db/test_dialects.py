"""The SQLite dialect against a real database: index lookup, drop order, quoting (the MySQL
side: tests/backends/test_mysql.py; the claim strategy: tests/pipeline/queues/test_sql.py)."""

from __future__ import annotations

from plato_eas.db.dialects import MysqlDialect, SqliteDialect
from plato_eas.model.schema import drop


def test_index_exists_sees_the_schema_indexes_only(db):
    exists = db.dialect.index_exists
    assert db.read(lambda tx: exists(tx, "eas_scheduling_attempt", "eas_attempt_claim"))
    assert not db.read(lambda tx: exists(tx, "eas_task", "eas_attempt_claim"))
    assert not db.read(lambda tx: exists(tx, "eas_task", "no_such_index"))


def test_every_table_drops_with_foreign_keys_on(db):
    assert db.read(lambda tx: tx.scalar("PRAGMA foreign_keys")) == 1
    dropped = drop(db)
    assert "eas_task" in dropped and db.read(db.dialect.table_names) == []


def test_identifiers_are_quoted_with_their_quote_doubled():
    assert SqliteDialect.quote('a"b') == '"a""b"'
    assert MysqlDialect.quote("a`b") == "`a``b`"
