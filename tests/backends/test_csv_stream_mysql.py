"""The streamed timings and pass/fail CSV files on MariaDB: byte for byte what the whole
report renders, across pages (tests/pipeline/reports/test_csv_stream.py has the cases)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from plato_eas.db import Database
from plato_eas.model.schema import create
from plato_eas.reports import csv_stream, write_report_csv

sys.path.insert(0, str(Path(__file__).parents[1] / "pipeline"))
from pipeline.reports.test_csv_stream import _populate, _tables, _whole  # noqa: E402
from reports_fixtures import Builder  # noqa: E402

pytestmark = pytest.mark.mysql


@pytest.mark.parametrize("name", ["timings", "pass_fail"])
def test_streamed_csv_on_mariadb_is_the_whole_reports_csv(mysql_settings, tmp_path,
                                                          monkeypatch, name):
    monkeypatch.setattr(csv_stream, "PAGE", 5)
    with Database(mysql_settings) as db:
        create(db)  # the schema alone: the builder names its own task types
        _populate(Builder(db), 5, 40)
        for filters in ({}, {"job_name": "b"}):
            dest = tmp_path / f"{name}.csv"
            result = write_report_csv(db, name, dest, **filters)
            assert dest.read_text(encoding="utf-8") == _whole(db, name, **filters), filters
            assert result["csv_rows"] == sum(len(t.rows) for t in _tables(db, name, **filters))
