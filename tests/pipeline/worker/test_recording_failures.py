"""A failure while recording an attempt (its output metadata, the children of a control-flow
task, a database error nobody predicted) fails that one attempt, with the reason in the
errors report; the worker goes on with the next attempt."""

from __future__ import annotations

from pipeline_helpers import attempt_rows

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.tasks.api import implementations
from plato_eas.tasks.testing import null_task
from plato_eas.worker.worker import Worker


def _run_all(settings) -> int:
    """Schedule and run until nothing is left; returns how many attempts the workers ran
    (each ``Worker.run`` returns normally: an exception would fail the test here)."""
    ran = 0
    while actions.schedule(settings)["attempt_ids"]:
        ran += Worker(settings).run(until_empty=True)
    return ran


def _by_name(settings) -> dict[str, dict]:
    return {r["taskName"]: r for r in attempt_rows(settings)}


def _errors(settings, job) -> str:
    return "\n".join(r["message"] for r in actions.report(settings, "errors", job_name=job)["rows"])


def _poison_chain(job: str) -> dict:
    return {"job_name": job, "task_list": [{"task": "null", "name": "poison"},
                                           {"task": "null", "name": "after"}]}


def test_output_metadata_that_cannot_be_stored_fails_only_its_attempt(installed, monkeypatch):
    def returns_unstorable(run):
        result = null_task(run)
        if run.description.get("name") == "poison":
            return {"a_set": {1, 2}, "raw": b"\x00\xff"}
        return result

    monkeypatch.setitem(implementations(), "null", returns_unstorable)
    actions.submit(installed, chain=_poison_chain("unstorable"))
    assert _run_all(installed) == 3
    rows = _by_name(installed)
    assert (rows["poison"]["isFinished"], rows["poison"]["isRunning"],
            rows["poison"]["errorFail"]) == (1, 0, 1)
    assert rows["poison"]["errorText"] in _errors(installed, "unstorable")
    assert (rows["after"]["isFinished"], rows["after"]["errorFail"]) == (1, 0)


def test_database_error_while_recording_fails_only_its_attempt(installed):
    with Database(installed) as db:
        db.run(lambda tx: tx.execute(
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON eas_metadata_item "
            "WHEN NEW.valueString = 'poison-pill' "
            "BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END"))
    job = {"job_name": "dberror", "task_list": [
        {"task": "null", "name": "poison", "set_metadata": {"note": "poison-pill"}},
        {"task": "null", "name": "after"}]}
    actions.submit(installed, chain=job)
    assert _run_all(installed) == 3
    rows = _by_name(installed)
    assert (rows["poison"]["isFinished"], rows["poison"]["errorFail"]) == (1, 1)
    assert "refused by a trigger" in rows["poison"]["errorText"]
    assert (rows["after"]["isFinished"], rows["after"]["errorFail"]) == (1, 0)
    assert "refused by a trigger" in _errors(installed, "dberror")


def test_children_the_database_refuses_fail_the_control_flow_task_only(installed):
    with Database(installed) as db:
        db.run(lambda tx: tx.execute(
            "CREATE TRIGGER refuse_child BEFORE INSERT ON eas_task "
            "WHEN NEW.taskName = 'refused' "
            "BEGIN SELECT RAISE(ABORT, 'child refused by a trigger'); END"))
    job = {"job_name": "children", "task_list": [
        {"task": "execution_for_loop", "name": "loop", "parameter": "p", "values": [1, 2],
         "task_list": [{"task": "null", "name": "refused"}]},
        {"task": "null", "name": "after"}]}
    actions.submit(installed, chain=job)
    assert _run_all(installed) == 5  # root, loop, after, then the two loop bodies
    rows = attempt_rows(installed)
    bodies = [r for r in rows if r["taskName"] in ("p_0", "p_1")]
    assert len(bodies) == 2 and all((r["isFinished"], r["errorFail"]) == (1, 1) for r in bodies)
    assert all("child refused by a trigger" in r["errorText"] for r in bodies)
    assert _by_name(installed)["after"]["errorFail"] == 0
    assert "child refused by a trigger" in _errors(installed, "children")
