"""`eas run` shows live progress on a terminal, and nothing extra when it is not on one."""

from __future__ import annotations

import re

from cli_helpers import eas, eas_on_terminal, slow_chain


def test_run_on_a_terminal_shows_done_total_running_failed_rate_and_eta(installed, tmp_path):
    assert eas(installed, "submit", slow_chain(tmp_path, "slow", 8, 0.5)).returncode == 0
    status, printed = eas_on_terminal(installed, "run", "--workers", "2", "--job", "slow")
    assert status == 0, printed
    printed = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", printed)  # colours, cursor moves
    lines = re.findall(r"eas run .*?(\d+)/(\d+) done +(\d+) running +(\d+) failed +"
                       r"(\S+) tasks/s +(ETA [-\d:]+)?", printed)
    assert lines, printed
    assert max(int(total) for _, total, *_ in lines) == 9  # the root and its eight tasks
    assert any(0 < int(done) < 9 for done, *_ in lines)  # seen while it ran ...
    assert any(rate != "-" and eta.startswith("ETA ") for *_, rate, eta in lines)
    assert "finished: job slow, 9 tasks done" in printed  # ... then the result
    assert "Traceback" not in printed


def test_run_off_a_terminal_prints_only_the_result(installed, tmp_path):
    eas(installed, "submit", slow_chain(tmp_path, "slow", 4, 0.3))
    done = eas(installed, "run", "--workers", "2", "--job", "slow")
    assert done.returncode == 0 and done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Task ") and lines[-2].startswith("Total")
    assert lines[-1] == "finished: job slow, 5 tasks done"
    assert "tasks/s" not in done.stdout and "\x1b" not in done.stdout
