"""Files of the data directory's output tree, and nothing outside it.

A requested path is joined to the output directory and resolved to its real path (every
symbolic link followed); anything that does not end up inside the output directory's own real
path — ``..``, an absolute path, a link pointing out — is treated as not found.
"""

from __future__ import annotations

from pathlib import Path


def contained(root: Path, relative: str) -> Path | None:
    """The real path of ``relative`` under ``root`` if it exists inside it, else None."""
    if "\x00" in relative:
        return None
    try:
        base = root.resolve(strict=True)
        target = (base / relative).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if target != base and not target.is_relative_to(base):
        return None
    return target


def listing(folder: Path, root: Path) -> list[dict]:
    """Entries of a contained folder (a real path), folders first, with sizes; links that
    lead out are left out."""
    base = root.resolve()
    entries = []
    for entry in sorted(folder.iterdir(), key=lambda p: (not p.is_dir(), p.name)):
        relative = str(entry.relative_to(base))
        real = contained(base, relative)
        if real is None:
            continue
        is_dir = real.is_dir()
        entries.append({"name": entry.name, "path": relative, "is_dir": is_dir,
                        "size": None if is_dir else real.stat().st_size})
    return entries
