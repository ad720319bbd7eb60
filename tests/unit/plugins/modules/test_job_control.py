"""The job-control options of the plato.eas modules: cancel, jobs_info, and the new options of
submit and empty_queue reach their plato_eas action as given."""

import importlib

MODULES = "ansible_collections.plato.eas.plugins.modules."


def load(name):
    return importlib.import_module(MODULES + name)


def test_cancel_needs_a_job_name(run_module, fake_actions):
    module = load("cancel")
    fake = fake_actions(module)
    status, result = run_module(module, {})
    assert status == "fail" and "job_name" in result["msg"]
    assert fake.calls == []


def test_cancel_returns_what_it_stopped(run_module, fake_actions):
    module = load("cancel")
    stopped = {"changed": True, "job_name": "j", "cancelled": True, "queued_attempt_ids": [2],
               "running_attempt_ids": [1], "retry_attempt_ids": []}
    fake_actions(module, result=stopped)
    status, result = run_module(module, {"job_name": "j"})
    assert status == "exit" and result == stopped


def test_submit_passes_priority_and_allow_existing_job(run_module, fake_actions):
    module = load("submit")
    fake = fake_actions(module, result={"changed": True, "task_id": 1, "job_name": "j"})
    status, _result = run_module(module, {"src": "/a.json", "priority": "3",
                                          "allow_existing_job": True})
    assert status == "exit"
    kwargs = fake.calls[0][3]
    assert (kwargs["priority"], kwargs["allow_existing_job"]) == (3, True)


def test_submit_refuses_a_priority_that_is_not_a_number(run_module, fake_actions):
    module = load("submit")
    fake = fake_actions(module)
    status, result = run_module(module, {"src": "/a.json", "priority": "urgent"})
    assert status == "fail" and "priority" in result["msg"]
    assert fake.calls == []


def test_empty_queue_of_one_job(run_module, fake_actions):
    module = load("empty_queue")
    fake = fake_actions(module, result={"changed": True, "attempt_ids": [3],
                                        "per_queue": {"null": [3]}, "job_name": "j"})
    status, result = run_module(module, {"job_name": "j"}, check_mode=True)
    assert status == "exit" and result["attempt_ids"] == [3]
    assert fake.calls[0][3] == {"job_name": "j", "check_mode": True}


def test_jobs_info_writes_csv_in_check_mode_only_as_a_plan(run_module, fake_actions, tmp_path):
    module = load("jobs_info")
    fake = fake_actions(module, result={"changed": True, "rows": [], "table": "",
                                        "dest": str(tmp_path / "jobs.csv")})
    status, result = run_module(module, {"dest": str(tmp_path / "jobs.csv")}, check_mode=True)
    assert status == "exit" and result["changed"] is True
    assert fake.calls[0][2] == ("jobs",)
    assert fake.calls[0][3] == {"dest": str(tmp_path / "jobs.csv"), "check_mode": True}
