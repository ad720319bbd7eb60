"""plato_eas.kube.plan: the worker Deployments for a registry (the live queue depths that
actions.worker_plan feeds it: tests/pipeline/test_actions.py)."""

import pytest

from plato_eas.errors import ConfigError, RegistryError
from plato_eas.kube import worker_plan
from plato_eas.kube.plan import deployment_name
from plato_eas.tasks.registry import load_registry

BUILTIN = load_registry(None)


def test_worker_plan_from_builtin_registry():
    plan = worker_plan(BUILTIN, node={"cpu": 4, "memory_gb": 8}, replicas={"eas-tda": 3},
                       images={"eas-base": "reg.example/eas:2"})
    workers = {w["container"]: w for w in plan["workers"]}
    assert workers["eas-base"]["deployment"] == "eas-worker-eas-base"
    assert workers["eas-base"]["image"] == "reg.example/eas:2"
    assert workers["eas-base"]["replicas"] == 1
    assert workers["eas-tda"]["replicas"] == 3
    assert workers["eas-tda"]["resources"]["limits"] == {"cpu": "1", "memory": "2Gi"}
    assert workers["eas-tda"]["command"] == ["eas", "worker", "--container", "eas-tda"]
    assert "transit_search_bls" in workers["eas-tda"]["task_types"]
    assert plan["scaling"] is None


def test_worker_plan_scaling_with_given_depths():
    plan = worker_plan(BUILTIN, containers=["eas-tda"],
                       scaling={"default_max": 2}, queue_depths={"transit_search_bls": 100})
    assert [w["replicas"] for w in plan["workers"]] == [2]
    assert plan["scaling"]["queue_depths"] == {"transit_search_bls": 100}


def test_worker_plan_errors():
    with pytest.raises(RegistryError):
        worker_plan(BUILTIN, containers=["nope"])
    with pytest.raises(ConfigError):
        worker_plan(BUILTIN, replicas={"nope": 1})
    with pytest.raises(ConfigError):
        worker_plan(BUILTIN, replicas={"eas-base": -1})
    with pytest.raises(ConfigError):
        worker_plan(BUILTIN, scaling={"bogus": 1}, queue_depths={})


@pytest.mark.parametrize("name", ["Upper", "under_score", "x" * 60])
def test_deployment_name_must_be_dns_label(name):
    with pytest.raises(ConfigError):
        deployment_name(name)
