"""Fixtures for the Kubernetes tests: one real control plane for the whole run
(tests/k8s/control_plane.py) and a runner for the collection's playbooks against it
(kubernetes.core from .venv/collections, plato.eas from the repository through
collections/ansible_collections/plato/eas).

The plane is started once by the pytest process that runs the tests (the xdist controller,
whose environment the workers inherit) unless ``EAS_K8S_DIR`` names a running one
(``scripts/k8s_control_plane.sh start``, as scripts/test.sh does), which is then left running.
Each test module works in a namespace of its own, so modules can run in parallel.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))
import control_plane  # noqa: E402
from cluster import Cluster  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def pytest_configure(config):
    if hasattr(config, "workerinput"):
        return  # an xdist worker: the controller has started the plane
    shared = os.environ.get("EAS_K8S_DIR")
    if shared and control_plane.load_state(Path(shared)):
        return
    base = Path(tempfile.mkdtemp(prefix="plato-eas-k8s-"))
    config._eas_k8s_base = base
    try:
        control_plane.start(base, log=lambda msg: print(msg, file=sys.stderr))
    except control_plane.ControlPlaneError as exc:
        raise pytest.UsageError(f"the Kubernetes control plane did not start: {exc}") from None
    os.environ["EAS_K8S_DIR"] = str(base)


def pytest_unconfigure(config):
    base = getattr(config, "_eas_k8s_base", None)
    if base:
        control_plane.stop(base)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    state = control_plane.load_state(Path(os.environ["EAS_K8S_DIR"]))
    assert state, f"no running control plane in {os.environ['EAS_K8S_DIR']}"
    return Cluster(state)


def collections_path(extra: Path | None = None) -> str:
    paths = [str(ROOT / "collections"), str(ROOT / ".venv" / "collections")]
    if extra:
        paths.insert(0, str(extra))
    env = os.environ.get("ANSIBLE_COLLECTIONS_PATH", "")
    return ":".join(paths + ([env] if env else []))


@dataclass
class Run:
    rc: int
    out: str

    @property
    def changed(self) -> int:
        m = re.search(r"localhost\s+:\s+ok=\d+\s+changed=(\d+)", self.out)
        assert m, f"no play recap in:\n{self.out[-3000:]}"
        return int(m.group(1))

    @property
    def warnings(self) -> list[str]:
        return re.findall(r"^\[WARNING\]: (.*)$", self.out, re.M)


class Ansible:
    """Runs ansible-playbook non-interactively against the control plane, in one namespace
    (every role's namespace variable is set to it)."""

    def __init__(self, cluster: Cluster, tmp: Path, namespace: str,
                 kubeconfig: Path | None = None):
        self.cluster, self.tmp, self.namespace = cluster, tmp, namespace
        self.since = cluster.audit_lines()  # the audit log from here on is this runner's
        self.kubeconfig = kubeconfig or cluster.kubeconfig
        self.inventory = tmp / "inventory.yml"
        self.inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
        self.outputs: list[str] = []
        home = tmp / "home"
        home.mkdir(exist_ok=True)
        self.collections = None
        self.env = dict(
            os.environ,
            PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}",
            HOME=str(home),
            ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
            ANSIBLE_LOCAL_TEMP=str(home / ".ansible" / "tmp"),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_DEPRECATION_WARNINGS="0",
            ANSIBLE_STDOUT_CALLBACK="default",
            K8S_AUTH_KUBECONFIG=str(self.kubeconfig),
            EAS_HOME=str(tmp / "eas-home"),
        )

    def namespace_vars(self) -> dict:
        return {f"eas_{role}_namespace": self.namespace for role in ("core", "workers", "scale")}

    def playbook(self, name: str, *args: str, extra: dict | None = None, check: bool = True,
                 collection: Path | None = None) -> Run:
        """``collection``: a folder holding ansible_collections/plato/eas to use instead of
        the repository (an earlier release); the playbook is then taken from there too."""
        playbooks = (collection / "ansible_collections/plato/eas" if collection else ROOT)
        cmd = [str(VENV_BIN / "ansible-playbook"), "-i", str(self.inventory),
               str(playbooks / "playbooks" / name), *args,
               "-e", yaml.safe_dump({**self.namespace_vars(), **(extra or {})},
                                    default_flow_style=True).strip()]
        env = dict(self.env, ANSIBLE_COLLECTIONS_PATH=collections_path(collection))
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=600)
        out = proc.stdout + proc.stderr
        self.outputs.append(out)
        if check:
            assert proc.returncode == 0, out[-6000:]
        return Run(proc.returncode, out)


@pytest.fixture(scope="module")
def ansible_in(cluster, tmp_path_factory):
    """``ansible_in(namespace)``: a playbook runner for that namespace, which is deleted when
    the module's tests are done (freeing the nodes for the next module)."""
    made: list[str] = []

    def make(namespace: str, kubeconfig: Path | None = None) -> Ansible:
        made.append(namespace)
        return Ansible(cluster, tmp_path_factory.mktemp(namespace), namespace, kubeconfig)

    yield make
    for namespace in made:
        cluster.delete_namespace(namespace)
