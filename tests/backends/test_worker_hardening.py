"""The worker's hardening on MariaDB and RabbitMQ: values MariaDB refuses fail one attempt (the
worker lives on), time limits kill and fail, a stopped run gives its attempts back to the
queue (the broker's too), a late attempt never overwrites the recorded file."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import subprocess
import sys
import time

import pytest
from backend_helpers import amqp_options, init, mysql_settings_for
from pipeline.pipeline_helpers import alive, wait_for

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.scheduling.local_run import _release_leftovers
from plato_eas.tasks.api import implementations
from plato_eas.tasks.testing import null_task
from plato_eas.worker.worker import Worker

CTX = multiprocessing.get_context("fork")


@pytest.fixture(params=["mysql-sql", "mysql-amqp"])
def mysql_backend(request, tmp_path):
    """A fresh, installed MariaDB database, with the SQL queue or RabbitMQ."""
    extra = {"max_heartbeat_age": 1.0}
    if request.param.endswith("amqp"):
        request.getfixturevalue("clean_queues")
        extra.update(amqp_options(request.getfixturevalue("rabbitmq")))
    mariadb = request.getfixturevalue("mariadb")
    settings, name = mysql_settings_for(mariadb, tmp_path, **extra)
    request.addfinalizer(lambda: mariadb.drop_database(name))
    init(settings)
    return settings


def _attempts(settings) -> list[dict]:
    with Database(settings) as db:
        return db.read(lambda tx: tx.rows(
            "SELECT a.*, t.taskName FROM eas_scheduling_attempt a "
            "JOIN eas_task t ON t.taskId = a.taskId ORDER BY a.schedulingAttemptId"))


def _by_name(settings) -> dict[str, dict]:
    return {r["taskName"]: r for r in _attempts(settings)}


def _run_all(settings) -> float:
    start = time.monotonic()
    while actions.schedule(settings)["attempt_ids"]:
        Worker(settings).run(until_empty=True)
    return time.monotonic() - start


# -- recording: values MariaDB cannot hold ---------------------------------------------------
UNSTORABLE = {
    "long_key": {"k" * 65: 1},  # eas_metadata_keys.name is VARCHAR(64)
    "padded_keys": {"k": 1, "k ": 2},  # utf8mb4_bin pads: one key for MariaDB
    "infinite": {"x": float("inf")},
    "not_a_number": {"x": float("nan")},
}


def test_values_mariadb_refuses_fail_only_their_attempt(mysql_settings, monkeypatch):
    init(mysql_settings)

    def returns(run):
        null_task(run)
        return UNSTORABLE.get(run.description.get("name"), {})

    monkeypatch.setitem(implementations(), "null", returns)
    actions.submit(mysql_settings, chain={"job_name": "unstorable", "task_list": [
        *({"task": "null", "name": name} for name in UNSTORABLE),
        {"task": "null", "name": "after"}]})
    _run_all(mysql_settings)  # returns normally: no worker died
    rows = _by_name(mysql_settings)
    for name in UNSTORABLE:
        assert (rows[name]["isFinished"], rows[name]["isRunning"], rows[name]["errorFail"]) \
            == (1, 0, 1), name
    assert (rows["after"]["isFinished"], rows["after"]["errorFail"]) == (1, 0)
    logged = {r["task_id"] for r in actions.report(mysql_settings, "errors",
                                                     job_name="unstorable")["rows"]}
    assert {rows[name]["taskId"] for name in UNSTORABLE} <= logged


def test_database_errors_while_recording_fail_only_their_attempt(mysql_settings):
    """Errors nobody predicted: the database refuses a metadata value, and a child task."""
    init(mysql_settings)
    with Database(mysql_settings) as db:
        for table, column, value in (("eas_metadata_item", "valueString", "poison-pill"),
                                     ("eas_task", "taskName", "refused")):
            db.run(lambda tx, t=table, c=column, v=value: tx.execute(
                f"CREATE TRIGGER refuse_{t} BEFORE INSERT ON {t} FOR EACH ROW "
                f"IF NEW.{c} = '{v}' THEN SIGNAL SQLSTATE '45000' "
                f"SET MESSAGE_TEXT = 'refused by a trigger'; END IF"))
    actions.submit(mysql_settings, chain={"job_name": "refused", "task_list": [
        {"task": "null", "name": "poison", "set_metadata": {"note": "poison-pill"}},
        {"task": "execution_for_loop", "name": "loop", "parameter": "p", "values": [1],
         "task_list": [{"task": "null", "name": "refused"}]},
        {"task": "null", "name": "after"}]})
    _run_all(mysql_settings)  # returns normally: no worker died
    rows = _by_name(mysql_settings)
    for name in ("poison", "p_0"):
        assert (rows[name]["isFinished"], rows[name]["isRunning"], rows[name]["errorFail"]) \
            == (1, 0, 1), name
        assert "refused by a trigger" in rows[name]["errorText"]
    assert (rows["after"]["isFinished"], rows["after"]["errorFail"]) == (1, 0)
    errors = actions.report(mysql_settings, "errors", job_name="refused")["rows"]
    assert sum("refused by a trigger" in r["message"] for r in errors) == 2


# -- time limits -------------------------------------------------------------------------------
def test_time_limit_kills_and_fails_the_attempt(mysql_backend):
    actions.submit(mysql_backend, chain={"job_name": "limits", "task_list": [
        {"task": "null", "name": "hung", "sleep": 8, "time_limit": 1},
        {"task": "null", "name": "after"}]})
    took = _run_all(mysql_backend)
    rows = _by_name(mysql_backend)
    assert rows["hung"]["errorText"] == "time limit of 1 s exceeded"
    assert (rows["after"]["isFinished"], rows["after"]["errorFail"]) == (1, 0)
    assert took < 7
    assert actions.report(mysql_backend, "queue")["changed"] is False


# -- a stopped run gives its attempts back -----------------------------------------------------
LONG = {"job_name": "long", "task_list": [{"task": "null", "name": "long", "sleep": 60}]}


def _finish_at_once(settings, monkeypatch) -> None:
    """The next worker claims the given-back attempt at once (on RabbitMQ: its message is in
    the queue again) and finishes it."""
    monkeypatch.setitem(implementations(), "null", lambda run: {})
    assert Worker(settings).run(until_empty=True) == 1
    long = _by_name(settings)["long"]
    assert (long["isFinished"], long["errorFail"]) == (1, 0)


def test_run_past_its_timeout_gives_the_attempt_back(mysql_backend, monkeypatch):
    actions.submit(mysql_backend, chain=LONG)
    start = time.monotonic()
    result = actions.local_run(mysql_backend, workers=2, job_name="long", timeout=3)
    assert time.monotonic() - start < 10
    assert result["timed_out"] and result["returned_to_queue"] == 1
    long = _by_name(mysql_backend)["long"]
    assert (long["isQueued"], long["isRunning"], long["errorFail"]) == (1, 0, 0)
    _finish_at_once(mysql_backend, monkeypatch)


def _environment(settings) -> dict:
    env = dict(os.environ)
    for name in ("db_engine", "db_host", "db_port", "db_user", "db_password", "db_name",
                 "data_dir", "queue_implementation", "mq_host", "mq_port", "mq_user",
                 "mq_password", "mq_vhost"):
        env["EAS_" + name.upper()] = str(getattr(settings, name))
    return env


def test_sigterm_to_eas_run_gives_the_attempt_back(mysql_backend, monkeypatch):
    actions.submit(mysql_backend, chain=LONG)
    proc = subprocess.Popen(
        [sys.executable, "-m", "plato_eas.cli", "run", "--job", "long"],
        env=_environment(mysql_backend), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True)
    try:
        assert wait_for(lambda: _by_name(mysql_backend).get("long", {}).get("isRunning"), 30)
        os.kill(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert err.strip() == "eas: interrupted; 1 attempt returned to the queue", out + err
    assert proc.returncode == 128 + signal.SIGTERM
    _finish_at_once(mysql_backend, monkeypatch)


def _serve(settings, until_empty: bool = False) -> None:
    Worker(settings).run(until_empty=until_empty)


def test_attempts_of_a_killed_worker_go_back_to_the_queue(mysql_backend, monkeypatch):
    actions.submit(mysql_backend, chain=LONG)
    actions.schedule(mysql_backend)
    Worker(mysql_backend, task_types=["execution_chain"]).run(until_empty=True)
    actions.schedule(mysql_backend)
    worker = CTX.Process(target=_serve, args=(mysql_backend,))
    worker.start()
    assert wait_for(lambda: _by_name(mysql_backend)["long"]["isRunning"] == 1, 30)
    host = _by_name(mysql_backend)["long"]["hostId"]
    os.kill(worker.pid, signal.SIGKILL)  # no chance to give anything back itself
    worker.join()
    held = _by_name(mysql_backend)["long"]["schedulingAttemptId"]
    assert _release_leftovers(mysql_backend, [host]) == [held]
    _finish_at_once(mysql_backend, monkeypatch)


# -- a late attempt ----------------------------------------------------------------------------
def test_late_attempt_never_overwrites_the_recorded_file(mysql_backend, monkeypatch, tmp_path):
    pid_file = tmp_path / "runner.pid"

    def tells_its_pid(run):
        if not pid_file.exists():
            pid_file.write_text(str(os.getpid()))
        return null_task(run)

    monkeypatch.setitem(implementations(), "null", tells_its_pid)
    actions.submit(mysql_backend, chain={"job_name": "late", "task_list": [
        {"task": "null", "name": "slow", "sleep": 3, "outputs": {"lightcurve": "x.lc"}}]})
    actions.schedule(mysql_backend)
    Worker(mysql_backend, task_types=["execution_chain"]).run(until_empty=True)
    actions.schedule(mysql_backend)
    late = CTX.Process(target=_serve, args=(mysql_backend, True))
    late.start()
    stopped: list[int] = []
    try:
        assert wait_for(pid_file.exists, 20)
        for pid in (late.pid, int(pid_file.read_text())):
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)
        time.sleep(1.5)
        assert len(actions.schedule(mysql_backend)["requeued"]) == 1
        assert Worker(mysql_backend).run(until_empty=True) == 1
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
        late.join(30)
    retry = _attempts(mysql_backend)[-1]
    with Database(mysql_backend) as db:
        versions = db.read(lambda tx: tx.rows("SELECT * FROM eas_product_version"))
    assert [v["generatedByTaskExecution"] for v in versions] == [retry["schedulingAttemptId"]]
    on_disk = (mysql_backend.output_dir / "x.lc").read_bytes()
    assert hashlib.md5(on_disk).hexdigest() == versions[0]["fileMD5"]
    assert not alive(late.pid)
