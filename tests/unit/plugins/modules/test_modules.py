"""Every plato.eas module: options -> exactly one plato_eas.actions call -> result (SPEC §8, §12).

plato_eas.actions is replaced by a recorder, so these tests pin the glue itself: which action a
module calls with which arguments, how check mode is passed on, how errors become fail_json.
"""

import importlib

import pytest

from plato_eas.errors import ChainError, DatabaseError, EasError
from plato_eas.settings import Settings

MODULES = "ansible_collections.plato.eas.plugins.modules."

# module -> (module args, action called, positional args, keyword args, check mode passed on);
# an option left unset is not passed on: the action's default applies
CASES = {
    "schema": ({"state": "absent"}, "init_schema", (), {"state": "absent"}, True),
    "queues": ({}, "init_queues", (), {}, True),
    "db_save": ({"dest": "/tmp/x.sql.gz"}, "db_save", (), {"dest": "/tmp/x.sql.gz"}, True),
    "db_restore": ({"src": "/tmp/x.sql.gz", "force": True}, "db_restore", (),
                   {"src": "/tmp/x.sql.gz", "force": True}, True),
    "submit": ({"chain": {"task_list": []}}, "submit", (),
               {"chain": {"task_list": []}, "validate_only": False,
                "allow_existing_job": False, "allow_unimplemented": False}, True),
    "schedule": ({}, "schedule", (), {}, True),
    "reschedule": ({"job_name": "j"}, "reschedule", (), {"job_name": "j"}, True),
    "empty_queue": ({"queues": ["null"]}, "empty_queue", (), {"queues": ["null"]}, True),
    "cancel": ({"job_name": "j"}, "cancel", (), {"job_name": "j"}, True),
    "jobs_info": ({"job_name": "j"}, "report", ("jobs",),
                  {"check_mode": False, "job_name": "j"}, False),
    "progress_info": ({"job_name": "j"}, "report", ("progress",), {"job_name": "j"}, False),
    "job_tree_info": ({"max_depth": 2, "offset": 0, "limit": 50}, "report", ("job_tree",),
                      {"max_depth": 2, "running_only": False, "offset": 0, "limit": 50}, False),
    "errors_info": ({"task_type": "error"}, "report", ("errors",),
                    {"task_type": "error"}, False),
    "timings_info": ({}, "report", ("timings",),
                     {"check_mode": False},
                     False),
    "pass_fail_info": ({"job_name": "j"}, "report", ("pass_fail",),
                       {"check_mode": False, "job_name": "j"},
                       False),
    "queue_info": ({}, "report", ("queue",), {}, False),
    "task_info": ({"task_id": 7}, "report", ("task",), {"task_id": 7}, False),
    "logs_info": ({"job_name": "j", "min_severity": "warning", "page": 2}, "report", ("logs",),
                  {"check_mode": False, "job_name": "j", "min_severity": "warning", "page": 2},
                  False),
    "local_run": ({"workers": 3, "job_name": "j", "timeout": 5}, "local_run", (),
                  {"workers": 3, "job_name": "j", "timeout": 5.0}, True),
    "worker_plan_info": ({"containers": ["eas-base"], "system_fraction": 0.5}, "worker_plan",
                         (), {"containers": ["eas-base"], "nodes": [], "system_fraction": 0.5,
                              "replicas": {}, "images": {}}, False),
}


def load(name):
    return importlib.import_module(MODULES + name)


def collection_root():
    return importlib.import_module("ansible_collections.plato.eas").__path__[0]


def test_every_operator_module_is_covered_and_in_the_action_group():
    import yaml

    with open(collection_root() + "/meta/runtime.yml") as handle:
        group = set(yaml.safe_load(handle)["action_groups"]["eas"])
    assert set(CASES) <= group


def test_every_module_file_is_in_the_action_group():
    """SPEC §12: a module left out of the group ignores module_defaults (wrong database)."""
    import os

    import yaml

    with open(collection_root() + "/meta/runtime.yml") as handle:
        group = set(yaml.safe_load(handle)["action_groups"]["eas"])
    modules = {name[:-3] for name in os.listdir(collection_root() + "/plugins/modules")
               if name.endswith(".py") and not name.startswith("_")}
    assert modules - group == set()
    assert group - modules == set()


