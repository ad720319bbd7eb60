"""The command line itself: global options anywhere, --version, refused values, help text for
every option, the report names, no markup in --help, --csv -, --json, closed pipes."""

from __future__ import annotations

import argparse
import json
import re
import subprocess

import pytest
from cli_helpers import EAS, eas, eas_here, settings_args
from job_helpers import null_chain, queued_job
from pipeline_helpers import CHAINS

from plato_eas.cli.parser import build_parser, package_version
from plato_eas.reports import REPORTS


def _parsers(parser: argparse.ArgumentParser, path: str = "eas"):
    """Every parser of the command line with its command path (eas, eas report progress...)."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, f"{path} {name}")


@pytest.fixture
def ran(installed, capsys):
    """A finished job and a failed one."""
    assert eas_here(capsys, installed, "submit", str(CHAINS / "null_parallel.json"))[0] == 0
    assert eas_here(capsys, installed, "submit", str(CHAINS / "failing.json"))[0] == 0
    eas_here(capsys, installed, "run", "--workers", "2")
    return installed


def test_settings_options_work_after_the_command_too(ran, tmp_path):
    config = tmp_path / "eas.yml"
    config.write_text(f"db_path: {ran.db_path}\ndata_dir: {ran.data_dir}\n")
    after = subprocess.run([*EAS, "report", "progress", "--config-file", str(config)],
                           capture_output=True, text=True)
    before = subprocess.run([*EAS, "--config-file", str(config), "report", "progress"],
                            capture_output=True, text=True)
    assert after.returncode == 0, after.stderr
    assert after.stdout == before.stdout and "null" in after.stdout
    mixed = subprocess.run([*EAS, "--db-path", "/nowhere/x.sqlite", "report", "jobs",
                            "--db-path", ran.db_path, "-v", "--json"],
                           capture_output=True, text=True)
    assert mixed.returncode == 0, mixed.stderr  # the later one wins
    assert {r["job_name"] for r in json.loads(mixed.stdout)["rows"]} >= {"null_parallel"}


def test_version():
    done = subprocess.run([*EAS, "--version"], capture_output=True, text=True)
    assert done.returncode == 0
    assert done.stdout == f"eas (plato-eas) {package_version()}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", package_version())


@pytest.mark.parametrize("workers", ["0", "-3", "two"])
def test_workers_below_one_are_refused(installed, workers):
    done = eas(installed, "run", "--workers", workers)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines()[-1].startswith("eas run: error: argument --workers: ")


def test_every_option_has_help_and_no_help_has_markup():
    seen = 0
    for path, parser in _parsers(build_parser()):
        for action in parser._actions:
            if action.help == argparse.SUPPRESS:
                continue  # the settings options after a command: `eas --help` has them
            assert action.help and action.help.strip(), (path, action.option_strings)
            seen += 1
        text = parser.format_help()
        assert not re.search(r"``|:(func|class|mod|meth):|`|§|SPEC", text), (path, text)
    assert seen > 100


def test_report_names_are_listed():
    top = build_parser().format_help()
    report = dict(_parsers(build_parser()))["eas report"].format_help()
    for name, spec in REPORTS.items():
        assert name in top
        assert re.search(rf"^  {name} +{re.escape(spec.about)}$", report, re.M), name


def test_csv_dash_writes_the_csv_to_standard_output_and_no_file(ran, tmp_path):
    done = subprocess.run([*EAS, *settings_args(ran), "report", "progress", "--csv", "-"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.splitlines()[0].startswith("task_type,total,waiting,waiting_pct")
    assert done.stdout.splitlines()[-1].startswith("Total,")
    assert not (tmp_path / "-").exists()
    logs = eas(ran, "logs", "--min-severity", "error", "--csv", "-")
    assert logs.stdout.startswith("time,job_name,task_type,task_id,attempt_id,level,message\n")


def test_every_report_and_action_prints_json(ran, tmp_path, capsys):
    def run(*args: str) -> dict:
        status, out, err = eas_here(capsys, ran, *args, "--json")
        assert status in (0, 1), err
        result = json.loads(out)
        assert isinstance(result, dict) and "changed" in result and "table" not in result
        return result

    for name in REPORTS:
        assert "rows" in run("report", name, *(["--task", "1"] if name == "task" else [])), name
    assert run("task", "show", "1")["rows"][0]["task_id"] == 1
    assert run("logs")["total"] >= 1
    assert run("init")["changed"] is False
    assert run("queues")["implementation"] == "sql"
    submitted = run("submit", str(CHAINS / "demo.json"))
    assert submitted["task_id"] and submitted["msg"].startswith("submitted job demo")
    assert run("submit", "--validate-only", str(CHAINS / "demo.json"))["task_id"] is None
    assert run("schedule")["attempt_ids"]
    assert "attempt_ids" in run("empty-queue", "--yes")
    assert "task_ids" in run("reschedule")
    result = run("run", "--job", "demo")
    assert result["finished"] is True and result["job_name"] == "demo"
    saved = run("save", "--dest", str(tmp_path / "d.sql.gz"))
    assert saved["path"] == str(tmp_path / "d.sql.gz")
    assert run("restore", saved["path"], "--force")["tables"]["eas_task"] >= 1
    csv = run("report", "timings", "--csv", str(tmp_path / "t.csv"))
    assert csv["dest"] == str(tmp_path / "t.csv") and csv["changed"] is True


def test_a_reader_that_stops_reading_ends_it_quietly(ran):
    """`eas report job_tree | head`: no BrokenPipeError traceback."""
    proc = subprocess.Popen([*EAS, *settings_args(ran), "report", "job_tree"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # before it writes anything: every write fails
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141  # 128 + SIGPIPE, as a tool killed by it
    assert err == ""
    shell = subprocess.run(
        ["bash", "-c", 'set -o pipefail; "$@" | head -n 1', "eas", *EAS, *settings_args(ran),
         "report", "job_tree"], capture_output=True, text=True)
    assert shell.stdout.startswith("Task ") and "Traceback" not in shell.stderr



@pytest.mark.parametrize("command", [
    ["report", "progress"], ["report", "job_tree"], ["report", "errors"], ["report", "queue"],
    ["report", "jobs"], ["report", "failures"], ["logs"], ["run"]])
def test_an_unknown_job_is_an_error_listing_the_jobs(ran, capsys, command):
    status, out, err = eas_here(capsys, ran, *command, "--job", "nope")
    assert (status, out) == (1, ""), err
    assert err == "eas: error: no job named 'nope'; jobs: failing, null_parallel\n"


def test_the_queue_report_filters_by_queue_job_and_id_count(installed, capsys):
    for job in ("first", "second"):
        queued_job(installed, null_chain(job, 3))
    status, out, err = eas_here(capsys, installed, "report", "queue", "--json", "--queue",
                                "null", "--job", "second", "--show-ids", "5")
    assert status == 0, err
    assert [(r["queue"], r["messages"], len(r["ids"])) for r in json.loads(out)["rows"]] == \
        [("null", 3, 3)]
    status, out, err = eas_here(capsys, installed, "report", "queue", "--json", "--queue",
                                "null", "--show-ids", "5")
    assert [(r["queue"], r["messages"], r["ids"]) for r in json.loads(out)["rows"]] == \
        [("null", 6, None)]
