"""The job-control commands of `eas`: jobs, cancel, empty-queue --job, submit
--allow-existing-job / --priority, reschedule of a cancelled job."""

import json

from job_helpers import null_chain

from plato_eas.cli import main as eas


def _args(settings) -> list[str]:
    return ["--db-path", settings.db_path, "--data-dir", settings.data_dir]


def _chain(tmp_path, chain: dict) -> str:
    path = tmp_path / f"{chain['job_name']}.json"
    path.write_text(json.dumps(chain))
    return str(path)


def test_jobs_cancel_and_resume_from_the_command_line(installed, capsys, tmp_path):
    a = _args(installed)
    assert eas([*a, "submit", _chain(tmp_path, null_chain("grid", 3))]) == 0
    capsys.readouterr()
    assert eas([*a, "submit", "--priority", "4", "--json",
                _chain(tmp_path, null_chain("urgent", 1))]) == 0
    assert json.loads(capsys.readouterr().out)["priority"] == 4
    assert eas([*a, "schedule"]) == 0
    capsys.readouterr()

    assert eas([*a, "cancel", "grid", "--json"]) == 0
    cancelled = json.loads(capsys.readouterr().out)
    assert cancelled["cancelled"] is True and len(cancelled["queued_attempt_ids"]) == 1
    assert eas([*a, "jobs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["Job", "State"] and "Cancelled" in lines[0]
    states = {line.split()[0]: line.split()[1] for line in lines[2:]}
    assert states == {"grid": "cancelled", "urgent": "running"}
    assert eas([*a, "jobs", "--job", "grid", "--csv", str(tmp_path / "jobs.csv")]) == 0
    assert "cancelled" in (tmp_path / "jobs.csv").read_text()
    capsys.readouterr()

    assert eas([*a, "empty-queue", "--job", "urgent", "--json"]) == 0
    # attempt 1: one scheduling pass numbered the urgent job's chain before the grid's
    assert json.loads(capsys.readouterr().out)["per_queue"] == {"execution_chain": [1]}
    assert eas([*a, "reschedule", "--job", "grid", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["resumed"] == ["grid"]


def test_a_taken_job_name_and_an_unknown_job_are_one_line_errors(installed, capsys, tmp_path):
    a = _args(installed)
    chain = _chain(tmp_path, null_chain("once", 1))
    assert eas([*a, "submit", chain]) == 0
    capsys.readouterr()
    assert eas([*a, "submit", chain]) == 1
    err = capsys.readouterr().err
    assert err == ("eas: error: a job named 'once' exists already: give the chain another "
                   "job_name, or allow_existing_job to add it to that job\n")
    assert eas([*a, "submit", "--allow-existing-job", chain]) == 0
    capsys.readouterr()
    assert eas([*a, "cancel", "twice"]) == 1
    assert capsys.readouterr().err == "eas: error: no job named 'twice'; jobs: once\n"
