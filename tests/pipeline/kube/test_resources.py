"""plato_eas.kube.resources: a container's requests capped to a fraction of a node."""

import pytest
from kube_fixtures import BASE, GPU, TDA

from plato_eas.errors import ConfigError
from plato_eas.kube import NodeCapacity, node_capacity, worker_resources


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
