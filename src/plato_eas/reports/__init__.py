"""The diagnostic reports (SPEC §8): one definition of each, shared by the Ansible info
modules, the CLI and the CSV writer.

:func:`run_report` returns structured ``rows`` plus the ready-to-print ``table`` text; the
whole job tree can also be written a line at a time (:func:`write_report_text`, what ``eas
report job_tree`` does) so that printing a million tasks needs no more memory than a page;
:func:`write_report_csv` writes a report's CSV form (see :mod:`.render` for the layout of
multi-table files) and reports ``changed`` only when the file's content differs. The timings
and pass/fail files are streamed (:mod:`.csv_stream`): written as their rows are read, in
bounded memory, so their result holds ``csv_rows`` (how many) instead of the rows.
Filters given as None count as not given (how Ansible passes unset options).
"""

from __future__ import annotations

import filecmp
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from ..db import Database
from ..model import jobs as jobs_model
from ..model.schema import check_version
from . import csv_stream, render
from .base import Report, ReportError
from .detection import detection
from .error_log import errors
from .failures import failures
from .job_tree import job_tree
from .job_tree import text_lines as job_tree_lines
from .jobs import jobs
from .logs import logs
from .pass_fail import CSV_VALUES as PASS_FAIL_VALUES
from .pass_fail import csv_pages as pass_fail_pages
from .pass_fail import pass_fail
from .progress import progress
from .queue import queue
from .task import task
from .task_tree import task_tree
from .timeline import timeline
from .timing_summary import timing_summary
from .timings import CSV_COLUMNS as TIMINGS_CSV_COLUMNS
from .timings import csv_pages as timings_pages
from .timings import timings
from .workers import workers

__all__ = ["REPORTS", "Report", "ReportError", "build_report", "csv_report", "run_report",
           "streams_text", "write_report_csv", "write_report_text"]


@dataclass(frozen=True)
class ReportSpec:
    build: Callable[..., Report]
    filters: tuple[str, ...]
    has_csv: bool
    about: str  # one line for `eas report --help`
    # Streamed CSV form: (page reader factory (tx, **filters), its value columns).
    csv_stream: tuple[Callable[..., csv_stream.Pages], list[str]] | None = None
    # Streamed text: (tx, max_age, **filters) -> its lines, used when these filters are unset.
    text_stream: Callable[..., Iterator[str]] | None = None
    paging: tuple[str, ...] = ()


REPORTS: dict[str, ReportSpec] = {
    "progress": ReportSpec(progress, ("job_name",), True,
                           "tasks per task type in each state, with percentages"),
    "job_tree": ReportSpec(job_tree, ("job_name", "max_depth", "running_only",
                                      "offset", "limit"), False,
                           "every task under its parent, with its attempts by state",
                           text_stream=job_tree_lines, paging=("offset", "limit")),
    "errors": ReportSpec(errors, ("job_name", "task_type"), True,
                         "every error and traceback logged by tasks, oldest first"),
    "timings": ReportSpec(timings, ("job_name", "task_type"), True,
                          "wall-clock and CPU seconds of every attempt that ran",
                          (timings_pages, TIMINGS_CSV_COLUMNS)),
    "pass_fail": ReportSpec(pass_fail, ("job_name", "task_type"), True,
                            "recorded outcomes (PASS = 1) per job and task type, by input "
                            "metadata", (pass_fail_pages, PASS_FAIL_VALUES)),
    "queue": ReportSpec(queue, ("queues", "show_ids", "job_name"), False,
                        "attempts waiting in each queue, with their ids when few"),
    # The dashboard's pages (and the jobs/task/logs info modules) show these.
    "jobs": ReportSpec(jobs, ("job_name",), True,
                       "every job: submitted, task counts by state, first start, last end, "
                       "state"),
    "task": ReportSpec(task, ("task_id",), False,
                       "one task whole: description, files, metadata, attempts, logs"),
    "logs": ReportSpec(logs, ("job_name", "task_type", "task_id", "min_severity", "since",
                              "until", "page", "page_size"), True,
                       "log messages at any severity, newest first, a page at a time"),
    "task_tree": ReportSpec(task_tree, ("job_name", "parent_id", "running_only", "offset",
                                        "limit"), False,
                            "the children of one task (or a job's roots), a page at a time"),
    "failures": ReportSpec(failures, ("job_name", "offset", "limit"), True,
                           "tasks whose latest attempt failed or stalled, with the reason"),
    "timing_summary": ReportSpec(timing_summary, ("job_name", "task_type"), True,
                                 "run-time statistics per task type"),
    "detection": ReportSpec(detection, ("job_name", "task_type", "variable"), True,
                            "the fraction of passed outcomes against a loop variable"),
    "timeline": ReportSpec(timeline, ("job_name", "since", "until", "limit"), True,
                           "how busy each worker was, and when"),
    "workers": ReportSpec(workers, (), True,
                          "every worker seen, when it was last seen, what it runs"),
}


def _spec(name: str) -> ReportSpec:
    spec = REPORTS.get(name)
    if spec is None:
        raise ReportError(f"unknown report {name!r}; known reports: {', '.join(REPORTS)}")
    return spec


