"""The embedded run (scheduling/local_run.py) through its action: what check mode reports
without running anything, and why a run that ended did not succeed (real SQLite, real worker
processes)."""

from __future__ import annotations

from pipeline_helpers import chain

from plato_eas import actions


def test_local_run_check_mode_runs_nothing_and_counts_the_work_left(installed):
    actions.submit(installed, chain=chain("null_parallel"))
    preview = actions.local_run(installed, workers=3, job_name="null_parallel",
                                check_mode=True)
    assert preview["changed"] is True
    assert preview["msg"] == "would run 3 worker(s) for 1 unfinished task(s)"
    assert actions.report(installed, "progress")["total"]["done"] == 0  # nothing ran
    actions.local_run(installed, workers=1, job_name="null_parallel", timeout=60)
    after = actions.local_run(installed, job_name="null_parallel", check_mode=True)
    assert after["changed"] is False and "for 0 unfinished" in after["msg"]


def test_local_run_says_why_it_did_not_succeed(installed):
    actions.submit(installed, chain=chain("failing"))
    result = actions.local_run(installed, workers=1, job_name="failing", timeout=60)
    assert result["failure"] == "1 task(s) failed; see plato.eas.errors_info"
    actions.submit(installed, chain=chain("null_parallel"))
    result = actions.local_run(installed, workers=1, job_name="null_parallel", timeout=0.01)
    assert result["timed_out"] and result["failure"] == "timed out after 0.01 s with work left"
