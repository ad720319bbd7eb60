"""Real MariaDB and RabbitMQ servers for the backend tests (SPEC §11).

Session fixtures start each server on first use (installing the Debian packages when they are
missing), on 127.0.0.1 with a free port and a temporary data directory, and stop them by PID
at the end of the session (epmd included). When ``scripts/servers.sh start`` has already
started them (state file in ``$EAS_SERVERS_DIR``), those are reused and left running.

``backend`` is parametrised over every supported combination of database engine and queue
implementation; a test that takes it runs four times and gets a fresh, empty database (and
empty broker queues) each time as a :class:`~plato_eas.settings.Settings`.

``EAS_TEST_BACKENDS`` (comma-separated subset of ``sqlite-sql,mysql-sql,mysql-amqp,sqlite-amqp``)
restricts the combinations; ``EAS_TEST_NO_INSTALL=1`` skips server tests instead of installing
packages when they are missing.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import backend_servers as servers  # noqa: E402
from backend_helpers import amqp_options, mysql_settings_for, registry_queue_names  # noqa: E402,E501

from plato_eas.settings import Settings  # noqa: E402

COMBINATIONS = ["sqlite-sql", "mysql-sql", "mysql-amqp", "sqlite-amqp"]


def selected_combinations() -> list[str]:
    wanted = os.environ.get("EAS_TEST_BACKENDS", "").strip()
    if not wanted:
        return COMBINATIONS
    chosen = [c.strip() for c in wanted.split(",") if c.strip()]
    unknown = set(chosen) - set(COMBINATIONS)
    if unknown:
        raise pytest.UsageError(f"EAS_TEST_BACKENDS: unknown combination(s) {sorted(unknown)}")
    return chosen


def _require_packages() -> None:
    if servers.missing_packages() and os.environ.get("EAS_TEST_NO_INSTALL") == "1":
        pytest.skip("MariaDB/RabbitMQ packages missing and EAS_TEST_NO_INSTALL=1")
    servers.ensure_packages()


@pytest.fixture(scope="session")
def servers_dir():
    base = Path(tempfile.mkdtemp(prefix="plato-eas-servers-"))
    yield base
    shutil.rmtree(base, ignore_errors=True)


def _shared_state():
    base = os.environ.get("EAS_SERVERS_DIR")
    return servers.load_state(Path(base)) if base else None


@pytest.fixture(scope="session")
def mariadb(servers_dir):
    """A running :class:`servers.MariaDB` for the whole session."""
    state = _shared_state()
    if state:
        yield servers.servers_from_state(state)[0]
        return
    _require_packages()
    server = servers.MariaDB(servers_dir / "mariadb")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def rabbitmq(servers_dir):
    """A running :class:`servers.RabbitMQ` for the whole session."""
    state = _shared_state()
    if state:
        yield servers.servers_from_state(state)[1]
        return
    _require_packages()
    server = servers.RabbitMQ(servers_dir / "rabbitmq")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def sqlite_settings(tmp_path) -> Settings:
    return Settings(db_path=str(tmp_path / "eas.sqlite"), data_dir=str(tmp_path / "data"))


@pytest.fixture
def mysql_settings(mariadb, tmp_path):
    settings, name = mysql_settings_for(mariadb, tmp_path)
    yield settings
    mariadb.drop_database(name)


@pytest.fixture
def clean_queues(rabbitmq):
    """Deletes the broker queues of every registry task type before and after a test."""
    names = registry_queue_names()
    rabbitmq.delete_queues(names)
    yield names
    rabbitmq.delete_queues(names)


@pytest.fixture(params=selected_combinations())
def backend(request, tmp_path):
    """A fresh Settings for one combination: ``engine-queue`` (see COMBINATIONS)."""
    engine, queue = request.param.split("-")
    extra: dict = {}
    if queue == "amqp":
        rabbitmq = request.getfixturevalue("rabbitmq")
        request.getfixturevalue("clean_queues")
        extra = amqp_options(rabbitmq)
    if engine == "mysql":
        mariadb = request.getfixturevalue("mariadb")
        settings, name = mysql_settings_for(mariadb, tmp_path, **extra)
        request.addfinalizer(lambda: mariadb.drop_database(name))
        return settings
    return Settings(db_path=str(tmp_path / "eas.sqlite"), data_dir=str(tmp_path / "data"),
                    **extra)
