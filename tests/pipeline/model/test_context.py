"""What a worker reads to run one attempt (model/context.py), from a real chain."""

from __future__ import annotations

from pipeline_helpers import chain

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.model.context import load_context
from plato_eas.worker.worker import Worker


def test_an_attempt_context_holds_the_task_its_files_and_its_description(installed):
    actions.submit(installed, chain=chain("file_dependency"))
    actions.schedule(installed)
    Worker(installed, task_types=["execution_chain"]).run(until_empty=True)
    with Database(installed) as db:  # queued by the expansion's own transaction
        (producer,) = db.read(lambda tx: [r[0] for r in tx.tuples(
            "SELECT schedulingAttemptId FROM eas_scheduling_attempt WHERE isQueued = 1")])
    Worker(installed, task_types=["null"]).run(until_empty=True, max_attempts=1)
    with Database(installed) as db:  # queued by the producer's recording transaction
        (consumer,) = db.read(lambda tx: [r[0] for r in tx.tuples(
            "SELECT schedulingAttemptId FROM eas_scheduling_attempt WHERE isQueued = 1")])
    with Database(installed) as db:
        first = db.read(lambda tx: load_context(tx, producer))
        second = db.read(lambda tx: load_context(tx, consumer))
    assert (first.task_type, first.task_name, first.job_name) == (
        "null", "producer", "file_dependency")
    assert first.working_directory == "file_dependency"
    assert first.inputs == {} and first.outputs == {"lightcurve": "file_dependency/first.lc"}
    assert second.inputs == {"lightcurve": "file_dependency/first.lc"}
    assert second.outputs == {"lightcurve": "file_dependency/second.lc"}
    assert set(second.output_products) == {"lightcurve"}
    assert second.description["name"] == "consumer"
