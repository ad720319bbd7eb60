"""Defaults are set once, in plato_eas.defaults: where a module's documentation must spell
one out (YAML cannot import it), the value it shows is the one plato_eas uses."""

import importlib
import inspect
import re

import pytest
import yaml

from plato_eas import defaults

COLLECTION = "ansible_collections.plato.eas.plugins."

# (module, option) -> the plato_eas.defaults name its documentation shows. The argument spec
# has no default: an unset option is left to the action, whose default is that one.
DOCUMENTED = {
    ("local_run", "workers"): "LOCAL_WORKERS",
    ("local_run", "timeout"): "LOCAL_RUN_TIMEOUT",
    ("queue_info", "show_ids"): "SHOW_IDS",
    ("worker_plan_info", "system_fraction"): "SYSTEM_FRACTION",
}


def documentation(name):
    return yaml.safe_load(importlib.import_module(COLLECTION + name).DOCUMENTATION)


def documented_default(text):
    return re.search(r"Default V\(([\d.]+)\)", " ".join(text)).group(1)


@pytest.mark.parametrize("module,option", sorted(DOCUMENTED))
def test_a_documented_default_is_the_plato_eas_default_the_module_leaves_to(module, option):
    expected = getattr(defaults, DOCUMENTED[(module, option)])
    doc = documentation("modules." + module)["options"][option]
    assert "default" not in doc and float(documented_default(doc["description"])) == expected
    spec = importlib.import_module(COLLECTION + "modules." + module).ARGUMENT_SPEC
    assert spec[option].get("default") is None


def test_the_actions_take_those_defaults():
    from plato_eas import actions
    from plato_eas.reports.queue import queue

    local_run = inspect.signature(actions.local_run).parameters
    assert local_run["workers"].default == defaults.LOCAL_WORKERS
    assert local_run["timeout"].default == defaults.LOCAL_RUN_TIMEOUT
    plan = inspect.signature(actions.worker_plan).parameters
    assert plan["system_fraction"].default == defaults.SYSTEM_FRACTION
    assert inspect.signature(queue).parameters["show_ids"].default == defaults.SHOW_IDS


def test_the_heartbeat_age_the_connection_options_document():
    from ansible_collections.plato.eas.plugins.doc_fragments.connection import ModuleDocFragment

    option = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]["max_heartbeat_age"]
    assert float(documented_default(option["description"])) == defaults.MAX_HEARTBEAT_AGE


def test_the_scaling_bounds_worker_plan_info_documents():
    text = " ".join(documentation("modules.worker_plan_info")["options"]["scaling"]
                    ["description"])
    shown = {key: int(value) for key, value in re.findall(r"C\((\w+)\) \((\d+)\)", text)}
    assert shown == {"default_min": defaults.MIN_REPLICAS,
                     "default_max": defaults.MAX_REPLICAS,
                     "tasks_per_replica": defaults.TASKS_PER_REPLICA}
