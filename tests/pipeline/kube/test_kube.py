"""plato_eas.kube: quantities, node-fraction caps, replica plans (no Kubernetes needed)."""

import pytest

from plato_eas.errors import ConfigError, RegistryError
from plato_eas.kube import (
    NodeCapacity,
    ScalingPolicy,
    format_cpu,
    format_memory,
    node_capacity,
    parse_quantity,
    plan_replicas,
    worker_plan,
    worker_resources,
)
from plato_eas.kube.plan import deployment_name
from plato_eas.tasks.registry import Container, Registry, load_registry

BASE = Container("eas-base", "img:1", cpu=1, gpu=0, memory_gb=2)
TDA = Container("eas-tda", "img:1", cpu=2, gpu=0, memory_gb=4)
GPU = Container("eas-gpu", "img:gpu", cpu=4, gpu=2, memory_gb=16)
REGISTRY = Registry(
    containers=(BASE, TDA, GPU),
    task_types={"execution_chain": "all", "null": "all", "synthesis_psls": "eas-base",
                "transit_search_bls": "eas-tda", "transit_search_tls": "eas-tda",
                "cnn_vetting": "eas-gpu"},
)


@pytest.mark.parametrize("text, value", [
    ("500m", 0.5), ("2", 2.0), ("1.5", 1.5), ("4Gi", 4 * 2**30), ("16384Ki", 16 * 2**20),
    ("1e3", 1000.0), ("1k", 1000.0), ("250M", 250e6), (3, 3.0),
])
def test_parse_quantity(text, value):
    assert parse_quantity(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "abc", "1Zi", "1.2.3", "--1", True])
def test_parse_quantity_rejects(text):
    with pytest.raises(ConfigError):
        parse_quantity(text)


def test_format_canonical():
    assert format_cpu(2) == "2"
    assert format_cpu(0.5) == "500m"
    assert format_cpu(1.25) == "1250m"
    assert format_memory(2) == "2Gi"
    assert format_memory(1.5) == "1536Mi"
    assert format_memory(0.0001) == "1Mi"


def test_resources_uncapped_without_node():
    res = worker_resources(TDA)
    assert (res.cpu, res.memory_gb, res.gpu, res.capped) == (2, 4, 0, ())
    assert res.as_k8s() == {"requests": {"cpu": "2", "memory": "4Gi"},
                            "limits": {"cpu": "2", "memory": "4Gi"}}


def test_resources_capped_to_node_fraction():
    node = NodeCapacity(cpu=4, memory_gb=8, gpu=4)
    res = worker_resources(TDA, node, fraction=0.25)
    assert (res.cpu, res.memory_gb) == (1, 2)
    assert res.capped == ("cpu", "memory")
    # a container already under the cap keeps its registry values
    assert worker_resources(BASE, node, 0.5).capped == ()
    assert worker_resources(BASE, node, 0.5).cpu == 1


def test_gpu_never_split_only_bounded_by_node():
    res = worker_resources(GPU, NodeCapacity(cpu=64, memory_gb=256, gpu=1), 0.25)
    assert res.gpu == 1 and res.capped == ("gpu",)
    k8s = worker_resources(GPU, NodeCapacity(cpu=64, memory_gb=256, gpu=8), 0.25).as_k8s()
    assert k8s["limits"]["nvidia.com/gpu"] == "2" == k8s["requests"]["nvidia.com/gpu"]


@pytest.mark.parametrize("fraction", [0, -0.1, 1.5])
def test_fraction_must_be_sane(fraction):
    with pytest.raises(ConfigError):
        worker_resources(BASE, NodeCapacity(cpu=4), fraction)


def test_node_capacity_from_nodes_takes_smallest_schedulable():
    nodes = [
        {"status": {"allocatable": {"cpu": "8", "memory": "32Gi"}}},
        {"status": {"allocatable": {"cpu": "3800m", "memory": "16384Mi"}}},
        {"spec": {"unschedulable": True}, "status": {"allocatable": {"cpu": "1"}}},
    ]
    cap = node_capacity(None, nodes)
    assert cap.cpu == pytest.approx(3.8)
    assert cap.memory_gb == pytest.approx(16)
    assert cap.gpu is None  # no GPU node seen: GPU asks left alone


def test_node_capacity_explicit_wins_and_is_checked():
    cap = node_capacity({"cpu": "2", "memory_gb": 4}, [{"status": {"allocatable": {"cpu": 64}}}])
    assert (cap.cpu, cap.memory_gb, cap.gpu) == (2, 4, None)
    with pytest.raises(ConfigError):
        node_capacity({"cores": 2})


