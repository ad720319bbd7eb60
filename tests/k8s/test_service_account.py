"""The playbooks as a namespaced service account, as AWX job templates usually run them: a
token whose Role allows only what docs/kubernetes.md lists, in a namespace the cluster admin
created. Deploy, restart, scale and stop work; reading the nodes is forbidden, so the worker
resources are not capped (or use eas_workers_node_capacity), as designed.

The tests share namespace ``plato-sa`` and run in order.
"""

from __future__ import annotations

from pathlib import Path

import pytest

NS = "plato-sa"
ACCOUNT = "eas-deployer"
# What docs/kubernetes.md says the account needs in the namespace, and nothing more.
RULES = [
    {"apiGroups": [""], "resources": ["secrets", "configmaps", "persistentvolumeclaims",
                                      "services"],
     "verbs": ["get", "list", "create", "patch", "delete"]},
    {"apiGroups": ["apps"], "resources": ["statefulsets", "deployments"],
     "verbs": ["get", "list", "create", "patch", "delete"]},
    {"apiGroups": ["batch"], "resources": ["jobs"],
     "verbs": ["get", "list", "create", "patch", "delete"]},
]
# (uncapped requests must fit a node: a registry of small containers, not the shipped one)
WORKERS = {"eas_workers": ["eas-base", "eas-tda"], "eas_core_queue_implementation": "amqp",
           "eas_workers_registry_file": str(Path(__file__).parents[2] / "extensions" / "molecule"
                                            / "kubernetes" / "registry.yaml")}
REVIEWS = "/apis/authorization.k8s.io/v1/subjectaccessreviews"


@pytest.fixture(scope="module")
def ansible(cluster, ansible_in, tmp_path_factory):
    cluster.reset_namespace(NS)
    kubeconfig = cluster.service_account_kubeconfig(
        NS, ACCOUNT, RULES, tmp_path_factory.mktemp("sa") / "kubeconfig")
    return ansible_in(NS, kubeconfig)


def test_the_account_may_not_read_nodes_nor_other_namespaces(cluster, ansible):
    user = f"system:serviceaccount:{NS}:{ACCOUNT}"
    for attributes, allowed in (
            ({"resource": "nodes", "verb": "list"}, False),
            ({"resource": "namespaces", "verb": "get", "name": NS}, False),
            ({"resource": "secrets", "verb": "list", "namespace": "default"}, False),
            ({"resource": "secrets", "verb": "list", "namespace": NS}, True)):
        status, review = cluster.call("POST", REVIEWS, {
            "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": {"user": user, "groups": ["system:serviceaccounts"],
                     "resourceAttributes": attributes}})
        assert status == 201, review
        assert review["status"]["allowed"] is allowed, attributes


def test_deploy_works_without_reading_nodes(cluster, ansible):
    run = ansible.playbook("deploy.yml", extra=WORKERS)
    assert run.changed > 0
    deps = cluster.find("Deployment", NS)
    assert set(deps) == {"eas-scheduler", "eas-web", "eas-worker-eas-base",
                         "eas-worker-eas-tda"}
    for dep in deps.values():
        assert dep["status"]["readyReplicas"] == dep["spec"]["replicas"]
    # no node could be read: the registry's 2 CPU / 4 GB for eas-tda, not capped
    tda = deps["eas-worker-eas-tda"]["spec"]["template"]["spec"]["containers"][0]
    assert tda["resources"]["requests"]["cpu"] == "2"
    assert "nodes cannot be read" in run.out
    assert "cannot be read with these credentials: it is used as it" in run.out  # namespace


def test_a_given_node_capacity_caps_the_workers_again(cluster, ansible):
    extra = dict(WORKERS, eas_workers_node_capacity={"cpu": 4, "memory_gb": 8})
    assert ansible.playbook("deploy.yml", extra=extra).changed == 1
    tda = cluster.find("Deployment", NS)["eas-worker-eas-tda"]
    assert tda["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"] == {
        "cpu": "1", "memory": "2Gi"}
    assert tda["status"]["updatedReplicas"] == tda["status"]["readyReplicas"] == 1


def test_restart_scale_and_stop_work_too(cluster, ansible):
    assert ansible.playbook("restart_workers.yml").changed == 1
    extra = {"eas_scale_queue_depths": {"transit_search_bls": 15, "null": 0},
             "eas_scale_node_capacity": {"cpu": 4, "memory_gb": 8},
             "eas_scale_registry_file": WORKERS["eas_workers_registry_file"]}
    assert ansible.playbook("scale_workers.yml", extra=extra).changed == 1
    assert cluster.find("Deployment", NS)["eas-worker-eas-tda"]["spec"]["replicas"] == 2
    ansible.playbook("stop.yml")
    assert cluster.pods(NS) == []
    assert set(cluster.find("PersistentVolumeClaim", NS)) == {
        "eas-input", "eas-output", "eas-database", "eas-broker"}
