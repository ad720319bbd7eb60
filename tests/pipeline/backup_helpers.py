"""Helpers shared by the backup tests (``tests/pipeline/admin/test_backup*.py`` and their
MariaDB re-runs in ``tests/backends``): a populated database, exact checksums, dumps edited
the way an attacker (or a full disk) would, and restores run in a child process whose peak
memory and exit can be measured."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.settings import Settings

TRICKY = [
    "plain", "quote ' double \" backslash \\ percent % question ?", "line\nbreak\ttab",
    "unicode: Ω≈ç√ ✓ 🚀 日本", "", "-- not a comment; DROP TABLE eas_task;", "x" * 5000,
]
SELECT_ALL = "SELECT * FROM {}"
FLOATS = [1764012345.123456789, 1 / 3, -0.0, 1e-300, 6.02214076e23, math.pi, 0.1 + 0.2]
# The line our db_save writes on MariaDB >= 10.5.25 first: it switches the client to sandbox
# mode. A hostile dump simply leaves it out.
SANDBOX_LINE = "/*M!999999\\- enable the sandbox mode */"


# -- databases ----------------------------------------------------------------------------
def other_database(settings: Settings, tmp_path: Path, request) -> Settings:
    """A second, empty database on the same engine/server."""
    if settings.db_engine == "sqlite":
        return settings.replace(db_path=str(tmp_path / "restored.sqlite"))
    mariadb = request.getfixturevalue("mariadb")
    name = settings.db_name + "_r"
    mariadb.create_database(name)
    request.addfinalizer(lambda: mariadb.drop_database(name))
    return settings.replace(db_name=name)


def checksums(settings: Settings) -> dict[str, tuple[int, str]]:
    """{table: (rows, sha256 of every row, in a canonical order)} for every table."""

    def unit(tx):
        out = {}
        for name in sorted(tx.dialect.table_names(tx)):
            rows = tx.tuples(SELECT_ALL.format(name))  # a name from the catalogue
            canon = sorted(repr(tuple(_canon(v) for v in row)) for row in rows)
            out[name] = (len(rows), hashlib.sha256("\n".join(canon).encode()).hexdigest())
        return out

    with Database(settings) as db:
        return db.read(unit)


def _canon(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, float):
        return value.hex()  # exact: a restore must not lose a single bit
    return value


def populate(settings: Settings) -> None:
    actions.init_schema(settings)

    def unit(tx):
        type_id = tx.scalar("SELECT taskTypeId FROM eas_task_types WHERE taskTypeName = 'null'")
        host = tx.insert("INSERT INTO eas_worker_host (hostname) VALUES (?)", ("node-1/42",))
        key = tx.insert("INSERT INTO eas_metadata_keys (name) VALUES (?)", ("k",))
        sem = tx.insert("INSERT INTO eas_semantic_type (name) VALUES (?)", ("lightcurve",))
        parent = None
        for i, text in enumerate(TRICKY):
            task = tx.insert(
                "INSERT INTO eas_task (parentTask, createdTime, isFullyConfigured, taskTypeId, "
                "jobName, taskName, workingDirectory) VALUES (?, ?, 1, ?, ?, ?, ?)",
                (parent, FLOATS[i % len(FLOATS)], type_id, f"job {i}", text[:200], f"wd/{i}"))
            parent = parent or task
            attempt = tx.insert(
                "INSERT INTO eas_scheduling_attempt (taskId, queuedTime, isQueued, isRunning, "
                "isFinished, hostId, startTime, latestHeartbeat, endTime, allProductsPassedQc, "
                "errorFail, errorText, runTimeWallClock, runTimeCpu, runTimeCpuIncChildren) "
                "VALUES (?, ?, 0, 0, 1, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
                (task, FLOATS[i % 7], host, FLOATS[(i + 1) % 7], None, FLOATS[(i + 2) % 7],
                 i % 2, text if i % 2 else None, 1 / (i + 1), 2 / (i + 3), 1e-9 * i))
            tx.execute("INSERT INTO eas_log_messages (generatedByTaskExecution, timestamp, "
                       "severity, message) VALUES (?, ?, ?, ?)", (attempt, FLOATS[i % 7], 40, text))
            tx.execute("INSERT INTO eas_metadata_item (taskId, setAtTime, metadataKey, "
                       "valueFloat, valueString) VALUES (?, ?, ?, ?, ?)",
                       (task, 1.5, key, FLOATS[i % 7] if i % 2 else None,
                        None if i % 2 else text))
            product = tx.insert(
                "INSERT INTO eas_product (generatorTask, plannedTime, directoryName, filename, "
                "semanticType, mimeType) VALUES (?, ?, ?, ?, ?, ?)",
                (task, 2.5, f"wd/{i}", f"f{i}.lc", sem, None))
            tx.execute(
                "INSERT INTO eas_product_version (productId, generatedByTaskExecution, "
                "repositoryId, createdTime, modifiedTime, fileMD5, fileSize, passedQc) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (product, attempt, f"repo-{i}", 3.25, FLOATS[i % 7], "0" * 32, 2**40 + i, 1))

    with Database(settings) as db:
        db.run(unit)


def add_log_rows(settings: Settings, rows: int, size: int) -> None:
    """``rows`` log messages of ``size`` random hex characters (slow to compress)."""
    def unit(tx, n):
        tx.executemany("INSERT INTO eas_log_messages (generatedByTaskExecution, timestamp, "
                       "severity, message) VALUES (NULL, ?, 20, ?)",
                       [(float(i), os.urandom(size // 2).hex()) for i in range(n)])

    with Database(settings) as db:
        for done in range(0, rows, 2000):
            batch = min(2000, rows - done)
            db.run(lambda tx, n=batch: unit(tx, n))


def add_foreign_table(settings: Settings, name: str = "keep_me") -> None:
    """A table that is not plato_eas's own, holding one row: a restore must never touch it."""
    with Database(settings) as db:
        db.run(lambda tx: tx.execute(f"CREATE TABLE {name} (x INTEGER)"))
        db.run(lambda tx: tx.execute(f"INSERT INTO {name} (x) VALUES (1)"))  # noqa: S608


