"""The diagnostic reports against real SQLite databases built row by row."""

from __future__ import annotations

import pytest
from reports_fixtures import Builder, open_db

from plato_eas.errors import EasError
from plato_eas.reports import ReportError, run_report, write_report_csv


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


def chain(build: Builder, depth: int, job: str = "job") -> list[int]:
    """A root with ``depth`` levels of one child each; returns their ids, root first."""
    ids = [build.task("execution_chain", job)]
    for _ in range(depth - 1):
        ids.append(build.task("null", job, parent=ids[-1]))
    return ids


TRACEBACK = ('Traceback (most recent call last):\n  File "task.py", line 3, in run\n'
             'ValueError: bad input')


def timed(build: Builder, task_type: str, job: str, wall: float, **metadata) -> int:
    task = build.task(task_type, job)
    build.metadata(task_id=task, task_description='{"task": "' + task_type + '"}', **metadata)
    return build.attempt(task, "done", startTime=1_700_000_000.0, runTimeWallClock=wall,
                         runTimeCpu=wall / 2, runTimeCpuIncChildren=wall)


def test_progress_counts_and_percentages_per_task_type_with_a_total(db, build):
    one_task_per_state(build, task_type="null")
    for state in ("done", "done", "done"):
        build.attempt(build.task("error"), state)
    build.task("error")
    result = run_report(db, "progress")
    assert result["changed"] is False
    error, null = result["rows"]
    assert error == {"task_type": "error", "total": 4, "waiting": 1, "waiting_pct": 25.0,
                     "queued": 0, "queued_pct": 0.0, "stalled": 0, "stalled_pct": 0.0,
                     "running": 0, "running_pct": 0.0, "done": 3, "done_pct": 75.0,
                     "failed": 0, "failed_pct": 0.0, "cancelled": 0, "cancelled_pct": 0.0}
    assert null["total"] == 7 and null["done"] == 1 and null["done_pct"] == 14.3
    assert null["cancelled"] == 1
    assert result["total"]["total"] == 11 and result["total"]["done_pct"] == 36.4
    lines = result["table"].splitlines()
    assert lines[0].split() == ["Task", "Waiting", "Queued", "Stalled", "Running", "Done",
                                "Failed", "Cancelled", "Total"]
    assert lines[2].split() == ["error", "1", "(25%)", "0", "(0%)", "0", "(0%)", "0", "(0%)",
                                "3", "(75%)", "0", "(0%)", "0", "(0%)", "4"]
    assert lines[-1].startswith("Total")


def test_progress_of_one_job(db, build):
    one_task_per_state(build, job="a")
    build.task("null", job="b")
    rows = run_report(db, "progress", job_name="b")["rows"]
    assert [(r["task_type"], r["total"], r["waiting_pct"]) for r in rows] == [("null", 1, 100.0)]


def test_job_tree_puts_children_under_parents_in_task_id_order(db, build):
    root = build.task("execution_chain")
    second_root = build.task("execution_chain")
    child_b = build.task("null", parent=root)
    child_a = build.task("null", parent=root)
    grandchild = build.task("null", parent=child_b)
    build.attempt(child_b, "failed")
    build.attempt(child_b, "done")
    build.attempt(grandchild, "queued")
    result = run_report(db, "job_tree")
    order = [(r["task_id"], r["depth"]) for r in result["rows"]]
    assert order == [(root, 0), (child_b, 1), (grandchild, 2), (child_a, 1), (second_root, 0)]
    row_b = result["rows"][1]
    assert (row_b["queued"], row_b["running"], row_b["stalled"], row_b["done"],
            row_b["failed"], row_b["cancelled"]) == (0, 0, 0, 1, 1, 0)
    lines = result["table"].splitlines()
    assert lines[3].split() == ["|", "job/null", str(child_b), "0", "0", "0", "1", "1", "0"]
    assert lines[4].startswith(" |  | job/null")
    assert result["truncated"] is False


def test_job_tree_max_depth_truncates_and_says_so(db, build):
    ids = chain(build, 5)
    result = run_report(db, "job_tree", max_depth=2)
    assert [r["task_id"] for r in result["rows"]] == ids[:2]
    assert result["rows"][1]["hidden"] == 3
    assert (result["hidden_tasks"], result["truncated"]) == (3, True)
    assert result["table"].splitlines()[-1].strip() == "|  | … 3 deeper tasks not shown"


def test_job_tree_running_only_keeps_branches_with_live_work(db, build):
    idle_branch = chain(build, 3)
    live_branch = chain(build, 3)
    build.attempt(idle_branch[2], "done")
    build.attempt(idle_branch[1], "stalled")
    build.attempt(live_branch[2], "running")
    sibling = build.task("null", parent=live_branch[0])
    build.attempt(sibling, "queued")
    build.task("null", parent=live_branch[0])
    rows = run_report(db, "job_tree", running_only=True)["rows"]
    assert [r["task_id"] for r in rows] == [*live_branch, sibling]


