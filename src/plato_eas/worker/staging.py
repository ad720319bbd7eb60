"""Where an attempt writes its outputs, and how they reach their place in the data directory.

Each attempt writes its declared outputs into the staging folder ``.attempts`` of the output
directory, under names of its own (``<attempt id>.<semantic type>.<file name>``: one folder for
all attempts, because creating and removing a folder per attempt cost more than a ``null``
task). The worker moves them into place (a rename on the same file system) inside the
transaction that records the attempt, after the compare-and-set that proves the attempt is
still its own; a late attempt — declared stalled, then woken — has its files discarded and
never overwrites a recorded product, so files and database agree.

Confinement is checked on the real file system, not only on the names: every folder on the way
to a file is opened relative to its parent without following symbolic links; a link is
followed only when its real path stays inside the output directory. An output, a working
directory or a staging folder that would lead outside is refused before the task runs, and
again when the file is moved, and nothing is written there; an input whose real path is outside
is refused before the task runs, so a task never reads from there.
"""

from __future__ import annotations

import errno
import os
import posixpath
import shutil
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import EasError

STAGING = ".attempts"
NAME_MAX = 255  # bytes in one file name (Linux, macOS)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


class Escape(EasError):
    """A path inside the data directory resolves outside it (a symbolic link)."""


_ROOTS: dict[str, str] = {}


