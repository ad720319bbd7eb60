"""What every report function returns, and the error for a bad report request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..errors import EasError
from .render import Table


class ReportError(EasError):
    """An unknown report, an unknown or invalid filter, or a CSV file that cannot be written."""


@dataclass
class Report:
    """Structured ``rows`` (module output), the ``tables`` shown as text, and the tables of
    the CSV form (None: the text tables are the CSV form too); ``extra`` adds result keys."""

    rows: list[dict[str, Any]]
    tables: list[Table]
    csv_tables: list[Table] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def utc_time(timestamp: float | None) -> str | None:
    """Unix time as the prototype's scripts printed it (UTC, to the second)."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(float(timestamp), UTC).strftime("%Y-%m-%d %H:%M:%S")
