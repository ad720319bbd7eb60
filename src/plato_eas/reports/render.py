"""The one renderer of every report: aligned text tables (as the prototype's diagnostic scripts
printed them) and CSV.

A report is a list of :class:`Table`. Text puts each table's title on its own line above it;
multi-line cells (tracebacks) continue on the following lines under their column. CSV writes a
single table as a plain header + rows file; several tables (one per job and task type) go one
after another, each preceded by a ``# <title>`` row and separated by a blank line, so a
spreadsheet opens the file as stacked blocks. A CSV header names each column in one style for
every report: the snake_case key the report's rows (and ``--json``) use for that value.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

MISSING = "-"


@dataclass
class Table:
    """Column headings and rows of cell values (numbers, strings or None); ``keys`` name the
    columns in CSV (None: the headings in snake_case)."""

    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    title: str | None = None
    keys: list[str] | None = None

    def csv_header(self) -> list[str]:
        if self.keys is not None:
            return list(self.keys)
        return [re.sub(r"[^0-9a-z]+", "_", c.lower()).strip("_") for c in self.columns]


def cell_text(value: Any) -> str:
    """How a value reads in a table: None as '-', whole floats without '.0', others in full."""
    kind = type(value)
    if kind is str:
        return value
    if kind is int:
        return str(value)
    if value is None:
        return MISSING
    if kind is bool:
        return str(int(value))
    if kind is float:
        if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


_NUMERIC = (int, float)
_BLANK = (None, "")


def _right_aligned(table: Table) -> list[bool]:
    """Columns holding only numbers (blanks aside) are right-aligned."""
    if not table.rows:
        return [False] * len(table.columns)
    return [all(type(v) in _NUMERIC or v in _BLANK for v in column)
            for column in zip(*table.rows, strict=True)]


def _line(parts: list[str], widths: list[int], right: list[bool]) -> str:
    padded = [p.rjust(w) if r else p.ljust(w) for p, w, r in zip(parts, widths, right, strict=True)]
    return "  ".join(padded).rstrip()


def _row_lines(row: list[str], widths: list[int], right: list[bool]) -> list[str]:
    """A row whose cells may hold several lines: later lines continue under their column."""
    split = [cell.split("\n") for cell in row]
    height = max(len(lines) for lines in split)
    return [_line([lines[i] if i < len(lines) else "" for lines in split], widths, right)
            for i in range(height)]


def _width(cells: tuple[str, ...], heading: str) -> int:
    longest = max((len(c) for c in cells), default=0)
    if any("\n" in c for c in cells):
        longest = max(len(line) for c in cells for line in c.split("\n"))
    return max(len(heading), longest)


def table_text(table: Table) -> str:
    """One table as aligned text: numbers right-aligned, text left-aligned."""
    cells = [[cell_text(v) for v in row] for row in table.rows]
    columns = list(zip(*cells, strict=True)) or [()] * len(table.columns)
    widths = [_width(col, head) for col, head in zip(columns, table.columns, strict=True)]
    right = _right_aligned(table)
    lines = [table.title] if table.title else []
    lines.append(_line(table.columns, widths, right))
    lines.append(_line(["-" * w for w in widths], widths, right))
    for row in cells:
        if any("\n" in c for c in row):
            lines.extend(_row_lines(row, widths, right))
        else:
            lines.append(_line(row, widths, right))
    if not table.rows:
        lines.append("(no rows)")
    return "\n".join(lines)


def _longest_line(cell: str) -> int:
    return max(len(line) for line in cell.split("\n")) if "\n" in cell else len(cell)


def stream_text(columns: list[str], batches: Iterable[list[list[Any]]]) -> Iterator[str]:
    """One table's text lines, as :func:`table_text` writes them, from rows given a batch at a
    time: each column is as wide as the widest cell so far, so a wider cell further down moves
    only its own line."""
    widths, right = [len(c) for c in columns], None
    for rows in batches:
        cells = [[cell_text(v) for v in row] for row in rows]
        for column, width in enumerate(widths):
            widths[column] = max([width, *(_longest_line(row[column]) for row in cells)])
        if right is None:
            right = _right_aligned(Table(columns, rows))
            yield _line(columns, widths, right)
            yield _line(["-" * w for w in widths], widths, right)
        for row in cells:
            yield from _row_lines(row, widths, right)
    if right is None:
        right = [False] * len(columns)
        yield _line(columns, widths, right)
        yield _line(["-" * w for w in widths], widths, right)
        yield "(no rows)"


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
        writer.writerow(table.csv_header())
        writer.writerows([_csv_cell(v) for v in row] for row in table.rows)
    return out.getvalue()
