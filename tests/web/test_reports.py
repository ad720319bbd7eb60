"""The report definitions behind the pages (and the jobs/task/logs info modules), checked
against the database a real run filled."""

from __future__ import annotations

import sqlite3
from collections import Counter

import pytest

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.errors import JobError
from plato_eas.reports import ReportError, build_report, run_report


@pytest.fixture(scope="module")
def db(filled):
    with Database(filled, read_only=True) as database:
        yield database


@pytest.fixture(scope="module")
def raw(filled):
    conn = sqlite3.connect(f"file:{filled.db_path}?mode=ro", uri=True)
    yield conn
    conn.close()


def test_jobs(db, raw):
    rows = {r["job_name"]: r for r in run_report(db, "jobs")["rows"]}
    assert set(rows) == {"demo", "failing"}
    demo, failing = rows["demo"], rows["failing"]
    assert demo["state"] == "finished" and demo["done"] == demo["total"] == raw.execute(
        "SELECT COUNT(*) FROM eas_task WHERE jobName = 'demo'").fetchone()[0]
    assert failing["state"] == "blocked"
    assert (failing["failed"], failing["blocked"], failing["waiting"]) == (1, 1, 1)
    assert demo["first_start"] <= demo["last_end"]
    only = run_report(db, "jobs", job_name="failing")
    assert [r["job_name"] for r in only["rows"]] == ["failing"] and "blocked" in only["table"]
    with pytest.raises(JobError, match="no job named 'nope'"):
        run_report(db, "jobs", job_name="nope")
    assert demo["by_type"] is None  # only with a job_name


@pytest.mark.parametrize("job", ["demo", "failing"])
def test_a_jobs_counts_by_type_are_the_progress_reports(db, job):
    """The job page shows jobs(job_name).by_type: the same numbers as progress_info."""
    by_type = run_report(db, "jobs", job_name=job)["rows"][0]["by_type"]
    progress = run_report(db, "progress", job_name=job)["rows"]
    states = ("waiting", "queued", "stalled", "running", "done", "failed")
    assert [{k: r[k] for k in ("task_type", "total", *states)} for r in by_type] == \
        [{k: r[k] for k in ("task_type", "total", *states)} for r in progress]


def test_task(db, raw):
    task_id = raw.execute("SELECT generatorTask FROM eas_product WHERE filename = 'raw.lc'"
                          ).fetchone()[0]
    found = run_report(db, "task", task_id=task_id)
    task = found["rows"][0]
    assert task["task_name"] == "observe" and task["state"] == "done"
    version = task["outputs"][0]["versions"][0]
    assert task["outputs"][0]["path"] == "demo/raw.lc" and len(version["md5"]) == 32
    assert version["passed_qc"] is True and version["size"] > 0
    assert [a["state"] for a in task["attempts"]] == ["done"]
    assert any("null task wrote 1 output" in m["message"] for m in task["logs"])
    consumers = raw.execute("SELECT COUNT(*) FROM eas_task_input WHERE inputId = "
                            "(SELECT productId FROM eas_product WHERE filename = 'raw.lc')"
                            ).fetchone()[0]
    assert consumers > 0
    assert "demo/raw.lc" in found["table"] and version["md5"] in found["table"]
    with pytest.raises(ReportError, match="no task with id 999999"):
        run_report(db, "task", task_id=999999)


