"""Write child tasks into the database: task rows, planned file products, file and metadata
dependencies, inherited metadata and the task description — all inside the caller's
transaction, so an expansion is all-or-nothing.

Every kind of row is written with one statement per batch (not one per task), and products
are looked up once for the whole batch, so registering N children costs time in proportion
to N.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ..db import Tx, chunks, marks
from ..errors import ChainError
from ..model import checks
from ..model.metadata import DESCRIPTION_KEY, write_items
from .bulk import no_cyclic_gc
from .paths import join

Location = tuple[str, str]  # (directoryName, filename) of a product


@dataclass
class ChildSpec:
    """One task to register, with every expression that decides its wiring already evaluated."""

    task_type: str
    description: dict[str, Any]
    metadata: dict[str, Any]
    working_directory: str
    job_name: str | None = None
    name: str | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    requires_metadata_from: list[str] = field(default_factory=list)
    path: str = "$"  # JSON path of the task in its chain, for error messages
    priority: int = 0  # higher runs first (the task's own, else inherited)
    # A loop body (execution_chain) expanded together with its loop: its own children, and
    # the wall and CPU seconds its expansion took (``chains/expand.py``, ``worker/record.py``)
    body: Body | None = None


@dataclass
class Body:
    """A loop body's expansion, done with its loop's."""

    children: list[ChildSpec]
    wall: float
    cpu: float


def _ids(tx: Tx, table: str, id_col: str, name_col: str, names: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in chunks(sorted(names)):
        found.update(tx.tuples(
            f"SELECT {name_col}, {id_col} FROM {table} "  # noqa: S608
            f"WHERE {name_col} IN ({marks(chunk)})", chunk))
    return found


def semantic_type_ids(tx: Tx, names: set[str]) -> dict[str, int]:
    found = _ids(tx, "eas_semantic_type", "semanticTypeId", "name", names)
    missing = sorted(names - set(found))
    if missing:
        tx.executemany(f"{tx.dialect.insert_ignore} INTO eas_semantic_type (name) VALUES (?)",
                       [(n,) for n in missing])
        found = _ids(tx, "eas_semantic_type", "semanticTypeId", "name", names)
    return found


def product_location(working_directory: str, filename: str) -> Location:
    """(directoryName, filename) of a product (both arguments normalised): a file name with
    folders in it is stored under its own folder, so one file has one spelling however a
    chain names it."""
    directory, _, base = join(working_directory, filename).rpartition("/")
    return directory, base


def product_id(tx: Tx, working_directory: str, filename: str) -> int | None:
    return tx.scalar("SELECT productId FROM eas_product WHERE directoryName = ? AND filename = ?",
                     product_location(working_directory, filename))


_ANY_IN_FOLDER = "SELECT 1 FROM eas_product WHERE directoryName = ? LIMIT 1"


def product_ids(tx: Tx, locations: set[Location]) -> dict[Location, int]:
    """Product ids of the ``locations`` that exist: one query per folder and 500 names, none
    for a folder without any product (a new job's: 200 queries fewer per 100,000 files)."""
    by_folder: dict[str, list[str]] = defaultdict(list)
    for folder, name in locations:
        by_folder[folder].append(name)
    found: dict[Location, int] = {}
    for folder, names in by_folder.items():
        if len(names) > 1 and tx.scalar(_ANY_IN_FOLDER, (folder,)) is None:
            continue
        for chunk in chunks(sorted(names)):
            for name, pid in tx.tuples(
                    "SELECT filename, productId FROM eas_product "  # noqa: S608
                    f"WHERE directoryName = ? AND filename IN ({marks(chunk)})",
                    (folder, *chunk)):
                found[(folder, name)] = pid
    return found


@dataclass
class _Wired:
    """A spec's files as product locations: (semantic type, location) pairs."""

    outputs: list[tuple[str, Location]]
    inputs: list[tuple[str, Location]]

    @classmethod
    def of(cls, spec: ChildSpec) -> _Wired:
        where = spec.working_directory
        return cls([(sem, product_location(where, f)) for sem, f in spec.outputs.items()],
                   [(sem, product_location(where, f)) for sem, f in spec.inputs.items()])


def _plan(specs: list[ChildSpec], wired: list[_Wired], types: dict[str, int],
          existing: dict[Location, int]) -> list[tuple[str, str]]:
    """Every reason the batch cannot be registered: unknown types, outputs that exist or are
    written twice, inputs nobody earlier writes, metadata from no earlier sibling."""
    problems: list[tuple[str, str]] = []
    written: dict[Location, int] = {}  # location -> index of the spec writing it
    siblings: set[str] = set()
    for index, (spec, files) in enumerate(zip(specs, wired, strict=True)):
        if spec.task_type not in types:
            problems.append((f"{spec.path}.task", f"unknown task type {spec.task_type!r}"))
        for sem, where in files.outputs:
            if where in existing or where in written:
                problems.append((f"{spec.path}.outputs.{sem}",
                                 f"creates pre-existing file {join(*where)}"))
            else:
                written[where] = index
        for sem, where in files.inputs:
            if where not in existing and written.get(where, index) >= index:
                problems.append((f"{spec.path}.inputs.{sem}", f"input {join(*where)} is not "
                                 "produced by any earlier task"))
        for name in spec.requires_metadata_from:
            if name not in siblings:
                problems.append((f"{spec.path}.requires_metadata_from",
                                 f"{name!r} is not an earlier sibling"))
        if spec.name:
            siblings.add(spec.name)
    return problems


_LAST_CHILD = "SELECT MAX(taskId) FROM eas_task WHERE parentTask IN ({marks})"
_NEW_CHILDREN = ("SELECT taskId, parentTask FROM eas_task WHERE parentTask IN ({marks})"
                 " AND taskId > ? ORDER BY taskId")


def _insert_tasks(tx: Tx, families: list[tuple[int | None, list[ChildSpec]]],
                  types: dict[str, int], now: float) -> list[list[int]]:
    """Insert the task rows; returns their ids, family by family in the order of the specs."""
    rows = [(parent_id, now, types[s.task_type], s.job_name, s.name, s.working_directory,
             s.priority) for parent_id, specs in families for s in specs]
    sql = ("INSERT INTO eas_task (parentTask, createdTime, isFullyConfigured, taskTypeId, "
           "jobName, taskName, workingDirectory, priority) VALUES (?, ?, 1, ?, ?, ?, ?, ?)")
    parents = [parent_id for parent_id, _ in families]
    if None in parents or len(rows) < 2:
        return [[tx.insert(sql, row) for row in family_rows]
                for _, family_rows in _split(families, rows)]
    # One statement for all; ids are increasing in insertion order within this transaction,
    # and the parents' earlier children (a re-run) have smaller ids.
    before = -1
    for chunk in chunks(parents):
        found = tx.scalar(_LAST_CHILD.format(marks=marks(chunk)), chunk)
        before = max(before, found if found is not None else -1)
    tx.executemany(sql, rows)
    made: dict[int, list[int]] = defaultdict(list)
    for chunk in chunks(parents):
        for task_id, parent_id in tx.tuples(_NEW_CHILDREN.format(marks=marks(chunk)),
                                            (*chunk, before)):
            made[parent_id].append(task_id)
    ids = [made[parent_id] for parent_id in parents]
    for (parent_id, specs), got in zip(families, ids, strict=True):
        if len(got) != len(specs):  # pragma: no cover - would mean a concurrent writer
            raise ChainError([("$", f"registered {len(got)} children of task {parent_id}, "
                                    f"expected {len(specs)}")])
    return ids


def _split(families: list[tuple[int | None, list[ChildSpec]]], rows: list) -> list:
    out, start = [], 0
    for parent_id, specs in families:
        out.append((parent_id, rows[start:start + len(specs)]))
        start += len(specs)
    return out


def register_children(tx: Tx, parent_id: int | None, specs: list[ChildSpec]) -> list[int]:
    """Register ``specs`` in order as children of ``parent_id``; returns their task ids.

    Raises ChainError (nothing is kept: the caller's transaction rolls back) when a type is
    unknown, an input is not an existing product, an output already exists, or a
    ``requires_metadata_from`` name is not an earlier sibling."""
    return register_families(tx, [(parent_id, specs)])[0]


def register_families(tx: Tx, families: list[tuple[int | None, list[ChildSpec]]]
                      ) -> list[list[int]]:
    """:func:`register_children` of several parents at once, as if one after the other (a
    family reads what an earlier one writes), with one statement per kind of row for all of
    them (a loop's bodies); returns each family's task ids."""
    families = [(parent_id, specs) for parent_id, specs in families]
    if not any(specs for _, specs in families):
        return [[] for _ in families]
    with no_cyclic_gc(), tx.dialect.bulk(tx):
        return _register(tx, families)


def _register(tx: Tx, families: list[tuple[int | None, list[ChildSpec]]]) -> list[list[int]]:
    specs = [spec for _, family in families for spec in family]
    types = _ids(tx, "eas_task_types", "taskTypeId", "taskTypeName",
                 {s.task_type for s in specs})
    wired = [_Wired.of(spec) for spec in specs]
    existing = product_ids(tx, {where for files in wired
                                for _, where in (*files.outputs, *files.inputs)})
    problems: list[tuple[str, str]] = []
    seen = dict(existing)  # what each family finds: the database and the earlier families
    for _, family, files in _families(families, wired):
        problems += _plan(family, files, types, seen)
        seen.update((where, 0) for f in files for _, where in f.outputs)
    if problems:
        raise ChainError(problems)
    semantic = semantic_type_ids(tx, {k for s in specs for k in (*s.inputs, *s.outputs)})
    now = time.time()
    family_ids = _insert_tasks(tx, [(p, f) for p, f in families if f], types, now)
    task_ids = [task_id for ids in family_ids for task_id in ids]
    tx.executemany(
        "INSERT INTO eas_product (generatorTask, plannedTime, directoryName, filename, "
        "semanticType) VALUES (?, ?, ?, ?, ?)",
        [(task_id, now, *where, semantic[sem])
         for task_id, files in zip(task_ids, wired, strict=True) for sem, where in files.outputs])
    wanted = {where for files in wired for _, where in files.inputs} - set(existing)
    sources = {**existing, **product_ids(tx, wanted)}
    tx.executemany(
        "INSERT INTO eas_task_input (taskId, inputId, semanticType) VALUES (?, ?, ?)",
        [(task_id, sources[where], semantic[sem])
         for task_id, files in zip(task_ids, wired, strict=True) for sem, where in files.inputs])
    meta_inputs = []
    for ids, (_, family) in zip(family_ids, [(p, f) for p, f in families if f], strict=True):
        by_name: dict[str, int] = {}
        for task_id, spec in zip(ids, family, strict=True):
            meta_inputs += [(task_id, by_name[name]) for name in spec.requires_metadata_from]
            if spec.name:
                by_name[spec.name] = task_id
    tx.executemany("INSERT INTO eas_task_metadata_input (taskId, inputId) VALUES (?, ?)",
                   meta_inputs)
    write_items(tx, "taskId", [
        (task_id, {**spec.metadata, DESCRIPTION_KEY: spec.description})
        for task_id, spec in zip(task_ids, specs, strict=True)], fresh=True)
    checks.mark(tx, task_ids)  # the next pass (or the registering transaction) checks them
    by_family = iter(family_ids)
    return [next(by_family) if family else [] for _, family in families]


def _families(families: list[tuple[int | None, list[ChildSpec]]], wired: list[_Wired]):
    start = 0
    for parent_id, family in families:
        yield parent_id, family, wired[start:start + len(family)]
        start += len(family)
