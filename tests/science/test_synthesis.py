"""synthesis_batman and synthesis_psls write finite light curves of the expected length that
record what was injected; their QC catches a light curve that does not."""

from __future__ import annotations

import numpy as np
import pytest

from plato_eas_science.formats import read_lightcurve, write_lightcurve
from plato_eas_science.taskkit import TaskInputError
from plato_eas_science.tasks.synthesis_batman import synthesis_batman
from plato_eas_science.tasks.synthesis_psls import synthesis_psls

from .conftest import HIGH_SNR


def test_batman_light_curve_and_qc(run_factory):
    run = run_factory("synthesis_batman", {"specs": HIGH_SNR}, outputs={"lightcurve": "lc.gz"})
    metadata = synthesis_batman(run)
    lc = read_lightcurve(run.outputs["lightcurve"])
    assert len(lc) == 30 * 96
    assert lc.metadata["orbital_period"] == 5 and lc.metadata["mes"] == metadata["mes"] > 10
    # the transit: about 0.1 d per 5 d in transit, ~0.1 % deep
    assert 40 < metadata["pixels_in_transit"] < 120
    assert synthesis_batman.qc(run, metadata) == ({"lightcurve": True}, {})


def test_batman_is_reproducible_with_a_seed(run_factory):
    a = run_factory("synthesis_batman", {"specs": HIGH_SNR}, outputs={"lightcurve": "a.fits"})
    b = run_factory("synthesis_batman", {"specs": HIGH_SNR}, outputs={"lightcurve": "b.fits"})
    synthesis_batman(a)
    synthesis_batman(b)
    assert np.array_equal(read_lightcurve(a.outputs["lightcurve"]).fluxes,
                          read_lightcurve(b.outputs["lightcurve"]).fluxes)


def test_batman_qc_fails_a_light_curve_with_nans(run_factory):
    run = run_factory("synthesis_batman", {"specs": HIGH_SNR}, outputs={"lightcurve": "lc.fits"})
    metadata = synthesis_batman(run)
    lc = read_lightcurve(run.outputs["lightcurve"])
    lc.fluxes[10] = np.nan
    del lc.metadata["orbital_period"]
    write_lightcurve(lc, run.outputs["lightcurve"])
    assert synthesis_batman.qc(run, metadata) == ({"lightcurve": False}, {})


@pytest.mark.parametrize("specs, message", [
    ({"planet_radius": "big"}, "planet_radius must be a float"),
    ({"orbital_perod": 5}, "unknown specs key"),
    ({"impact_parameter": 2, "semi_major_axis": 0.001}, "impact_parameter"),
    ({"orbital_period": 0}, "orbital_period must be positive"),
])
def test_batman_refuses_bad_specs(run_factory, specs, message):
    run = run_factory("synthesis_batman", {"specs": {**HIGH_SNR, **specs}},
                      outputs={"lightcurve": "lc.fits"})
    with pytest.raises(TaskInputError, match=message):
        synthesis_batman(run)


def test_psls_runs_offline_and_injects_the_planet(run_factory):
    specs = {"duration": 10, "sampling_cadence": 900, "planet_radius": 0.5,
             "orbital_period": 3, "semi_major_axis": 0.04, "t0": 1.0, "seed": 5,
             "number_camera_groups": 1, "number_cameras_per_group": 2}
    run = run_factory("synthesis_psls", {"specs": specs}, outputs={"lightcurve": "psls.gz"})
    metadata = synthesis_psls(run)
    lc = read_lightcurve(run.outputs["lightcurve"])
    assert len(lc) == 960 and not lc.non_finite()
    assert metadata["mes"] > 0 and metadata["pixels_in_transit"] > 0
    in_transit = np.abs(((lc.times - 1.0 + 1.5) % 3.0) - 1.5) < 0.02
    # (0.5 R_jup / 1 R_sun)**2: 0.26 % deep
    assert lc.fluxes[in_transit].mean() < lc.fluxes[~in_transit].mean() - 0.002
    assert synthesis_psls.qc(run, metadata) == ({"lightcurve": True}, {})


def test_psls_refuses_what_needs_data_it_does_not_ship(run_factory):
    run = run_factory("synthesis_psls", {"specs": {"enable_systematics": 1}},
                      outputs={"lightcurve": "psls.gz"})
    with pytest.raises(TaskInputError, match="systematics tables"):
        synthesis_psls(run)


@pytest.mark.parametrize("task, specs", [
    (synthesis_batman, {"duration": -1}),
    (synthesis_psls, {"sampling_cadence": 30}),
])
def test_a_synthesis_with_nowhere_to_write_is_refused_before_any_work(run_factory, task, specs):
    # e.g. a task adopted from a prototype database without its products: refused at once
    # rather than after synthesising (PSLS's defaults are 730 days at 25 s from 24 cameras),
    # so the refusal names the output, not a problem found on the way
    run = run_factory(task.__name__, {"specs": specs})
    with pytest.raises(TaskInputError, match=f"{task.__name__} needs an output 'lightcurve'"):
        task(run)
