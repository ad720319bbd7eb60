"""What a worker records for an attempt, and how the scheduler follows file dependencies."""

import hashlib
import os

from pipeline_helpers import chain

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.tasks.api import implementations
from plato_eas.worker.worker import Worker


def _step(settings, types=None) -> int:
    """One scheduling pass, then run everything queued."""
    actions.schedule(settings)
    return Worker(settings, task_types=types).run(until_empty=True)


def _rows(settings, sql, params=()):
    with Database(settings) as db:
        return db.read(lambda tx: tx.rows(sql, params))


def _task_states(settings) -> dict[str, str]:
    rows = _rows(settings,
                 "SELECT t.taskName, a.isQueued, a.isFinished, a.errorFail FROM eas_task t "
                 "LEFT JOIN eas_scheduling_attempt a ON a.taskId = t.taskId "
                 "WHERE t.taskName IS NOT NULL")
    return {r["taskName"]: "waiting" if r["isQueued"] is None else
            "queued" if r["isQueued"] else "failed" if r["errorFail"] else "done"
            for r in rows}


def test_reader_waits_until_the_file_it_reads_passed_qc(installed):
    actions.submit(installed, chain=chain("file_dependency"))
    _step(installed, ["execution_chain"])  # expand the chain, run nothing else
    # the expansion queued what was ready (only the producer) itself: no pass in between
    assert actions.schedule(installed)["task_ids"] == []
    assert _task_states(installed) == {
        "root": "done", "producer": "queued", "consumer": "waiting", "last": "waiting"}
    Worker(installed, task_types=["null"]).run(until_empty=True, max_attempts=1)
    # The producer's own recording queued its reader: no pass in between.
    assert _task_states(installed)["consumer"] == "queued"
    assert actions.schedule(installed)["task_ids"] == []
    version = _rows(installed, "SELECT v.*, p.filename FROM eas_product_version v "
                               "JOIN eas_product p ON p.productId = v.productId")[0]
    path = installed.output_dir / "file_dependency" / "first.lc"
    assert version["filename"] == "first.lc" and version["passedQc"] == 1
    assert version["fileMD5"] == hashlib.md5(path.read_bytes()).hexdigest()
    assert version["fileSize"] == path.stat().st_size > 0


def test_output_that_fails_qc_keeps_its_readers_waiting(installed, monkeypatch):
    real = implementations()["null"]

    def lazy(run):  # declares an output but writes nothing
        return {}

    monkeypatch.setitem(implementations(), "null", lazy)
    actions.submit(installed, chain=chain("file_dependency"))
    _step(installed)
    _step(installed)
    monkeypatch.setitem(implementations(), "null", real)
    producer = _rows(installed, "SELECT * FROM eas_scheduling_attempt WHERE taskId = 2")[0]
    assert producer["errorFail"] == 1 and producer["allProductsPassedQc"] == 0
    assert "QC failed for output(s): lightcurve" in producer["errorText"]
    assert actions.schedule(installed)["task_ids"] == []
    assert _task_states(installed)["consumer"] == "waiting"


def test_attempt_records_timings_logs_heartbeat_and_output_metadata(installed):
    job = {"job_name": "meta", "task_list": [
        {"task": "null", "name": "n", "sleep": 0.6,
         "set_metadata": {"outcome": "('PASS' if 2 > 1 else 'FAIL')", "snr": "(3 * 2.5)"}}]}
    fast = installed.replace(max_heartbeat_age=0.8)  # heartbeat every 0.2 s
    actions.submit(fast, chain=job)
    _step(fast)
    _step(fast)
    a = _rows(fast, "SELECT * FROM eas_scheduling_attempt WHERE taskId = 2")[0]
    assert a["isFinished"] == 1 and a["errorFail"] == 0 and a["allProductsPassedQc"] == 1
    assert a["runTimeWallClock"] >= 0.6 and a["runTimeCpu"] >= 0
    assert a["runTimeCpuIncChildren"] >= a["runTimeCpu"]
    assert a["latestHeartbeat"] - a["startTime"] >= 0.2  # beat while the task slept
    meta = {r["name"]: (r["valueFloat"], r["valueString"]) for r in _rows(
        fast, "SELECT k.name, i.valueFloat, i.valueString FROM eas_metadata_item i "
              "JOIN eas_metadata_keys k ON k.keyId = i.metadataKey "
              "WHERE i.schedulingAttemptId = ?", (a["schedulingAttemptId"],))}
    assert meta == {"outcome": (None, "PASS"), "snr": (7.5, None)}
    logs = _rows(fast, "SELECT * FROM eas_log_messages WHERE generatedByTaskExecution = ?",
                 (a["schedulingAttemptId"],))
    assert any("null task wrote" in r["message"] and r["severity"] == 20 for r in logs)


def test_refused_expression_fails_the_task_with_expression_and_reason_logged(installed):
    job = {"job_name": "evil", "task_list": [
        {"task": "null", "name": "n", "set_metadata": {"x": "(__import__('os').system('id'))"}}]}
    actions.submit(installed, chain=job)
    _step(installed)
    _step(installed)
    a = _rows(installed, "SELECT * FROM eas_scheduling_attempt WHERE taskId = 2")[0]
    assert a["errorFail"] == 1 and "__import__" in a["errorText"]
    errors = actions.report(installed, "errors", job_name="evil")["rows"]
    assert any("__import__" in r["message"] and "not allowed" in r["message"] for r in errors)


def test_file_name_that_climbs_out_once_evaluated_fails_the_expansion(installed):
    job = {"job_name": "escape", "task_list": [
        {"task": "execution_for_loop", "parameter": "d", "values": ["..", "ok"],
         "task_list": [{"task": "null",
                        "outputs": {"lightcurve": "'{d}/../{d}/x.lc'.format(**metadata)"}}]}]}
    actions.submit(installed, chain=job)
    result = actions.local_run(installed, workers=1, job_name="escape", timeout=60)
    assert result["failed"] == 1 and result["summary"]["done"] == 4
    errors = " ".join(r["message"] for r in actions.report(installed, "errors")["rows"])
    assert "climbs out" in errors or "outside" in errors
    assert not (installed.output_dir.parent / "x.lc").exists()


def test_task_that_kills_its_process_fails_cleanly_and_the_worker_goes_on(installed,
                                                                          monkeypatch):
    def crash(run):
        os._exit(3)

    monkeypatch.setitem(implementations(), "error", crash)
    job = {"job_name": "crash", "task_list": [{"task": "error", "name": "boom"},
                                              {"task": "null", "name": "after"}]}
    actions.submit(installed, chain=job)
    assert _step(installed) == 3  # the root, then the children its expansion queued
    assert _task_states(installed) == {"root": "done", "boom": "failed", "after": "done"}
    text = _rows(installed, "SELECT errorText FROM eas_scheduling_attempt WHERE taskId = 2")
    assert "task process exited with status 3" in text[0]["errorText"]
