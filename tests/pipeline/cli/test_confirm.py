"""Destructive commands ask first on a terminal and need --yes elsewhere: `eas init --absent`
on a database holding tasks, `eas empty-queue` without queue names, `eas save --dest` over an
existing file. Refused means nothing changed."""

from __future__ import annotations

import pytest
from cli_helpers import eas, eas_here, eas_on_terminal
from pipeline_helpers import CHAINS

from plato_eas.db import Database
from plato_eas.model.schema import TABLE_NAMES

TABLES = len(TABLE_NAMES)


def _tables(settings) -> int:
    with Database(settings) as db:
        return len(db.read(lambda tx: [t for t in tx.dialect.table_names(tx)
                                       if t.startswith("eas_")]))


def _queued(settings) -> int:
    with Database(settings) as db:
        return db.read(lambda tx: tx.scalar(
            "SELECT COUNT(*) FROM eas_scheduling_attempt WHERE isQueued = 1"))


@pytest.fixture
def populated(installed, capsys):
    """A job (its root task) with an attempt waiting in the queue."""
    eas_here(capsys, installed, "submit", str(CHAINS / "null_parallel.json"))
    eas_here(capsys, installed, "schedule")
    assert _queued(installed) == 1
    return installed


def test_dropping_a_database_with_tasks_needs_yes_off_a_terminal(populated, capsys):
    status, out, err = eas_here(capsys, populated, "init", "--absent")
    assert status == 1 and out == ""
    assert err == (f"eas: error: drop the {TABLES} plato_eas tables of {populated.db_path}, "
                   "with their 1 task and every attempt, log and file record: refusing "
                   "without --yes (standard input is not a terminal)\n")
    assert _tables(populated) == TABLES
    status, out, _ = eas_here(capsys, populated, "init", "--absent", "--yes")
    assert status == 0 and out == f"dropped {TABLES} tables holding 1 task\n"
    assert _tables(populated) == 0


def test_dropping_asks_on_a_terminal_and_a_no_keeps_everything(populated):
    status, printed = eas_on_terminal(populated, "init", "--absent", answer="n")
    assert status == 1 and "with their 1 task and every attempt" in printed
    assert "[y/N]" in printed and "nothing done" in printed
    assert _tables(populated) == TABLES
    status, printed = eas_on_terminal(populated, "init", "--absent", answer="y")
    assert status == 0 and f"dropped {TABLES} tables holding 1 task" in printed
    assert _tables(populated) == 0


def test_dropping_a_database_without_tasks_does_not_ask(installed, capsys):
    status, out, _ = eas_here(capsys, installed, "init", "--absent")
    assert status == 0 and out == f"dropped {TABLES} tables\n" and _tables(installed) == 0


def test_emptying_every_queue_needs_yes_but_naming_queues_does_not(populated, capsys):
    status, _, err = eas_here(capsys, populated, "empty-queue")
    assert status == 1 and "remove 1 waiting attempt from every queue: refusing" in err
    assert _queued(populated) == 1
    status, printed = eas_on_terminal(populated, "empty-queue", answer="")  # Enter: no
    assert status == 1 and _queued(populated) == 1
    status, out, _ = eas_here(capsys, populated, "empty-queue", "execution_chain")
    assert status == 0 and out.startswith(
        "removed 1 waiting attempt (execution_chain 1); their tasks wait")
    assert _queued(populated) == 0


def test_saving_over_an_existing_file_asks(populated, tmp_path, capsys):
    dest = tmp_path / "eas.sql.gz"
    dest.write_bytes(b"keep me")
    status, _, err = eas_here(capsys, populated, "save", "--dest", str(dest))
    assert status == 1 and f"replace the existing file {dest}: refusing without --yes" in err
    assert dest.read_bytes() == b"keep me"
    status, printed = eas_on_terminal(populated, "save", "--dest", str(dest), answer="no")
    assert status == 1 and dest.read_bytes() == b"keep me"
    done = eas(populated, "save", "--dest", str(dest), "--yes")
    assert done.returncode == 0 and dest.read_bytes() != b"keep me"
    assert done.stdout.startswith(f"saved the task database to {dest} (")
