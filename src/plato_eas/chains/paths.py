"""Keeping chain file names and working directories inside the data directory, and within the
columns that record them.

Checked at submission for literal paths and again at run time once expressions are
evaluated, so no task can read or write outside the output data directory.
"""

from __future__ import annotations

import posixpath

from ..model.values import (
    DIRECTORY_LENGTH,
    NAME_LENGTH,
    WORKING_DIRECTORY_LENGTH,
    identifier_problem,
)


def check_relative(path: str, what: str) -> str:
    """Return ``path`` normalised (POSIX, relative); refuse absolute, empty or escaping ones.

    ``a/../b`` is fine (it stays inside); ``../x`` and ``a/../../x`` climb out and are refused.
    Backslashes are refused too: on the workers they would be literal characters in a name,
    but an operator writing them almost certainly meant a Windows path.
    """
    if not isinstance(path, str) or not path.strip():
        raise ValueError(f"{what} {path!r} is empty or not a string")
    if "\\" in path or "\0" in path:
        raise ValueError(f"{what} {path!r} contains a backslash or NUL character")
    if path.startswith("/"):
        raise ValueError(f"{what} {path!r} is absolute; it must be relative to the data directory")
    normalised = posixpath.normpath(path)
    if normalised == ".." or normalised.startswith("../"):
        raise ValueError(f"{what} {path!r} climbs out of the data directory with '..'")
    return normalised


def check_file(path: str, what: str) -> str:
    """:func:`check_relative` for a file name: it must name a file, not its directory."""
    if "/" not in path and "\\" not in path and "\0" not in path \
            and path not in (".", "..") and path.strip():
        return path  # a plain name (most of a large chain's): nothing to normalise
    normalised = check_relative(path, what)
    if normalised == ".":
        raise ValueError(f"{what} {path!r} names its working directory, not a file")
    return normalised


def join(directory: str, normalised: str) -> str:
    """``normalised`` (a path already normal) inside ``directory`` (already normal; the data
    directory root is ``""``): the same as ``posixpath.normpath(posixpath.join(…))``."""
    if normalised == ".":
        return directory
    return f"{directory}/{normalised}" if directory else normalised


def location_problem(file_id: str, what: str) -> str | None:
    """Why the file ``file_id`` (relative to the data directory, normalised) cannot be
    recorded as a product: its folder and its name must fit their columns and stay distinct."""
    if len(file_id) <= NAME_LENGTH and file_id.isascii() and not file_id.endswith(" ") \
            and " /" not in file_id:
        return None  # short, plain and without trailing spaces: nothing can be wrong
    directory, _, name = file_id.rpartition("/")
    return identifier_problem(name, f"{what} name", NAME_LENGTH) or (
        identifier_problem(directory, f"{what} folder", DIRECTORY_LENGTH) if directory else None)


def working_directory_problem(directory: str) -> str | None:
    if len(directory) > WORKING_DIRECTORY_LENGTH:
        return f"working directory {directory[:40]!r}… is {len(directory):,} characters long " \
               f"(at most {WORKING_DIRECTORY_LENGTH})"
    return None