def _root(output_dir: Path) -> str:
    """The output directory's real path, found once per process: the directory itself is
    configuration (every attempt resolved it again: a quarter of a small task's cost); what
    lies below it is checked every time."""
    key = os.fspath(output_dir)
    if key not in _ROOTS:
        _ROOTS[key] = os.path.realpath(key)
    return _ROOTS[key]


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _step(fd: int, part: str, root: str, walked: list[str], create: bool) -> int:
    """Open folder ``part`` below ``fd``; never follow a link that leaves ``root``."""
    for _ in range(2):  # a second go when another process created the folder meanwhile
        try:
            return os.open(part, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
        except FileNotFoundError:
            if not create:
                raise
            try:
                os.mkdir(part, 0o777, dir_fd=fd)
            except FileExistsError:
                pass
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                raise
            real = os.path.realpath(os.path.join(root, *walked))
            if not _inside(real, root):
                raise Escape(f"{'/'.join(walked)} leads outside the data directory "
                             f"(a symbolic link to {real})") from None
            return os.open(real, _DIR_FLAGS)
    return os.open(part, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)


@contextmanager
def folder(output_dir: Path, rel: str, create: bool = False) -> Iterator[int]:
    """A descriptor of folder ``rel`` (relative, already checked lexically) of the output
    directory, reached without leaving it; ``create`` makes missing folders."""
    root = _root(output_dir)
    if create:
        os.makedirs(root, exist_ok=True)
    fd = os.open(root, _DIR_FLAGS)
    try:
        walked: list[str] = []
        for part in rel.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                raise Escape(f"{rel} climbs out of the data directory")
            walked.append(part)
            next_fd = _step(fd, part, root, walked, create)
            os.close(fd)
            fd = next_fd
        yield fd
    finally:
        os.close(fd)


def input_paths(output_dir: Path, inputs: dict[str, str]) -> dict[str, Path]:
    """The path a task reads each input from, refused when a link leads it outside the data
    directory (a product's folder replaced by a link after it was recorded). Each folder's
    real path is found once (a task may read a thousand files from one folder), then only the
    file itself is looked at."""
    root = _root(output_dir)
    folders: dict[str, str] = {}
    paths = {}
    for sem, rel in inputs.items():
        parent, name = posixpath.split(rel)
        if name in ("", ".", ".."):
            real = os.path.realpath(os.path.join(root, rel))
        else:
            if parent not in folders:
                folders[parent] = os.path.realpath(os.path.join(root, parent))
            real = os.path.join(folders[parent], name)
            try:
                if stat.S_ISLNK(os.lstat(real).st_mode):
                    real = os.path.realpath(real)
            except OSError:  # missing: its real path is the name itself, as realpath says
                pass
        if not _inside(real, root):
            raise Escape(f"input {sem} ({rel}) leads outside the data directory "
                         f"(a symbolic link to {real})")
        paths[sem] = output_dir / rel
    return paths


def staged_name(attempt_id: int, sem: str, rel: str) -> str:
    """The file output ``sem`` (``rel``) of the attempt is written to, in the staging folder:
    ``<attempt id>.<semantic type>.<file name>`` (the file name kept for tasks that look at
    its extension), or without the file name where it would be too long for one."""
    name = f"{int(attempt_id)}.{sem}.{posixpath.basename(rel)}"
    return name if len(os.fsencode(name)) <= NAME_MAX else f"{int(attempt_id)}.{sem}"


def staged_path(output_dir: Path, attempt_id: int, sem: str, rel: str) -> Path:
    return output_dir / STAGING / staged_name(attempt_id, sem, rel)


def prepare(output_dir: Path, attempt_id: int, working_directory: str,
            outputs: dict[str, str]) -> dict[str, Path]:
    """Before the task runs: its working directory and every output's destination are inside
    the data directory (refused otherwise), the staging folder exists and holds nothing of
    this attempt. Returns {semantic type: path the task writes}."""
    if outputs:  # files left over by an earlier run of a released attempt
        discard(output_dir, attempt_id)
    # the output directory itself (most tasks): no folder to check, only that it exists
    itself = all(part in ("", ".") for part in working_directory.split("/"))
    if not itself or not os.path.isdir(output_dir):
        with folder(output_dir, working_directory, create=True):
            pass
    staged = {}
    for sem, rel in outputs.items():
        try:
            with folder(output_dir, posixpath.dirname(rel), create=True):
                pass
        except Escape as exc:
            raise Escape(f"output {sem} ({rel}): {exc}") from None
        staged[sem] = staged_path(output_dir, attempt_id, sem, rel)
    if outputs:
        with folder(output_dir, STAGING, create=True):
            pass
    return staged


def publish(output_dir: Path, attempt_id: int, outputs: dict[str, str]) -> None:
    """Move the files the attempt wrote into place (those it did not write are skipped; a run
    repeated after its first commit failed finds them moved already). Call this only while
    the attempt is known to be ours, inside the transaction that records it."""
    if not outputs:
        return
    try:
        with folder(output_dir, STAGING) as src:
            for sem, rel in outputs.items():
                parent, name = posixpath.split(rel)
                staged = staged_name(attempt_id, sem, rel)
                try:
                    mode = os.stat(staged, dir_fd=src, follow_symlinks=False).st_mode
                except FileNotFoundError:
                    continue
                if not stat.S_ISREG(mode):
                    raise Escape(f"output {sem} ({rel}) is not a regular file")
                try:
                    with folder(output_dir, parent, create=True) as dst:
                        os.replace(staged, name, src_dir_fd=src, dst_dir_fd=dst)
                except Escape as exc:
                    raise Escape(f"output {sem} ({rel}): {exc}") from None
    except FileNotFoundError:  # no staging folder: nothing was written
        return


def discard(output_dir: Path, attempt_id: int) -> None:
    """Remove whatever the attempt left in the staging folder (its files, and anything a task
    wrote next to them: every name that starts with its id; a folder named after it, as
    earlier versions staged)."""
    own = str(int(attempt_id))
    try:
        with folder(output_dir, STAGING) as fd:
            for name in os.listdir(fd):
                if name == own:
                    shutil.rmtree(name, dir_fd=fd, ignore_errors=True)
                elif name.startswith(own + "."):
                    try:
                        os.unlink(name, dir_fd=fd)
                    except IsADirectoryError:
                        shutil.rmtree(name, dir_fd=fd, ignore_errors=True)
                    except OSError:
                        pass
    except (FileNotFoundError, Escape, NotADirectoryError):
        pass


def leftovers(output_dir: Path) -> list[int]:
    """Attempt ids that have a staging folder (a worker that died leaves its folder)."""
    try:
        with folder(output_dir, STAGING) as fd:
            return sorted({int(n.partition(".")[0]) for n in os.listdir(fd)
                           if n.partition(".")[0].isdigit()})
    except (FileNotFoundError, Escape, NotADirectoryError):
        return []
