"""Keeping chain file names and working directories inside the data directory (SPEC §4).

Checked at submission for literal paths and again at run time once expressions are
evaluated, so no task can read or write outside the output data directory.
"""

from __future__ import annotations

import posixpath


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
