"""The db_save / db_restore tests of tests/pipeline/admin/test_backup.py and
test_backup_safety.py, run against MariaDB: the same test functions, with ``db_settings``
bound to a fresh MariaDB database."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_pipeline = Path(__file__).parents[1] / "pipeline"
sys.path.insert(0, str(_pipeline))  # backup_helpers, prototype_db
for _name in ("test_backup", "test_backup_safety"):
    _spec = importlib.util.spec_from_file_location(f"_unit_{_name}",
                                                   _pipeline / "admin" / f"{_name}.py")
    _unit = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_unit)
    globals().update({k: v for k, v in vars(_unit).items() if k.startswith("test_")})

pytestmark = pytest.mark.mysql


@pytest.fixture
def db_settings(mysql_settings):
    return mysql_settings
