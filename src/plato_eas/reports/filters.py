"""Filter values as operators type them (on a command line, in a form, in a playbook), checked
and converted once for every report, with one-line errors."""

from __future__ import annotations

from datetime import UTC, datetime

from .base import ReportError

SEVERITIES = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


def severity_level(value: int | str | None) -> int:
    """A logging level from a number or a name (debug, info, warning, error, critical)."""
    if value is None or value == "":
        return 0
    if isinstance(value, str) and value.strip().lower() in SEVERITIES:
        return SEVERITIES[value.strip().lower()]
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ReportError(f"min_severity must be a number or one of {', '.join(SEVERITIES)}, "
                          f"not {value!r}") from None


def severity_name(level: int | None) -> str | None:
    """How a level reads: its name (INFO, WARNING, ...) when it has one, else the number."""
    if level is None:
        return None
    for name, number in SEVERITIES.items():
        if number == level:
            return name.upper()
    return str(level)


def timestamp(value: float | str | None, name: str) -> float | None:
    """Unix time from a number or UTC text (``YYYY-MM-DD[ HH:MM[:SS]]``)."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().replace("T", " ").removesuffix("Z")
    try:
        return float(text)
    except ValueError:
        pass
    for layout in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, layout).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    raise ReportError(f"{name} must be Unix time or UTC as YYYY-MM-DD HH:MM:SS, not {value!r}")


def whole(value: int | str | None, name: str, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ReportError(f"{name} must be a whole number, not {value!r}") from None
    if not low <= number <= high:
        raise ReportError(f"{name} must be between {low} and {high}, not {number}")
    return number
