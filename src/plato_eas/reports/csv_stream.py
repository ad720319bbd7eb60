"""The per-(job, task type) CSV files (timings, pass/fail) written as their rows are read, in
memory that does not grow with the database.

The rows come from the database a page at a time (a reader of ``after``/``limit`` pages, each
record with its task's short input metadata) and go to a temporary SQLite file that sorts them
on disk; the file is then written from that sorted order. The layout and the order are those
of :func:`.input_metadata.grouped_tables` rendered by :func:`.render.to_csv`: one block per
(job, task type) in that order, its columns the sorted metadata keys of its tasks then the
values, its rows by metadata values (numbers before text before missing) then attempt id.

A record's sort key is a byte string that compares as ``grouped_tables`` compares rows, without
knowing the other keys of its block: each key it has (in name order) as ``\\x01 name \\x00
value``, then ``\\x02``. Where two records first differ, the one that has a key the other lacks
sorts first (a value before a missing one), as does the smaller value or the smaller name.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import struct
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .input_metadata import title
from .render import _csv_cell

PAGE = 5_000  # rows read from the task database at a time
_SORTER = """CREATE TABLE r (job TEXT NOT NULL, type TEXT NOT NULL, k BLOB NOT NULL,
attempt INTEGER NOT NULL, meta TEXT NOT NULL, vals TEXT NOT NULL)"""

# A page reader: (after attempt id, limit) -> [(attempt id, job, task type, task id,
# [values], {short input metadata})] in attempt order; fewer than ``limit`` on the last page.
Pages = Callable[[int, int], list[tuple]]


def _number(value: float) -> bytes:
    """8 bytes that compare as the float does (IEEE 754, sign flipped)."""
    bits = struct.unpack(">Q", struct.pack(">d", float(value) + 0.0))[0]  # -0.0 as 0.0
    return struct.pack(">Q", bits ^ (0xFFFFFFFFFFFFFFFF if bits >> 63 else 1 << 63))


def _text(value: str) -> bytes:
    """UTF-8 (which compares as Python compares str), NUL escaped, then a NUL terminator."""
    return value.encode("utf-8", "surrogatepass").replace(b"\x00", b"\x00\xff") + b"\x00\x00"


def sort_key(metadata: dict[str, Any]) -> bytes:
    parts = []
    for name in sorted(metadata):
        value = metadata[name]
        if isinstance(value, (int, float)):
            encoded = b"\x00" + _number(value)
        else:
            encoded = b"\x01" + _text(str(value))
        parts.append(b"\x01" + _text(name) + encoded)
    return b"".join(parts) + b"\x02"


def _records(pages: Pages) -> Iterator[tuple]:
    after = 0
    while True:
        page = pages(after, PAGE)
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1][0]


def _fill(sorter: sqlite3.Connection, records: Iterable[tuple]) -> dict[tuple, set[str]]:
    """Every record into the sorter; returns {(job, task type): its metadata keys}."""
    keys: dict[tuple, set[str]] = {}
    batch = []
    for attempt_id, job, task_type, _task_id, values, metadata in records:
        group = (job or "", task_type)
        keys.setdefault(group, set()).update(metadata)
        batch.append((*group, sort_key(metadata), attempt_id, json.dumps(metadata),
                      json.dumps(values)))
        if len(batch) >= PAGE:
            sorter.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?, ?)", batch)
            batch = []
    sorter.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?, ?)", batch)
    return keys


def write(out, pages: Pages, value_columns: list[str], scratch: Path) -> int:
    """Write the CSV text to ``out`` (a text file); ``scratch``: a private directory for the
    sorter. Returns the number of data rows."""
    sorter = sqlite3.connect(scratch / "sort.sqlite")
    try:
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "temp_store = FILE",
                       "cache_size = -16000"):
            sorter.execute("PRAGMA " + pragma)
        sorter.execute(_SORTER)
        keys = _fill(sorter, _records(pages))
        writer = csv.writer(out, lineterminator="\n")
        group, columns, count = None, [], 0
        found = sorter.execute("SELECT job, type, meta, vals FROM r ORDER BY job, type, k,"
                               " attempt")
        for job, task_type, meta, vals in found:
            if (job, task_type) != group:
                if group is not None:
                    writer.writerow([])
                group, columns = (job, task_type), sorted(keys[(job, task_type)])
                writer.writerow([f"# {title(job, task_type)}"])
                writer.writerow(columns + value_columns)
            metadata = json.loads(meta)
            writer.writerow([_csv_cell(v) for v in [metadata.get(k) for k in columns]
                             + json.loads(vals)])
            count += 1
        return count
    finally:
        sorter.close()