# -- dumps --------------------------------------------------------------------------------
def read_dump(path: Path) -> str:
    with gzip.open(path, "rt", encoding="utf-8", newline="\n") as fh:
        return fh.read()


def write_dump(path: Path, text: str) -> Path:
    with gzip.open(path, "wt", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    return path


def end_of_body(lines: list[str], engine: str) -> int:
    """Index of the line before which statements can be added: the COMMIT of a SQLite dump,
    the session-restoring epilogue of a mariadb-dump."""
    marker = "COMMIT;" if engine == "sqlite" else "/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE"
    return next(i for i, line in enumerate(lines) if line.startswith(marker))


def inject(text: str, engine: str, payload: str) -> tuple[str, int]:
    """The dump with ``payload`` (one or more lines) inserted at the end of its body, and
    without MariaDB's sandbox line (as a hostile dump would be). Returns the text and the
    line number (1-based) of the payload's first line."""
    lines = [ln for ln in text.split("\n") if ln.strip() != SANDBOX_LINE]
    at = end_of_body(lines, engine)
    lines[at:at] = payload.split("\n")
    return "\n".join(lines), at + 1


# -- child processes ----------------------------------------------------------------------
CHILD = r"""
import json, resource, sys
from plato_eas import actions
from plato_eas.errors import EasError
from plato_eas.settings import Settings
settings = Settings(**json.loads(sys.stdin.readline()))
call = json.loads(sys.stdin.readline())
print("started", flush=True)
try:
    out = {"result": getattr(actions, call["action"])(settings, **call["kwargs"])}
except EasError as exc:
    out = {"error": str(exc)}
except KeyboardInterrupt:
    out = {"error": "KeyboardInterrupt"}
# VmHWM is this program's own peak: ru_maxrss also counts the parent whose memory the
# child shared until exec (vfork), which is pytest's, not the restore's.
with open("/proc/self/status") as status:
    hwm = next(line for line in status if line.startswith("VmHWM:"))
out["maxrss_mib"] = int(hwm.split()[1]) / 1024
out["children_maxrss_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps(out), flush=True)
"""


def start_child(settings: Settings, action: str, env: dict | None = None,
                **kwargs) -> subprocess.Popen:
    """``actions.<action>(settings, **kwargs)`` in a new Python process; the settings (with
    their password) travel on its stdin, never on a command line."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    proc.stdin.write(json.dumps(dataclasses.asdict(settings)) + "\n")
    proc.stdin.write(json.dumps({"action": action, "kwargs": kwargs}) + "\n")
    proc.stdin.close()
    proc.stdin = None  # communicate() must not flush it again
    assert proc.stdout.readline().strip() == "started"
    return proc


def finish_child(proc: subprocess.Popen, timeout: float) -> dict:
    """The child's JSON report; a child still running after ``timeout`` is killed and
    reported as hung."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return {"hung": True, "returncode": proc.returncode}
    last = out.strip().splitlines()[-1] if out.strip() else "{}"
    report = json.loads(last) if last.startswith("{") else {}
    return {**report, "returncode": proc.returncode, "stderr": err}


def run_child(settings: Settings, action: str, timeout: float = 300, env: dict | None = None,
              **kwargs) -> dict:
    return finish_child(start_child(settings, action, env=env, **kwargs), timeout)


def signal_when(proc: subprocess.Popen, ready, signum: int, timeout: float = 60) -> None:
    """Send ``signum`` to ``proc`` as soon as ``ready()`` is true."""
    end = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None or time.monotonic() > end:
            raise AssertionError("the child finished (or stalled) before it could be "
                                 "interrupted: make the work larger")
        time.sleep(0.005)
    os.kill(proc.pid, signum)


SIGNALS = {"SIGTERM": signal.SIGTERM, "SIGINT": signal.SIGINT}
