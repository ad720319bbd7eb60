"""Which values the task database can hold: checked where values are made (at submission, when
an expression is evaluated, when a task returns its metadata), so that recording them never
fails half way.

The limits are the schema's columns (``VARCHAR(64)`` metadata keys, ``VARCHAR(256)`` names …);
keys and names that identify a row must also stay distinct under MariaDB's ``utf8mb4_bin``
collation, which ignores trailing spaces (``'a'`` and ``'a '`` are the same key there), so a
trailing space is refused on every engine alike.
"""

from __future__ import annotations

import math
from typing import Any

KEY_LENGTH = 64  # eas_metadata_keys.name
NAME_LENGTH = 256  # eas_task.taskName / jobName, eas_semantic_type.name, eas_product.filename
DIRECTORY_LENGTH = 512  # eas_product.directoryName
WORKING_DIRECTORY_LENGTH = 1024  # eas_task.workingDirectory
TEXT_BYTES = 16 * 1024 * 1024 - 1  # valueString (MEDIUMTEXT on MySQL)
INTEGER_BITS = 13_000  # about 3,900 digits: Python prints at most 4,300 digits of an integer

JSON_SCALARS = (str, int, float, bool, type(None))


def text_problem(text: str) -> str | None:
    """A string the database cannot store: a lone surrogate is not Unicode text."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return f"contains {text[error.start]!r}, a lone surrogate, which is not Unicode text"
    return None


def number_problem(value: int | float) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value!r} is not a finite number (NaN, Infinity and numbers beyond 1.8e308 " \
               "are not JSON numbers)"
    if isinstance(value, int) and not isinstance(value, bool) \
            and value.bit_length() > INTEGER_BITS:
        return f"an integer of {value.bit_length():,} bits is too large to store"
    return None


def json_problem(value: Any) -> str | None:
    """Why ``value`` is not a JSON value this database can store (None when it is): only
    null, booleans, finite numbers, Unicode strings, arrays and objects with string keys."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, where = stack.pop()
        problem = _scalar_problem(item)
        if problem is None and isinstance(item, (list, tuple)):
            stack.extend((child, f"{where}[{index}]") for index, child in enumerate(item))
        elif problem is None and isinstance(item, dict):
            for key, child in item.items():
                problem = _key_problem(key)
                if problem:
                    break
                stack.append((child, f"{where}[{key!r}]"))
        if problem:
            return f"{where}: {problem}" if where else problem
    return None


def _scalar_problem(item: Any) -> str | None:
    if isinstance(item, str):
        return text_problem(item)
    if isinstance(item, (int, float)):
        return number_problem(item)
    if item is None or isinstance(item, (list, tuple, dict)):
        return None
    return f"{_kind(item)} is not a JSON value (null, boolean, number, string, array, object)"


def _key_problem(key: Any) -> str | None:
    if not isinstance(key, str):
        return f"has the key {key!r}: object keys must be strings"
    problem = text_problem(key)
    return f"has a key that {problem}" if problem else None


def _kind(item: Any) -> str:
    name = type(item).__name__
    return f"a {name}" if name[:1] not in "aeiou" else f"an {name}"


def key_problem(key: Any) -> str | None:
    """Why ``key`` cannot be a metadata key (None when it can)."""
    if not isinstance(key, str):
        return f"metadata key {key!r} is not a string"
    return identifier_problem(key, "metadata key", KEY_LENGTH)


def identifier_problem(value: str, what: str, limit: int) -> str | None:
    """A string that names a row (key, job, semantic type, file): not empty, within its
    column, valid Unicode, no trailing space."""
    if not value:
        return f"{what} is empty"
    if len(value) > limit:
        return f"{what} {value[:40]!r}… is {len(value):,} characters long (at most {limit})"
    if value.endswith(" "):
        return f"{what} {value!r} ends with a space (MariaDB would not tell it apart from " \
               "the same name without)"
    problem = text_problem(value)
    return f"{what} {problem}" if problem else None


def name_problem(value: Any, what: str, limit: int = NAME_LENGTH) -> str | None:
    """A task or job name (or another label): a string within its column."""
    if not isinstance(value, str):
        return f"{what} must be a string, not {_kind(value)}"
    if len(value) > limit:
        return f"{what} {value[:40]!r}… is {len(value):,} characters long (at most {limit})"
    problem = text_problem(value)
    return f"{what} {problem}" if problem else None
