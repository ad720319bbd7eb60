"""Outputs stay inside the data directory on the real file system: a symbolic link in the
data directory that leads outside it fails the task with the reason, and nothing is written
outside."""

from __future__ import annotations

from pipeline_helpers import attempt_rows

from plato_eas import actions
from plato_eas.worker.worker import Worker


def _run_all(settings) -> None:
    Worker(settings).run(until_empty=True)  # what is queued (a finish queues its readers)
    while actions.schedule(settings)["attempt_ids"]:
        Worker(settings).run(until_empty=True)


def _by_name(settings) -> dict[str, dict]:
    return {r["taskName"]: r for r in attempt_rows(settings)}


def _plant_link(settings, tmp_path, name: str):
    outside = tmp_path / "outside"
    outside.mkdir()
    settings.output_dir.mkdir(parents=True, exist_ok=True)
    (settings.output_dir / name).symlink_to(outside)
    return outside


def test_output_through_a_link_that_leads_outside_is_refused(installed, tmp_path):
    outside = _plant_link(installed, tmp_path, "evil")
    actions.submit(installed, chain={"job_name": "links", "task_list": [
        {"task": "null", "name": "escape", "outputs": {"lightcurve": "evil/x.lc"}},
        {"task": "null", "name": "fine", "outputs": {"lightcurve": "inside/y.lc"}}]})
    _run_all(installed)
    rows = _by_name(installed)
    assert rows["escape"]["errorFail"] == 1
    assert "outside the data directory" in rows["escape"]["errorText"]
    assert rows["fine"]["errorFail"] == 0
    assert (installed.output_dir / "inside" / "y.lc").is_file()
    assert list(outside.iterdir()) == []
    errors = actions.report(installed, "errors", job_name="links")["rows"]
    assert any("outside the data directory" in r["message"] for r in errors)


def test_working_directory_that_is_a_link_leading_outside_is_refused(installed, tmp_path):
    outside = _plant_link(installed, tmp_path, "away")
    actions.submit(installed, chain={"job_name": "away", "working_directory": "away",
                                     "task_list": [{"task": "null", "name": "w",
                                                    "outputs": {"lightcurve": "z.lc"}}]})
    _run_all(installed)
    assert "outside the data directory" in _by_name(installed)["w"]["errorText"]
    assert list(outside.iterdir()) == []


def test_link_that_stays_inside_the_data_directory_is_followed(installed, tmp_path):
    installed.output_dir.mkdir(parents=True)
    (installed.output_dir / "real").mkdir()
    (installed.output_dir / "alias").symlink_to(installed.output_dir / "real")
    actions.submit(installed, chain={"job_name": "alias", "working_directory": "alias",
                                     "task_list": [{"task": "null", "name": "a",
                                                    "outputs": {"lightcurve": "a.lc"}}]})
    _run_all(installed)
    assert _by_name(installed)["a"]["errorFail"] == 0
    assert (installed.output_dir / "real" / "a.lc").is_file()


def test_input_reached_through_a_link_that_leads_outside_is_refused(installed, tmp_path):
    """A product's folder swapped for a link to a folder outside after it was recorded: the
    task that reads it fails with the reason instead of being handed the outside file."""
    actions.submit(installed, chain={"job_name": "reads", "task_list": [
        {"task": "null", "name": "make", "outputs": {"lightcurve": "made/in.lc"}},
        {"task": "null", "name": "read", "inputs": {"lightcurve": "made/in.lc"},
         "outputs": {"lightcurve": "kept/out.lc"}}]})
    made = installed.output_dir / "made"
    assert actions.schedule(installed)["attempt_ids"]
    # the chain's expansion, then "make" (queued by the expansion); "read" waits
    Worker(installed).run(max_attempts=2)
    assert (made / "in.lc").is_file()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "in.lc").write_text("a file that is not the pipeline's\n")
    made.rename(tmp_path / "was_made")
    made.symlink_to(outside)
    _run_all(installed)
    row = _by_name(installed)["read"]
    assert row["errorFail"] == 1
    assert "input lightcurve (made/in.lc)" in row["errorText"]
    assert "outside the data directory" in row["errorText"]
