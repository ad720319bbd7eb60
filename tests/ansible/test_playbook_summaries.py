"""The playbooks say what happened (or, with --check, what would happen) in one line each:
the action's own ``msg``, the words `eas` prints too."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from eas_ansible_helpers import BIN, ROOT, run

from plato_eas.model.schema import TABLE_NAMES

TABLES = len(TABLE_NAMES)


def messages(output: str) -> list[str]:
    """The ``msg`` of every debug task, from the default callback's JSON results."""
    found = []
    for block in re.findall(r"^ok: \[localhost\] => (\{\n.*?\n\})$", output, re.M | re.S):
        value = json.loads(block)
        if "msg" in value:
            found.append(value["msg"])
    return found


@pytest.fixture
def playbook(tool_env, tmp_path):
    """Run playbooks/NAME.yml against a scratch SQLite installation from ``cwd``."""
    base = {"eas_db_path": str(tmp_path / "eas.sqlite"), "eas_data_dir": str(tmp_path / "data")}

    def play(name: str, *flags: str, cwd: Path = ROOT, check: bool = True, **extra) -> tuple:
        env = {**tool_env, "ANSIBLE_CALLBACK_RESULT_FORMAT": "json", "PWD": str(cwd),
               "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")}  # from anywhere, as from ROOT
        args = [str(BIN / "ansible-playbook"), str(ROOT / "playbooks" / f"{name}.yml"),
                "-e", json.dumps({**base, **extra}), *flags]
        done = run(args, env=env, cwd=cwd, check=check)
        return done, messages(done.stdout)

    return play


def test_init_schema_in_check_mode_says_what_it_would_create_and_creates_nothing(
        playbook, tmp_path):
    _, said = playbook("init_schema", "--check")
    assert len(said) == 1 and re.fullmatch(
        rf"would create {TABLES} tables; would load \d+ task types, \d+ containers from the "
        r"registry \(schema version \d+\)", said[0]), said
    assert not (tmp_path / "eas.sqlite").exists()
    _, said = playbook("init_schema")
    assert re.fullmatch(rf"created {TABLES} tables; loaded \d+ task types, \d+ containers from the "
                        r"registry \(schema version \d+\)", said[0]), said
    _, said = playbook("init_schema", "--check")
    assert re.fullmatch(r"schema version \d+ is up to date; nothing to do", said[0]), said


def test_submit_resolves_a_relative_chain_file_where_the_playbook_was_run(playbook, tmp_path):
    playbook("init_schema")
    _, said = playbook("submit", eas_chain_file="examples/chains/null_parallel.json")
    assert said == ["submitted job null_parallel as task 1 (3 top-level tasks)"]
    (tmp_path / "mine.json").write_text('{"job_name": "mine", "task_list": [{"task": "null"}]}')
    _, said = playbook("submit", cwd=tmp_path, eas_chain_file="mine.json")
    assert said == ["submitted job mine as task 2 (1 top-level task)"]
    done, _ = playbook("submit", cwd=tmp_path, check=False, eas_chain_file="nope/none.json")
    assert done.returncode != 0
    assert f"cannot read {tmp_path}/nope/none.json: No such file or directory" in done.stdout


def test_schedule_and_empty_queue_in_check_mode_say_would(playbook):
    playbook("init_schema")
    playbook("init_queues")
    playbook("submit", eas_chain_file=str(ROOT / "examples/chains/null_parallel.json"))
    _, said = playbook("schedule", "--check")
    assert said == ["would queue 1 ready task"]
    _, said = playbook("schedule")
    assert said == ["queued 1 attempt"]
    _, said = playbook("empty_queue", "--check")
    assert said[0].startswith("would remove 1 waiting attempt (execution_chain 1); their "
                              "tasks wait, and are not scheduled again until `eas reschedule`")
    _, said = playbook("empty_queue")
    assert said[0].startswith("removed 1 waiting attempt (execution_chain 1)")
    _, said = playbook("empty_queue", "--check")
    assert said == ["the queues hold no waiting attempts; nothing removed"]


def test_db_restore_says_what_it_restored_once_and_would_in_check_mode(playbook, tmp_path):
    playbook("init_schema")
    playbook("submit", eas_chain_file=str(ROOT / "examples/chains/null_parallel.json"))
    dump = str(tmp_path / "eas.sql.gz")
    _, said = playbook("db_save", eas_dump_dest=dump)
    assert len(said) == 1 and said[0].startswith(f"saved the task database to {dump} (")
    _, said = playbook("db_restore", "--check", eas_dump_src=dump, eas_restore_force=True)
    assert said == [f"dump {dump} is sound; would restore it, replacing 4 tables that held "
                    "data"]
    _, said = playbook("db_restore", eas_dump_src=dump, eas_restore_force=True)
    assert len(said) == 1 and "=" not in said[0]
    assert re.fullmatch(rf"restored {re.escape(dump)}: {TABLES} tables, \d+ rows \(1 task\), "
                        r"replacing 4 tables that held data", said[0]), said
