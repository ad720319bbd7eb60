"""On a node installed without the ``science`` extra, the science task types — declared by
this distribution's entry points with the ``[science]`` marker — are reported as not
implemented: submit refuses them with the reason, ``eas task run`` says so, and nothing tries
to import numpy.

The environment is real: a new virtual environment holding this distribution and the closure
of its base requirements only (taken from the test environment's own installed files), so its
metadata says what ``pip install .`` without extras would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from importlib.metadata import distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement

SCIENCE_TYPES = ["binning", "ingest_external_lcs", "multiply", "synthesis_batman",
                 "synthesis_psls", "transit_search_bls_kovacs", "transit_search_bls_reference",
                 "transit_search_qats", "transit_search_tls", "verify"]


def _closure(name: str) -> list:
    """The distribution ``name`` and everything its base (no extra) requirements pull in."""
    seen: dict[str, object] = {}
    todo = [name]
    while todo:
        dist = distribution(todo.pop())
        key = dist.metadata["Name"].lower().replace("_", "-")
        if key in seen:
            continue
        seen[key] = dist
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return list(seen.values())


@pytest.fixture(scope="module")
def light_python(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("no-science")
    venv.EnvBuilder(with_pip=False).create(root / "venv")
    python = root / "venv" / "bin" / "python"
    site = Path(subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip())
    for dist in _closure("plato-eas"):
        here = Path(dist.locate_file(""))
        for top in {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}:
            if not (site / top).exists() and (here / top).exists():
                (site / top).symlink_to(here / top)
    return python


def _run(python: Path, tmp_path: Path, *code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EAS_", "PYTHON"))}
    env["EAS_HOME"] = str(tmp_path / "home")
    return subprocess.run([python, *code], capture_output=True, text=True, env=env,
                          cwd=tmp_path, check=False)


def _eas(python: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return _run(python, tmp_path, "-c",
                "import sys; from plato_eas.cli import main; sys.exit(main())", *args)


def test_the_environment_really_lacks_the_extra(light_python, tmp_path):
    done = _run(light_python, tmp_path, "-c", "import numpy")
    assert done.returncode == 1 and "No module named 'numpy'" in done.stderr
    # ... while the test environment has it: the difference is the extra
    assert subprocess.run([sys.executable, "-c", "import numpy"], check=False).returncode == 0


def test_science_types_are_not_implemented_without_the_extra(light_python, tmp_path):
    probe = ("import json; from importlib.metadata import entry_points; "
             "from plato_eas.tasks.api import implementations; "
             "print(json.dumps([sorted(implementations()), "
             "sorted(e.name for e in entry_points(group='plato_eas.tasks'))]))")
    done = _run(light_python, tmp_path, "-c", probe)
    assert done.returncode == 0, done.stderr
    implemented, declared = json.loads(done.stdout)
    assert implemented == ["error", "null"]
    assert declared == sorted(["error", "null", *SCIENCE_TYPES])  # declared, not installed


def test_submit_and_task_run_say_so(light_python, tmp_path):
    assert _eas(light_python, tmp_path, "init").returncode == 0
    chain = tmp_path / "chain.json"
    chain.write_text(json.dumps({"job_name": "lc", "task_list": [
        {"task": "synthesis_batman", "outputs": {"lightcurve": "lc.gz"}},
        {"task": "verify", "inputs": {"lightcurve": "lc.gz"}}]}))
    done = _eas(light_python, tmp_path, "submit", "--validate-only", str(chain))
    assert done.returncode == 1  # an operator error
    assert "synthesis_batman: no implementation installed (container eas-synthesis)" in done.stderr
    assert "verify: no implementation installed (container eas-base, eas-synthesis, " \
           "eas-tda)" in done.stderr
    assert "Traceback" not in done.stderr

    done = _eas(light_python, tmp_path, "task", "run", "transit_search_tls")
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "eas: error: transit_search_tls: no implementation installed (container eas-tda)")

    # an operator may still submit it for workers that have the extra; run says it cannot
    assert _eas(light_python, tmp_path, "queues").returncode == 0
    assert _eas(light_python, tmp_path, "submit", "--allow-unimplemented",
                str(chain)).returncode == 0
    done = _eas(light_python, tmp_path, "run", "--workers", "1", "--job", "lc",
                "--timeout", "60")
    assert done.returncode == 1
    assert ("stopped: queued work cannot run here: synthesis_batman: no implementation "
            "installed (container eas-synthesis)") in done.stdout
