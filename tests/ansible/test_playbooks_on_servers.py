"""Every playbook (tests/integration/playbooks.yml) against real MariaDB and RabbitMQ servers
(SPEC §11): the connection reaches the modules the way an AWX credential passes it, through
the EAS_* environment; the passwords never show in the output.

The servers are those of tests/backends/backend_servers.py: reused when `scripts/servers.sh start`
runs them (EAS_SERVERS_DIR), else started for this module and stopped by PID at its end.
Skipped when the Debian packages are missing and cannot be installed (EAS_TEST_NO_INSTALL=1).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
from eas_ansible_helpers import ROOT, run

sys.path.insert(0, str(ROOT / "tests" / "backends"))
try:  # the backend tests' server harness
    import backend_servers as servers  # noqa: E402
except ImportError:  # its earlier name
    import servers  # noqa: E402


@pytest.fixture(scope="module")
def running_servers():
    shared = os.environ.get("EAS_SERVERS_DIR")
    state = servers.load_state(Path(shared)) if shared else None
    if state:
        yield servers.servers_from_state(state)
        return
    if servers.missing_packages() and (os.environ.get("EAS_TEST_NO_INSTALL") == "1"
                                       or os.geteuid() != 0):
        pytest.skip("MariaDB/RabbitMQ packages are missing")
    top = Path(tempfile.mkdtemp(prefix="plato-eas-ansible-servers-"))
    try:
        yield servers.servers_from_state(servers.start_all(top / "servers"))
    finally:
        servers.stop_all(top / "servers")
        shutil.rmtree(top, ignore_errors=True)


def registry_queue_names() -> list[str]:
    from plato_eas.tasks.registry import load_registry

    return sorted(load_registry(None).task_types)


@pytest.mark.parametrize("queue", ["sql", "amqp"])
def test_every_playbook_on_mariadb(queue: str, running_servers, tmp_path: Path,
                                   tool_env: dict[str, str]) -> None:
    mariadb, rabbitmq = running_servers
    name = "eas_pb_" + uuid.uuid4().hex[:10]
    mariadb.create_database(name)
    if queue == "amqp":
        rabbitmq.delete_queues(registry_queue_names())
    env = dict(tool_env, TMPDIR=str(tmp_path),
               ANSIBLE_COLLECTIONS_PATH=f"{ROOT / 'collections'}",
               EAS_DB_ENGINE="mysql", EAS_DB_HOST="127.0.0.1", EAS_DB_PORT=str(mariadb.port),
               EAS_DB_USER=mariadb.user, EAS_DB_PASSWORD=mariadb.password, EAS_DB_NAME=name,
               EAS_QUEUE_IMPLEMENTATION=queue)
    if queue == "amqp":
        env.update(EAS_MQ_HOST="127.0.0.1", EAS_MQ_PORT=str(rabbitmq.port),
                   EAS_MQ_USER=rabbitmq.user, EAS_MQ_PASSWORD=rabbitmq.password,
                   EAS_MQ_VHOST=rabbitmq.vhost)
    try:
        proc = run(["ansible-playbook", "tests/integration/playbooks.yml"], env, ROOT,
                   check=False)
    finally:
        mariadb.drop_database(name)
        if queue == "amqp":
            rabbitmq.delete_queues(registry_queue_names())
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-2000:]
    assert "failed=0" in proc.stdout
    assert f"queue implementation {queue}" in proc.stdout  # init_queues reported it
    for secret in (mariadb.password, rabbitmq.password):
        assert secret and secret not in proc.stdout and secret not in proc.stderr