def test_job_tree_of_one_job_starts_at_its_topmost_tasks(db, build):
    other = build.task("execution_chain", job="other")
    mine = build.task("null", job="mine", parent=other)
    build.task("null", job="other", parent=mine)
    rows = run_report(db, "job_tree", job_name="mine")["rows"]
    assert [(r["task_id"], r["depth"], r["job_name"]) for r in rows] == [(mine, 0, "mine")]


def test_job_tree_rejects_a_depth_below_one(db):
    with pytest.raises(ReportError, match="max_depth"):
        run_report(db, "job_tree", max_depth=0)


def test_errors_lists_error_messages_oldest_first_with_tracebacks(db, build):
    synth = build.task("synthesis", job="a")
    search = build.task("search", job="b")
    first = build.attempt(synth, "failed")
    second = build.attempt(search, "failed")
    build.log(second, TRACEBACK, severity=40, timestamp=1_700_000_200.0)
    build.log(first, "disk full", severity=50, timestamp=1_700_000_100.0)
    build.log(first, "just a warning", severity=30, timestamp=1_700_000_000.0)
    result = run_report(db, "errors")
    assert [(r["time"], r["job_name"], r["task_type"], r["task_id"], r["attempt_id"],
             r["message"]) for r in result["rows"]] == [
        ("2023-11-14 22:15:00", "a", "synthesis", synth, first, "disk full"),
        ("2023-11-14 22:16:40", "b", "search", search, second, TRACEBACK)]
    lines = result["table"].splitlines()
    assert "disk full" in lines[2] and "Traceback (most recent call last):" in lines[3]
    assert lines[5].strip() == "ValueError: bad input"
    assert lines[5].index("ValueError") == lines[3].index("Traceback")
    assert [r["task_id"] for r in run_report(db, "errors", task_type="search")["rows"]] == [search]
    assert [r["task_id"] for r in run_report(db, "errors", job_name="a")["rows"]] == [synth]


def test_timings_lists_every_started_attempt(db, build):
    first = timed(build, "synthesis", "a", 12.345, size=2)
    build.attempt(build.task("synthesis", "a"), "queued")
    result = run_report(db, "timings")
    assert [(r["attempt_id"], r["start_time"], r["job_name"], r["task_type"], r["wall_clock"],
             r["cpu"], r["cpu_inc_children"]) for r in result["rows"]] == [
        (first, "2023-11-14 22:13:20", "a", "synthesis", 12.345, 6.1725, 12.345)]
    assert result["table"].splitlines()[2].split()[-3:] == ["12.35", "6.17", "12.35"]


def test_timings_csv_is_one_table_per_job_and_task_type(db, build, tmp_path):
    """Keyed by input metadata, then the text table's columns (job and type are the title)."""
    timed(build, "synthesis", "a", 3.0, size=2, size_index=1)
    timed(build, "synthesis", "a", 1.5, size=1, size_index=0, note="x" * 30)
    timed(build, "search", "a", 2.0, tda="bls")
    timed(build, "synthesis", "b", 4.0)
    dest = tmp_path / "timings.csv"
    result = write_report_csv(db, "timings", dest)
    assert result["changed"] is True and result["dest"] == str(dest)
    assert dest.read_text() == (
        "# a / search\n"
        "tda,start_time,task_id,attempt_id,wall_clock,cpu,cpu_inc_children\n"
        "bls,2023-11-14 22:13:20,3,3,2,1,2\n"
        "\n"
        "# a / synthesis\n"
        "size,size_index,start_time,task_id,attempt_id,wall_clock,cpu,cpu_inc_children\n"
        "1,0,2023-11-14 22:13:20,2,2,1.5,0.75,1.5\n"
        "2,1,2023-11-14 22:13:20,1,1,3,1.5,3\n"
        "\n"
        "# b / synthesis\n"
        "start_time,task_id,attempt_id,wall_clock,cpu,cpu_inc_children\n"
        "2023-11-14 22:13:20,4,4,4,2,4\n")


def _csv_headers(text: str) -> list[list[str]]:
    """The header row of every table of a CSV form (stacked tables each have a # title)."""
    blocks = [b.splitlines() for b in text.strip("\n").split("\n\n")]
    return [b[1] if b[0].startswith("#") else b[0] for b in blocks if b]


