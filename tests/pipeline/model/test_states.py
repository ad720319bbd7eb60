"""The states of tasks and attempts (waiting, queued, running, stalled, done, failed, cancelled,
blocked) against real SQLite databases built row by row."""

from __future__ import annotations

import pytest
from reports_fixtures import NOW, Builder, open_db

from plato_eas.model.states import blocked_tasks, job_summary, task_state_counts


@pytest.fixture
def db(tmp_path):
    database = open_db(tmp_path)
    yield database
    database.close()


@pytest.fixture
def build(db):
    return Builder(db)


def one_task_per_state(build: Builder, job: str = "job", task_type: str = "null") -> dict:
    """A task in each state (plus one never run); returns {state: task id}."""
    ids = {"waiting": build.task(task_type, job)}
    for state in ("queued", "running", "stalled", "done", "failed", "cancelled"):
        ids[state] = build.task(task_type, job)
        build.attempt(ids[state], state)
    return ids


def test_each_task_counts_in_the_state_of_its_latest_attempt(db, build):
    one_task_per_state(build)
    retried = build.task("null")
    build.attempt(retried, "failed")
    build.attempt(retried, "done")
    requeued = build.task("null")
    build.attempt(requeued, "done")
    build.attempt(requeued, "failed")
    emptied = build.task("null")
    build.attempt(emptied, "idle")
    resumed = build.task("null")
    build.attempt(resumed, "cancelled")
    build.attempt(resumed, "queued")
    counts = db.read(lambda tx: task_state_counts(tx, now=NOW))
    assert counts == {"null": {"waiting": 2, "queued": 2, "stalled": 1, "running": 1,
                               "done": 2, "failed": 2, "cancelled": 1}}


def test_heartbeat_age_decides_running_or_stalled(db, build):
    task = build.task("null")
    build.attempt(task, "running", latestHeartbeat=NOW - 100)
    fresh = db.read(lambda tx: task_state_counts(tx, now=NOW, max_age=300))
    stale = db.read(lambda tx: task_state_counts(tx, now=NOW, max_age=50))
    assert (fresh["null"]["running"], fresh["null"]["stalled"]) == (1, 0)
    assert (stale["null"]["running"], stale["null"]["stalled"]) == (0, 1)


def test_a_waiting_task_fed_by_a_failed_task_is_blocked_transitively(db, build):
    source = build.task("synthesis", name="source")
    build.attempt(source, "failed")
    build.attempt(source, "failed")
    reader = build.task("search", name="reader")
    build.reads_file_of(reader, source, "lc.gz")
    summariser = build.task("summary", name="summariser")
    build.reads_metadata_of(summariser, reader)
    healthy = build.task("synthesis", name="healthy")
    build.attempt(healthy, "done")
    free = build.task("search", name="free")
    build.reads_file_of(free, healthy, "other.gz")
    blocked = db.read(lambda tx: blocked_tasks(tx, now=NOW))
    assert [(b["task_name"], b["blocked_by"]) for b in blocked] == [
        ("reader", [source]), ("summariser", [source])]


def test_a_failed_task_with_a_live_or_done_attempt_blocks_nothing(db, build):
    retrying = build.task("synthesis")
    build.attempt(retrying, "failed")
    build.attempt(retrying, "queued")
    succeeded_once = build.task("synthesis")
    build.attempt(succeeded_once, "done")
    build.attempt(succeeded_once, "failed")
    for producer in (retrying, succeeded_once):
        build.reads_metadata_of(build.task("search"), producer)
    assert db.read(lambda tx: blocked_tasks(tx, now=NOW)) == []


def test_blocked_is_reported_for_the_consumers_job_only(db, build):
    source = build.task("synthesis", job="a")
    build.attempt(source, "failed")
    build.reads_metadata_of(build.task("search", job="b"), source)
    assert db.read(lambda tx: blocked_tasks(tx, job_name="a", now=NOW)) == []
    assert len(db.read(lambda tx: blocked_tasks(tx, job_name="b", now=NOW))) == 1


def test_job_summary_counts_every_state_and_blocked(db, build):
    ids = one_task_per_state(build, job="mine")
    build.reads_file_of(build.task("null", job="mine"), ids["failed"], "x.gz")
    one_task_per_state(build, job="other")
    summary = db.read(lambda tx: job_summary(tx, "mine", now=NOW))
    assert summary == {"total": 8, "waiting": 2, "queued": 1, "running": 1, "stalled": 1,
                       "done": 1, "failed": 1, "cancelled": 1, "blocked": 1}


def test_a_task_counts_once_by_its_latest_attempt_while_an_older_one_still_runs(db, build):
    requeued = build.task("null")
    build.attempt(requeued, "stalled")
    build.attempt(requeued, "queued")
    restarted = build.task("null")
    build.attempt(restarted, "running")
    build.attempt(restarted, "running")
    build.task("null")  # never attempted
    counts = db.read(lambda tx: task_state_counts(tx, now=NOW))
    assert counts == {"null": {"waiting": 1, "queued": 1, "stalled": 0, "running": 1,
                               "done": 0, "failed": 0, "cancelled": 0}}
