"""Every page of the dashboard in a real browser (Debian's chromium, driven by Playwright),
against a database that `eas run` filled: pages load without console errors, the tree
expands, a task shows its logs, a product downloads intact, plots are drawn, the timeline has
one bar per attempt. A screenshot of each page is kept under tests/output/web/."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from web_helpers import OUTPUT

PAGES = {
    "jobs": "/",
    "job": "/jobs/demo",
    "job_failing": "/jobs/failing",
    "logs": "/logs?job_name=demo",
    "timings": "/timings?job_name=demo",
    "pass_fail": "/pass_fail?job_name=demo",
    "timeline": "/timeline",
    "queue": "/queue",
    "files": "/files/",
}


def _db(settings) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{settings.db_path}?mode=ro", uri=True)


def _open(browser, url: str, name: str):
    """A new tab on ``url``; returns it and the console errors it logged."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    response = page.goto(url)
    assert response is not None and response.status == 200, (url, response and response.status)
    page.wait_for_load_state("networkidle")
    return page, errors


def _shot(page, name: str) -> None:
    page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_without_console_errors(browser, dashboard, name):
    page, errors = _open(browser, dashboard.url + PAGES[name], name)
    assert page.locator("main h1").count() == 1
    _shot(page, name)
    assert errors == []
    page.close()


def test_jobs_page_lists_each_job_with_its_state(browser, dashboard):
    page, errors = _open(browser, dashboard.url + "/", "jobs")
    rows = page.locator("table.jobs tbody tr")
    assert rows.count() == 2
    text = {rows.nth(i).locator("td").first.inner_text(): rows.nth(i).inner_text()
            for i in range(2)}
    assert "finished" in text["demo"]
    assert "blocked" in text["failing"]
    assert errors == []


def test_task_tree_expands_lazily(browser, dashboard, filled):
    page, errors = _open(browser, dashboard.url + "/jobs/demo?depth=1", "tree")
    root = page.locator("#tree > li.node").first
    assert root.locator("ul.children li.loading").count() == 1  # not sent with the page
    root.locator("summary").first.click()
    children = root.locator("ul.children > li.node")
    children.first.wait_for()
    with _db(filled) as conn:
        expected = conn.execute("SELECT COUNT(*) FROM eas_task WHERE parentTask = "
                                "(SELECT taskId FROM eas_task WHERE jobName = 'demo' AND "
                                "parentTask IS NULL)").fetchone()[0]
    assert children.count() == expected > 0
    _shot(page, "job_tree_expanded")
    assert errors == []


def test_failures_come_first(browser, dashboard):
    page, errors = _open(browser, dashboard.url + "/jobs/failing", "failing")
    assert page.locator("table.failures tbody tr").count() == 1
    assert "failed on purpose" in page.locator("table.failures").inner_text()
    first = page.locator("#tree li.node").first
    assert "failures below" in first.inner_text() or "failed" in first.inner_text()
    assert errors == []


def test_task_page_shows_attempts_and_logs(browser, dashboard, filled):
    with _db(filled) as conn:
        task_id = conn.execute("SELECT t.taskId FROM eas_task t JOIN eas_task_types tt ON "
                               "tt.taskTypeId = t.taskTypeId WHERE tt.taskTypeName = 'error'"
                               ).fetchone()[0]
    page, errors = _open(browser, f"{dashboard.url}/tasks/{task_id}", "task")
    logs = page.locator("table.logs").inner_text()
    assert "error task about to fail on purpose" in logs
    assert "RuntimeError" in page.locator("table.attempts").inner_text()
    _shot(page, "task")
    assert errors == []


def test_product_downloads_with_its_md5(browser, dashboard, filled):
    with _db(filled) as conn:
        task_id, md5 = conn.execute(
            "SELECT p.generatorTask, v.fileMD5 FROM eas_product p JOIN eas_product_version v "
            "ON v.productId = p.productId WHERE p.filename = 'raw.lc'").fetchone()
    page, errors = _open(browser, f"{dashboard.url}/tasks/{task_id}", "task_download")
    assert md5 in page.locator("table.products").inner_text()
    with page.expect_download() as info:
        page.locator("a.download", has_text="raw.lc").click()
    path = info.value.path()
    assert hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest() == md5
    assert errors == []


def test_plots_are_drawn(browser, dashboard):
    page, errors = _open(browser, dashboard.url + "/timings?job_name=demo", "timings")
    histograms = page.locator("svg.plot")
    assert histograms.count() >= 2
    assert page.locator("svg.plot rect.bar").count() > 0
    box = histograms.first.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100
    page, errors2 = _open(browser, dashboard.url + "/pass_fail?job_name=demo", "pass_fail")
    assert page.locator("svg.plot polyline.series").count() == 1
    assert page.locator("svg.plot circle.series").count() == 3  # three planet sizes
    assert "size" in page.locator("select[name=variable]").input_value()
    assert errors == errors2 == []


def test_timeline_has_one_bar_per_attempt(browser, dashboard, filled):
    with _db(filled) as conn:
        attempts = {r[0] for r in conn.execute(
            "SELECT schedulingAttemptId FROM eas_scheduling_attempt WHERE startTime IS NOT NULL")}
    page, errors = _open(browser, dashboard.url + "/timeline", "timeline")
    bars = page.locator("svg.gantt rect.attempt")
    shown = {int(bars.nth(i).get_attribute("data-attempt")) for i in range(bars.count())}
    assert bars.count() == len(attempts) and shown == attempts
    assert errors == []


def test_downloads_are_the_info_modules_csv(dashboard, filled, tmp_path):
    """The timings CSV download is byte for byte what timings_info writes to ``dest``."""
    from web_helpers import get

    from plato_eas import actions

    status, body, headers = get(dashboard.url + "/timings.csv?job_name=demo")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    dest = tmp_path / "timings_info.csv"
    actions.report(filled, "timings", dest=str(dest), job_name="demo")
    assert body == dest.read_bytes()
    status, body, _ = get(dashboard.url + "/pass_fail.csv?job_name=demo")
    actions.report(filled, "pass_fail", dest=str(dest), job_name="demo")
    assert status == 200 and body == dest.read_bytes()
