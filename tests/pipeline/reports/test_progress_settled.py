"""Progress counts settled tasks (failed, done, cancelled) from ``eas_task.settledState``,
kept by the attempt lifecycle: the counts stay those of the straightforward definition (every
task joined to its latest attempt), with retries, stalled, cancelled and running attempts,
and after the migration that adds the column to an older database."""

from __future__ import annotations

import pytest

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.model.states import STATES, task_state_counts

from .progress_scenario import MAX_AGE, NOW, SETTLED, build, reference_counts


def _counts(db: Database, job_name: str | None) -> dict[str, dict[str, int]]:
    found = db.read(lambda tx: task_state_counts(tx, job_name, now=NOW, max_age=MAX_AGE))
    return {t: {s: n for s, n in counts.items() if n} for t, counts in found.items()}


def _settled(db: Database, ids: dict[int, int]) -> dict[int, str]:
    found = dict(db.read(lambda tx: tx.tuples("SELECT taskId, settledState FROM eas_task")))
    return {n: found[task_id] for n, task_id in ids.items() if found[task_id] is not None}


@pytest.fixture
def scenario(installed):
    with Database(installed) as db:
        yield db, build(db)


def test_progress_counts_are_those_of_every_task_joined_to_its_latest_attempt(scenario):
    db, _ = scenario
    every = reference_counts(db, None)
    assert {s for counts in every.values() for s in counts} == set(STATES)
    for job in (None, "j1", "j2", "none"):
        assert _counts(db, job) == reference_counts(db, job), job


def test_the_attempt_lifecycle_keeps_each_tasks_settled_state(scenario):
    db, ids = scenario
    assert _settled(db, ids) == SETTLED


def test_the_migration_computes_settled_states_of_an_older_database(scenario, installed):
    db, ids = scenario

    def as_version_2(tx) -> None:
        tx.execute("DROP INDEX eas_task_settled")
        tx.execute("ALTER TABLE eas_task DROP COLUMN settledState")
        tx.execute("UPDATE eas_schema_version SET version = 2")

    db.run(as_version_2)
    assert _counts(db, None) == reference_counts(db, None)  # read as it is
    assert actions.init_schema(installed)["changed"] is True
    assert _settled(db, ids) == SETTLED
    assert _counts(db, None) == reference_counts(db, None)
