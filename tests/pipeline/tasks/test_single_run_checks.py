"""``eas task run`` applies the worker's checks to what a task returns: a task whose metadata
the task database cannot store (NaN, infinity…) fails there with the message its attempt would
fail with in the pipeline, instead of passing on the developer's machine."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest
from pipeline_helpers import attempt_rows

from plato_eas import actions
from plato_eas.model.metadata import MetadataError
from plato_eas.tasks.api import implementations
from plato_eas.tasks.single import run_task
from plato_eas.tasks.testing import null_task
from plato_eas.worker.worker import Worker


def _nan_metadata(run):
    null_task(run)
    return {"ratio": math.nan}


def _nan_file_metadata(run):
    null_task(run)
    run.output_metadata["out"] = {"depth": math.inf}
    return {}


def _pipeline_error(settings, job: str) -> str:
    actions.submit(settings, chain={"job_name": job, "task_list": [
        {"task": "null", "outputs": {"out": "out.txt"}}]})
    while actions.schedule(settings)["attempt_ids"]:
        Worker(settings).run(until_empty=True)
    (row,) = [r for r in attempt_rows(settings) if r["taskTypeName"] == "null"]
    assert (row["isFinished"], row["errorFail"]) == (1, 1)
    return row["errorText"]


@pytest.mark.parametrize("task", [_nan_metadata, _nan_file_metadata])
def test_task_run_fails_as_the_worker_does(installed, monkeypatch, tmp_path, task):
    monkeypatch.setitem(implementations(), "null", task)
    in_pipeline = _pipeline_error(installed, task.__name__)
    with pytest.raises(MetadataError) as alone:
        run_task("null", {}, outputs=["out=out.txt"], workdir=str(tmp_path / "scratch"),
                 settings=installed)
    assert str(alone.value) == in_pipeline
    assert "finite" in in_pipeline


def test_cli_says_so_in_one_line(tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text('{"set_metadata": {"snr": NaN}}')  # Python's json reads NaN
    env = {**os.environ, "EAS_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [sys.executable, "-m", "plato_eas.cli", "task", "run", "null", "--spec", str(spec),
         "--workdir", str(tmp_path / "scratch")],
        capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 1, done.stdout
    *log, last = done.stderr.strip().splitlines()  # the task's log, then the reason
    assert last.startswith("eas: error: the task's output metadata['snr']")
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
