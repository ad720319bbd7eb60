"""A loop's bodies (its execution_chain children) are expanded with the loop: registered in
the loop's recording transaction, each with an attempt recorded done at once on the loop's
host, with its log line, times and children exactly as its own expansion would have made
them. A body that cannot be expanded that way runs and fails in an attempt of its own, as
before, and the other bodies are unaffected."""

from __future__ import annotations

from pipeline_helpers import attempt_rows

from plato_eas import actions
from plato_eas.chains import expand
from plato_eas.db import Database
from plato_eas.model.metadata import task_metadata
from plato_eas.worker.worker import Worker


def _run(settings) -> None:
    actions.schedule(settings)
    Worker(settings).run(until_empty=True)


def _log(settings, attempt_id: int) -> list[str]:
    with Database(settings) as db:
        return [r[0] for r in db.read(lambda tx: tx.tuples(
            "SELECT message FROM eas_log_messages WHERE generatedByTaskExecution = ?",
            (attempt_id,)))]


def _loop(values: list, name: str = "'w'") -> dict:
    return {"job_name": "bodies", "working_directory": "bodies", "task_list": [
        {"task": "execution_for_loop", "name": "loop", "parameter": "p", "values": values,
         "task_list": [
             {"task": "null", "name": name,
              "outputs": {"x": "'f_{p_index}.lc'.format(**metadata)"}},
             {"task": "null", "name": "r", "inputs": {"x": "'f_{p_index}.lc'.format(**metadata)"},
              "set_metadata": {"seen": "metadata['p']"}}]}]}


def test_loop_bodies_are_expanded_and_recorded_with_their_loop(installed):
    actions.submit(installed, chain=_loop([1.5, 2.5, 3.5]))
    _run(installed)
    rows = attempt_rows(installed)
    assert all(r["isFinished"] == 1 and r["errorFail"] == 0 for r in rows)
    loop = next(r for r in rows if r["taskName"] == "loop")
    bodies = [r for r in rows if r["taskName"] in ("p_0", "p_1", "p_2")]
    assert len(bodies) == 3  # one attempt each, done when the loop was recorded
    for body in bodies:
        assert body["hostId"] == loop["hostId"]
        assert body["queuedTime"] == body["startTime"] == body["endTime"]
        assert body["allProductsPassedQc"] == 1 and body["runTimeWallClock"] >= 0
        assert _log(installed, body["schedulingAttemptId"]) == [
            f"plato_eas.task: execution_chain expanded into 2 task(s) with its loop "
            f"(attempt {loop['schedulingAttemptId']})"]
    tasks = [r for r in rows if r["taskTypeName"] == "null"]
    assert sorted(r["taskName"] for r in tasks) == ["r", "r", "r", "w", "w", "w"]
    with Database(installed) as db:
        seen = db.read(lambda tx: sorted(
            task_metadata(tx, r["taskId"])[0]["p"] for r in tasks if r["taskName"] == "r"))
        files = db.read(lambda tx: sorted(tx.tuples(
            "SELECT directoryName, filename FROM eas_product")))
    assert seen == [1.5, 2.5, 3.5]
    assert files == [("bodies", f"f_{i}.lc") for i in range(3)]
    assert actions.local_run(installed, workers=1, job_name="bodies")["finished"]


def test_a_body_that_cannot_be_expanded_fails_alone_in_its_own_attempt(installed):
    # the writer's name is an integer (refused) for p == 2 only
    actions.submit(installed, chain=_loop([1, 2, 3], name="('w' if metadata['p'] != 2 else 5)"))
    _run(installed)
    rows = attempt_rows(installed)
    body = {r["taskName"]: r for r in rows if r["taskTypeName"] == "execution_chain"}
    assert (body["p_1"]["isFinished"], body["p_1"]["errorFail"]) == (1, 1)
    assert "the task name" in body["p_1"]["errorText"]
    assert body["p_1"]["startTime"] > body["p_1"]["queuedTime"] or body["p_1"]["hostId"]
    for name in ("p_0", "p_2"):
        assert (body[name]["isFinished"], body[name]["errorFail"]) == (1, 0)
        assert body[name]["queuedTime"] == body[name]["endTime"]  # with the loop
    done = [r for r in rows if r["taskTypeName"] == "null" and r["errorFail"] == 0]
    assert len(done) == 4


def test_the_bodies_of_a_larger_loop_each_expand_in_an_attempt_of_their_own(installed,
                                                                           monkeypatch):
    monkeypatch.setattr(expand, "LOOP_BODY_TASKS", 5)  # three bodies of two tasks: six
    actions.submit(installed, chain=_loop([1, 2, 3]))
    _run(installed)
    rows = attempt_rows(installed)
    assert all(r["isFinished"] == 1 and r["errorFail"] == 0 for r in rows)
    bodies = [r for r in rows if r["taskName"] in ("p_0", "p_1", "p_2")]
    assert len(bodies) == 3
    for body in bodies:
        assert body["startTime"] > body["queuedTime"]  # queued, then claimed
        assert _log(installed, body["schedulingAttemptId"]) == [
            "plato_eas.task: execution_chain expanded into 2 task(s)"]
    assert len([r for r in rows if r["taskTypeName"] == "null"]) == 6
