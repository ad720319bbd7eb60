"""Backend-independent behaviour, run for every combination of database engine and queue
(``backend``: sqlite-sql, mysql-sql, mysql-amqp, sqlite-amqp): what works on the embedded
default must work the same on the production backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from backend_helpers import add_null_tasks

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.errors import EasError
from plato_eas.model.schema import SCHEMA_VERSION

CHAINS = Path(__file__).resolve().parents[2] / "examples" / "chains"


def chain(name: str) -> dict:
    return json.loads((CHAINS / f"{name}.json").read_text())


@pytest.fixture
def installed(backend):
    first = actions.init_schema(backend)
    assert first["changed"] and first["version"] == SCHEMA_VERSION
    queues = actions.init_queues(backend)
    assert queues["changed"] and queues["implementation"] == backend.queue_implementation
    return backend


def test_install_is_idempotent(installed):
    assert actions.init_schema(installed)["changed"] is False
    again = actions.init_queues(installed)
    assert again["changed"] is False and again["declared"] == []
    info = actions.report(installed, "queue")
    assert info["changed"] is False
    names = {r["queue"] if "queue" in r else r.get("name") for r in info["rows"]}
    assert "null" in names and "execution_chain" in names


def test_demo_chain_runs_to_completion(installed):
    submitted = actions.submit(installed, chain=chain("demo"))
    assert submitted["changed"]
    result = actions.local_run(installed, workers=2, job_name="demo", timeout=180)
    assert result["finished"] and not result["timed_out"], result["table"]
    assert result["failed"] == 0 and result["blocked"] == []
    assert result["summary"]["done"] == result["summary"]["total"] > 10
    progress = actions.report(installed, "progress", job_name="demo")
    assert progress["rows"] and all(r["queued"] == r["running"] == 0 for r in progress["rows"])
    tree = actions.report(installed, "job_tree", job_name="demo")
    assert tree["rows"] and "execution_for_loop" in tree["table"]
    timings = actions.report(installed, "timings", job_name="demo")
    assert len(timings["rows"]) == result["summary"]["done"]
    queue = actions.report(installed, "queue")
    assert queue["changed"] is False


def test_failing_chain_reports_its_traceback(installed):
    actions.submit(installed, chain=chain("failing"))
    result = actions.local_run(installed, workers=2, job_name="failing", timeout=120)
    assert result["summary"]["failed"] == 1 and not result["timed_out"]
    errors = actions.report(installed, "errors", job_name="failing")
    assert "Traceback (most recent call last)" in "\n".join(r["message"] for r in errors["rows"])


def test_empty_queue_then_reschedule(installed):
    add_null_tasks(installed, 30, job_name="bulk")
    scheduled = actions.schedule(installed)
    assert len(scheduled["attempt_ids"]) == 30
    assert actions.schedule(installed)["attempt_ids"] == []  # nothing is scheduled twice
    emptied = actions.empty_queue(installed)
    assert emptied["changed"] and emptied["attempt_ids"] == sorted(scheduled["attempt_ids"])
    assert actions.empty_queue(installed)["changed"] is False
    again = actions.reschedule(installed, job_name="bulk")
    assert len(again["attempt_ids"]) == 30
    result = actions.local_run(installed, workers=2, job_name="bulk", timeout=120)
    assert result["finished"] and result["summary"]["done"] == 30


def test_save_and_restore_after_a_run(installed, tmp_path):
    actions.submit(installed, chain=chain("null_parallel"))
    actions.local_run(installed, workers=1, job_name="null_parallel", timeout=120)
    before = actions.report(installed, "progress")["rows"]
    saved = actions.db_save(installed, dest=str(tmp_path / "run.sql.gz"))
    with pytest.raises(EasError, match="not empty"):
        actions.db_restore(installed, src=saved["path"])
    restored = actions.db_restore(installed, src=saved["path"], force=True)
    assert restored["tables"]["eas_task"] >= 4
    assert actions.report(installed, "progress")["rows"] == before
    # the restored database keeps working: a new job runs to completion
    actions.submit(installed, chain={"job_name": "after", "task_list": [{"task": "null"}]})
    assert actions.local_run(installed, workers=1, job_name="after", timeout=120)["finished"]


def test_unreachable_backends_fail_in_one_line(backend):
    if backend.db_engine == "mysql":
        bad = backend.replace(db_password="wrong-password")
        with pytest.raises(EasError) as err:
            actions.init_schema(bad)
        assert "Access denied" in str(err.value) and "wrong-password" not in str(err.value)
        assert "\n" not in str(err.value)
    if backend.queue_implementation == "amqp":
        actions.init_schema(backend)
        bad = backend.replace(mq_password="wrong-password")
        with pytest.raises(EasError) as err:
            actions.init_queues(bad)
        assert "refused the login" in str(err.value) and "\n" not in str(err.value)
    with Database(backend) as db:
        assert db.engine == backend.db_engine


def test_chain_larger_than_64_kib_is_stored_and_expanded(installed):
    chain = {"job_name": "wide", "task_list": [
        {"task": "null", "name": f"task_{i:05d}", "specs": {"note": "x" * 40}}
        for i in range(1500)]}
    assert len(json.dumps(chain)) > 65536  # beyond MySQL's TEXT
    actions.submit(installed, chain=chain)
    result = actions.local_run(installed, workers=2, job_name="wide", timeout=300)
    assert result["finished"] and result["summary"]["done"] == 1501
