"""demo.yml through ansible-runner, with a private data directory laid out as AWX lays it out:
project/ (the project sync: a copy of the repository), inventory/, env/extravars (the job
template's extra variables), env/envvars (what a credential injects), env/settings."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from eas_ansible_helpers import BIN, ROOT, run

IGNORED = shutil.ignore_patterns(".venv", ".git", "build", "context", "tests", "__pycache__",
                                 "*.egg-info", ".pytest_cache", ".ruff_cache", "*.sqlite*")
SECRET_DB = "db-secret-from-credential-7f3a"
SECRET_MQ = "mq-secret-from-credential-91c2"


def test_demo_runs_under_ansible_runner(tmp_path: Path, tool_env: dict[str, str]) -> None:
    pdd = tmp_path / "pdd"
    shutil.copytree(ROOT, pdd / "project", symlinks=True, ignore=IGNORED)
    (pdd / "inventory").mkdir()
    (pdd / "inventory" / "hosts").write_text(
        f"localhost ansible_connection=local ansible_python_interpreter={BIN / 'python'}\n")
    (pdd / "env").mkdir()
    scratch = tmp_path / "eas"
    (pdd / "env" / "extravars").write_text(json.dumps({
        "eas_db_path": str(scratch / "eas.sqlite"),
        "eas_data_dir": str(scratch / "data"),
        "eas_run_timeout": 300,
    }))
    # A credential of the type in docs/awx/credential_type.yml injects every field; the empty
    # ones as "". The passwords must never show up in the job's output or artifacts.
    (pdd / "env" / "envvars").write_text(json.dumps({
        "EAS_DB_PASSWORD": SECRET_DB, "EAS_MQ_PASSWORD": SECRET_MQ,
        "EAS_DB_HOST": "", "EAS_DB_PORT": "", "EAS_MQ_PORT": "",
    }))
    (pdd / "env" / "settings").write_text(json.dumps({"job_timeout": 600}))

    proc = run(["ansible-runner", "run", str(pdd), "-p", "playbooks/demo.yml",
                "--ident", "job1"], tool_env, tmp_path, check=False)
    artifacts = pdd / "artifacts" / "job1"
    stdout = (artifacts / "stdout").read_text()
    assert proc.returncode == 0, stdout[-6000:]
    assert (artifacts / "status").read_text() == "successful"
    assert (artifacts / "rc").read_text() == "0"
    assert "Show the job tree" in stdout
    assert re.search(r"demo-\d{8}T\d{6}/execution_chain", stdout)
    assert "failed=0" in stdout

    events = [json.loads(p.read_text()) for p in sorted((artifacts / "job_events").glob("*.json"))]
    results = {e["event_data"].get("task"): e["event_data"]["res"] for e in events
               if e.get("event") == "runner_on_ok" and "res" in e.get("event_data", {})}
    run_result = results["Run the scheduler and workers until the job is finished"]
    assert run_result["finished"] is True and run_result["failed_tasks"] == 0
    progress = results["Progress summary"]
    assert progress["total"]["done"] == progress["total"]["total"] > 0

    # The credential's passwords reached the modules (env_fallback) and were masked (no_log).
    invocation = results["Create the task database"]["invocation"]["module_args"]
    assert invocation["db_password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert invocation["mq_password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    # ...and appear nowhere in the job's output and events. (`command` is ansible-runner's own
    # record of the environment it was handed, not job output; AWX keeps it to itself.)
    for path in artifacts.rglob("*"):
        if path.is_file() and path.name != "command":
            text = path.read_text(errors="replace")
            assert SECRET_DB not in text, path
            assert SECRET_MQ not in text, path
