"""Shared fixtures: a fresh embedded installation (SQLite file + data directory) per test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The helper modules beside this file (pipeline_helpers, reports_fixtures) are imported by
# plain name from every test folder below.
sys.path.insert(0, str(Path(__file__).parent))

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(db_path=str(tmp_path / "eas.sqlite"), data_dir=str(tmp_path / "data"))


@pytest.fixture
def installed(settings: Settings) -> Settings:
    """Schema created, registry loaded, SQL queue recorded."""
    actions.init_schema(settings)
    actions.init_queues(settings)
    return settings


@pytest.fixture
def db(installed: Settings):
    with Database(installed) as database:
        yield database
