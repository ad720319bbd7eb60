"""Nothing the dashboard does can change the database: on SQLite it opens the file read-only
(every statement it issues is a read), and writing through its connection fails."""

from __future__ import annotations

import hashlib
import sqlite3
import sys
from pathlib import Path

import pytest

from plato_eas.db import Database
from plato_eas.errors import DatabaseError
from plato_eas.web.app import create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pipeline"))

# Statements that read, and the ends of read transactions (a COMMIT of one writes nothing).
READS = ("SELECT", "WITH", "BEGIN", "COMMIT", "ROLLBACK")


def every_url(client) -> list[str]:
    """Each page and download once, plus the tree fragments and a task page of each task."""
    urls = ["/", "/jobs/demo", "/jobs/demo?running_only=1&depth=4", "/jobs/failing",
            "/jobs/demo?part=live", "/tree?job_name=demo", "/tree?parent=1", "/logs",
            "/logs?min_severity=error&page=1", "/timings", "/timings.csv",
            "/timing_summary.csv", "/pass_fail", "/pass_fail.csv", "/detection.csv",
            "/timeline", "/queue", "/files/", "/healthz"]
    return urls + [f"/tasks/{i}" for i in range(1, 40)]


def _digest(path: str) -> dict[str, str]:
    """The database file and its write-ahead log (SQLite may create an empty log and its
    shared-memory index beside a WAL database any reader opens: they hold no data)."""
    out = {}
    for suffix in ("", "-wal"):
        file = Path(path + suffix)
        if file.exists() and file.stat().st_size:
            out[suffix] = hashlib.sha256(file.read_bytes()).hexdigest()
    return out


def test_sqlite_statements_are_all_reads(filled):
    before = _digest(filled.db_path)
    app = create_app(filled)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200  # opens this thread's connection
    statements: list[str] = []
    app.config["EAS_CONNECTIONS"].db.conn.set_trace_callback(statements.append)
    for url in every_url(client):
        assert client.get(url).status_code in (200, 286, 404), url
    assert len(statements) > 100
    writes = [s for s in statements if not s.lstrip().upper().startswith(READS)]
    assert writes == []
    assert _digest(filled.db_path) == before


def test_sqlite_connection_cannot_write(filled):
    with Database(filled, read_only=True) as db:
        with pytest.raises(sqlite3.OperationalError, match="readonly|read-only|query_only"):
            db.conn.execute("INSERT INTO eas_config (configKey, configValue) VALUES ('x', 'y')")
        with pytest.raises(DatabaseError):
            db.run(lambda tx: tx.execute("DELETE FROM eas_task"))
    with Database(filled) as db:  # the same database written normally still has its tasks
        assert db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM eas_task")) > 30


def test_prototype_database_every_page(tmp_path):
    """A database as the original prototype wrote it (no schema stamp, prototype columns)."""
    from prototype_db import write_prototype_database

    from plato_eas.settings import Settings

    settings = Settings(db_path=str(tmp_path / "proto.sqlite"), data_dir=str(tmp_path / "d"))
    write_prototype_database(settings)
    before = _digest(settings.db_path)
    client = create_app(settings).test_client()
    urls = [u.replace("demo", "proto").replace("/jobs/failing", "/timeline?job_name=proto")
            for u in every_url(client)]
    for url in urls[:-39] + ["/tasks/1", "/tasks/2", "/tree?parent=1&running_only=1"]:
        response = client.get(url)
        assert response.status_code in (200, 286), (url, response.get_data(as_text=True)[-300:])
    body = client.get("/jobs/proto").get_data(as_text=True)
    assert "synthesis_psls" in body and "transit_search_bls" in body
    assert "Traceback: old failure" in client.get("/logs").get_data(as_text=True)
    assert _digest(settings.db_path) == before
