"""Fixtures for the collection-level checks: they run the real tools (ansible-galaxy,
ansible, ansible-playbook, ansible-runner, ansible-builder) from the project venv."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from eas_ansible_helpers import BIN


@pytest.fixture
def tool_env(tmp_path: Path) -> dict[str, str]:
    """A clean environment for the Ansible tools: venv first on PATH, no EAS_* or ANSIBLE_*
    settings of the developer, HOME (and Ansible's temp) inside the test's tmp_path."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("EAS_", "ANSIBLE_"))}
    home = tmp_path / "home"
    (home / ".ansible" / "tmp").mkdir(parents=True)
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", HOME=str(home),
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(home / ".ansible" / "tmp"))
    return env
