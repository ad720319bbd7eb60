"""Fixtures for the science task types: task runs built the way the worker builds them, and
small real light curves synthesised with batman."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("numpy", reason="the science extra is not installed")

from plato_eas.tasks.api import TaskRun  # noqa: E402

from .science_helpers import make_run  # noqa: E402

# A 30-day, 900 s light curve of a planet on a 5-day orbit: Rp/R* = 0.03 with PLATO noise at
# this cadence is MES ~20 (high SNR); radius 0 injects nothing.
HIGH_SNR = {"duration": 30, "sampling_cadence": 900, "planet_radius": 0.03 * 9.728,
            "orbital_period": 5, "semi_major_axis": 0.06, "noise": 0.000315 * 6, "seed": 7}
NO_PLANET = {**HIGH_SNR, "planet_radius": 0.0, "seed": 8}


def _synthesise(directory: Path, name: str, spec: dict) -> Path:
    from plato_eas_science.tasks.synthesis_batman import synthesis_batman

    run = make_run(directory, "synthesis_batman", {"specs": spec}, outputs={"lightcurve": name})
    synthesis_batman(run)
    return run.outputs["lightcurve"]


@pytest.fixture(scope="session")
def lightcurves(tmp_path_factory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("lightcurves")
    return {"planet": _synthesise(directory, "planet.gz", HIGH_SNR),
            "none": _synthesise(directory, "none.fits", NO_PLANET)}


@pytest.fixture
def run_factory(tmp_path):
    def factory(task_type: str, description: dict, inputs=None, outputs=None) -> TaskRun:
        return make_run(tmp_path, task_type, description, inputs=inputs, outputs=outputs)

    return factory
