"""Jobs are first-class: the jobs report (`eas jobs`, plato.eas.jobs_info) and one job name per
submitted chain unless allow_existing_job."""

from __future__ import annotations

import pytest
from job_helpers import job_row, null_chain, queued_job

from plato_eas import actions
from plato_eas.errors import ChainError, JobError


def test_every_job_with_submit_time_counts_times_and_state(installed):
    actions.submit(installed, chain=null_chain("finished", 2))
    actions.local_run(installed, workers=1, job_name="finished", timeout=60)
    queued_job(installed, null_chain("cancelled", 2))
    actions.cancel(installed, "cancelled")
    actions.submit(installed, chain=null_chain("pending", 1))
    rows = actions.report(installed, "jobs")["rows"]
    assert [r["job_name"] for r in rows] == ["pending", "cancelled", "finished"]  # newest first
    by_name = {r["job_name"]: r for r in rows}
    done = by_name["finished"]
    assert (done["state"], done["total"], done["done"], done["cancelled"]) == \
        ("finished", 3, 3, 0)
    assert done["submitted"] and done["first_start"] and done["last_end"]
    assert done["first_start_timestamp"] <= done["last_end_timestamp"]
    stopped = by_name["cancelled"]
    assert (stopped["state"], stopped["done"], stopped["cancelled"]) == ("cancelled", 1, 2)
    waiting = by_name["pending"]
    assert (waiting["state"], waiting["waiting"], waiting["first_start"]) == \
        ("running", 1, None)
    table = actions.report(installed, "jobs")["table"]
    assert "Cancelled" in table.splitlines()[0] and "cancelled" in table


def test_a_second_chain_under_an_existing_job_name_is_refused_unless_allowed(installed):
    first = actions.submit(installed, chain=null_chain("grid", 2))
    assert first["job_exists"] is False
    with pytest.raises(JobError, match="a job named 'grid' exists already.*allow_existing_job"):
        actions.submit(installed, chain=null_chain("grid", 3))
    with pytest.raises(JobError, match="exists already"):
        actions.submit(installed, chain=null_chain("grid", 3), check_mode=True)
    assert actions.submit(installed, chain=null_chain("grid", 3),
                          validate_only=True)["job_exists"] is True
    assert job_row(installed, "grid")["total"] == 1  # the refused chain left nothing
    added = actions.submit(installed, chain=null_chain("grid", 3), allow_existing_job=True)
    assert added["changed"] and added["job_exists"] is True
    assert job_row(installed, "grid")["total"] == 2


def test_the_submit_priority_must_be_in_range(installed):
    with pytest.raises(ChainError, match=r"\$.priority: the priority must be an integer "
                                         "from -5 to 5, not 9"):
        actions.submit(installed, chain=null_chain("p", 1), priority=9)
    with pytest.raises(ChainError, match=r"\$.priority: must be at most 5|\$.priority"):
        actions.submit(installed, chain=null_chain("p", 1, priority=6))
    assert actions.submit(installed, chain=null_chain("p", 1, priority=2))["priority"] == 2
    assert actions.submit(installed, chain=null_chain("q", 1, priority=2),
                          priority=-3)["priority"] == -3
