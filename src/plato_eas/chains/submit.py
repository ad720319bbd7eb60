"""Submit a task chain (SPEC §4): validate the whole chain, then register it as one
``execution_chain`` task carrying the chain as its description. Nothing is written for an
invalid chain."""

from __future__ import annotations

from typing import Any

from ..db import Database, Tx
from ..errors import ChainError
from ..model.schema import check_version
from .paths import check_relative
from .register import ChildSpec, product_id, register_children
from .validate import load_chain_file, validate_chain

DEFAULT_JOB_NAME = "untitled"


def _known_types(tx: Tx) -> set[str]:
    check_version(tx)
    return {r[0] for r in tx.tuples("SELECT taskTypeName FROM eas_task_types")}


def _root_spec(chain: dict[str, Any]) -> ChildSpec:
    working_directory = chain.get("working_directory") or ""
    if working_directory:
        working_directory = check_relative(working_directory, "working_directory")
    return ChildSpec(
        task_type="execution_chain", description=chain, metadata={},
        working_directory=working_directory,
        job_name=chain.get("job_name") or DEFAULT_JOB_NAME, name="root", path="$")


def submit_chain(db: Database, chain: dict | None = None, src: str | None = None,
                 validate_only: bool = False) -> dict:
    if (chain is None) == (src is None):
        raise ChainError([("$", "give exactly one of a chain file (src) or an inline chain")])
    if src is not None:
        chain = load_chain_file(src)
    known = db.read(_known_types)

    def exists(path: str) -> bool:
        return db.read(lambda tx: product_id(tx, "", path)) is not None

    validate_chain(chain, known, product_exists=exists)
    spec = _root_spec(chain)
    result = {"job_name": spec.job_name, "task_count": len(chain["task_list"]),
              "valid": True}
    if validate_only:
        return {"changed": False, "task_id": None, **result}
    task_id = db.run(lambda tx: register_children(tx, None, [spec])[0])
    return {"changed": True, "task_id": task_id, **result}
