"""What the embedded-default benchmarks share: a fresh SQLite task database with its queues."""

from __future__ import annotations

from pathlib import Path

from plato_eas import actions
from plato_eas.settings import Settings


def fresh(tmp: Path, name: str) -> Settings:
    """Settings of a new, initialised database ``<tmp>/<name>.sqlite``, its data beside it."""
    s = Settings(db_path=str(tmp / f"{name}.sqlite"), data_dir=str(tmp / name))
    actions.init_schema(s)
    actions.init_queues(s)
    return s
