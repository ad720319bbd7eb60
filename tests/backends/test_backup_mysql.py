"""The db_save / db_restore tests of tests/pipeline/admin/test_backup.py, run against
MariaDB: the same test functions, with ``db_settings`` bound to a fresh MariaDB database."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_path = Path(__file__).parents[1] / "pipeline" / "admin" / "test_backup.py"
_spec = importlib.util.spec_from_file_location("_unit_test_backup", _path)
_unit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_unit)
globals().update({k: v for k, v in vars(_unit).items() if k.startswith("test_")})

pytestmark = pytest.mark.mysql


@pytest.fixture
def db_settings(mysql_settings):
    return mysql_settings
