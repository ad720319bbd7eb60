"""The control plane stays light: importing the CLI, the scheduler, the worker, the embedded
runner, every Ansible module of the collection and the actions they call — and finding which
task types are implemented — never imports numpy, astropy or the science package, even where
they are installed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

COLLECTIONS = Path(__file__).resolve().parents[2] / "collections"
MODULES = sorted(p.stem for p in (COLLECTIONS.parent / "plugins" / "modules").glob("*.py")
                 if p.stem != "__init__")

HEAVY = ("numpy", "astropy", "scipy", "numba", "batman", "transitleastsquares",
         "plato_eas_science")
PROBE = """
import importlib, json, sys
sys.path.insert(0, %r)
for name in %r:
    importlib.import_module('ansible_collections.plato.eas.plugins.modules.' + name)
import plato_eas.actions, plato_eas.cli, plato_eas.scheduling.local_run
import plato_eas.scheduling.scheduler
import plato_eas.worker.worker, plato_eas.chains.submit, plato_eas.tasks.single
from plato_eas.tasks.registry import load_registry
from plato_eas.tasks.availability import missing_implementations
from plato_eas.tasks.api import implementations
implementations()
missing_implementations(load_registry().task_types, load_registry())
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in %r)))
"""


def _probe(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code % (str(COLLECTIONS), MODULES, HEAVY)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_control_plane_never_imports_the_science_stack():
    assert "submit" in MODULES and "local_run" in MODULES  # the probe sees the modules
    assert _probe(PROBE) == []


def test_the_probe_would_see_a_heavy_import():
    assert "numpy" in _probe(PROBE.replace("implementations()\n",
                                           "implementations()\nimport numpy\n", 1))