def test_logs_filters_and_pages(db, raw):
    total = raw.execute("SELECT COUNT(*) FROM eas_log_messages").fetchone()[0]
    first = run_report(db, "logs", page_size=5)
    assert first["total"] == total and len(first["rows"]) == 5
    assert first["pages"] == -(-total // 5)
    times = [r["timestamp"] for r in first["rows"]]
    assert times == sorted(times, reverse=True)
    last = run_report(db, "logs", page_size=5, page=first["pages"])
    assert len(last["rows"]) == total - 5 * (first["pages"] - 1)
    errors = run_report(db, "logs", min_severity="error")
    assert errors["total"] == len(run_report(db, "errors")["rows"]) >= 1
    assert {r["job_name"] for r in run_report(db, "logs", job_name="failing")["rows"]} == {
        "failing"}
    assert run_report(db, "logs", since="2999-01-01")["total"] == 0
    for bad, message in (({"min_severity": "loud"}, "min_severity"),
                         ({"since": "yesterday"}, "since must be"),
                         ({"page": 0}, "page must be between")):
        with pytest.raises(ReportError, match=message):
            run_report(db, "logs", **bad)


def test_task_tree_pages_and_puts_failures_first(db, raw):
    roots = run_report(db, "task_tree", job_name="failing")
    assert [r["task_name"] for r in roots["rows"]] == ["root"]
    root = roots["rows"][0]
    assert root["failed_below"] and not root["live_below"]
    children = run_report(db, "task_tree", parent_id=root["task_id"])
    assert [r["task_name"] for r in children["rows"]] == ["broken", "fine", "blocked"]
    page = run_report(db, "task_tree", parent_id=root["task_id"], offset=1, limit=1)
    assert [r["task_name"] for r in page["rows"]] == ["fine"] and page["total"] == 3
    assert run_report(db, "task_tree", job_name="failing", running_only=True)["rows"] == []
    loop = raw.execute("SELECT t.taskId FROM eas_task t JOIN eas_task_types tt ON "
                       "tt.taskTypeId = t.taskTypeId WHERE tt.taskTypeName = "
                       "'execution_for_loop'").fetchone()[0]
    labels = [r["label"] for r in run_report(db, "task_tree", parent_id=loop)["rows"]]
    assert len(labels) == 3 and all(set(label) == {"size"} for label in labels)


def test_failures(db):
    found = run_report(db, "failures", job_name="failing")
    assert found["total"] == 1
    assert found["rows"][0]["reason"].startswith("RuntimeError: error task")
    assert found["rows"][0]["state"] == "failed" and found["rows"][0]["host"]
    assert run_report(db, "failures", job_name="demo")["total"] == 0


def test_timing_summary_counts_every_started_attempt(db):
    rows = run_report(db, "timing_summary", job_name="demo")["rows"]
    timings = run_report(db, "timings", job_name="demo")["rows"]
    assert {r["task_type"]: r["attempts"] for r in rows} == dict(
        Counter(r["task_type"] for r in timings))
    for row in rows:
        assert sum(b["count"] for b in row["wall_clock"]["histogram"]) == \
            row["wall_clock"]["count"]
        assert row["wall_clock"]["min"] <= row["wall_clock"]["median"] <= row["wall_clock"]["max"]


def test_detection_counts_what_pass_fail_lists(db):
    found = run_report(db, "detection", job_name="demo")
    assert found["variable"] == "size" and "size" in found["variables"]
    listed = run_report(db, "pass_fail", job_name="demo")["rows"]
    by_value = Counter((r["task_type"], r["metadata"].get("size")) for r in listed)
    passed = Counter((r["task_type"], r["metadata"].get("size")) for r in listed
                     if r["outcome"])
    for row in found["rows"]:
        key = (row["task_type"], row["value"])
        assert row["attempts"] == by_value[key] and row["passed"] == passed[key]
    sized = [r for r in found["rows"] if r["value"] is not None]
    assert [r["fraction"] for r in sized] == [0.0, 1.0, 1.0]


def test_timeline_and_workers(db, raw):
    started = raw.execute("SELECT COUNT(*) FROM eas_scheduling_attempt WHERE startTime IS NOT "
                          "NULL").fetchone()[0]
    found = run_report(db, "timeline")
    assert len(found["rows"]) == found["attempts"] == started and not found["truncated"]
    assert sum(h["attempts"] for h in found["hosts"]) == started
    summary = run_report(db, "timeline", limit=5)
    assert summary["truncated"] and summary["rows"] == []
    assert set(summary["occupancy"]) == {h["host"] for h in found["hosts"]}
    workers = run_report(db, "workers")
    assert sum(w["attempts"] for w in workers["rows"]) == started
    assert workers["recent"] == len(workers["rows"]) == 2


def test_csv_forms_and_the_cli(filled, tmp_path):
    dest = tmp_path / "jobs.csv"
    actions.report(filled, "jobs", dest=str(dest))
    assert dest.read_text().splitlines()[0].startswith("job_name,state,submitted")
    with Database(filled, read_only=True) as db:
        report = build_report(db, "detection", job_name="demo")
    assert report.tables[0].title == "demo / null"


def test_detection_variables_come_from_every_chain_entry(tmp_path):
    """The lowest-numbered task with an outcome (a do-while's fit, say) may lack the loop
    variable that other entries of the same type have: it is offered all the same."""
    from plato_eas.model.metadata import write_items
    from plato_eas.settings import Settings

    settings = Settings(db_path=str(tmp_path / "eas.sqlite"), data_dir=str(tmp_path / "d"))
    actions.init_schema(settings)

    def unit(tx):
        type_id = tx.scalar("SELECT taskTypeId FROM eas_task_types WHERE taskTypeName = 'null'")
        ids = []
        for name in ("fit", "search", "search"):
            task = tx.insert("INSERT INTO eas_task (createdTime, isFullyConfigured, taskTypeId, "
                             "jobName, taskName, workingDirectory) VALUES (0, 1, ?, 'j', ?, '')",
                             (type_id, name))
            attempt = tx.insert("INSERT INTO eas_scheduling_attempt (taskId, isFinished, "
                                "startTime, endTime) VALUES (?, 1, 0, 1)", (task,))
            ids.append((task, attempt))
        write_items(tx, "taskId", [(ids[1][0], {"size": 1.0}), (ids[2][0], {"size": 2.0})])
        write_items(tx, "schedulingAttemptId", [(ids[0][1], {"outcome": "PASS"}),
                                                (ids[1][1], {"outcome": "FAIL"}),
                                                (ids[2][1], {"outcome": "PASS"})])

    with Database(settings) as db:
        db.run(unit)
        found = run_report(db, "detection", job_name="j")
    assert found["variables"] == ["size"] and found["variable"] == "size"
    assert [(r["value"], r["attempts"], r["passed"]) for r in found["rows"]] == [
        (1.0, 1, 0), (2.0, 1, 1), (None, 1, 1)]


def test_every_new_report_from_the_cli(filled):
    """`eas report NAME` prints each of them; the task report without a task is one line."""
    from web_helpers import eas

    for name in ("jobs", "logs", "task_tree", "failures", "timing_summary", "detection",
                 "timeline", "workers"):
        done = eas(filled, "report", name, "--job", "demo", check=False) if name in (
            "logs", "failures", "timing_summary", "detection", "timeline") else eas(
            filled, "report", name, check=False)
        assert done.returncode == 0 and done.stdout.strip() and not done.stderr, name
    done = eas(filled, "report", "task", check=False)
    assert (done.returncode, done.stderr) == (1, "eas: error: report task needs a task_id\n")
