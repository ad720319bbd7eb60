"""Progress on MariaDB (and SQLite) equals the straightforward definition of the counts on a
database with retries, stalled, cancelled and running attempts; the attempt lifecycle keeps
each task's settled state and the migration computes it (tests/pipeline/reports has the
SQLite-only variant with the scenario)."""

from __future__ import annotations

import pytest
from backend_helpers import init
from pipeline.reports.progress_scenario import (
    MAX_AGE,
    NOW,
    SETTLED,
    build,
    reference_counts,
)

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.model.states import STATES, task_state_counts


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def engine(request):
    settings = request.getfixturevalue(f"{request.param}_settings")
    init(settings)
    return settings


def _counts(db: Database, job_name: str | None) -> dict[str, dict[str, int]]:
    found = db.read(lambda tx: task_state_counts(tx, job_name, now=NOW, max_age=MAX_AGE))
    return {t: {s: n for s, n in counts.items() if n} for t, counts in found.items()}


def test_progress_counts_settled_tasks_from_their_state_as_the_definition_does(engine):
    with Database(engine) as db:
        ids = build(db)
        assert {s for c in reference_counts(db, None).values() for s in c} == set(STATES)
        for job in (None, "j1", "j2"):
            assert _counts(db, job) == reference_counts(db, job), job
        found = dict(db.read(lambda tx: tx.tuples("SELECT taskId, settledState FROM eas_task")))
        assert {n: found[i] for n, i in ids.items() if found[i]} == SETTLED

        def as_version_2(tx) -> None:
            tx.dialect.drop_index(tx, "eas_task", "eas_task_settled")
            tx.execute("ALTER TABLE eas_task DROP COLUMN settledState")
            tx.execute("UPDATE eas_schema_version SET version = 2")

        db.run(as_version_2)
        assert _counts(db, None) == reference_counts(db, None)
    assert actions.init_schema(engine)["changed"] is True
    with Database(engine) as db:
        found = dict(db.read(lambda tx: tx.tuples("SELECT taskId, settledState FROM eas_task")))
        assert {n: found[i] for n, i in ids.items() if found[i]} == SETTLED
        assert _counts(db, None) == reference_counts(db, None)
