"""The one renderer of every report: aligned text tables (as the prototype's diagnostic scripts
printed them) and CSV.

A report is a list of :class:`Table`. Text puts each table's title on its own line above it;
multi-line cells (tracebacks) continue on the following lines under their column. CSV writes a
single table as a plain header + rows file; several tables (one per job and task type) go one
after another, each preceded by a ``# <title>`` row and separated by a blank line, so a
spreadsheet opens the file as stacked blocks.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import Any

MISSING = "-"


@dataclass
class Table:
    """Column headings and rows of cell values (numbers, strings or None)."""

    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    title: str | None = None


def cell_text(value: Any) -> str:
    """How a value reads in a table: None as '-', whole floats without '.0', others in full."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _widths(table: Table, cells: list[list[list[str]]]) -> list[int]:
    widths = [len(c) for c in table.columns]
    for row in cells:
        for i, lines in enumerate(row):
            widths[i] = max(widths[i], *(len(line) for line in lines))
    return widths


def _line(parts: list[str], widths: list[int], right: list[bool]) -> str:
    padded = [p.rjust(w) if r else p.ljust(w) for p, w, r in zip(parts, widths, right, strict=True)]
    return "  ".join(padded).rstrip()


def _row_lines(row: list[list[str]], widths: list[int], right: list[bool]) -> list[str]:
    height = max(len(lines) for lines in row)
    return [_line([lines[i] if i < len(lines) else "" for lines in row], widths, right)
            for i in range(height)]


def table_text(table: Table) -> str:
    """One table as aligned text: numbers right-aligned, text left-aligned."""
    cells = [[cell_text(v).splitlines() or [""] for v in row] for row in table.rows]
    widths = _widths(table, cells)
    right = [bool(table.rows) and all(_is_number(r[i]) or r[i] in (None, "") for r in table.rows)
             for i in range(len(table.columns))]
    lines = [table.title] if table.title else []
    lines.append(_line(table.columns, widths, right))
    lines.append(_line(["-" * w for w in widths], widths, right))
    for row in cells:
        lines.extend(_row_lines(row, widths, right))
    if not table.rows:
        lines.append("(no rows)")
    return "\n".join(lines)


def text(tables: list[Table]) -> str:
    """Every table as text, separated by blank lines."""
    if not tables:
        return "(nothing to report)"
    return "\n\n".join(table_text(t) for t in tables)


def _csv_cell(value: Any) -> str:
    return "" if value is None else cell_text(value)


def to_csv(tables: list[Table]) -> str:
    """CSV text of one table (header + rows) or of several stacked blocks (see module doc)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    stacked = len(tables) != 1
    for index, table in enumerate(tables):
        if index:
            writer.writerow([])
        if stacked or table.title:
            writer.writerow([f"# {table.title or ''}"])
        writer.writerow(table.columns)
        writer.writerows([_csv_cell(v) for v in row] for row in table.rows)
    return out.getvalue()
