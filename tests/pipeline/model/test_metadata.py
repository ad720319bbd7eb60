"""Metadata items round-trip their JSON type through the prototype's two columns, read rows
the prototype wrote as before, and refuse keys and values the database cannot hold."""

from __future__ import annotations

import pytest
from pipeline_helpers import CHAINS

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.model import metadata
from plato_eas.model.metadata import MetadataError, check_metadata, decode, encode

VALUES = [
    True, False, 0, 1, -7, 2**53, 2**53 + 1, -(2**60) - 3, 10**300, 0.0, -0.0, 3.0, 2.5, 1e300,
    -1.5e-300, "", "text", "false", "3", "[1, 2]", "{not json", "\x1e[marked]", "[", "{}",
    "ünïcødé ✓", None, [], [1, "a", None, True, 2.0], {}, {"a": [1, {"b": False}], "c": "[x]"},
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_encode_decode_round_trips_value_and_type(value):
    back = decode(*encode(value))
    assert back == value and type(back) is type(value)
    if isinstance(value, float):
        assert repr(back) == repr(value)  # -0.0 stays -0.0


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_values_round_trip_through_the_database(db, value):
    task_id = actions.submit(db.settings, src=str(CHAINS / "null_parallel.json"))["task_id"]
    db.run(lambda tx: metadata.write_items(tx, "taskId", [(task_id, {"k": value})]))
    values, _ = db.read(lambda tx: metadata.task_metadata(tx, task_id))
    assert values["k"] == value and type(values["k"]) is type(value)


def test_numbers_stay_numbers_for_the_prototypes_tools(db):
    """The prototype read valueFloat when set: booleans and integral floats keep theirs."""
    task_id = actions.submit(db.settings, src=str(CHAINS / "null_parallel.json"))["task_id"]
    values = {"b": True, "f": 3.0, "i": 4, "x": 2.5, "s": "[1]"}
    db.run(lambda tx: metadata.write_items(tx, "taskId", [(task_id, values)]))
    rows = dict(db.read(lambda tx: tx.tuples(
        "SELECT k.name, i.valueFloat FROM eas_metadata_item i JOIN eas_metadata_keys k "
        "ON k.keyId = i.metadataKey WHERE i.taskId = ? AND k.name <> 'task_description'",
        (task_id,))))
    assert rows == {"b": 1.0, "f": 3.0, "i": 4.0, "x": 2.5, "s": None}


@pytest.mark.parametrize(
    ("value_float", "value_string", "value"),
    [
        (3.0, None, 3), (2.5, None, 2.5), (1.0, None, 1), (None, "text", "text"),
        (None, "false", "false"), (None, "[1, 2]", [1, 2]), (None, '{"a": 1}', {"a": 1}),
        (None, "[not json", "[not json"), (None, None, None),
    ],
)
def test_rows_the_prototype_wrote_read_as_before(value_float, value_string, value):
    """The prototype wrote numbers to valueFloat and everything else as text."""
    back = decode(value_float, value_string)
    assert back == value and type(back) is type(value)


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"k" * 65: 1}, "metadata: metadata key 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk'… "
                        "is 65 characters long (at most 64)"),
        ({"a ": 1}, "metadata: metadata key 'a ' ends with a space"),
        ({"": 1}, "metadata: metadata key is empty"),
        ({1: 1}, "metadata: metadata key 1 is not a string"),
        ({"k": {1, 2}}, "metadata['k']: a set is not a JSON value"),
        ({"k": b"x"}, "metadata['k']: a bytes is not a JSON value"),
        ({"k": {}.keys()}, "metadata['k']: a dict_keys is not a JSON value"),
        ({"k": float("inf")}, "metadata['k']: inf is not a finite number"),
        ({"k": float("nan")}, "metadata['k']: nan is not a finite number"),
        ({"k": [1, float("-inf")]}, "metadata['k']: [1]: -inf is not a finite number"),
        ({"k": "\ud800"}, "metadata['k']: contains '\\ud800', a lone surrogate"),
        ({"k": {"x": {2: 1}}}, "metadata['k']: ['x']: has the key 2: object keys must be strings"),
    ],
)
def test_keys_and_values_the_database_cannot_hold_are_refused(values, reason):
    with pytest.raises(MetadataError) as caught:
        check_metadata(values)
    assert str(caught.value).startswith(reason)


def test_writing_refuses_before_anything_is_written(db):
    task_id = actions.submit(db.settings, src=str(CHAINS / "null_parallel.json"))["task_id"]
    before = db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM eas_metadata_item"))
    with pytest.raises(MetadataError, match="a set is not a JSON value"):
        db.run(lambda tx: metadata.write_items(tx, "taskId", [(task_id, {"a": 1, "b": {1}})]))
    assert db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM eas_metadata_item")) == before


def test_a_false_output_takes_the_else_branch(installed):
    """An output metadata ``false`` read back as the string "false" took the then-branch."""
    chain = {"job_name": "flag", "task_list": [
        {"task": "null", "name": "probe", "set_metadata": {"flag": False, "n": 3.0}},
        {"task": "execution_conditional", "requires_metadata_from": ["probe"],
         "criterion": "(requested_metadata['probe']['flag'])",
         "task_list": [{"task": "null", "name": "then"}],
         "else_task_list": [{"task": "null", "name": "otherwise"}]},
    ]}
    actions.submit(installed, chain=chain)
    result = actions.local_run(installed, workers=1, job_name="flag", timeout=60)
    assert result["finished"] and result["failed"] == 0
    with Database(installed) as db:
        names = {row[0] for row in db.read(lambda tx: tx.tuples(
            "SELECT taskName FROM eas_task WHERE jobName = 'flag'"))}
        probe = db.read(lambda tx: metadata.attempt_metadata(tx, tx.scalar(
            "SELECT a.schedulingAttemptId FROM eas_scheduling_attempt a JOIN eas_task t "
            "ON t.taskId = a.taskId WHERE t.taskName = 'probe'")))
    assert "otherwise" in names and "then" not in names
    assert probe == {"flag": False, "n": 3.0} and type(probe["n"]) is float
