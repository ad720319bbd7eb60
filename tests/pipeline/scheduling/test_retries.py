"""Retries of failed tasks: a policy per task type in the registry, overridden per task in the
chain; each retry is a new attempt; the errors report shows every attempt's reason."""

from __future__ import annotations

import time
from importlib import resources

import pytest
import yaml
from job_helpers import attempt_rows, job_row, new_host, null_chain, queued_job, run_all

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.errors import ChainError, RegistryError
from plato_eas.model import attempts
from plato_eas.queues.sql import SqlQueue


def with_registry(settings, tmp_path, **policies):
    """``settings`` with a registry whose task types have these retry policies."""
    data = yaml.safe_load(resources.files("plato_eas").joinpath("data/registry.yaml")
                          .read_text())
    for entry in data["task_types"]:
        if entry["name"] in policies:
            entry["retry"] = policies[entry["name"]]
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump(data))
    return settings.replace(registry_file=str(path))


def error_chain(job: str, **task) -> dict:
    return {"job_name": job, "task_list": [{"task": "error", "name": "boom", **task}]}


def failed_attempts(settings, job: str) -> list[dict]:
    return [r for r in attempt_rows(settings, job) if r["taskTypeName"] == "error"]


def test_without_a_policy_an_error_fails_for_good_as_before(installed):
    actions.submit(installed, chain=error_chain("plain"))
    run = actions.local_run(installed, workers=1, job_name="plain", timeout=60)
    assert run["failed"] == 1
    rows = failed_attempts(installed, "plain")
    assert [(r["errorFail"], r["failureKind"], r["retryAt"]) for r in rows] == \
        [(1, "error", None)]


def test_a_type_policy_retries_errors_each_as_a_new_attempt_and_errors_show_each(
        installed, tmp_path):
    policy = with_registry(installed, tmp_path, error={"max_retries": 2, "on": ["error"]})
    actions.submit(policy, chain=error_chain("retried"))
    run = actions.local_run(policy, workers=1, job_name="retried", timeout=60)
    assert run["finished"] is False and run["failed"] == 1
    rows = failed_attempts(policy, "retried")
    assert len(rows) == 3 and len({r["taskId"] for r in rows}) == 1
    assert all(r["errorFail"] == 1 and r["failureKind"] == "error" for r in rows)
    errors = actions.report(policy, "errors", job_name="retried")["rows"]
    failing = [r for r in errors if "Traceback" in r["message"]]
    assert sorted(r["attempt_id"] for r in failing) == [r["schedulingAttemptId"] for r in rows]
    with Database(policy) as db:
        notes = db.read(lambda tx: tx.tuples(
            "SELECT generatedByTaskExecution, message FROM eas_log_messages"
            " WHERE message LIKE 'retry %' OR message LIKE 'no more retries%'"
            " ORDER BY generatedByTaskExecution"))
    first, second, third = (r["schedulingAttemptId"] for r in rows)
    assert notes == [(first, f"retry 1 of 2: attempt {second}"),
                     (second, f"retry 2 of 2: attempt {third}"),
                     (third, "no more retries: 3 failed attempts, at most 2 retries")]
    assert job_row(policy, "retried")["state"] == "finished"
    assert job_row(policy, "retried")["failed"] == 1


def test_a_task_overrides_its_types_policy(installed, tmp_path):
    policy = with_registry(installed, tmp_path, error={"max_retries": 3, "on": ["error"]})
    actions.submit(policy, chain=error_chain("once", retry={"max_retries": 1}))
    actions.submit(policy, chain=error_chain("never", retry={"on": ["stalled"]}))
    actions.local_run(policy, workers=1, timeout=60)
    assert len(failed_attempts(policy, "once")) == 2
    assert len(failed_attempts(policy, "never")) == 1


def test_a_retry_waits_out_its_backoff_as_a_waiting_task(installed, tmp_path):
    policy = with_registry(installed, tmp_path,
                           error={"max_retries": 1, "on": ["error"], "backoff": 3600})
    actions.submit(policy, chain=error_chain("later"))
    run_all(policy)
    failed, retry = failed_attempts(policy, "later")
    assert failed["errorFail"] == 1 and failed["retryAt"] is None
    assert (retry["isQueued"], retry["isRunning"], retry["endTime"]) == (0, 0, None)
    assert retry["retryAt"] == pytest.approx(failed["endTime"] + 3600)
    row = job_row(policy, "later")
    assert (row["state"], row["waiting"], row["failed"]) == ("running", 1, 0)
    assert actions.schedule(policy)["requeued"] == []  # not before its time
    with Database(policy) as db:  # time passes
        db.run(lambda tx: tx.execute(
            "UPDATE eas_scheduling_attempt SET retryAt = ? WHERE schedulingAttemptId = ?",
            (time.time() - 1, retry["schedulingAttemptId"])))
    assert actions.schedule(policy)["requeued"] == [retry["schedulingAttemptId"]]


def test_the_backoff_grows_by_its_factor_up_to_its_limit():
    from plato_eas.tasks.retries import RetryPolicy

    policy = RetryPolicy(max_retries=5, on=("error",), backoff=10, backoff_factor=3,
                         max_backoff=100)
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [10, 30, 90, 100]
    assert RetryPolicy().delay(1) == 0


def test_stalled_attempts_retry_within_the_retry_limit_setting(installed):
    fast = installed.replace(max_heartbeat_age=0.5, retry_limit=1)
    (attempt,) = queued_job(fast, null_chain("stalls", 1))
    host = new_host(fast)
    with Database(fast) as db:
        queue = SqlQueue(db)
        for expected in ("requeued", "given_up"):
            assert queue.claim(["null"], host) is not None  # taken, then never heard of again
            time.sleep(0.6)
            result = actions.schedule(fast)
            assert len(result[expected]) == 1, result
    kinds = [r["failureKind"] for r in attempt_rows(fast, "stalls") if r["taskTypeName"] == "null"]
    assert kinds == ["stalled", "stalled"]


def test_cancel_drops_the_retries_to_come(installed, tmp_path):
    policy = with_registry(installed, tmp_path,
                           error={"max_retries": 2, "on": ["error"], "backoff": 3600})
    actions.submit(policy, chain=error_chain("doomed"))
    run_all(policy)
    _, retry = failed_attempts(policy, "doomed")
    result = actions.cancel(policy, "doomed")
    assert result["retry_attempt_ids"] == [retry["schedulingAttemptId"]]
    with Database(policy) as db:
        assert db.read(lambda tx: attempts.failures_due(tx, time.time() + 10**6)) == []
        assert db.read(lambda tx: tx.scalar(
            "SELECT COUNT(*) FROM eas_scheduling_attempt WHERE retryAt IS NOT NULL")) == 0
    assert job_row(policy, "doomed")["state"] == "cancelled"


def test_policies_are_checked_in_the_registry_and_in_the_chain(installed, tmp_path):
    bad = with_registry(installed, tmp_path, error={"max_retries": 2, "on": ["oops"]})
    with pytest.raises(RegistryError, match="'error': retry.on must be a list of error, "
                                            "time_limit, stalled"):
        actions.init_schema(bad)
    with pytest.raises(ChainError, match=r"\$.task_list\[0\].retry.max_retries"):
        actions.submit(installed, chain=error_chain("x", retry={"max_retries": -1}))
    with pytest.raises(ChainError, match=r"\$.task_list\[0\].retry.max_retry"):
        actions.submit(installed, chain=error_chain("x", retry={"max_retry": 1}))
