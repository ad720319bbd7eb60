"""``eas task run``: one task type outside any chain, in a scratch directory, printing its
outputs, metadata and QC."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EAS = [sys.executable, "-c", "import sys; from plato_eas.cli import main; sys.exit(main())"]


def eas(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "EAS_HOME": str(tmp_path / "home")}
    return subprocess.run([*EAS, *args], capture_output=True, text=True, env=env, check=False)


def test_synthesise_then_search_one_light_curve(tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({
        "specs": {"duration": 10, "sampling_cadence": 1800, "orbital_period": 2,
                  "planet_radius": "(constants.Rearth * 5)", "semi_major_axis": 0.03,
                  "noise": "(constants.plato_noise)", "seed": 2},
        "outputs": {"lightcurve": "lc.gz"}}))
    made = eas(tmp_path, "task", "run", "synthesis_batman", "--spec", str(spec),
               "--workdir", str(tmp_path / "scratch"))
    assert made.returncode == 0, made.stderr
    result = json.loads(made.stdout)
    assert result["qc"] == {"lightcurve": True} and result["passed"]
    assert result["metadata"]["planet_radius"] == 0.08911486 * 5
    assert result["file_metadata"]["lightcurve"]["orbital_period"] == 2.0
    lc = Path(result["outputs"]["lightcurve"]["path"])
    assert lc.parent == tmp_path / "scratch" and lc.stat().st_size > 0

    found = eas(tmp_path, "task", "run", "transit_search_bls_reference",
                "--input", f"lightcurve={lc}", "--output", "debugging=d.tar.gz")
    assert found.returncode == 0, found.stderr
    search = json.loads(found.stdout)
    assert search["metadata"]["outcome"] == "PASS" and search["metadata"]["target_period"] == 2
    assert search["qc"] == {"debugging": True}
    assert "best period" in found.stderr  # the task's log is shown


def test_a_type_with_no_implementation_says_so(tmp_path):
    done = eas(tmp_path, "task", "run", "transit_search_exotrans")
    assert done.returncode == 1  # an operator error
    assert done.stderr.strip() == (
        "eas: error: transit_search_exotrans: no implementation installed (container eas-tda)")


def test_bad_arguments_get_one_line(tmp_path):
    done = eas(tmp_path, "task", "run", "verify", "--input", "lightcurve")
    assert done.returncode == 1 and "NAME=PATH" in done.stderr
    assert "Traceback" not in done.stderr
    done = eas(tmp_path, "task", "run", "no_such_type")
    assert done.stderr.strip() == "eas: error: unknown task type 'no_such_type'"
