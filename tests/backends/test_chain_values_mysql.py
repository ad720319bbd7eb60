"""Values that MariaDB's columns and utf8mb4_bin collation cannot hold are refused where they
are made — at submission for literal ones, when evaluated or returned for the others — so
recording never fails half way and the worker lives on; and metadata round-trips its type
through MariaDB's DOUBLE and MEDIUMTEXT columns."""

from __future__ import annotations

import pytest
from backend_helpers import init

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.errors import ChainError
from plato_eas.model import metadata

pytestmark = pytest.mark.mysql


@pytest.fixture
def installed(mysql_settings):
    init(mysql_settings)
    return mysql_settings


def _tasks(settings) -> int:
    with Database(settings) as db:
        return db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM eas_task"))


def _run(settings, chain: dict) -> tuple[dict, str]:
    actions.submit(settings, chain=chain)
    result = actions.local_run(settings, workers=1, job_name=chain["job_name"], timeout=90)
    report = actions.report(settings, "errors", job_name=chain["job_name"])
    return result, "\n".join(row["message"] for row in report["rows"])


@pytest.mark.parametrize(
    ("task", "path", "reason"),
    [
        ({"task": "null", "set_metadata": {"k" * 65: 1}}, "$.task_list[0].set_metadata.k",
         "is 65 characters long (at most 64)"),
        ({"task": "null", "set_metadata": {"a": 1, "a ": 2}},
         '$.task_list[0].set_metadata["a "]', "metadata key 'a ' ends with a space"),
        ({"task": "null", "name": "n" * 300}, "$.task_list[0].name",
         "is 300 characters long (at most 256)"),
        ({"task": "null", "outputs": {"lightcurve": "x" * 257}},
         "$.task_list[0].outputs.lightcurve", "is 257 characters long (at most 256)"),
        ({"task": "null", "outputs": {"lc": "a.lc", "lc ": "b.lc"}},
         '$.task_list[0].outputs["lc "]', "semantic type 'lc ' ends with a space"),
    ],
)
def test_literal_values_beyond_mariadbs_columns_are_refused_at_submit(installed, task, path,
                                                                      reason):
    with pytest.raises(ChainError) as caught:
        actions.submit(installed, chain={"job_name": "cols", "task_list": [task]})
    [(found_path, message)] = caught.value.problems
    assert found_path.startswith(path) and reason in message
    assert _tasks(installed) == 0


def test_infinite_numbers_in_a_chain_file_are_refused_at_submit(installed, tmp_path):
    src = tmp_path / "inf.json"
    src.write_text('{"task_list": [{"task": "null", "set_metadata": {"x": 1e400}}]}')
    with pytest.raises(ChainError, match=r"\$\.task_list\[0\]\.set_metadata\.x: inf is not a "
                                         r"finite number"):
        actions.submit(installed, src=str(src))
    assert _tasks(installed) == 0


def test_evaluated_values_mariadb_cannot_hold_fail_their_task_and_the_worker_lives(installed):
    chain = {"job_name": "evaluated", "task_list": [
        {"task": "null", "name": "infinite", "set_metadata": {"x": "(float('inf'))"}},
        {"task": "null", "name": "nan", "set_metadata": {"x": "(float('nan'))"}},
        {"task": "execution_chain", "task_list": [{"task": "null", "name": "('n' * 300)"}]},
        {"task": "null", "name": "fine", "set_metadata": {"x": 1}},
    ]}
    result, errors = _run(installed, chain)
    assert not result["timed_out"] and result["failed"] == 3
    assert result["summary"]["done"] == 2  # the root chain and "fine"
    assert "the result is not a JSON value: inf is not a finite number" in errors
    assert "the result is not a JSON value: nan is not a finite number" in errors
    assert "$.task_list[0].name: the task name 'nnnnnnnnnn" in errors
    assert "is 300 characters long (at most 256)" in errors


def test_returned_keys_mariadb_cannot_tell_apart_fail_their_task(installed):
    chain = {"job_name": "keys", "task_list": [
        {"task": "null", "name": "long_key", "set_metadata": "({'k' * 65: 1})"},
        {"task": "null", "name": "padded_keys", "set_metadata": "({'a': 1, 'a ': 2})"},
        {"task": "null", "name": "fine", "set_metadata": {"x": 1}},
    ]}
    result, errors = _run(installed, chain)
    assert not result["timed_out"] and result["failed"] == 2
    assert "the task's output metadata: metadata key 'kkkkkkkkkk" in errors
    assert "(at most 64)" in errors
    assert "the task's output metadata: metadata key 'a ' ends with a space" in errors


VALUES = [True, False, 3, 3.0, -0.0, 2.5, 2**60 + 1, "false", "[1, 2]", "{", "", "🚀 ünï",
          None, [1, "a", None, False], {"a": {"b": [1.5]}}]


def test_metadata_round_trips_its_type_through_mariadb(installed):
    task_id = actions.submit(installed, chain={"task_list": [{"task": "null"}]})["task_id"]
    values = {f"k{i}": value for i, value in enumerate(VALUES)}
    with Database(installed) as db:
        db.run(lambda tx: metadata.write_items(tx, "taskId", [(task_id, values)]))
        back, _ = db.read(lambda tx: metadata.task_metadata(tx, task_id))
    assert back == values
    assert [type(back[key]) for key in values] == [type(value) for value in VALUES]
    assert repr(back["k4"]) == "-0.0"
