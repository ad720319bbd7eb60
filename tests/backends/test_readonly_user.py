"""The dashboard's read-only database user (plato_eas.admin.readonly_user, what the Kubernetes
init Job runs) on a real MariaDB: it may SELECT from the task database and nothing else, its
password follows the Secret, and running it again leaves it so."""

from __future__ import annotations

import secrets
import uuid

import pytest

from plato_eas import actions
from plato_eas.admin import readonly_user
from plato_eas.db import Database
from plato_eas.errors import ConfigError, DatabaseError


@pytest.fixture
def admin(mariadb, mysql_settings):
    """An administrator like the MySQL image's root: every privilege, with GRANT OPTION."""
    name, password = "eas_adm_" + uuid.uuid4().hex[:6], secrets.token_urlsafe(12)
    with mariadb.admin() as conn, conn.cursor() as cur:
        cur.execute("CREATE USER %s@'127.0.0.1' IDENTIFIED BY %s", (name, password))
        cur.execute("GRANT ALL PRIVILEGES ON *.* TO %s@'127.0.0.1' WITH GRANT OPTION", (name,))
    actions.init_schema(mysql_settings)
    yield mysql_settings.replace(db_user=name, db_password=password)
    with mariadb.admin() as conn, conn.cursor() as cur:
        cur.execute("DROP USER %s@'127.0.0.1'", (name,))


@pytest.fixture
def viewer(mariadb, admin):
    name = "eas_ro_" + uuid.uuid4().hex[:6]
    yield name
    with mariadb.admin() as conn, conn.cursor() as cur:
        cur.execute("DROP USER IF EXISTS %s@'%%'", (name,))


def _grants(settings) -> list[str]:
    with Database(settings, read_only=True) as db:
        return db.read(lambda tx: [r[0] for r in tx.tuples("SHOW GRANTS")])


def test_the_user_may_select_and_nothing_else(admin, viewer):
    password = secrets.token_urlsafe(18)
    readonly_user.ensure_read_only_user(admin, viewer, password)
    reader = admin.replace(db_user=viewer, db_password=password)
    grants = _grants(reader)
    assert [g for g in grants if "ON *.*" not in g] == [
        f"GRANT SELECT ON `{admin.db_name}`.* TO `{viewer}`@`%`"]
    assert all("USAGE" in g for g in grants if "ON *.*" in g)
    with Database(reader) as db:
        assert db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM eas_task_types")) > 0
        with pytest.raises(DatabaseError, match="command denied"):
            db.run(lambda tx: tx.execute("DELETE FROM eas_task_types"), attempts=1)
        with pytest.raises(DatabaseError, match="command denied"):
            db.run(lambda tx: tx.execute("INSERT INTO eas_log_messages (message) VALUES ('x')"),
                   attempts=1)


def test_running_again_follows_the_secret_and_revokes_extra_rights(mariadb, admin, viewer):
    readonly_user.ensure_read_only_user(admin, viewer, "first-password-1234")
    with mariadb.admin() as conn, conn.cursor() as cur:  # someone widened it by hand
        cur.execute(f"GRANT DELETE ON `{admin.db_name}`.* TO %s@'%%'", (viewer,))
    new = secrets.token_urlsafe(18)
    readonly_user.ensure_read_only_user(admin, viewer, new)
    with pytest.raises(DatabaseError, match="Access denied"):
        _grants(admin.replace(db_user=viewer, db_password="first-password-1234"))
    grants = _grants(admin.replace(db_user=viewer, db_password=new))
    assert not any("DELETE" in g for g in grants), grants


def test_the_init_job_entry_point_reads_its_environment(admin, viewer, capsys):
    password = secrets.token_urlsafe(18)
    env = {"EAS_DB_ENGINE": "mysql", "EAS_DB_HOST": admin.db_host,
           "EAS_DB_PORT": str(admin.db_port), "EAS_DB_NAME": admin.db_name,
           "EAS_DB_ADMIN_USER": admin.db_user, "EAS_DB_ADMIN_PASSWORD": admin.db_password,
           "EAS_DB_READONLY_USER": viewer, "EAS_DB_READONLY_PASSWORD": password}
    assert readonly_user.main(env) == 0
    out = capsys.readouterr()
    assert out.out.strip() == f"read-only user {viewer}@% may SELECT on {admin.db_name}"
    assert password not in out.out + out.err and admin.db_password not in out.out + out.err
    assert _grants(admin.replace(db_user=viewer, db_password=password))


def test_missing_settings_and_wrong_admin_give_one_line(admin, viewer, capsys):
    assert readonly_user.main({"EAS_DB_READONLY_USER": viewer}) == 1
    err = capsys.readouterr().err
    assert err == ("error: set EAS_DB_ADMIN_PASSWORD, EAS_DB_READONLY_PASSWORD to create the "
                   "read-only database user\n")
    env = {"EAS_DB_ENGINE": "mysql", "EAS_DB_HOST": admin.db_host,
           "EAS_DB_PORT": str(admin.db_port), "EAS_DB_NAME": admin.db_name,
           "EAS_DB_ADMIN_USER": admin.db_user, "EAS_DB_ADMIN_PASSWORD": "wrong-password",
           "EAS_DB_READONLY_USER": viewer, "EAS_DB_READONLY_PASSWORD": "x" * 20}
    assert readonly_user.main(env) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot connect to mysql://") and err.count("\n") == 1
    assert "Traceback" not in err


def test_sqlite_has_no_users(tmp_path):
    from plato_eas.settings import Settings

    with pytest.raises(ConfigError, match="only on db_engine mysql"):
        readonly_user.ensure_read_only_user(Settings(db_path=str(tmp_path / "x.sqlite")),
                                            "ro", "pw")
