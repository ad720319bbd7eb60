"""The science task types in the pipeline, end to end on the embedded default: reduced versions
of the prototype's chains (written for these tests) run to completion, searches learn what was
injected from the task database, the pass/fail report has one row per search; task types with
no implementation are refused or fail at expansion with the reason; a search longer than the
heartbeat interval keeps its attempt alive."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.errors import ChainError
from plato_eas.settings import Settings

CHAINS = Path(__file__).parent / "chains"


def chain(name: str) -> dict:
    return json.loads((CHAINS / f"{name}.json").read_text())


def _install(directory: Path) -> Settings:
    settings = Settings(db_path=str(directory / "eas.sqlite"), data_dir=str(directory / "data"))
    actions.init_schema(settings)
    actions.init_queues(settings)
    return settings


@pytest.fixture
def installed(tmp_path) -> Settings:
    return _install(tmp_path)


def attempts(settings: Settings, job: str) -> list[dict]:
    with Database(settings) as db:
        return db.read(lambda tx: tx.rows(
            "SELECT tt.taskTypeName AS type, a.isFinished, a.errorFail, a.errorText "
            "FROM eas_scheduling_attempt a JOIN eas_task t ON t.taskId = a.taskId "
            "JOIN eas_task_types tt ON tt.taskTypeId = t.taskTypeId WHERE t.jobName = ?",
            (job,)))


def outcomes(settings: Settings, job: str) -> dict[str, list]:
    """task type -> [(input metadata row, outcome)] from the pass/fail report."""
    rows = actions.report(settings, "pass_fail", job_name=job)["rows"]
    out: dict[str, list] = {}
    for row in sorted(rows, key=lambda r: (r["metadata"].get("size_index", 0), r["attempt_id"])):
        out.setdefault(row["task_type"], []).append((row["metadata"], row["outcome"]))
    return out


def run_job(settings: Settings, name: str, timeout: float = 240) -> dict:
    actions.submit(settings, chain=chain(name))
    result = actions.local_run(settings, workers=2, job_name=name, timeout=timeout)
    rows = attempts(settings, name)
    failures = [r for r in rows if r["errorFail"]]
    assert not failures, failures
    assert result["finished"] and all(r["isFinished"] for r in rows), result["table"]
    return result


@pytest.fixture(scope="module")
def detection_grid(tmp_path_factory) -> Settings:
    """The reduced detection grid, run once for the tests that read its results."""
    settings = _install(tmp_path_factory.mktemp("detection_grid"))
    run_job(settings, "detection_grid")
    return settings


def test_detection_grid_runs_and_tabulates_detection(detection_grid):
    table = outcomes(detection_grid, "detection_grid")
    assert sorted(table) == ["transit_search_bls_kovacs", "transit_search_bls_reference",
                             "transit_search_tls"]
    for task_type, rows in table.items():
        # one row per search: size 0 is not found, 4 Earth radii is
        assert [outcome for _, outcome in rows] == [0, 1], (task_type, rows)


def test_searches_learn_the_injected_period_from_the_database(detection_grid):
    with Database(detection_grid) as db:
        periods = db.read(lambda tx: tx.tuples(
            "SELECT i.valueFloat FROM eas_metadata_item i "
            "JOIN eas_metadata_keys k ON k.keyId = i.metadataKey "
            "WHERE i.productVersionId IS NOT NULL AND k.name = 'orbital_period'"))
        targets = db.read(lambda tx: tx.tuples(
            "SELECT i.valueFloat FROM eas_metadata_item i "
            "JOIN eas_metadata_keys k ON k.keyId = i.metadataKey "
            "WHERE i.schedulingAttemptId IS NOT NULL AND k.name = 'target_period'"))
    assert periods == [(2.0,)] * 6  # every synthesised light curve's file version
    assert targets == [(2.0,)] * 6  # every search judged against it


def test_qats_chain_on_psls_light_curves(installed):
    # the prototype's qats_test, reduced: PSLS light curves (12 days, 6 cameras), QATS search
    run_job(installed, "qats")
    rows = outcomes(installed, "qats")["transit_search_qats"]
    assert [outcome for _, outcome in rows] == [0, 1], rows
    assert sorted(p.name for p in Path(installed.output_dir, "qats").glob("*.tar.gz")) == [
        "qats_0_0.tar.gz", "qats_0_1.tar.gz"]


def test_christiansen_style_chain_injects_by_multiplying(installed):
    run_job(installed, "christiansen")
    rows = outcomes(installed, "christiansen")["transit_search_tls"]
    assert len(rows) == 2 and all(outcome == 1 for _, outcome in rows), rows


def test_loops_and_conditions_follow_search_outcomes(installed):
    run_job(installed, "if_then_else")
    table = outcomes(installed, "if_then_else")
    # the do-while loop repeated while its search passed, up to two iterations
    assert [o for _, o in table["transit_search_bls_reference"]] == [1, 1]
    assert [o for _, o in table["transit_search_bls_kovacs"]] == [1]
    tree = actions.report(installed, "job_tree", job_name="if_then_else")["table"]
    assert "conditional_true" in tree and "conditional_false" not in tree
    debugging = sorted(p.name for p in Path(installed.output_dir, "if_then_else").glob("*.tar.gz"))
    assert debugging == ["search_1.tar.gz", "search_2.tar.gz"]


def test_unimplemented_literal_type_is_refused_at_submit(installed):
    bad = chain("dst")
    bad["task_list"][0]["task_list"][1]["task"] = "transit_search_dst_v26"
    with pytest.raises(ChainError, match=r"transit_search_dst_v26: no implementation "
                                         r"installed \(container eas-tda\)"):
        actions.submit(installed, chain=bad)
    with pytest.raises(ChainError, match="transit_search_dst_v26: no implementation"):
        actions.submit(installed, chain=bad, validate_only=True)
    with Database(installed) as db:
        assert db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM eas_task")) == 0


def test_allow_unimplemented_submits_and_local_run_says_it_cannot_run(installed):
    chain_ = {"job_name": "elsewhere", "task_list": [{"task": "transit_search_dst_v26"}]}
    assert actions.submit(installed, chain=chain_, allow_unimplemented=True)["changed"]
    result = actions.local_run(installed, workers=1, job_name="elsewhere", timeout=60)
    assert not result["finished"] and not result["timed_out"]
    assert result["unrunnable"] == [
        "transit_search_dst_v26: no implementation installed (container eas-tda)"]


def test_unimplemented_expression_type_fails_its_task_at_expansion(installed):
    actions.submit(installed, chain=chain("dst"))
    result = actions.local_run(installed, workers=1, job_name="dst", timeout=60)
    assert result["failed"] == 1
    errors = actions.report(installed, "errors", job_name="dst")["table"]
    assert "transit_search_dst_v26: no implementation installed (container eas-tda)" in errors


def test_a_search_longer_than_the_heartbeat_interval_keeps_its_attempt(installed):
    # max age 1 s: the worker beats every 0.25 s, the scheduler declares stalled after 1 s
    quick = installed.replace(max_heartbeat_age=1.0)
    slow = {"job_name": "slow", "task_list": [
        {"task": "synthesis_batman", "outputs": {"lightcurve": "slow.gz"},
         "specs": {"duration": 30, "sampling_cadence": 300, "planet_radius": 0.3,
                   "orbital_period": 3, "semi_major_axis": 0.04, "noise": 0.000315, "seed": 1}},
        {"task": "transit_search_bls_kovacs", "inputs": {"lightcurve": "slow.gz"},
         "lc_duration": 30, "search_settings": {"duration_min": 0.02}}]}
    actions.submit(quick, chain=slow)
    result = actions.local_run(quick, workers=1, job_name="slow", timeout=300)
    assert result["finished"], result["table"]
    with Database(quick) as db:
        rows = db.read(lambda tx: tx.rows(
            "SELECT a.runTimeWallClock, a.errorFail FROM eas_scheduling_attempt a "
            "JOIN eas_task t ON t.taskId = a.taskId JOIN eas_task_types tt "
            "ON tt.taskTypeId = t.taskTypeId WHERE tt.taskTypeName = ?",
            ("transit_search_bls_kovacs",)))
    assert len(rows) == 1 and not rows[0]["errorFail"]  # one attempt: no stall, no re-run
    assert rows[0]["runTimeWallClock"] > 2.0  # it really outlived the heartbeat age


def test_non_finite_metadata_is_recorded_as_null(installed):
    # A prototype light curve whose metadata holds NaN and infinity (the prototype wrote them):
    # ingested through a chain, the task succeeds and those items are stored as null, with a
    # warning in the attempt's log; the task database keeps finite numbers only.
    folder = installed.input_dir / "proto"
    folder.mkdir(parents=True)
    with gzip.open(folder / "odd.gz", "wt") as fh:
        fh.writelines(f"{900 * i} {1 + 1e-4 * (i % 3)} 0 0.0001\n" for i in range(40))
    (folder / "odd.gz.metadata.cfg").write_text(
        "[metadata]\nmes = nan\nsnr = inf\norbital_period = 5.0\n")
    job = {"job_name": "odd", "task_list": [{
        "task": "ingest_external_lcs", "lc_type": "prototype", "input_path": "proto/odd.gz",
        "outputs": {"lightcurve": "odd.fits"}}]}
    actions.submit(installed, chain=job)
    result = actions.local_run(installed, workers=1, job_name="odd", timeout=120)
    assert result["finished"], [r["errorText"] for r in attempts(installed, "odd")]
    with Database(installed) as db:
        items = dict(db.read(lambda tx: tx.tuples(
            "SELECT k.name, COALESCE(i.valueFloat, i.valueString) FROM eas_metadata_item i "
            "JOIN eas_metadata_keys k ON k.keyId = i.metadataKey "
            "WHERE i.productVersionId IS NOT NULL")))
        logs = [m for (m,) in db.read(lambda tx: tx.tuples(
            "SELECT message FROM eas_log_messages WHERE severity = 30"))]
    assert items == {"mes": None, "snr": None, "orbital_period": 5.0, "source_file": "odd.gz"}
    assert any("mes" in m and "snr" in m and "null" in m for m in logs), logs