def test_every_csv_form_names_its_columns_as_its_rows_name_them(db, build, tmp_path):
    """One style in every report's CSV: the snake_case keys of its rows (and of --json)."""
    from plato_eas.reports import REPORTS

    host = build.db.run(lambda tx: tx.insert(
        "INSERT INTO eas_worker_host (hostname) VALUES (?)", ("node/1",)))
    one_task_per_state(build, job="j")
    failing = build.task("search", "j")
    build.log(build.attempt(failing, "failed", hostId=host), "boom", 40)
    timed(build, "search", "j", 2.0, size=1)
    outcome_task = build.task("search", "j")
    build.metadata(task_id=outcome_task, size=3)
    build.metadata(attempt_id=build.attempt(outcome_task, "done", hostId=host), outcome="PASS")
    checked = 0
    for name, spec in REPORTS.items():
        if not spec.has_csv:
            continue
        dest = tmp_path / f"{name}.csv"
        result = write_report_csv(db, name, dest)
        headers = _csv_headers(dest.read_text())
        assert headers, name
        for header in headers:
            columns = header.split(",")
            assert all(c and c == c.lower() and " " not in c and "(" not in c
                       for c in columns), (name, columns)
            flat = [r for r in result.get("rows", []) if isinstance(r, dict)]  # streamed: none
            if flat and name not in ("pass_fail", "detection", "timing_summary", "timeline",
                                      "timings"):
                assert set(columns) <= set(flat[0]), (name, set(columns) - set(flat[0]))
        checked += 1
    assert checked >= 10


def test_pass_fail_tables_keep_attempts_with_an_outcome(db, build, tmp_path):
    for size, outcome in ((2, "FAIL"), (1, "PASS"), (3, None)):
        task = build.task("search", "a")
        build.metadata(task_id=task, size=size, task_description="{}")
        attempt = build.attempt(task, "done")
        if outcome:
            build.metadata(attempt_id=attempt, outcome=outcome)
    loop = build.task("execution_for_loop", "a")
    build.metadata(attempt_id=build.attempt(loop, "done"), outcome="PASS")
    result = run_report(db, "pass_fail", job_name="a")
    assert [(r["metadata"], r["outcome"], r["recorded"]) for r in result["rows"]] == [
        ({"size": 2.0}, 0, "FAIL"), ({"size": 1.0}, 1, "PASS")]
    assert result["table"].splitlines() == [
        "a / search", "size  outcome", "----  -------", "   1        1", "   2        0"]
    dest = tmp_path / "pass_fail.csv"
    write_report_csv(db, "pass_fail", dest)
    assert dest.read_text() == "# a / search\nsize,outcome\n1,1\n2,0\n"


def test_queue_counts_waiting_messages_and_lists_few_ids(db, build):
    queued = [build.attempt(build.task("search"), "queued") for _ in range(3)]
    build.attempt(build.task("search"), "running")
    build.attempt(build.task("synthesis"), "queued")
    build.task_type("idle")
    result = run_report(db, "queue", show_ids=2)
    assert [(r["queue"], r["messages"], r["ids"]) for r in result["rows"]] == [
        ("idle", 0, []), ("search", 3, None), ("synthesis", 1, [queued[-1] + 2])]
    assert result["total_messages"] == 4
    few = run_report(db, "queue", queues=["search"])["rows"]
    assert few == [{"queue": "search", "messages": 3, "ids": queued}]


def test_write_report_csv_changes_only_when_content_differs(db, build, tmp_path):
    one_task_per_state(build)
    dest = tmp_path / "progress.csv"
    assert write_report_csv(db, "progress", dest, check_mode=True)["changed"] is True
    assert not dest.exists()
    assert write_report_csv(db, "progress", dest)["changed"] is True
    written = dest.read_text()
    assert written.splitlines()[0].startswith("task_type,total,waiting,waiting_pct")
    assert write_report_csv(db, "progress", dest)["changed"] is False
    assert write_report_csv(db, "progress", dest, check_mode=True)["changed"] is False
    build.task("null")
    assert write_report_csv(db, "progress", dest, check_mode=True)["changed"] is True
    assert dest.read_text() == written
    assert write_report_csv(db, "progress", dest)["changed"] is True
    assert dest.read_text() != written
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_bad_report_requests_fail_with_one_line(db, tmp_path):
    cases = [
        (lambda: run_report(db, "nope"), "unknown report 'nope'"),
        (lambda: run_report(db, "progress", task_type="x"), "has no filter task_type"),
        (lambda: write_report_csv(db, "job_tree", tmp_path / "t.csv"), "has no CSV form"),
        (lambda: write_report_csv(db, "timings", tmp_path / "missing" / "t.csv"),
         "does not exist"),
    ]
    for call, message in cases:
        with pytest.raises(EasError, match=message) as caught:
            call()
        assert "\n" not in str(caught.value)


def test_unset_filters_are_ignored(db, build):
    build.task("null")
    assert run_report(db, "progress", job_name=None)["total"]["total"] == 1
