"""Run-time expansion checks what expressions evaluate to and bounds every loop: a bad value
or a runaway loop fails that one task with its reason (in the errors report), and the worker
carries on with the rest of the job."""

from __future__ import annotations

from plato_eas import actions
from plato_eas.db import Database


def _run(settings, chain: dict, timeout: float = 60) -> dict:
    actions.submit(settings, chain=chain)
    return actions.local_run(settings, workers=1, job_name=chain["job_name"], timeout=timeout)


def _errors(settings, job: str) -> str:
    report = actions.report(settings, "errors", job_name=job)
    return "\n".join(row["message"] for row in report["rows"])


def _names(settings, job: str) -> list[str]:
    with Database(settings) as db:
        return [row[0] for row in db.read(lambda tx: tx.tuples(
            "SELECT taskName FROM eas_task WHERE jobName = ? ORDER BY taskId", (job,)))]


def test_a_loop_count_beyond_max_loop_iterations_fails_the_loop(installed):
    capped = installed.replace(max_loop_iterations=5)
    chain = {"job_name": "loop", "task_list": [
        {"task": "execution_for_loop", "parameter": "x", "linear_range": [0, 1, "(3 + 3)"],
         "task_list": [{"task": "null"}]},
        {"task": "null", "name": "independent"}]}
    result = _run(capped, chain)
    assert result["failed"] == 1 and not result["timed_out"]
    assert "$.linear_range[2]: the loop would run 6 times, more than max_loop_iterations (5)" \
        in _errors(capped, "loop")
    assert "independent" in _names(capped, "loop") and "x_0" not in _names(capped, "loop")


def test_a_do_while_loop_stops_at_its_max_iterations(installed):
    chain = {"job_name": "forever", "task_list": [
        {"task": "execution_do_while_loop", "iteration_name": "i", "repeat_criterion": True,
         "max_iterations": 3, "task_list": [{"task": "null", "name": "body"}]}]}
    result = _run(installed, chain, timeout=60)
    assert not result["timed_out"] and result["failed"] == 1
    assert "$.repeat_criterion: still true after 3 iterations: the loop stops at its " \
           "max_iterations (3; at most max_loop_iterations, 100,000)" in _errors(installed,
                                                                                 "forever")
    assert _names(installed, "forever").count("body") == 3


def test_a_do_while_loop_without_max_iterations_stops_at_max_loop_iterations(installed):
    capped = installed.replace(max_loop_iterations=2)
    chain = {"job_name": "forever", "task_list": [
        {"task": "execution_do_while_loop", "iteration_name": "i",
         "repeat_criterion": "(metadata['i_index'] > 0)", "task_list": [{"task": "null"}]}]}
    result = _run(capped, chain, timeout=60)
    assert not result["timed_out"] and result["failed"] == 1
    assert "still true after 2 iterations" in _errors(capped, "forever")


def test_a_child_name_that_is_not_a_string_fails_the_expansion(installed):
    chain = {"job_name": "names", "task_list": [
        {"task": "execution_chain", "task_list": [{"task": "null", "name": "({'a': 1})"}]},
        {"task": "execution_chain", "task_list": [{"task": "null", "name": "([1, 2])"}]},
        {"task": "null", "name": "fine"}]}
    result = _run(installed, chain)
    assert not result["timed_out"] and result["failed"] == 2
    errors = _errors(installed, "names")
    assert "$.task_list[0].name: the task name must be a string, not a dict" in errors
    assert "$.task_list[0].name: the task name must be a string, not a list" in errors
    assert "fine" in _names(installed, "names")


def test_a_loop_value_that_is_not_json_fails_the_loop(installed):
    chain = {"job_name": "values", "task_list": [
        {"task": "execution_for_loop", "parameter": "x", "values": [1, "({1, 2})"],
         "task_list": [{"task": "null"}]}]}
    result = _run(installed, chain)
    assert not result["timed_out"] and result["failed"] == 1
    assert "expression '({1, 2})' rejected: the result is not a JSON value: a set is not a " \
           "JSON value" in _errors(installed, "values")


def test_metadata_that_is_not_json_fails_its_task_and_the_worker_carries_on(installed):
    chain = {"job_name": "meta", "task_list": [
        {"task": "null", "name": "set", "set_metadata": {"x": "({1, 2})"}},
        {"task": "null", "name": "keys", "set_metadata": {"x": "(metadata.keys())"}},
        {"task": "null", "name": "bytes", "set_metadata": {"x": "(b'raw')"}},
        {"task": "null", "name": "nan", "set_metadata": {"x": "(float('nan'))"}},
        {"task": "null", "name": "fine", "set_metadata": {"x": 1}}]}
    result = _run(installed, chain)
    assert not result["timed_out"] and result["failed"] == 4
    assert result["summary"]["done"] == 2  # the root chain and "fine"
    errors = _errors(installed, "meta")
    for what in ("a set", "a dict_keys", "a bytes"):
        assert f"the result is not a JSON value: {what} is not a JSON value" in errors
    assert "the result is not a JSON value: nan is not a finite number" in errors
