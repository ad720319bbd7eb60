"""The dashboard on MariaDB + RabbitMQ (servers from the tests/backends harness), reading as a
user that may only SELECT: every page works, none shows a password, and no write is possible
through the dashboard's connection even for a user who could write."""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
from web_helpers import Dashboard, fill, get

from plato_eas.db import Database
from plato_eas.errors import DatabaseError
from plato_eas.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backends"))

import backend_servers as servers  # noqa: E402

PAGES = ["/", "/jobs/demo", "/jobs/failing", "/tree?job_name=demo", "/tree?parent=1",
         "/logs", "/timings?job_name=demo", "/timings.csv", "/pass_fail?job_name=demo",
         "/detection.csv", "/timeline", "/queue", "/tasks/1", "/healthz"]


@pytest.fixture(scope="module")
def backends():
    """MariaDB and RabbitMQ: those of `scripts/servers.sh start` when running, else our own
    (installed when missing, stopped by PID at the end)."""
    base = os.environ.get("EAS_SERVERS_DIR")
    state = servers.load_state(Path(base)) if base else None
    if state:
        yield servers.servers_from_state(state)
        return
    servers.ensure_packages()
    folder = Path(tempfile.mkdtemp(prefix="plato-eas-web-servers-"))
    mariadb, rabbitmq = servers.MariaDB(folder / "mariadb"), servers.RabbitMQ(folder / "mq")
    try:
        mariadb.start()
        rabbitmq.start()
        yield mariadb, rabbitmq
    finally:
        mariadb.stop()
        rabbitmq.stop()


@pytest.fixture(scope="module")
def mysql_amqp(backends, tmp_path_factory):
    """A MariaDB database and RabbitMQ queues filled by `eas run`, and a SELECT-only user."""
    mariadb, rabbitmq = backends
    name = "eas_web_" + uuid.uuid4().hex[:10]
    mariadb.create_database(name)
    home = tmp_path_factory.mktemp("mysql-amqp")
    settings = Settings(
        db_engine="mysql", db_host="127.0.0.1", db_port=mariadb.port, db_user=mariadb.user,
        db_password=mariadb.password, db_name=name, data_dir=str(home / "data"),
        queue_implementation="amqp", mq_host="127.0.0.1", mq_port=rabbitmq.port,
        mq_user=rabbitmq.user, mq_password=rabbitmq.password, mq_vhost=rabbitmq.vhost)
    rabbitmq.delete_queues(_queue_names())
    fill(settings, ["demo", "failing"])
    viewer, password = "eas_view_" + uuid.uuid4().hex[:6], secrets.token_urlsafe(12)
    with mariadb.admin() as conn, conn.cursor() as cur:
        cur.execute("CREATE USER %s@'127.0.0.1' IDENTIFIED BY %s", (viewer, password))
        cur.execute(f"GRANT SELECT ON `{name}`.* TO %s@'127.0.0.1'", (viewer,))
    yield settings, settings.replace(db_user=viewer, db_password=password)
    with mariadb.admin() as conn, conn.cursor() as cur:
        cur.execute("DROP USER %s@'127.0.0.1'", (viewer,))
    mariadb.drop_database(name)
    rabbitmq.delete_queues(_queue_names())


def _queue_names() -> list[str]:
    from plato_eas.tasks.registry import load_registry

    return sorted(load_registry(None).task_types)


def test_every_page_as_a_select_only_user(mysql_amqp, tmp_path):
    owner, viewer = mysql_amqp
    server = Dashboard(viewer, tmp_path / "web.log").wait()
    try:
        for url in PAGES:
            status, body, _ = get(server.url + url)
            assert status in (200, 286), (url, status, body[-300:])
            text = body.decode()
            for secret in (owner.db_password, viewer.db_password, owner.mq_password):
                assert secret not in text, url
        jobs = get(server.url + "/")[1].decode()
        assert "demo" in jobs and "failing" in jobs and "finished" in jobs
        queue = get(server.url + "/queue")[1].decode()
        assert "(amqp)" in queue and "<td>null</td>" in queue
        logs = get(server.url + "/logs?job_name=failing&min_severity=error")[1].decode()
        assert "failed on purpose" in logs
    finally:
        server.stop()


def test_the_viewer_may_only_select(mysql_amqp):
    _, viewer = mysql_amqp
    with Database(viewer, read_only=True) as db:
        grants = db.read(lambda tx: [r[0] for r in tx.tuples("SHOW GRANTS")])
        assert any("GRANT SELECT ON" in g for g in grants)
        assert not any(w in g for g in grants for w in ("INSERT", "UPDATE", "DELETE", "ALL"))
    with Database(viewer) as db, pytest.raises(DatabaseError, match="command denied"):
        db.run(lambda tx: tx.execute("DELETE FROM eas_log_messages"), attempts=1)


def test_the_dashboard_session_cannot_write_even_as_owner(mysql_amqp):
    owner, _ = mysql_amqp
    with Database(owner, read_only=True) as db:
        with pytest.raises(DatabaseError, match="READ ONLY"):
            db.run(lambda tx: tx.execute("DELETE FROM eas_log_messages"), attempts=1)
        assert db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM eas_log_messages")) > 0
