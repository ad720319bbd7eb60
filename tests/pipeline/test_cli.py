"""The `eas` console script: the operator's actions, the daemons, one-line errors."""

import os
import signal
import subprocess
import sys
import time

from pipeline_helpers import CHAINS

from plato_eas.cli import main as eas


def _args(settings) -> list[str]:
    return ["--db-path", settings.db_path, "--data-dir", settings.data_dir]


def test_init_submit_run_report(settings, capsys):
    a = _args(settings)
    assert eas([*a, "init"]) == 0 and eas([*a, "queues"]) == 0
    capsys.readouterr()
    assert eas([*a, "submit", str(CHAINS / "null_parallel.json")]) == 0
    assert capsys.readouterr().out == "submitted job null_parallel as task 1 (3 top-level tasks)\n"
    assert eas([*a, "run", "--workers", "1", "--job", "null_parallel"]) == 0
    assert "finished" in capsys.readouterr().out
    assert eas([*a, "report", "progress", "--job", "null_parallel"]) == 0
    assert "null" in capsys.readouterr().out


def test_errors_are_one_line_without_traceback(settings, capsys, tmp_path):
    a = _args(settings)
    assert eas([*a, "submit", str(CHAINS / "demo.json")]) == 1  # no schema yet
    err = capsys.readouterr().err
    assert err.startswith("eas: error: ") and err.count("\n") == 1 and "Traceback" not in err
    eas([*a, "init"])
    bad = tmp_path / "bad.json"
    bad.write_text('{"task_list": [{"task": "warp_drive"}]}')
    assert eas([*a, "submit", str(bad)]) == 1
    assert "$.task_list[0].task" in capsys.readouterr().err


def test_there_is_no_password_flag():
    from plato_eas.cli.parser import build_parser

    options = [o for action in build_parser()._actions for o in action.option_strings]
    assert "--db-host" in options and not [o for o in options if "password" in o]


def test_scheduler_daemon_and_service_worker_finish_a_job_and_stop_on_sigterm(installed):
    env = {**os.environ, "EAS_DB_PATH": installed.db_path, "EAS_DATA_DIR": installed.data_dir}
    eas(["--db-path", installed.db_path, "submit", str(CHAINS / "file_dependency.json")])
    cmd = [sys.executable, "-m", "plato_eas.cli"]
    daemons = [subprocess.Popen([*cmd, "scheduler", "--interval", "0.2"], env=env),
               subprocess.Popen([*cmd, "worker"], env=env)]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            out = subprocess.run([*cmd, "report", "progress", "--job", "file_dependency"],
                                 env=env, capture_output=True, text=True, check=True).stdout
            if "4 (100%)" in out.splitlines()[-1]:
                break
            time.sleep(0.3)
        assert "4 (100%)" in out.splitlines()[-1], out
    finally:
        for p in daemons:
            p.send_signal(signal.SIGTERM)
        codes = [p.wait(timeout=30) for p in daemons]
    assert codes == [0, 0]  # both shut down cleanly


def test_report_job_tree_pages_with_offset_and_limit(settings, capsys):
    a = _args(settings)
    assert eas([*a, "init"]) == 0 and eas([*a, "queues"]) == 0
    assert eas([*a, "submit", str(CHAINS / "null_parallel.json")]) == 0
    assert eas([*a, "run", "--workers", "1", "--job", "null_parallel"]) == 0
    capsys.readouterr()
    assert eas([*a, "report", "job_tree"]) == 0
    whole = capsys.readouterr().out.splitlines()[2:]  # below the heading and its rule
    pages, offset = [], "0"
    while offset is not None:
        assert eas([*a, "report", "job_tree", "--offset", offset, "--limit", "2"]) == 0
        out = capsys.readouterr().out.splitlines()
        more = [line for line in out if line.startswith("more rows: --offset ")]
        offset = more[0].split()[-1] if more else None
        rows = [line for line in out[2:] if not line.startswith("more rows")]
        assert 1 <= len(rows) <= 2
        pages += rows
    assert [p.split() for p in pages] == [w.split() for w in whole] and len(whole) > 2
    assert eas([*a, "report", "job_tree", "--limit", "0"]) == 1  # an operator error
    assert "limit at least 1" in capsys.readouterr().err
