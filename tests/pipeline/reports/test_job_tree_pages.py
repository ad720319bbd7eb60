"""The job tree a page at a time: every row of the whole tree exactly once, in the same order
and with the same counts, across pages; children read in chunks smaller than a family."""

from __future__ import annotations

import importlib
import itertools
import random

import pytest
from reports_fixtures import Builder, open_db

from plato_eas.reports import ReportError, run_report, streams_text, write_report_text

tree_module = importlib.import_module("plato_eas.reports.job_tree")  # the package shadows it
STATES = ("queued", "running", "stalled", "done", "failed", "cancelled")


@pytest.fixture
def db(tmp_path):
    database = open_db(tmp_path)
    yield database
    database.close()


def forest(build: Builder) -> None:
    """Three roots in two jobs, a family wider than a chunk, a job nested in another, and
    attempts in every state (some tasks with several)."""
    pick = random.Random(15)
    roots = [build.task("execution_chain", job) for job in ("job", "job", "other")]
    tasks = list(roots)
    for _ in range(60):
        parent = pick.choice(tasks)
        job = "mine" if pick.random() < 0.15 else "job"
        tasks.append(build.task(pick.choice(("null", "execution_for_loop")), job,
                                parent=parent))
    for task in pick.sample(tasks, 40):
        for state in pick.sample(STATES, pick.randint(1, 2)):
            build.attempt(task, state)
    for _ in range(9):  # one wide family
        build.task("null", "job", parent=roots[1])


def paged(db, limit: int, **filters) -> list[dict]:
    rows, offset = [], 0
    while offset is not None:
        page = run_report(db, "job_tree", offset=offset, limit=limit, **filters)
        assert len(page["rows"]) <= limit
        assert page["hidden_tasks"] == sum(r["hidden"] for r in page["rows"])
        rows.extend(page["rows"])
        offset = page["next_offset"]
    return rows


@pytest.mark.parametrize("limit", [1, 4, 25, 1000])
def test_pages_hold_every_row_of_the_whole_tree_once_in_order(db, monkeypatch, limit):
    monkeypatch.setattr(tree_module, "_CHUNK", 3)
    forest(Builder(db))
    for job, depth, live in itertools.product((None, "job", "mine"), (None, 1, 2),
                                              (False, True)):
        filters = {"job_name": job, "max_depth": depth, "running_only": live}
        whole = run_report(db, "job_tree", **filters)["rows"]
        assert paged(db, limit, **filters) == whole, filters
        assert len({r["task_id"] for r in whole}) == len(whole)
    assert len(run_report(db, "job_tree")["rows"]) == 72


def test_a_page_says_where_the_next_begins(db):
    build = Builder(db)
    root = build.task("execution_chain")
    kids = [build.task("null", parent=root) for _ in range(4)]
    first = run_report(db, "job_tree", limit=3)
    assert [r["task_id"] for r in first["rows"]] == [root, *kids[:2]]
    assert (first["offset"], first["limit"], first["next_offset"]) == (0, 3, 3)
    last = run_report(db, "job_tree", offset=3, limit=3)
    assert [r["task_id"] for r in last["rows"]] == kids[2:]
    assert last["next_offset"] is None
    assert run_report(db, "job_tree", offset=9, limit=3)["rows"] == []


@pytest.mark.parametrize("filters", [{"offset": -1}, {"limit": 0}])
def test_a_bad_page_is_refused(db, filters):
    with pytest.raises(ReportError, match="offset must be at least 0"):
        run_report(db, "job_tree", **filters)


def streamed(db, **filters) -> list[str]:
    lines: list[str] = []
    result = write_report_text(db, "job_tree", lines.append, **filters)
    assert result == {"changed": False, "lines": len(lines)}
    return "".join(lines).splitlines()


def words(lines: list[str]) -> list[list[str]]:
    """The lines' cells, whatever their alignment (a streamed table widens as it goes), the
    rule under the heading aside."""
    return [line.split() for index, line in enumerate(lines) if index != 1]


def test_the_streamed_whole_tree_reads_as_the_whole_report(db, monkeypatch):
    monkeypatch.setattr(tree_module, "_CHUNK", 3)
    monkeypatch.setattr(tree_module, "STREAM_BATCH", 4)
    forest(Builder(db))
    for job, depth, live in itertools.product((None, "job", "mine"), (None, 1, 2),
                                              (False, True)):
        filters = {"job_name": job, "max_depth": depth, "running_only": live}
        whole = run_report(db, "job_tree", **filters)["table"].splitlines()
        assert words(streamed(db, **filters)) == words(whole), filters


def test_the_streamed_tree_writes_each_batch_before_reading_the_next(db, monkeypatch):
    monkeypatch.setattr(tree_module, "STREAM_BATCH", 2)
    build = Builder(db)
    root = build.task("execution_chain")
    for _ in range(9):
        build.task("null", parent=root)
    counted = []
    real = tree_module._counts
    monkeypatch.setattr(tree_module, "_counts", lambda *a: counted.append(1) or real(*a))

    def write(line: str) -> None:
        if "null" in line:  # the first null task: the second row
            raise BrokenPipeError
    with pytest.raises(BrokenPipeError):
        write_report_text(db, "job_tree", write)
    assert counted == [1]  # one batch of two rows read, of five


def test_an_empty_streamed_tree_says_so(db):
    assert streamed(db)[2:] == ["(no rows)"]
    assert words(streamed(db)[:2]) == [["Task", "Id", "Queued", "Stalled", "Running", "Done",
                                        "Failed", "Cancelled"]]


def test_only_an_unpaged_job_tree_is_streamed():
    assert streams_text("job_tree", job_name="x", max_depth=2)
    assert not streams_text("job_tree", limit=10)
    assert not streams_text("job_tree", offset=0)
    assert not streams_text("progress")
