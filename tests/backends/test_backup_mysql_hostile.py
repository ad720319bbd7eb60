"""db_restore on MariaDB runs nothing but table data; db_save and db_restore read no option
file but their own; a user with privileges on the one database only can save and restore."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "pipeline"))  # backup_helpers

from backup_helpers import (  # noqa: E402
    add_foreign_table,
    checksums,
    inject,
    other_database,
    populate,
    read_dump,
    write_dump,
)

from plato_eas import actions  # noqa: E402
from plato_eas.db import Database  # noqa: E402
from plato_eas.errors import BackupError  # noqa: E402

pytestmark = pytest.mark.mysql

# Client commands: with a shell escape, the old restore ran them as the restoring user.
CLIENT_COMMANDS = {
    "shell_escape": "\\! touch {marker}",
    "system": "system touch {marker}",
    "source": "source {script}",
    "source_short": "\\. {script}",
    "shell_escape_after_statement": "INSERT INTO `eas_worker_host` VALUES (99,'x');"
                                    "\\! touch {marker}",
}
# SQL that is not table data of ours (statements that change the server for good are left
# out: the old code ran these, against the tests' shared server).
NOT_TABLE_DATA = {
    "executable_comment_drop": "/*!50000 DROP TABLE keep_me */;",
    "drop_foreign": "DROP TABLE `keep_me`;",
    "drop_if_exists_foreign": "DROP TABLE IF EXISTS `keep_me`;",
    "create_foreign": "CREATE TABLE `pwned_table` (`x` int);",
    "insert_foreign": "INSERT INTO `keep_me` VALUES (2);",
    "insert_select": "INSERT INTO `eas_worker_host` SELECT `hostId` + 100, `hostname` "
                     "FROM `eas_worker_host`;",
    "function_in_values": "INSERT INTO `eas_log_messages` VALUES "
                          "(NULL,1,40,LOAD_FILE('/etc/passwd'));",
    "hidden_in_comment": "INSERT INTO `eas_worker_host` VALUES (98,'x') "
                         "/*!, (97, LOAD_FILE('/etc/passwd')) */;",
    "connect_engine": "CREATE TABLE `eas_evil` (`x` int) ENGINE=CONNECT TABLE_TYPE=CSV "
                      "FILE_NAME='/etc/passwd';",
    "data_directory": "CREATE TABLE `eas_evil` (`x` int) ENGINE=InnoDB DATA DIRECTORY='{tmp}';",
    "generated_column": "CREATE TABLE `eas_gen` (`x` int, `y` text AS (LOAD_FILE('/etc/passwd')));",
    "default_expression": "CREATE TABLE `eas_def` (`x` text DEFAULT (USER()));",
    "trigger": "CREATE TRIGGER `eas_trg` BEFORE INSERT ON `eas_task` FOR EACH ROW "
               "DELETE FROM `keep_me`;",
    "outfile": "SELECT 1 INTO OUTFILE '{tmp}/outfile.txt';",
    "update": "UPDATE `eas_task` SET `jobName` = 'x';",
    "delete": "DELETE FROM `keep_me`;",
    "use": "USE `mysql`;",
    "do": "DO SLEEP(0);",
    "delimiter": "delimiter //\nCREATE TABLE `pwned_delimiter` (x int)//\ndelimiter ;",
    "global_variable": "/*!40101 SET character_set_client = utf8mb4, "
                       "@@GLOBAL.max_connections = 500 */;",
    "unterminated_string": "INSERT INTO `eas_worker_host` VALUES (98,'x);",
    "nul_byte": "INSERT INTO `eas_worker_host` VALUES (98,'a\0b');",
}


def _hostile_restore(settings, tmp_path, payload: str) -> tuple[str, int]:
    populate(settings)
    saved = actions.db_save(settings, dest=str(tmp_path / "src.sql.gz"))["path"]
    text, line = inject(read_dump(Path(saved)), "mysql", payload)
    dump = write_dump(tmp_path / "hostile.sql.gz", text)
    add_foreign_table(settings)
    before = checksums(settings)
    with pytest.raises(BackupError) as err:
        actions.db_restore(settings, src=str(dump), force=True)
    print(err.value)
    assert checksums(settings) == before
    return str(err.value), line


@pytest.mark.parametrize("name", sorted(CLIENT_COMMANDS))
def test_client_commands_in_a_dump_run_nothing(mysql_settings, tmp_path, name):
    marker = tmp_path / "marker"
    script = tmp_path / "evil.sql"
    script.write_text("CREATE TABLE pwned_by_source (x INT);\n")
    payload = CLIENT_COMMANDS[name].format(marker=marker, script=script)
    message, line = _hostile_restore(mysql_settings, tmp_path, payload)
    assert not marker.exists()
    assert f"line {line}:" in message and "\n" not in message


@pytest.mark.parametrize("name", sorted(NOT_TABLE_DATA))
def test_statements_other_than_table_data_are_refused(mysql_settings, tmp_path, name):
    payload = NOT_TABLE_DATA[name].format(tmp=tmp_path)
    message, line = _hostile_restore(mysql_settings, tmp_path, payload)
    assert f"line {line}:" in message and "\n" not in message
    assert not (tmp_path / "outfile.txt").exists()


@pytest.mark.parametrize("option_file", [
    "[client]\nuser=eas_hostile\npassword=not-the-password\n",
    "[mysqldump]\nwhere=1=0\n[mysql]\ninit-command=CREATE TABLE pwned_by_my_cnf (x INT)\n",
], ids=["other_user", "hostile_groups"])
def test_user_option_file_is_ignored(mysql_settings, tmp_path, request, monkeypatch,
                                     option_file):
    """A ~/.my.cnf can neither redirect the tools to another user or server nor change what
    they dump and run."""
    populate(mysql_settings)
    before = checksums(mysql_settings)
    home = tmp_path / "home"
    home.mkdir()
    (home / ".my.cnf").write_text(option_file)
    monkeypatch.setenv("HOME", str(home))

    saved = actions.db_save(mysql_settings, dest=str(tmp_path / "d.sql.gz"))
    target = other_database(mysql_settings, tmp_path, request)
    actions.db_restore(target, src=saved["path"])
    assert checksums(target) == before


def test_save_and_restore_need_privileges_on_the_database_only(mysql_settings, mariadb,
                                                              tmp_path):
    """The restoring user needs no CREATE DATABASE: scratch tables live beside ours."""
    populate(mysql_settings)
    add_foreign_table(mysql_settings)
    before = checksums(mysql_settings)
    user, password = "eas_ltd_" + secrets.token_hex(4), secrets.token_urlsafe(12)
    with mariadb.admin() as conn, conn.cursor() as cur:
        for host in ("127.0.0.1", "localhost"):
            cur.execute("CREATE USER %s@%s IDENTIFIED BY %s", (user, host, password))
            cur.execute(f"GRANT SELECT, INSERT, CREATE, DROP, ALTER ON "
                        f"`{mysql_settings.db_name}`.* TO %s@%s", (user, host))
    limited = mysql_settings.replace(db_user=user, db_password=password)
    try:
        saved = actions.db_save(limited, dest=str(tmp_path / "d.sql.gz"))
        with Database(mysql_settings) as db:
            db.run(lambda tx: tx.execute("DELETE FROM eas_log_messages"))
        actions.db_restore(limited, src=saved["path"], force=True)
        assert checksums(mysql_settings) == before
    finally:
        with mariadb.admin() as conn, conn.cursor() as cur:
            for host in ("127.0.0.1", "localhost"):
                cur.execute("DROP USER IF EXISTS %s@%s", (user, host))


def test_plain_mariadb_dump_restores(mysql_settings, mariadb, tmp_path, request):
    """A prototype-style ``mariadb-dump | gzip`` (no header of ours) restores too."""
    import gzip
    import subprocess

    populate(mysql_settings)
    before = checksums(mysql_settings)
    dump = tmp_path / "plain.sql.gz"
    done = subprocess.run(
        ["mariadb-dump", f"--defaults-file={mariadb.write_defaults_file()}",
         "--single-transaction", mysql_settings.db_name], capture_output=True, check=True)
    dump.write_bytes(gzip.compress(done.stdout))
    target = other_database(mysql_settings, tmp_path, request)
    result = actions.db_restore(target, src=str(dump))
    assert result["engine"] == "mysql" and result["schema_version"] is None
    assert checksums(target) == before
