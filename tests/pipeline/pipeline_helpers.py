"""Helpers shared by the pipeline tests (fixtures live in conftest.py; this module has a name
of its own so that it can be imported next to other test folders' conftest modules)."""

from __future__ import annotations

import json
from pathlib import Path

from plato_eas.db import Database

CHAINS = Path(__file__).resolve().parents[2] / "examples" / "chains"


def chain(name: str) -> dict:
    return json.loads((CHAINS / f"{name}.json").read_text())


def table_counts(db: Database) -> dict[str, int]:
    from plato_eas.model.schema import TABLE_NAMES

    return {t: db.read(lambda tx, t=t: tx.scalar(f"SELECT COUNT(*) FROM {t}"))  # noqa: S608
            for t in TABLE_NAMES}
