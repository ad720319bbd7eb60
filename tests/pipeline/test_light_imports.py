"""The control plane stays light: importing the CLI, the scheduler, the worker, the embedded
runner and the actions the Ansible modules call — and finding which task types are
implemented — never imports numpy, astropy or the science package, even where they are
installed."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("numpy", "astropy", "scipy", "numba", "batman", "transitleastsquares",
         "plato_eas_science")
PROBE = """
import json, sys
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


def test_control_plane_never_imports_the_science_stack():
    done = subprocess.run([sys.executable, "-c", PROBE % (HEAVY,)], capture_output=True,
                          text=True, check=True)
    assert json.loads(done.stdout) == []


def test_the_probe_would_see_a_heavy_import():
    probe = PROBE.replace("implementations()\n", "implementations()\nimport numpy\n", 1)
    done = subprocess.run([sys.executable, "-c", probe % (HEAVY,)], capture_output=True,
                          text=True, check=True)
    assert "numpy" in json.loads(done.stdout)
