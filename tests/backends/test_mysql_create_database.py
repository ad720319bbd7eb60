"""`schema` on MySQL/MariaDB creates a missing database when its user may (utf8mb4, case-
sensitive collation), and otherwise says in one line what an administrator must run."""

from __future__ import annotations

import secrets
import uuid

import pytest

from plato_eas import actions
from plato_eas.cli import main as eas
from plato_eas.db import Database
from plato_eas.errors import DatabaseError

pytestmark = pytest.mark.mysql


@pytest.fixture
def missing(mysql_settings, mariadb):
    """Settings naming a database that does not exist (dropped afterwards if created)."""
    name = "eas_new_" + uuid.uuid4().hex[:10]
    yield mysql_settings.replace(db_name=name)
    mariadb.drop_database(name)


@pytest.fixture
def limited_user(mariadb):
    """A user with rights on one other database only: it may not create databases."""
    user, password = "eas_lim_" + secrets.token_hex(4), secrets.token_urlsafe(12)
    with mariadb.admin() as conn, conn.cursor() as cur:
        cur.execute("CREATE USER %s@'127.0.0.1' IDENTIFIED BY %s", (user, password))
        cur.execute(f"GRANT ALL PRIVILEGES ON `{user}_own`.* TO %s@'127.0.0.1'", (user,))
    yield user, password
    with mariadb.admin() as conn, conn.cursor() as cur:
        cur.execute("DROP USER IF EXISTS %s@'127.0.0.1'", (user,))


def _schemata(mariadb, name: str) -> tuple | None:
    with mariadb.admin() as conn, conn.cursor() as cur:
        cur.execute("SELECT default_character_set_name, default_collation_name"
                    " FROM information_schema.schemata WHERE schema_name = %s", (name,))
        return cur.fetchone()


def test_schema_creates_a_missing_database_utf8mb4_case_sensitive(missing, mariadb):
    assert _schemata(mariadb, missing.db_name) is None
    result = actions.init_schema(missing)
    assert result["changed"] and "eas_task" in result["created_tables"]
    assert _schemata(mariadb, missing.db_name) == ("utf8mb4", "utf8mb4_bin")
    assert actions.init_schema(missing)["changed"] is False  # idempotent
    with Database(missing) as db:  # names differing only in case are different names
        db.run(lambda tx: tx.executemany("INSERT INTO eas_task_types (taskTypeName) VALUES (?)",
                                         [("CaseTest",), ("casetest",)]))


def test_check_mode_on_a_missing_database_says_it_would_create_it_and_creates_nothing(
        missing, mariadb):
    result = actions.init_schema(missing, check_mode=True)
    assert result["changed"] and "eas_task" in result["created_tables"]
    assert _schemata(mariadb, missing.db_name) is None


def test_reports_on_a_missing_database_say_to_create_it(missing, mariadb, capsys):
    with pytest.raises(DatabaseError, match=r"database 'eas_new_\w+' does not exist on "
                                            r"127\.0\.0\.1:\d+: create it with `eas init`"):
        actions.report(missing, "progress")
    assert _schemata(mariadb, missing.db_name) is None  # nothing created by a report


def test_a_user_who_may_not_create_it_gets_the_sql_to_run_in_one_line(
        missing, mariadb, limited_user, capsys, monkeypatch):
    user, password = limited_user
    settings = missing.replace(db_user=user, db_password=password)
    args = ["--db-engine", "mysql", "--db-host", "127.0.0.1", "--db-port", str(mariadb.port),
            "--db-user", user, "--db-name", missing.db_name, "--data-dir", missing.data_dir]
    monkeypatch.setenv("EAS_DB_PASSWORD", password)  # never on a command line
    assert eas([*args, "init"]) == 1  # an operator error
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and password not in err
    statements = err.split("an administrator must run: ")[1].strip()
    assert statements == (
        f"CREATE DATABASE IF NOT EXISTS `{missing.db_name}` CHARACTER SET utf8mb4 COLLATE "
        f"utf8mb4_bin; GRANT ALL PRIVILEGES ON `{missing.db_name}`.* TO '{user}'@'127.0.0.1';")
    with mariadb.admin() as conn, conn.cursor() as cur:  # what the administrator runs ...
        for statement in statements.rstrip(";").split("; "):
            cur.execute(statement)
    assert actions.init_schema(settings)["changed"]  # ... is all the user needed
    assert _schemata(mariadb, missing.db_name) == ("utf8mb4", "utf8mb4_bin")