@pytest.mark.parametrize("name", sorted(CASES))
def test_module_calls_exactly_one_action(name, run_module, fake_actions, tmp_path):
    args, action, positional, keywords, passes_check_mode = CASES[name]
    module = load(name)
    fake = fake_actions(module, result={"changed": False, "rows": [], "table": ""})
    status, result = run_module(module, dict(args, db_path=str(tmp_path / "eas.sqlite")))
    assert status == "exit", result
    assert len(fake.calls) == 1
    called, settings, got_args, got_kwargs = fake.calls[0]
    assert called == action
    assert isinstance(settings, Settings)
    assert settings.db_path == str(tmp_path / "eas.sqlite")
    assert got_args == positional
    expected = dict(keywords)
    if passes_check_mode:
        expected["check_mode"] = False
    assert got_kwargs == expected


@pytest.mark.parametrize("name", sorted(n for n, case in CASES.items() if case[4]))
def test_check_mode_is_passed_on(name, run_module, fake_actions):
    args = CASES[name][0]
    module = load(name)
    fake = fake_actions(module, result={"changed": True})
    status, _result = run_module(module, args, check_mode=True)
    assert status == "exit"
    assert fake.calls[0][3]["check_mode"] is True


@pytest.mark.parametrize("name", sorted(CASES))
def test_eas_error_becomes_a_one_line_failure(name, run_module, fake_actions):
    args = CASES[name][0]
    module = load(name)
    fake_actions(module, error=DatabaseError("sqlite:/nowhere/eas.sqlite: unable to open"))
    status, result = run_module(module, args)
    assert status == "fail"
    assert result["msg"] == "sqlite:/nowhere/eas.sqlite: unable to open"
    assert "exception" not in result


@pytest.mark.parametrize("name", sorted(CASES))
def test_invalid_settings_fail_cleanly(name, run_module, tmp_path):
    """A real plato_eas ConfigError (unreadable config file) fails before any action runs."""
    args = dict(CASES[name][0], config_file=str(tmp_path / "missing.yml"))
    status, result = run_module(load(name), args)
    assert status == "fail"
    assert result["msg"].startswith("cannot read config_file")