def _res(node=None):
    return {c.name: worker_resources(c, node) for c in REGISTRY.containers}


def test_plan_follows_demand_and_bounds():
    policy = ScalingPolicy(default_max=5, tasks_per_replica=10)
    plan = plan_replicas(REGISTRY, {"transit_search_bls": 25, "transit_search_tls": 6,
                                    "synthesis_psls": 0}, _res(), policy)
    assert plan["demand"] == {"eas-base": 0, "eas-tda": 31, "eas-gpu": 0}
    assert plan["replicas"] == {"eas-base": 0, "eas-tda": 4, "eas-gpu": 0}
    capped = plan_replicas(REGISTRY, {"transit_search_bls": 500}, _res(),
                           ScalingPolicy(max_replicas={"eas-tda": 3}))
    assert capped["replicas"]["eas-tda"] == 3


def test_plan_idle_queues_scale_to_minimum():
    policy = ScalingPolicy(min_replicas={"eas-base": 1})
    plan = plan_replicas(REGISTRY, {}, _res(), policy)
    assert plan["replicas"] == {"eas-base": 1, "eas-tda": 0, "eas-gpu": 0}


def test_plan_shared_queues_go_to_shared_container():
    plan = plan_replicas(REGISTRY, {"execution_chain": 11}, _res(), ScalingPolicy())
    assert plan["replicas"] == {"eas-base": 2, "eas-tda": 0, "eas-gpu": 0}
    plan = plan_replicas(REGISTRY, {"null": 1}, _res(),
                         ScalingPolicy(shared_container="eas-tda"))
    assert plan["replicas"] == {"eas-base": 0, "eas-tda": 1, "eas-gpu": 0}


def test_plan_respects_budget_and_shares_it_by_unmet_demand():
    depths = {"synthesis_psls": 40, "transit_search_bls": 40}
    plan = plan_replicas(REGISTRY, depths, _res(), ScalingPolicy(budget_cpu=6))
    # base pods cost 1 CPU, tda pods 2: the budget is filled without exceeding it
    assert plan["used"]["cpu"] <= 6
    assert plan["replicas"]["eas-base"] >= 1 and plan["replicas"]["eas-tda"] >= 1
    assert plan["replicas"] == {"eas-base": 2, "eas-tda": 2, "eas-gpu": 0}
    assert plan["over_budget"] is False
    gpu = plan_replicas(REGISTRY, {"cnn_vetting": 100}, _res(), ScalingPolicy(budget_gpu=3))
    assert gpu["replicas"]["eas-gpu"] == 1  # 2 GPUs per pod, 3 in the budget


def test_plan_no_queue_with_work_starves_under_a_tight_budget():
    depths = {"transit_search_bls": 500, "execution_chain": 1}
    plan = plan_replicas(REGISTRY, depths, _res(), ScalingPolicy(budget_cpu=4))
    # tda pods cost 2 CPU and have far more demand, but the chain queue still gets a worker
    assert plan["replicas"] == {"eas-base": 1, "eas-tda": 1, "eas-gpu": 0}


def test_plan_minimums_beyond_budget_are_flagged():
    plan = plan_replicas(REGISTRY, {}, _res(),
                         ScalingPolicy(min_replicas={"eas-tda": 3}, budget_cpu=4))
    assert plan["replicas"]["eas-tda"] == 3
    assert plan["over_budget"] is True


def test_plan_is_deterministic():
    depths = {"synthesis_psls": 13, "transit_search_bls": 13, "cnn_vetting": 13}
    policy = ScalingPolicy(budget_cpu=9, budget_memory_gb=40)
    first = plan_replicas(REGISTRY, depths, _res(), policy)
    assert all(plan_replicas(REGISTRY, depths, _res(), policy) == first for _ in range(5))


@pytest.mark.parametrize("policy", [
    ScalingPolicy(min_replicas={"nope": 1}),
    ScalingPolicy(min_replicas={"eas-base": 3}, max_replicas={"eas-base": 2}),
    ScalingPolicy(tasks_per_replica=0),
    ScalingPolicy(shared_container="nope"),
])
def test_plan_rejects_bad_policy(policy):
    with pytest.raises(ConfigError):
        plan_replicas(REGISTRY, {}, _res(), policy)


def test_plan_rejects_negative_depth():
    with pytest.raises(ConfigError):
        plan_replicas(REGISTRY, {"null": -1}, _res(), ScalingPolicy())


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
