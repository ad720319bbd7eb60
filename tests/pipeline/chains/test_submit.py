"""Submission: validation before anything is written, and what a valid chain registers."""

import json

import pytest
from pipeline_helpers import CHAINS, chain, table_counts

from plato_eas import actions
from plato_eas.errors import ChainError


def _problems(settings, **kwargs) -> list[tuple[str, str]]:
    with pytest.raises(ChainError) as err:
        actions.submit(settings, **kwargs)
    return err.value.problems


INVALID = {
    "unknown task type": (
        {"task_list": [{"task": "null"}, {"task": "warp_drive"}]}, "$.task_list[1].task"),
    "loop with two ranges": (
        {"task_list": [{"task": "execution_for_loop", "parameter": "x", "values": [1],
                        "linear_range": [0, 1, 2], "task_list": []}]}, "$.task_list[0]"),
    "requires_metadata_from names a later sibling": (
        {"task_list": [{"task": "null", "name": "a", "requires_metadata_from": ["b"]},
                       {"task": "null", "name": "b"}]}, "$.task_list[0].requires_metadata_from"),
    "input no earlier task produces": (
        {"task_list": [{"task": "null", "inputs": {"lightcurve": "nowhere.lc"}}]},
        "$.task_list[0].inputs"),
    "file outside the data directory": (
        {"task_list": [{"task": "null", "outputs": {"lightcurve": "../escape.lc"}}]},
        "$.task_list[0].outputs"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_chain_is_rejected_with_its_path_and_writes_nothing(db, installed, case):
    bad, path = INVALID[case]
    before = table_counts(db)
    problems = _problems(installed, chain=bad)
    assert any(p.startswith(path) for p, _ in problems), problems
    assert table_counts(db) == before


def test_malformed_json_file_is_rejected(db, installed, tmp_path):
    src = tmp_path / "broken.json"
    src.write_text('{"task_list": [ {"task": "null"}, ]')
    before = table_counts(db)
    problems = _problems(installed, src=str(src))
    assert problems[0][0] == "$" and "line 1" in problems[0][1]
    assert table_counts(db) == before


def test_every_problem_is_reported_at_once(installed):
    bad = {"task_list": [{"task": "warp_drive"},
                         {"task": "null", "inputs": {"lightcurve": "/etc/passwd"}}]}
    paths = [p for p, _ in _problems(installed, chain=bad)]
    assert any(p.startswith("$.task_list[0]") for p in paths)
    assert any(p.startswith("$.task_list[1]") for p in paths)


def test_validate_only_writes_nothing(db, installed):
    before = table_counts(db)
    result = actions.submit(installed, src=str(CHAINS / "demo.json"), validate_only=True)
    assert result["changed"] is False and result["task_id"] is None and result["valid"]
    assert table_counts(db) == before


def test_submit_registers_one_root_chain_carrying_the_chain(db, installed):
    result = actions.submit(installed, chain=chain("file_dependency"))
    assert result.pop("msg") == "submitted job file_dependency as task 1 (3 top-level tasks)"
    assert result == {"changed": True, "task_id": 1, "job_name": "file_dependency",
                      "task_count": 3, "valid": True, "job_exists": False, "priority": 0}
    row = db.read(lambda tx: tx.rows(
        "SELECT t.*, tt.taskTypeName FROM eas_task t JOIN eas_task_types tt "
        "ON tt.taskTypeId = t.taskTypeId"))[0]
    assert (row["taskTypeName"], row["workingDirectory"], row["isFullyConfigured"]) == (
        "execution_chain", "file_dependency", 1)
    stored = db.read(lambda tx: tx.scalar(
        "SELECT valueString FROM eas_metadata_item i JOIN eas_metadata_keys k "
        "ON k.keyId = i.metadataKey WHERE k.name = 'task_description' AND i.taskId = 1"))
    assert json.loads(stored) == chain("file_dependency")


def test_outputs_of_an_earlier_submission_satisfy_inputs_and_cannot_be_recreated(installed):
    actions.submit(installed, chain=chain("file_dependency"))
    actions.local_run(installed, workers=1, job_name="file_dependency", timeout=60)
    reader = {"job_name": "reader", "working_directory": "file_dependency",
              "task_list": [{"task": "null", "inputs": {"lightcurve": "second.lc"}}]}
    assert actions.submit(installed, chain=reader)["changed"]
    problems = _problems(installed, chain=chain("file_dependency"))
    assert any("already exists" in m for _, m in problems)


def test_the_size_limit_counts_the_bytes_stored_not_escaped_ones(installed):
    """A chain is stored as UTF-8 JSON: 2.9 million 'é' are 5.8 MB there (17.4 MB as
    ``\\u00e9`` escapes), so it fits the 16 MiB value; 8.5 million do not (17 MB)."""
    def chain_of(count: int) -> dict:
        return {"job_name": f"text{count}", "task_list": [
            {"task": "null", "set_metadata": {"note": "é" * count}}]}

    assert actions.submit(installed, chain=chain_of(2_900_000), validate_only=True)["valid"]
    (problem,) = _problems(installed, chain=chain_of(8_500_000), validate_only=True)
    assert problem[0] == "$" and "more than the database stores in one value" in problem[1]
