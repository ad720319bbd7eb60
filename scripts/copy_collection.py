"""Copy what the plato.eas collection ships and tests into a physical
``…/ansible_collections/plato/eas`` tree (ansible-test refuses a symlinked path).

    python scripts/copy_collection.py SOURCE_ROOT DEST

The destination ends up holding exactly the selected files: anything else already there
(left from an earlier run) is removed, so a deleted file does not linger in the copy. Pure
Python (no rsync), so a fresh machine needs nothing beyond the project's venv.
"""

from __future__ import annotations

import filecmp
import shutil
import sys
from pathlib import Path

# Top-level files and folders of the collection; under tests/ only what ansible-test runs.
FILES = ("galaxy.yml", "README.md", "requirements.yml", "tests/config.yml")
TREES = ("meta", "plugins", "playbooks", "roles", "inventories", "docs", "changelogs",
         "examples", "tests/sanity", "tests/unit/plugins", "tests/integration")
SKIP_NAMES = {"__pycache__", "output"}
SKIP_SUFFIXES = (".pyc",)


def wanted(root: Path) -> set[Path]:
    """Relative paths of every file to copy."""
    out = {Path(f) for f in FILES if (root / f).is_file()}
    for tree in TREES:
        base = root / tree
        if not base.is_dir():
            continue
        for path in base.rglob("*"):
            rel = path.relative_to(root)
            if any(part in SKIP_NAMES for part in rel.parts) or path.suffix in SKIP_SUFFIXES:
                continue
            if path.is_file():
                out.add(rel)
    return out


def sync(root: Path, dest: Path) -> int:
    """Make ``dest`` an exact copy of the wanted files; returns how many were (re)written."""
    files = wanted(root)
    dest.mkdir(parents=True, exist_ok=True)
    written = 0
    for rel in sorted(files):
        source, target = root / rel, dest / rel
        if target.is_file() and filecmp.cmp(source, target, shallow=False):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        written += 1
    for path in sorted(dest.rglob("*"), reverse=True):  # children before their folders
        rel = path.relative_to(dest)
        if path.is_dir() and not path.is_symlink():
            if not any(path.iterdir()):
                path.rmdir()
        elif rel not in files:
            path.unlink()
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: copy_collection.py SOURCE_ROOT DEST", file=sys.stderr)
        return 2
    sync(Path(argv[0]).resolve(), Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
