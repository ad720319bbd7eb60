"""The progress summary: per task type, how many tasks are in each §3.2 state."""

from __future__ import annotations

from ..db import Database
from ..model.states import STATES, task_state_counts
from .base import Report
from .render import Table

SHOWN = STATES


def _percent(n: int, total: int) -> float:
    return round(100.0 * n / total, 1) if total else 0.0


def _row(task_type: str, counts: dict[str, int]) -> dict:
    total = sum(counts[s] for s in SHOWN)
    row: dict = {"task_type": task_type, "total": total}
    for state in SHOWN:
        row[state] = counts[state]
        row[state + "_pct"] = _percent(counts[state], total)
    return row


def _total(rows: list[dict]) -> dict:
    return _row("Total", {s: sum(r[s] for r in rows) for s in SHOWN})


def _text_row(row: dict) -> list:
    cells = [f"{row[s]} ({row[s + '_pct']:.0f}%)" for s in SHOWN]
    return [row["task_type"], *cells, row["total"]]


def _csv_row(row: dict) -> list:
    return [row["task_type"], row["total"]] + [v for s in SHOWN for v in (row[s], row[s + "_pct"])]


def progress(db: Database, job_name: str | None = None) -> Report:
    """Rows per task type (sorted) with counts and % of that type; ``total`` is the sum line."""
    counts = db.read(lambda tx: task_state_counts(
        tx, job_name, max_age=db.settings.max_heartbeat_age))
    rows = [_row(name, counts[name]) for name in sorted(counts)]
    total = _total(rows)
    shown = [*rows, total]
    text_table = Table(["Task", *(s.capitalize() for s in SHOWN), "Total"],
                       [_text_row(r) for r in shown])
    csv_columns = ["task_type", "total"] + [c for s in SHOWN for c in (s, s + "_pct")]
    csv_table = Table(csv_columns, [_csv_row(r) for r in shown])
    return Report(rows, [text_table], [csv_table], {"total": total})
