"""While a job runs, its page refreshes its figures by itself every few seconds without
reloading, and stops asking once the job has finished."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from web_helpers import OUTPUT, Dashboard, eas, environment

from plato_eas.settings import Settings

SLOW = {"job_name": "slow", "working_directory": "slow",
        "task_list": [{"task": "null", "name": f"step{i}", "sleep": 1.5} for i in range(4)]}


def test_job_page_follows_a_running_job(browser, tmp_path):
    settings = Settings(db_path=str(tmp_path / "eas.sqlite"), data_dir=str(tmp_path / "data"))
    eas(settings, "init")
    eas(settings, "queues")
    chain = tmp_path / "slow.json"
    chain.write_text(json.dumps(SLOW))
    eas(settings, "submit", str(chain))
    server = Dashboard(settings, tmp_path / "web.log").wait()
    with open(tmp_path / "run.log", "wb") as out:
        run = subprocess.Popen([sys.executable, "-m", "plato_eas.cli", "run", "--workers", "1"],
                               stdout=out, stderr=out, env=environment(settings))
    page = browser.new_page()
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if "part=live" in r.url else None)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the run has started: the page sees it running
            page.goto(server.url + "/jobs/slow")
            if page.locator("#live .badge").first.inner_text() == "running":
                break
            time.sleep(0.3)
        page.evaluate("window.notReloaded = true")
        page.locator("#live .badge", has_text="finished").wait_for(timeout=60_000)
        assert page.evaluate("window.notReloaded === true")  # swapped in place, not reloaded
        assert len(polls) >= 1
        assert run.wait(timeout=60) == 0
        seen = len(polls)
        time.sleep(4)  # the finished answer (HTTP 286) stopped the polling
        assert len(polls) == seen
        page.screenshot(path=str(OUTPUT / "job_live.png"), full_page=True)
        assert errors == []
    finally:
        page.close()
        if run.poll() is None:
            run.terminate()
            run.wait()
        server.stop()
