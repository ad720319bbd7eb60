"""Every example chain runs to its expected end on the embedded default."""

import pytest
from pipeline_helpers import CHAINS, chain

from plato_eas import actions
from plato_eas.cli import main as eas
from plato_eas.db import Database

# job -> (total tasks, tasks per type when finished)
EXPECTED = {
    "null_parallel": (4, {"execution_chain": 1, "null": 3}),
    "file_dependency": (4, {"execution_chain": 1, "null": 3}),
    # n = 1, 2 fail the test (else: two tasks), n = 3, 4 pass (then: one task)
    "conditional": (24, {"execution_chain": 9, "execution_for_loop": 1,
                         "execution_conditional": 4, "null": 10}),
    # three iterations: each a chain, a probe and a check
    "do_while": (12, {"execution_chain": 4, "execution_do_while_loop": 4, "null": 4}),
    "for_loop_grid": (36, {"execution_chain": 13, "execution_for_loop": 3, "null": 20}),
    "demo": (31, {"execution_chain": 10, "execution_for_loop": 1, "execution_conditional": 3,
                  "execution_do_while_loop": 4, "null": 13}),
}


def _types(db: Database, job: str) -> dict[str, int]:
    return dict(db.read(lambda tx: tx.tuples(
        "SELECT tt.taskTypeName, COUNT(*) FROM eas_task t JOIN eas_task_types tt "
        "ON tt.taskTypeId = t.taskTypeId WHERE t.jobName = ? GROUP BY 1", (job,))))


@pytest.mark.parametrize("job", sorted(EXPECTED))
def test_example_chain_runs_to_completion(installed, job):
    submitted = actions.submit(installed, src=str(CHAINS / f"{job}.json"))
    result = actions.local_run(installed, workers=2, job_name=job, timeout=120)
    total, per_type = EXPECTED[job]
    assert result["finished"] and not result["timed_out"]
    assert result["summary"]["done"] == total == result["summary"]["total"]
    assert result["failed"] == 0 and result["blocked"] == []
    with Database(installed) as db:
        assert _types(db, submitted["job_name"]) == per_type


def test_do_while_counts_iterations_from_one_and_writes_each_output(installed):
    actions.submit(installed, chain=chain("do_while"))
    actions.local_run(installed, workers=1, job_name="do_while", timeout=60)
    out = installed.output_dir / "do_while"
    assert sorted(p.name for p in out.glob("probe_*.log")) == [
        "probe_1.log", "probe_2.log", "probe_3.log"]


def test_for_loop_outputs_follow_loop_indices(installed):
    actions.submit(installed, chain=chain("for_loop_grid"))
    actions.local_run(installed, workers=2, job_name="for_loop_grid", timeout=60)
    names = sorted(p.name for p in (installed.output_dir / "grid").iterdir())
    assert names == sorted(f"lc_{t}_{s}.dat" for t in range(2) for s in range(5))


def test_failing_chain_ends_with_one_failed_one_blocked_and_nonzero_exit(installed, capsys):
    actions.submit(installed, chain=chain("failing"))
    result = actions.local_run(installed, workers=2, job_name="failing", timeout=60)
    assert not result["finished"] and not result["timed_out"]
    assert result["summary"]["failed"] == 1 and result["summary"]["done"] == 2
    assert [b["task_name"] for b in result["blocked"]] == ["blocked"]
    # the CLI says so and exits non-zero
    args = ["--db-path", installed.db_path, "--data-dir", installed.data_dir]
    assert eas([*args, "run", "--job", "failing", "--timeout", "30"]) == 1
    assert "blocked" in capsys.readouterr().out


def test_error_task_traceback_reaches_the_errors_report(installed):
    actions.submit(installed, chain=chain("failing"))
    actions.local_run(installed, workers=1, job_name="failing", timeout=60)
    report = actions.report(installed, "errors", job_name="failing")
    text = "\n".join(r["message"] for r in report["rows"])
    assert "Traceback (most recent call last)" in text
    assert "RuntimeError: error task" in text and "failed on purpose" in report["table"]
