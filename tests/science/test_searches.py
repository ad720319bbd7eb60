"""The four transit searches recover a batman planet at its period within 3 % at high SNR and
do not at zero planet radius; our Kovács BLS agrees with astropy's on the same grid."""

from __future__ import annotations

import json
import tarfile

import numpy as np
import pytest

from plato_eas_science.formats import read_lightcurve
from plato_eas_science.search import bls_kovacs, bls_reference
from plato_eas_science.search.result import SearchGrid
from plato_eas_science.taskkit import TaskInputError, threads
from plato_eas_science.tasks import transit_search

SEARCHES = {
    "transit_search_bls_reference": transit_search.transit_search_bls_reference,
    "transit_search_bls_kovacs": transit_search.transit_search_bls_kovacs,
    "transit_search_tls": transit_search.transit_search_tls,
    "transit_search_qats": transit_search.transit_search_qats,
}


def _search(run_factory, lightcurves, task_type, which, **extra):
    run = run_factory(task_type, {"lc_duration": 30, **extra},
                      inputs={"lightcurve": lightcurves[which]})
    task = SEARCHES[task_type]
    metadata = task(run)
    verdicts, qc_metadata = task.qc(run, metadata)
    return metadata, verdicts, qc_metadata


@pytest.mark.parametrize("task_type", sorted(SEARCHES))
def test_search_recovers_the_injected_planet(run_factory, lightcurves, task_type):
    metadata, verdicts, qc = _search(run_factory, lightcurves, task_type, "planet")
    assert abs(metadata["period"] / 5.0 - 1) < 0.03, metadata
    assert qc == {"outcome": "PASS", "target_period": 5.0}
    assert metadata["depth"] > 0 and 0 < metadata["duration"] < 0.5
    assert metadata["mes"] > 10  # the injected strength travels with the result
    assert verdicts == {}


@pytest.mark.parametrize("task_type", sorted(SEARCHES))
def test_search_finds_nothing_at_zero_radius(run_factory, lightcurves, task_type):
    metadata, _, qc = _search(run_factory, lightcurves, task_type, "none")
    assert qc["outcome"] == "FAIL", metadata
    assert qc["target_period"] == 5.0


def test_tls_reports_sde_and_transit_count(run_factory, lightcurves):
    metadata, _, _ = _search(run_factory, lightcurves, "transit_search_tls", "planet")
    assert metadata["sde"] > 9
    assert metadata["transit_count"] >= 5


def test_qats_reports_its_transit_sequence(run_factory, lightcurves):
    metadata, _, _ = _search(run_factory, lightcurves, "transit_search_qats", "planet")
    # six transits of the 5-day planet in 30 days, the first at t0 = 1 d
    assert metadata["transit_count"] == 6 and metadata["period_span"] == 5
    assert abs(metadata["first_transit"] - 1.0) < 0.05
    assert abs(metadata["last_transit"] - 26.0) < 0.05
    assert metadata["snr"] > 10


def test_qats_refuses_a_window_width_outside_zero_to_one(run_factory, lightcurves):
    run = run_factory("transit_search_qats",
                      {"lc_duration": 30, "search_settings": {"max_ttv_mag": 1.5}},
                      inputs={"lightcurve": lightcurves["planet"]})
    with pytest.raises(TaskInputError, match="max_ttv_mag must lie between 0 and 1"):
        transit_search.transit_search_qats(run)
    # a setting of QATS's own is not accepted by the other searches
    run = run_factory("transit_search_bls_kovacs",
                      {"lc_duration": 30, "search_settings": {"max_ttv_mag": 0.1}},
                      inputs={"lightcurve": lightcurves["planet"]})
    with pytest.raises(TaskInputError, match="unknown search_settings key"):
        transit_search.transit_search_bls_kovacs(run)


def test_kovacs_agrees_with_astropy_on_one_grid(lightcurves):
    lc = read_lightcurve(lightcurves["planet"])
    grid = SearchGrid(period_min=1.0, period_max=12.0)
    ours = bls_kovacs.search(lc, grid)
    reference = bls_reference.search(lc, grid)
    assert np.array_equal(ours.periods, reference.periods)  # the same trial periods
    assert abs(ours.period / reference.period - 1) < 1e-3
    assert abs(ours.depth / reference.depth - 1) < 0.25
    # the periodograms rise and fall together
    assert np.corrcoef(ours.powers, reference.powers)[0, 1] > 0.8
    top_ours = set(np.argsort(ours.powers)[-20:])
    top_reference = set(np.argsort(reference.powers)[-20:])
    assert len(top_ours & top_reference) >= 10


def test_debugging_output_holds_periodogram_and_result(run_factory, lightcurves, tmp_path):
    run = run_factory("transit_search_bls_reference", {"lc_duration": 30},
                      inputs={"lightcurve": lightcurves["planet"]},
                      outputs={"debugging": "search.tar.gz"})
    metadata = transit_search.transit_search_bls_reference(run)
    verdicts, _ = transit_search.transit_search_bls_reference.qc(run, metadata)
    assert verdicts == {"debugging": True}
    with tarfile.open(run.outputs["debugging"]) as tar:
        assert sorted(tar.getnames()) == ["periodogram.ecsv", "result.json"]
        result = json.load(tar.extractfile("result.json"))
        periodogram = tar.extractfile("periodogram.ecsv").read().decode()
    assert result["period"] == metadata["period"]
    assert "unit: d" in periodogram


def test_lc_duration_limits_the_search(run_factory, lightcurves):
    run = run_factory("transit_search_bls_reference", {"lc_duration": 8},
                      inputs={"lightcurve": lightcurves["planet"]})
    with pytest.raises(TaskInputError, match="no periods to search"):
        # 8 days of data: the longest period is 4 d, below a period_min of 5 d
        run.description["search_settings"] = {"period_min": 5}
        transit_search.transit_search_bls_reference(run)


def test_unknown_search_setting_is_refused(run_factory, lightcurves):
    run = run_factory("transit_search_bls_kovacs",
                      {"lc_duration": 30, "search_settings": {"period_minimum": 2}},
                      inputs={"lightcurve": lightcurves["planet"]})
    with pytest.raises(TaskInputError, match="unknown search_settings key"):
        transit_search.transit_search_bls_kovacs(run)


def test_threads_never_exceed_the_cpus_assigned(run_factory):
    run = run_factory("transit_search_tls", {})
    run.cpus = 1
    assert threads(run) == 1
    run.cpus = 64
    assert threads(run) <= 64 and threads(run) == len(__import__("os").sched_getaffinity(0))