@pytest.mark.parametrize("name", sorted(CASES))
def test_missing_plato_eas_is_reported(name, run_module, monkeypatch):
    from ansible_collections.plato.eas.plugins.module_utils import common

    module = load(name)
    monkeypatch.setattr(common, "HAS_PLATO_EAS", False)
    monkeypatch.setattr(common, "PLATO_EAS_IMPORT_ERROR", "Traceback: No module named 'plato_eas'")
    status, result = run_module(module, CASES[name][0])
    assert status == "fail"
    assert "plato_eas" in result["msg"]
    assert "Failed to import the required Python library" in result["msg"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_passwords_are_never_returned(name, run_module, fake_actions, monkeypatch):
    module = load(name)
    fake = fake_actions(module, result={"changed": False, "rows": [], "table": ""})
    monkeypatch.setenv("EAS_MQ_PASSWORD", "mq-secret-from-env")
    args = dict(CASES[name][0], db_password="db-secret")
    status, result = run_module(module, args)
    assert status == "exit"
    settings = fake.calls[0][1]
    assert settings.db_password == "db-secret"
    assert settings.mq_password == "mq-secret-from-env"  # env_fallback, as AWX injects it
    assert "secret" not in repr(result)


def test_connection_options_come_from_the_environment(run_module, fake_actions, monkeypatch,
                                                      tmp_path):
    module = load("progress_info")
    fake = fake_actions(module, result={"changed": False, "rows": [], "table": ""})
    monkeypatch.setenv("EAS_DB_ENGINE", "mysql")
    monkeypatch.setenv("EAS_DB_PORT", "3307")
    status, result = run_module(module, {"db_host": "db.example.org"})
    assert status == "exit", result
    settings = fake.calls[0][1]
    assert (settings.db_engine, settings.db_host, settings.db_port) == (
        "mysql", "db.example.org", 3307)


def test_empty_environment_values_are_ignored(run_module, fake_actions, monkeypatch):
    """AWX injects every field of a credential type, the empty ones as ""."""
    module = load("progress_info")
    fake = fake_actions(module, result={"changed": False, "rows": [], "table": ""})
    for name in ("EAS_DB_PORT", "EAS_DB_HOST", "EAS_DB_PASSWORD", "EAS_MQ_PORT"):
        monkeypatch.setenv(name, "")
    status, result = run_module(module, {})
    assert status == "exit", result
    settings = fake.calls[0][1]
    assert (settings.db_port, settings.db_host, settings.mq_port) == (3306, "localhost", 5672)


def test_bad_choice_is_refused_by_the_argument_spec(run_module, fake_actions):
    module = load("schema")
    fake = fake_actions(module)
    status, result = run_module(module, {"db_engine": "postgres"})
    assert status == "fail"
    assert "db_engine" in result["msg"]
    assert fake.calls == []


def test_schema_diff_lists_the_changes(run_module, fake_actions):
    module = load("schema")
    fake_actions(module, result={"changed": True, "state": "present", "version": 1,
                                 "created_tables": ["eas_task"], "task_types": ["null"],
                                 "containers": ["eas-base"]})
    status, result = run_module(module, {}, diff=True)
    assert status == "exit"
    assert result["diff"]["prepared"].splitlines() == [
        "+ table eas_task", "+ task type null", "~ worker container eas-base"]


def test_schema_without_changes_has_no_diff(run_module, fake_actions):
    module = load("schema")
    fake_actions(module, result={"changed": False, "state": "present", "created_tables": []})
    status, result = run_module(module, {}, diff=True)
    assert status == "exit"
    assert "diff" not in result


def test_submit_needs_exactly_one_source(run_module, fake_actions):
    module = load("submit")
    fake = fake_actions(module)
    assert run_module(module, {})[0] == "fail"
    status, result = run_module(module, {"src": "/a.json", "chain": {"task_list": []}})
    assert status == "fail"
    assert "mutually exclusive" in result["msg"]
    assert fake.calls == []


def test_submit_lists_every_chain_problem(run_module, fake_actions):
    module = load("submit")
    error = ChainError([("$.task_list[0].task", "unknown task type 'nul'"),
                        ("$.task_list[1].inputs.lc", "absolute path refused")])
    fake_actions(module, error=error)
    status, result = run_module(module, {"chain": {"task_list": []}})
    assert status == "fail"
    assert result["msg"] == str(error)
    assert result["problems"] == [
        {"path": "$.task_list[0].task", "message": "unknown task type 'nul'"},
        {"path": "$.task_list[1].inputs.lc", "message": "absolute path refused"}]


@pytest.mark.parametrize("name,report", [("timings_info", "timings"),
                                         ("pass_fail_info", "pass_fail")])
def test_csv_dest_is_passed_to_the_report(name, report, run_module, fake_actions, tmp_path):
    module = load(name)
    fake = fake_actions(module, result={"changed": True, "dest": str(tmp_path / "r.csv")})
    status, result = run_module(module, {"dest": str(tmp_path / "r.csv"), "job_name": "j"},
                                check_mode=True)
    assert status == "exit" and result["changed"] is True
    called, _settings, args, kwargs = fake.calls[0]
    assert called == "report"
    assert args == (report,)
    assert kwargs == {"dest": str(tmp_path / "r.csv"), "check_mode": True, "job_name": "j"}


FINISHED = {"changed": True, "finished": True, "timed_out": False, "failed": 0, "blocked": [],
            "rows": [{"task_type": "null", "done": 2}], "table": "null 2", "failure": None}


def test_a_result_without_failure_exits_with_failed_tasks_renamed(run_module, fake_actions):
    """Ansible reads `failed` as the task's status: plato_eas's count is `failed_tasks`."""
    module = load("local_run")
    fake_actions(module, result=FINISHED)
    status, result = run_module(module, {})
    assert status == "exit"
    assert result["failed_tasks"] == 0
    assert result.get("failed", False) is False and "failure" not in result
    assert result["rows"] == FINISHED["rows"]


def test_a_result_with_a_failure_fails_with_the_result(run_module, fake_actions):
    module = load("local_run")
    failure = "2 task(s) failed; see plato.eas.errors_info"
    fake_actions(module, result=dict(FINISHED, failed=2, blocked=[7], failure=failure,
                                     msg=failure))  # a real result has both
    status, result = run_module(module, {})
    assert status == "fail"
    assert result["msg"] == failure
    assert result["failed_tasks"] == 2
    assert result["table"] == "null 2"  # the progress comes back with the failure


def test_submit_passes_allow_unimplemented_on(run_module, fake_actions):
    module = load("submit")
    fake = fake_actions(module)
    run_module(module, {"chain": {"task_list": []}, "allow_unimplemented": True})
    assert fake.calls[0][3]["allow_unimplemented"] is True


def test_eas_error_is_the_only_exception_converted():
    """Anything else is a bug in plato_eas and must show its traceback."""
    assert issubclass(ChainError, EasError) and issubclass(DatabaseError, EasError)
