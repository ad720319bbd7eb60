"""Submit a task chain: validate the whole chain, then register it as one ``execution_chain``
task carrying the chain as its description. Nothing is written for an invalid chain, nor for a
chain whose job name is taken (unless ``allow_existing_job``: reports then count both chains
as one job). The job's ``priority`` (the chain's, or the submit option's over it) is its root
task's, inherited by every task that does not set its own."""

from __future__ import annotations

import json
from typing import Any

from ..db import Database, Tx
from ..defaults import PRIORITY_DEFAULT, PRIORITY_MAX, PRIORITY_MIN
from ..errors import ChainError, JobError
from ..model import jobs
from ..model.schema import check_version
from ..model.values import TEXT_BYTES
from ..tasks.availability import ALLOW_KEY, missing_implementation
from ..tasks.registry import load_registry
from .paths import check_relative
from .register import ChildSpec, product_ids, product_location, register_children
from .validate import load_chain_file, validate_chain

DEFAULT_JOB_NAME = "untitled"


def _known_types(tx: Tx) -> set[str]:
    check_version(tx)
    return {r[0] for r in tx.tuples("SELECT taskTypeName FROM eas_task_types")}


def existing_products(db: Database, paths: set[str]) -> set[str]:
    """Which of ``paths`` (files relative to the data directory) are products already."""
    locations = {product_location("", path): path for path in paths}
    found = db.read(lambda tx: product_ids(tx, set(locations)))
    return {locations[where] for where in found}


def _root_spec(chain: dict[str, Any], priority: int | None,
               allow_unimplemented: bool = False) -> ChildSpec:
    working_directory = chain.get("working_directory") or ""
    if working_directory:
        working_directory = check_relative(working_directory, "working_directory")
        working_directory = "" if working_directory == "." else working_directory
    # inherited by every task of the job: its expansions then trust the workers too
    metadata = {ALLOW_KEY: True} if allow_unimplemented else {}
    return ChildSpec(
        task_type="execution_chain", description=chain, metadata=metadata,
        working_directory=working_directory,
        job_name=chain.get("job_name") or DEFAULT_JOB_NAME, name="root", path="$",
        priority=chain.get("priority", PRIORITY_DEFAULT) if priority is None else priority)


def _check_priority(priority: Any) -> int | None:
    if priority is None:
        return None
    if isinstance(priority, bool) or not isinstance(priority, int) or not (
            PRIORITY_MIN <= priority <= PRIORITY_MAX):
        raise ChainError([("$.priority", f"the priority must be an integer from {PRIORITY_MIN} "
                                         f"to {PRIORITY_MAX}, not {priority!r}")])
    return priority


def refuse_existing(job_name: str) -> JobError:
    return JobError(f"a job named {job_name!r} exists already: give the chain another "
                    "job_name, or allow_existing_job to add it to that job")


def _size_problem(chain: dict) -> None:
    """The chain is stored as one text value (JSON as the metadata items write it): it must
    fit the column."""
    size = len(json.dumps(chain, ensure_ascii=False).encode("utf-8"))
    if size > TEXT_BYTES:
        raise ChainError([("$", f"the chain is {size:,} bytes of JSON, more than the database "
                                f"stores in one value ({TEXT_BYTES:,}); use loops or split it")])


def submit_chain(db: Database, chain: dict | None = None, src: str | None = None,
                 validate_only: bool = False, allow_existing_job: bool = False,
                 priority: int | None = None, allow_unimplemented: bool = False) -> dict:
    """Validate and register a chain. Literal task types that no installed package implements
    are refused unless ``allow_unimplemented`` (the workers have packages this node lacks)."""
    if (chain is None) == (src is None):
        raise ChainError([("$", "give exactly one of a chain file (src) or an inline chain")])
    if src is not None:
        chain = load_chain_file(src)
    known = db.read(_known_types)
    registry = load_registry(db.settings)

    def missing(task_type: str) -> str | None:
        return None if allow_unimplemented else missing_implementation(task_type, registry)

    validate_chain(chain, known, existing_products=lambda paths: existing_products(db, paths),
                   max_loop_iterations=db.settings.max_loop_iterations, missing=missing)
    _size_problem(chain)
    spec = _root_spec(chain, _check_priority(priority), allow_unimplemented)
    result = {"job_name": spec.job_name, "task_count": len(chain["task_list"]),
              "priority": spec.priority, "valid": True}
    if validate_only:
        exists = db.read(lambda tx: jobs.exists(tx, spec.job_name))
        return {"changed": False, "task_id": None, "job_exists": exists, **result}

    def unit(tx: Tx) -> tuple[int, bool]:
        tx.dialect.lock_scheduler(tx)  # two submits of one job name: the second sees the first
        existed = jobs.exists(tx, spec.job_name)
        if existed and not allow_existing_job:
            raise refuse_existing(spec.job_name)
        return register_children(tx, None, [spec])[0], existed

    task_id, existed = db.run(unit)
    return {"changed": True, "task_id": task_id, "job_exists": existed, **result}
