"""verify, multiply, binning and ingest_external_lcs on small real light curves."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from plato_eas_science.formats import read_lightcurve, write_lightcurve
from plato_eas_science.lightcurve import FLAG_NOT_COVERED, LightCurve
from plato_eas_science.taskkit import TaskInputError
from plato_eas_science.tasks.binning import binning
from plato_eas_science.tasks.ingest import ingest_external_lcs
from plato_eas_science.tasks.multiply import multiply
from plato_eas_science.tasks.verify import verify

from .test_formats import PROTOTYPE_METADATA, PROTOTYPE_ROWS


def test_verify_records_the_light_curve(run_factory, lightcurves):
    out = verify(run_factory("verify", {}, inputs={"lightcurve": lightcurves["planet"]}))
    assert out["verification"] is True
    assert out["verification_time_min"] == 0.0
    assert out["verification_time_max"] == pytest.approx(30 - 900 / 86400)
    assert out["verification_flux_min"] < 0.9995 < out["verification_flux_max"]


def test_verify_refuses_nans(run_factory, tmp_path):
    lc = LightCurve(np.arange(50) * 0.01, np.ones(50))
    lc.fluxes[[3, 9]] = np.nan
    write_lightcurve(lc, tmp_path / "nan.fits")
    with pytest.raises(TaskInputError, match="non-finite values .2 in fluxes"):
        verify(run_factory("verify", {}, inputs={"lightcurve": "nan.fits"}))


def test_verify_sees_a_gap(run_factory, tmp_path):
    times = np.delete(np.arange(100) * 0.01, [40, 41, 42])
    write_lightcurve(LightCurve(times, np.ones(times.size)), tmp_path / "gap.fits")
    out = verify(run_factory("verify", {}, inputs={"lightcurve": "gap.fits"}))
    assert out["verification"] is False


def test_multiply_by_unity_conserves_the_light_curve(run_factory, lightcurves, tmp_path):
    planet = read_lightcurve(lightcurves["planet"])
    write_lightcurve(LightCurve(planet.times, np.ones(len(planet)), metadata={"mode": "flat"}),
                     tmp_path / "flat.fits")
    run = run_factory("multiply", {}, inputs={"lightcurve_1": lightcurves["planet"],
                                              "lightcurve_2": "flat.fits"},
                      outputs={"lightcurve": "out.gz"})
    metadata = multiply(run)
    out = read_lightcurve(run.outputs["lightcurve"])
    assert np.array_equal(out.times, planet.times)
    assert np.allclose(out.fluxes, planet.fluxes, rtol=0, atol=1e-15)
    assert np.allclose(out.uncertainties, planet.uncertainties)
    assert metadata["orbital_period"] == 5 and metadata["mode"] == "flat"  # both kept


def test_multiply_resamples_conserving_flux(run_factory, tmp_path):
    first = LightCurve(np.arange(0, 10, 0.1), np.full(100, 2.0))
    fine_times = np.arange(-0.5, 9.5, 0.01)  # finer, and ends before the first does
    second = LightCurve(fine_times, 1 + 0.1 * np.sin(2 * np.pi * fine_times))
    write_lightcurve(first, tmp_path / "a.fits")
    write_lightcurve(second, tmp_path / "b.fits")
    run = run_factory("multiply", {}, inputs={"lightcurve_1": "a.fits", "lightcurve_2": "b.fits"},
                      outputs={"lightcurve": "ab.fits"})
    multiply(run)
    out = read_lightcurve(run.outputs["lightcurve"])
    assert len(out) == 100
    covered = (out.flags & FLAG_NOT_COVERED) == 0
    assert covered.sum() >= 94 and not covered[-1]  # the tail beyond 9.5 d is flagged
    assert np.array_equal(out.fluxes[~covered], first.fluxes[~covered])
    # whole periods of the sine average to 1: the mean flux over 9 days is conserved
    assert out.fluxes[:90].mean() == pytest.approx(2.0, abs=2e-3)


def test_binning_conserves_flux_and_span(run_factory, lightcurves):
    run = run_factory("binning", {"cadence": 3600}, inputs={"lightcurve": lightcurves["planet"]},
                      outputs={"lightcurve": "binned.fits"})
    assert binning(run) == {"sampling_cadence": 3600.0, "samples": 720}
    src = read_lightcurve(lightcurves["planet"])
    out = read_lightcurve(run.outputs["lightcurve"])
    assert len(out) == 720  # 4 samples of 900 s per hour
    assert out.fluxes.sum() * 4 == pytest.approx(src.fluxes.sum(), rel=1e-12)
    assert out.uncertainties[0] == pytest.approx(src.uncertainties[0] / 2)  # mean of 4
    assert out.times[0] == pytest.approx(1800 / 86400) and out.times[-1] < 30
    assert out.metadata["sampling_cadence"] == 3600 and out.metadata["orbital_period"] == 5


def test_binning_needs_a_cadence(run_factory, lightcurves):
    run = run_factory("binning", {}, inputs={"lightcurve": lightcurves["planet"]},
                      outputs={"lightcurve": "binned.fits"})
    with pytest.raises(TaskInputError, match="cadence"):
        binning(run)


def _input_dir(tmp_path):
    root = tmp_path / "input" / "old"
    root.mkdir(parents=True)
    with gzip.open(root / "demo_superearth.gz", "wt") as fh:
        fh.write(PROTOTYPE_ROWS)
    (root / "demo_superearth.gz.metadata.cfg").write_text(PROTOTYPE_METADATA)
    (root / "plato_bright_1.csv").write_text("# #Teff = 5600\n0.0,1.0,0\n0.5,0.99,1\n")
    return tmp_path / "input"


def test_ingest_reads_a_prototype_format_file(run_factory, tmp_path):
    run = run_factory("ingest_external_lcs", {"lc_type": "prototype", "input_path": "old/*.gz"},
                      outputs={"lightcurve": "ingested.fits"})
    run.input_dir = _input_dir(tmp_path)
    assert ingest_external_lcs(run) == {"ingested_count": 1, "ingested_files": ["ingested.fits"]}
    lc = read_lightcurve(run.outputs["lightcurve"])
    assert len(lc) == 5 and lc.metadata["orbital_period"] == 50
    assert lc.metadata["source_file"] == "demo_superearth.gz"


def test_ingest_converts_every_lcsg_match(run_factory, tmp_path):
    run = run_factory("ingest_external_lcs", {"lc_type": "lcsg", "input_path": "old/plato_*"})
    run.input_dir = _input_dir(tmp_path)
    assert ingest_external_lcs(run)["ingested_files"] == ["plato_bright_1.csv.fits"]
    assert read_lightcurve(tmp_path / "plato_bright_1.csv.fits").metadata["Teff"] == 5600


@pytest.mark.parametrize("pattern", ["../*", "/etc/*", "old/../../*"])
def test_ingest_stays_inside_the_input_directory(run_factory, tmp_path, pattern):
    run = run_factory("ingest_external_lcs", {"lc_type": "lcsg", "input_path": pattern})
    run.input_dir = _input_dir(tmp_path)
    with pytest.raises(TaskInputError, match="inside the input data directory"):
        ingest_external_lcs(run)


def test_ingest_with_no_match_says_so(run_factory, tmp_path):
    run = run_factory("ingest_external_lcs", {"input_path": "nothing*"})
    run.input_dir = _input_dir(tmp_path)
    with pytest.raises(TaskInputError, match="no file matches"):
        ingest_external_lcs(run)
