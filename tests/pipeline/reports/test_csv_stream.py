"""The timings and pass/fail CSV files, streamed (written as their rows are read, sorted on
disk): byte for byte the files the whole report renders, across pages, with every kind of
input metadata the order depends on."""

from __future__ import annotations

import random

import pytest
from reports_fixtures import Builder, open_db

from plato_eas.reports import csv_stream, render, write_report_csv
from plato_eas.reports.pass_fail import pass_fail
from plato_eas.reports.timings import timings

# Values a loop variable takes: ints, floats (negative, zero, huge), texts (unicode, empty,
# digits, prefixes of each other, too long to show), a list; None leaves the key out.
VALUES = [0, 1, 2, -1, 2.5, -0.25, 1e12, 10, "a", "ab", "b", "B", "10", "", "é", "z" * 30,
          "[1, 2]", None]
# Few values, often missing: rows that tie on some keys and differ on a later one.
FEW = [0, 1, "a", None, None]
KEYS = ["size", "size_index", "tda", "n"]
BUILDERS = {"timings": timings, "pass_fail": pass_fail}


@pytest.fixture
def db(tmp_path):
    database = open_db(tmp_path)
    yield database
    database.close()


def _populate(build: Builder, seed: int, tasks: int) -> None:
    rnd = random.Random(seed)
    for n in range(tasks):
        kind = rnd.choice(["synthesis", "search", "execution_for_loop"])
        task = build.task(kind, rnd.choice(["a", "b", None]))
        values = VALUES if rnd.random() < 0.5 else FEW
        metadata = {k: v for k in KEYS if (v := rnd.choice(values)) is not None}
        build.metadata(task_id=task, task_description="{}", **metadata)
        for _ in range(rnd.choice([1, 1, 2])):  # some tasks retried
            started = rnd.choice([None, 1_700_000_000.0 + n])
            attempt = build.attempt(task, "done" if started else "queued", startTime=started,
                                    runTimeWallClock=rnd.choice([None, 1.25, 3.0, n / 7]),
                                    runTimeCpu=rnd.random(), runTimeCpuIncChildren=2.0)
            if started and rnd.random() < 0.7:
                build.metadata(attempt_id=attempt, outcome=rnd.choice(["PASS", "FAIL", 3]))


def _tables(db, name: str, **filters) -> list:
    report = BUILDERS[name](db, **filters)
    return report.tables if report.csv_tables is None else report.csv_tables


def _whole(db, name: str, **filters) -> str:
    """The CSV text the whole report renders (the definition the stream must match)."""
    return render.to_csv(_tables(db, name, **filters))


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("name", ["timings", "pass_fail"])
def test_streamed_csv_is_the_whole_reports_csv_across_pages(db, tmp_path, monkeypatch,
                                                            name, seed):
    _populate(Builder(db), seed, 60)
    monkeypatch.setattr(csv_stream, "PAGE", 7)
    for filters in ({}, {"job_name": "a"}, {"task_type": "search"},
                    {"job_name": "b", "task_type": "none"}):
        dest = tmp_path / f"{name}.csv"
        dest.unlink(missing_ok=True)
        result = write_report_csv(db, name, dest, **filters)
        expected = _whole(db, name, **filters)
        assert dest.read_text(encoding="utf-8") == expected, filters
        assert result["changed"] is True and result["dest"] == str(dest)
        assert result["csv_rows"] == sum(len(t.rows) for t in _tables(db, name, **filters))
        assert write_report_csv(db, name, dest, **filters)["changed"] is False


def test_a_streamed_csv_changes_the_file_only_when_its_content_differs(db, tmp_path):
    build = Builder(db)
    _populate(build, 4, 10)
    dest = tmp_path / "t.csv"
    dest.write_text("old\n")
    dest.chmod(0o640)
    assert write_report_csv(db, "timings", dest, check_mode=True)["changed"] is True
    assert dest.read_text() == "old\n"
    assert write_report_csv(db, "timings", dest)["changed"] is True
    assert dest.read_text() == _whole(db, "timings") and dest.stat().st_mode & 0o777 == 0o640
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".t.csv")]


def test_the_sort_key_orders_as_the_whole_report_does():
    from plato_eas.reports.input_metadata import _sort_key

    rnd = random.Random(7)
    rows = [{k: v for k in KEYS if (v := rnd.choice(VALUES if n % 2 else FEW)) is not None}
            for n in range(400)]
    keys = sorted({k for r in rows for k in r})
    expected = sorted(range(len(rows)),
                      key=lambda i: (_sort_key([rows[i].get(k) for k in keys]), i))
    assert sorted(range(len(rows)), key=lambda i: (csv_stream.sort_key(rows[i]), i)) == expected