def _checked(db: Database, name: str, filters: dict[str, Any]) -> dict[str, Any]:
    """The filters given (None: not given), refusing unknown ones and an unreadable schema."""
    spec = _spec(name)
    given = {k: v for k, v in filters.items() if v is not None}
    unknown = sorted(set(given) - set(spec.filters))
    if unknown:
        raise ReportError(f"report {name} has no filter {', '.join(unknown)}; "
                          f"its filters: {', '.join(spec.filters)}")
    # No schema, or a newer one: say so instead of a SQL error (older ones are read as they are).
    db.read(lambda tx: check_version(tx, read_only=True))
    if "job_name" in given:  # an unknown job is an error, not an empty report
        db.read(lambda tx: jobs_model.require(tx, given["job_name"]))
    return given


def _build(db: Database, name: str, filters: dict[str, Any]) -> Report:
    return _spec(name).build(db, **_checked(db, name, filters))


def build_report(db: Database, name: str, **filters: Any) -> Report:
    """The report itself (rows, tables, extra): what the dashboard renders."""
    return _build(db, name, filters)


def _result(report: Report) -> dict[str, Any]:
    return {**report.extra, "rows": report.rows, "table": render.text(report.tables)}


def run_report(db: Database, name: str, **filters: Any) -> dict[str, Any]:
    """{changed: False, rows, table, ...report-specific keys}; never changes anything."""
    return {"changed": False, **_result(_build(db, name, filters))}


def streams_text(name: str, **filters: Any) -> bool:
    """Whether the report's text can be written as it is read with these filters."""
    spec = _spec(name)
    return spec.text_stream is not None and all(filters.get(f) is None for f in spec.paging)


def write_report_text(db: Database, name: str, write: Callable[[str], Any],
                      **filters: Any) -> dict[str, Any]:
    """The report's text table, a line at a time through ``write``, in memory that does not
    grow with the database (see :func:`streams_text`). Returns {changed: False, lines}."""
    given = _checked(db, name, filters)
    written = 0

    def unit(tx) -> int:
        nonlocal written
        if written:  # a unit retried after a lost connection: lines are already out
            raise ReportError(f"report {name}: the database connection was lost while it was "
                              "written; run it again")
        for line in _spec(name).text_stream(tx, max_age=db.settings.max_heartbeat_age,
                                            **given):
            write(line + "\n")
            written += 1
        return written

    return {"changed": False, "lines": db.read(unit)}


def _require_csv(name: str) -> None:
    if not _spec(name).has_csv:
        csv_reports = ", ".join(n for n, s in REPORTS.items() if s.has_csv)
        raise ReportError(f"report {name} has no CSV form; reports with one: {csv_reports}")


def _csv_text(report: Report) -> str:
    return render.to_csv(report.tables if report.csv_tables is None else report.csv_tables)


def csv_report(db: Database, name: str, **filters: Any) -> dict[str, Any]:
    """The report with its CSV form as ``csv`` (text), written nowhere."""
    _require_csv(name)
    report = _build(db, name, filters)
    return {"changed": False, **_result(report), "csv": _csv_text(report)}


def _current(dest: Path) -> bytes | None:
    try:
        return dest.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ReportError(f"cannot read {dest}: {exc.strerror}") from None


def _write_atomically(dest: Path, content: bytes) -> None:
    """Readers see the old file or the new one, never a half-written one."""
    try:
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    except OSError as exc:
        raise ReportError(f"cannot write {dest}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ReportError(f"cannot write {dest}: {exc.strerror}") from None
    _move_into_place(Path(tmp), dest)


def _move_into_place(tmp: Path, dest: Path) -> None:
    """Replace ``dest`` by the written file ``tmp`` (synced first; dest's mode kept)."""
    try:
        mode = dest.stat().st_mode & 0o7777 if dest.exists() else 0o644
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ReportError(f"cannot write {dest}: {exc.strerror}") from None


def _write_streamed(db: Database, name: str, dest: Path, check_mode: bool,
                    filters: dict[str, Any]) -> dict[str, Any]:
    """The CSV form written as its rows are read (``csv_stream``) to a file next to ``dest``,
    which replaces ``dest`` unless the two are the same."""
    pages, columns = _spec(name).csv_stream
    given = _checked(db, name, filters)
    try:
        scratch = tempfile.TemporaryDirectory(dir=dest.parent, prefix=f".{dest.name}.")
    except OSError as exc:
        raise ReportError(f"cannot write {dest}: {exc.strerror}") from None
    with scratch as folder:
        written = Path(folder) / "out.csv"

        def unit(tx) -> int:  # a retried unit starts the file again
            with open(written, "w", encoding="utf-8", newline="") as out:
                return csv_stream.write(out, pages(tx, **given), columns, Path(folder))

        try:
            count = db.read(unit)
            changed = not (dest.exists() and filecmp.cmp(written, dest, shallow=False))
        except OSError as exc:
            raise ReportError(f"cannot write {dest}: {exc.strerror}") from None
        if changed and not check_mode:
            _move_into_place(written, dest)
    return {"changed": changed, "dest": str(dest), "csv_rows": count}


def write_report_csv(db: Database, name: str, dest: Path, check_mode: bool = False,
                     **filters: Any) -> dict[str, Any]:
    """Write the report's CSV form to ``dest`` unless it already holds exactly that;
    ``check_mode`` only says whether it would change."""
    _require_csv(name)
    dest = Path(dest)
    if not dest.parent.is_dir():
        raise ReportError(f"cannot write {dest}: directory {dest.parent} does not exist")
    if _spec(name).csv_stream is not None:
        return _write_streamed(db, name, dest, check_mode, filters)
    report = _build(db, name, filters)
    content = _csv_text(report).encode("utf-8")
    changed = _current(dest) != content
    if changed and not check_mode:
        _write_atomically(dest, content)
    return {"changed": changed, "dest": str(dest), **_result(report)}
