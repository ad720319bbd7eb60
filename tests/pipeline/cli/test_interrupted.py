"""Ctrl-C on a terminal: `eas run` (with its live progress and worker processes), the daemons
and the dashboard end with one line, never a traceback."""

from __future__ import annotations

import re

import pytest
from cli_helpers import eas, eas_on_terminal, slow_chain


def test_ctrl_c_during_a_run_prints_one_line_and_no_traceback(installed, tmp_path):
    eas(installed, "submit", slow_chain(tmp_path, "slow", 6, 30))
    status, printed = eas_on_terminal(installed, "run", "--workers", "2", "--job", "slow",
                                      ctrl_c_after=" 2 running")
    printed = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", printed)
    assert status == 130, printed
    assert "Traceback" not in printed and "KeyboardInterrupt" not in printed
    assert re.search(r"^\r?eas: interrupted; 2 attempts returned to the queue\r?$", printed, re.M)
    jobs = eas(installed, "report", "progress", "--job", "slow", "--json")
    assert '"running": 0' in jobs.stdout  # nothing left running


@pytest.mark.parametrize("command", [["scheduler", "--interval", "0.2"],
                                     ["worker"],
                                     ["web", "--port", "0"]])
def test_ctrl_c_stops_a_daemon_without_a_traceback(installed, command):
    started = {"scheduler": "scheduler started", "worker": "worker started",
               "web": "dashboard on"}[command[0]]
    status, printed = eas_on_terminal(installed, *command, ctrl_c_after=started, timeout=60)
    assert started in printed, printed  # the start line shows without -v
    if command[0] != "web":
        assert re.search(rf"{started}: database sqlite \S+, sql queue.*, pid \d+", printed)
    assert "Traceback" not in printed and "KeyboardInterrupt" not in printed
    assert status in (0, 130), printed
