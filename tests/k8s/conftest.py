"""Fixtures for the Kubernetes tests: the API double on a free loopback port, and a runner for
the collection's playbooks against it (kubernetes.core from .venv/collections, plato.eas from
the repository through collections/ansible_collections/plato/eas)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from kapi import KubeDouble  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
NODE = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"},
        "status": {"allocatable": {"cpu": "4", "memory": "8Gi"}}}


def collections_path() -> str:
    extra = os.environ.get("ANSIBLE_COLLECTIONS_PATH", "")
    paths = [str(ROOT / "collections"), str(ROOT / ".venv" / "collections")]
    return ":".join(paths + ([extra] if extra else []))


@dataclass
class Run:
    rc: int
    out: str

    @property
    def changed(self) -> int:
        m = re.search(r"localhost\s+:\s+ok=\d+\s+changed=(\d+)", self.out)
        assert m, f"no play recap in:\n{self.out[-3000:]}"
        return int(m.group(1))


class Ansible:
    """Runs ansible-playbook (and molecule) non-interactively against the double."""

    def __init__(self, double: KubeDouble, tmp: Path):
        self.double, self.tmp = double, tmp
        self.kubeconfig = double.write_kubeconfig(tmp / "kubeconfig.yaml")
        self.inventory = tmp / "inventory.yml"
        self.inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
        self.outputs: list[str] = []
        home = tmp / "home"
        home.mkdir(exist_ok=True)
        self.env = dict(
            os.environ,
            PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}",
            HOME=str(home),
            ANSIBLE_COLLECTIONS_PATH=collections_path(),
            ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
            ANSIBLE_LOCAL_TEMP=str(home / ".ansible" / "tmp"),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_DEPRECATION_WARNINGS="0",
            ANSIBLE_STDOUT_CALLBACK="default",
            K8S_AUTH_KUBECONFIG=str(self.kubeconfig),
            EAS_HOME=str(tmp / "eas-home"),
        )

    def playbook(self, name: str, *args: str, extra: dict | None = None,
                 check: bool = True) -> Run:
        cmd = [str(VENV_BIN / "ansible-playbook"), "-i", str(self.inventory),
               str(ROOT / "playbooks" / name), *args]
        if extra:
            cmd += ["-e", yaml.safe_dump(extra, default_flow_style=True).strip()]
        proc = subprocess.run(cmd, cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=300)
        out = proc.stdout + proc.stderr
        self.outputs.append(out)
        if check:
            assert proc.returncode == 0, out[-6000:]
        return Run(proc.returncode, out)


@pytest.fixture(scope="module")
def double():
    with KubeDouble() as d:
        d.add(NODE)
        yield d


@pytest.fixture(scope="module")
def ansible(double, tmp_path_factory):
    return Ansible(double, tmp_path_factory.mktemp("k8s"))
