"""The dump file: gzip-compressed SQL text framed by two comment lines of ours::

    -- plato_eas db_save engine=<name> schema_version=<n> created=<UTC ISO time>
    ... SQL written by the engine's strategy ...
    -- plato_eas db_save end

Written to a private (0600) temporary file renamed over the destination only when complete;
read back as a stream of text blocks, so no dump is ever held in memory whole.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import re
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ...errors import BackupError

HEADER = "-- plato_eas db_save"
TRAILER = "-- plato_eas db_save end"
_HEADER_FIELDS = re.compile(r"(\w+)=(\S*)")
_LONGEST_HEADER = 4096


@dataclass
class DumpInfo:
    """What a dump says about itself and, once checked, what it holds."""

    path: Path
    engine: str | None  # from our header; None until a plain tool dump is recognised
    tool: str | None  # "db_save", or the tool that wrote a plain dump
    schema_version: int | None  # None for a plain tool dump: known only once loaded
    tables: list[str] = field(default_factory=list)


def fail(path: Path, line: int, reason: str) -> BackupError:
    """The one-line refusal of a dump, pointing at the line that caused it."""
    return BackupError(f"dump file {path}, line {line}: {reason}")


def header_line(engine: str, version: int | None) -> str:
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return f"{HEADER} engine={engine} schema_version={version or 0} created={created}"


def default_dest(data_dir: str, name: str) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return Path(data_dir) / "backups" / f"eas-{name}-{stamp}.sql.gz"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_output(dest: Path) -> Iterator[Path]:
    """A temporary file beside ``dest`` (mode 0600) renamed over it only on success; removed
    on any failure or interruption."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
        os.close(fd)
    except OSError as exc:
        raise BackupError(f"cannot write dump to {dest}: {exc.strerror}") from None
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    except OSError as exc:
        raise BackupError(f"cannot write dump to {dest}: {exc.strerror}") from None
    finally:
        tmp_path.unlink(missing_ok=True)


class DumpReader:
    """The decompressed text of a dump, block by block; any decompression or decoding
    failure is a one-line "corrupt or truncated"."""

    def __init__(self, path: Path):
        self.path = path
        if not path.is_file():
            raise BackupError(f"dump file {path} does not exist")
        try:
            self._fh = gzip.open(path, "rt", encoding="utf-8", newline="")
        except OSError as exc:
            raise BackupError(f"cannot read dump file {path}: {exc.strerror}") from None

    def read(self, size: int) -> str:
        try:
            return self._fh.read(size)
        except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise BackupError(f"dump file {self.path} is corrupt or truncated ({reason})"
                              ) from None

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> DumpReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_header(path: Path) -> DumpInfo:
    """Our header line, when the dump starts with one (engine, schema version); otherwise a
    DumpInfo that the engine's strategy may still recognise as a plain tool dump."""
    with DumpReader(path) as reader:
        first = reader.read(_LONGEST_HEADER).split("\n", 1)[0]
    if not first.startswith(HEADER + " "):
        return DumpInfo(path, engine=None, tool=None, schema_version=None)
    fields = dict(_HEADER_FIELDS.findall(first))
    try:
        version = int(fields.get("schema_version") or 0)
    except ValueError:
        raise fail(path, 1, "the header's schema_version is not a number") from None
    return DumpInfo(path, engine=fields.get("engine"), tool="db_save", schema_version=version)
