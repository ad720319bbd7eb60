"""Write child tasks into the database: task rows, planned file products, file and metadata
dependencies, inherited metadata and the task description — all inside the caller's
transaction, so an expansion is all-or-nothing."""

from __future__ import annotations

import json
import posixpath
import time
from dataclasses import dataclass, field
from typing import Any

from ..db import Tx, marks
from ..errors import ChainError
from ..model.metadata import DESCRIPTION_KEY, write_items


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


def _ids(tx: Tx, table: str, id_col: str, name_col: str, names: set[str]) -> dict[str, int]:
    if not names:
        return {}
    in_list = marks(names)
    return dict(tx.tuples(
        f"SELECT {name_col}, {id_col} FROM {table} WHERE {name_col} IN ({in_list})",  # noqa: S608
        sorted(names)))


def semantic_type_ids(tx: Tx, names: set[str]) -> dict[str, int]:
    found = _ids(tx, "eas_semantic_type", "semanticTypeId", "name", names)
    missing = sorted(names - set(found))
    if missing:
        tx.executemany(f"{tx.dialect.insert_ignore} INTO eas_semantic_type (name) VALUES (?)",
                       [(n,) for n in missing])
        found = _ids(tx, "eas_semantic_type", "semanticTypeId", "name", names)
    return found


def product_location(working_directory: str, filename: str) -> tuple[str, str]:
    """(directoryName, filename) of a product: a file name with folders in it is stored under
    its own folder, so one file has one spelling however a chain names it."""
    directory, _, base = posixpath.join(working_directory, filename).rpartition("/")
    return directory, base


def product_id(tx: Tx, working_directory: str, filename: str) -> int | None:
    return tx.scalar("SELECT productId FROM eas_product WHERE directoryName = ? AND filename = ?",
                     product_location(working_directory, filename))


def register_children(tx: Tx, parent_id: int | None, specs: list[ChildSpec]) -> list[int]:
    """Register ``specs`` in order as children of ``parent_id``; returns their task ids.

    Raises ChainError (nothing is kept: the caller's transaction rolls back) when a type is
    unknown, an input is not an existing product, an output already exists, or a
    ``requires_metadata_from`` name is not an earlier sibling."""
    types = _ids(tx, "eas_task_types", "taskTypeId", "taskTypeName",
                 {s.task_type for s in specs})
    semantic = semantic_type_ids(
        tx, {k for s in specs for k in (*s.inputs, *s.outputs)})
    problems: list[tuple[str, str]] = []
    siblings: dict[str, int] = {}
    task_ids: list[int] = []
    items: list[tuple[int, dict[str, Any]]] = []
    inputs: list[tuple[int, int, int]] = []
    meta_inputs: list[tuple[int, int]] = []
    now = time.time()
    for spec in specs:
        if spec.task_type not in types:
            problems.append((f"{spec.path}.task", f"unknown task type {spec.task_type!r}"))
            continue
        task_id = tx.insert(
            "INSERT INTO eas_task (parentTask, createdTime, isFullyConfigured, taskTypeId, "
            "jobName, taskName, workingDirectory) VALUES (?, ?, 1, ?, ?, ?, ?)",
            (parent_id, now, types[spec.task_type], spec.job_name, spec.name,
             spec.working_directory))
        task_ids.append(task_id)
        for sem, filename in spec.outputs.items():
            if product_id(tx, spec.working_directory, filename) is not None:
                problems.append((f"{spec.path}.outputs.{sem}",
                                 f"creates pre-existing file {spec.working_directory}/{filename}"))
                continue
            tx.execute(
                "INSERT INTO eas_product (generatorTask, plannedTime, directoryName, filename, "
                "semanticType) VALUES (?, ?, ?, ?, ?)",
                (task_id, now, *product_location(spec.working_directory, filename),
                 semantic[sem]))
        for sem, filename in spec.inputs.items():
            source = product_id(tx, spec.working_directory, filename)
            if source is None:
                problems.append((f"{spec.path}.inputs.{sem}",
                                 f"input {spec.working_directory}/{filename} is not produced "
                                 "by any earlier task"))
                continue
            inputs.append((task_id, source, semantic[sem]))
        for name in spec.requires_metadata_from:
            if name not in siblings:
                problems.append((f"{spec.path}.requires_metadata_from",
                                 f"{name!r} is not an earlier sibling"))
                continue
            meta_inputs.append((task_id, siblings[name]))
        if spec.name:
            siblings[spec.name] = task_id
        items.append((task_id, {**spec.metadata,
                                DESCRIPTION_KEY: json.dumps(spec.description, sort_keys=True)}))
    if problems:
        raise ChainError(problems)
    tx.executemany("INSERT INTO eas_task_input (taskId, inputId, semanticType) VALUES (?, ?, ?)",
                   inputs)
    tx.executemany("INSERT INTO eas_task_metadata_input (taskId, inputId) VALUES (?, ?)",
                   meta_inputs)
    write_items(tx, "taskId", items)
    return task_ids
