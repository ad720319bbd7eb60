"""The molecule scenario of the Kubernetes roles (extensions/molecule/kubernetes), run for real
against the tests' control plane (its create step finds it through EAS_K8S_DIR; run by hand
without one, create starts a plane of its own and destroy stops it)."""

from __future__ import annotations

import os
import subprocess

from conftest import ROOT, VENV_BIN


def test_molecule_kubernetes_scenario(tmp_path):
    env = dict(os.environ, HOME=str(tmp_path), PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}",
               ANSIBLE_NOCOLOR="1", NO_COLOR="1")
    proc = subprocess.run([str(VENV_BIN / "molecule"), "test", "-s", "kubernetes"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert "1 successful" in out
    for step in ("converge", "idempotence", "side_effect", "verify", "destroy"):
        assert f"{step}: Executed: Successful" in out, step
