"""plato_eas.kube.scaling: replicas from queue depths, within bounds and a budget."""

import pytest
from kube_fixtures import REGISTRY

from plato_eas.errors import ConfigError
from plato_eas.kube import ScalingPolicy, plan_replicas, worker_resources


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
