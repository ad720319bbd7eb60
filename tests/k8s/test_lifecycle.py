"""restart_workers / scale_workers / stop (and deploy after stop) against the real control
plane: the Deployment controller really makes a new ReplicaSet, the scheduler places the new
pods, the garbage collector removes what stop deletes.

The tests of this module share namespace ``plato-lifecycle`` and run in order: each starts from
the state the previous one left (like an operator's session).
"""

from __future__ import annotations

import pytest

NS = "plato-lifecycle"
WORKERS = {"eas_workers": ["eas-base", {"name": "eas-tda", "replicas": 2}],
           "eas_core_queue_implementation": "amqp"}
WORKER_DEPLOYMENTS = ("eas-worker-eas-base", "eas-worker-eas-tda")


@pytest.fixture(scope="module")
def ansible(cluster, ansible_in):
    cluster.reset_namespace(NS, create=False)
    return ansible_in(NS)


def rollout_complete(dep: dict) -> bool:
    status, replicas = dep["status"], dep["spec"]["replicas"]
    return (status.get("observedGeneration") == dep["metadata"]["generation"]
            and status.get("updatedReplicas", 0) == replicas
            and status.get("readyReplicas", 0) == replicas
            and status.get("replicas", 0) == replicas)


def test_deploy(cluster, ansible):
    assert ansible.playbook("deploy.yml", extra=WORKERS).changed > 0
    assert set(cluster.find("Deployment", NS)) == {"eas-scheduler", "eas-web",
                                                    *WORKER_DEPLOYMENTS}


def test_restart_rolls_every_worker_onto_a_new_replica_set(cluster, ansible):
    before = cluster.find("Deployment", NS)
    old_sets = {name: {rs["metadata"]["name"] for rs in cluster.replica_sets(NS, name)}
                for name in WORKER_DEPLOYMENTS}
    old_pods = {p["metadata"]["name"] for p in cluster.pods(NS)}
    run = ansible.playbook("restart_workers.yml")
    assert run.changed == 1
    after = cluster.find("Deployment", NS)
    for name in ("eas-scheduler", "eas-web"):  # restart_workers restarts the workers only
        assert after[name]["metadata"]["resourceVersion"] == before[name]["metadata"][
            "resourceVersion"]
    for name in WORKER_DEPLOYMENTS:
        dep = after[name]
        stamp = dep["spec"]["template"]["metadata"]["annotations"][
            "kubectl.kubernetes.io/restartedAt"]
        assert stamp.endswith("Z")
        assert dep["metadata"]["generation"] == before[name]["metadata"]["generation"] + 1
        assert rollout_complete(dep), dep["status"]
        sets = {rs["metadata"]["name"]: rs for rs in cluster.replica_sets(NS, name)}
        new = set(sets) - old_sets[name]
        assert len(new) == 1, (name, sets.keys())
        (new_set,) = new
        assert sets[new_set]["status"]["readyReplicas"] == dep["spec"]["replicas"]
        assert all(sets[old]["spec"]["replicas"] == 0 for old in old_sets[name])
        pods = cluster.pods(NS, f"app.kubernetes.io/name={name}")
        assert {p["metadata"]["name"] for p in pods}.isdisjoint(old_pods)
        assert all(p["metadata"]["labels"]["pod-template-hash"] ==
                   sets[new_set]["metadata"]["labels"]["pod-template-hash"] for p in pods)


def test_scale_from_queue_depths_within_budget(cluster, ansible):
    extra = {"eas_scale_queue_depths": {"transit_search_bls": 35, "null": 3},
             "eas_scale_budget_cpu": 4, "eas_scale_default_max": 4}
    run = ansible.playbook("scale_workers.yml", extra=extra)
    assert run.changed == 1
    deps = cluster.find("Deployment", NS)
    # demand: tda 35 -> wants 4, base 3 (the shared null queue) -> wants 1; the budget holds
    # four one-CPU pods (capped to a quarter of a 4-CPU node): base keeps 1, tda 2 -> 3
    assert deps["eas-worker-eas-tda"]["spec"]["replicas"] == 3
    assert deps["eas-worker-eas-base"]["spec"]["replicas"] == 1
    cpu = 0.0
    for name in WORKER_DEPLOYMENTS:
        assert rollout_complete(deps[name]), deps[name]["status"]
        pods = [p for p in cluster.pods(NS, f"app.kubernetes.io/name={name}")
                if p["status"]["phase"] == "Running" and "deletionTimestamp" not in p["metadata"]]
        assert len(pods) == deps[name]["spec"]["replicas"]
        cpu += sum(float(p["spec"]["containers"][0]["resources"]["requests"]["cpu"])
                   for p in pods)
    assert cpu <= 4
    assert ansible.playbook("scale_workers.yml", extra=extra).changed == 0


def test_the_patches_pass_strict_field_validation(cluster, ansible):
    """The restart annotation and the replicas went in as patches: replayed strictly too."""
    replayed, refused = cluster.strict_refusals(NS, ansible.since)
    patches = [e for e in cluster.audit(NS, ansible.since) if e["verb"] == "patch"
               and e["objectRef"]["resource"] == "deployments" and "dryRun" not in e["requestURI"]]
    assert len(patches) >= 3 and replayed >= 17
    assert refused == []


def test_stop_removes_workloads_but_keeps_volumes_and_secrets(cluster, ansible):
    pvcs = {n: o["metadata"]["uid"] for n, o in cluster.find("PersistentVolumeClaim", NS).items()}
    secrets = {n: o["data"] for n, o in cluster.find("Secret", NS).items()}
    ansible.playbook("stop.yml")
    left = set(cluster.objects(NS))
    assert {k for k, _ in left} == {"PersistentVolumeClaim", "Secret", "ConfigMap"}
    assert cluster.pods(NS) == []
    assert cluster.find("ReplicaSet", NS) == {}
    assert cluster.call("GET", f"/api/v1/namespaces/{NS}")[0] == 200
    found = cluster.find("PersistentVolumeClaim", NS)
    assert {n: o["metadata"]["uid"] for n, o in found.items()} == pvcs
    assert all(o["status"]["phase"] == "Bound" for o in found.values())
    assert {n: o["data"] for n, o in cluster.find("Secret", NS).items()} == secrets
    assert ansible.playbook("stop.yml").changed == 0


def test_deploy_after_stop_reuses_the_data_and_credentials(cluster, ansible):
    pvcs = {n: (o["metadata"]["uid"], o["spec"]["volumeName"])
            for n, o in cluster.find("PersistentVolumeClaim", NS).items()}
    secrets = {n: (o["metadata"]["resourceVersion"], o["data"])
               for n, o in cluster.find("Secret", NS).items()}
    ansible.playbook("deploy.yml", extra=WORKERS)
    assert {n: (o["metadata"]["uid"], o["spec"]["volumeName"])
            for n, o in cluster.find("PersistentVolumeClaim", NS).items()} == pvcs
    assert {n: (o["metadata"]["resourceVersion"], o["data"])
            for n, o in cluster.find("Secret", NS).items()} == secrets
    mysql = cluster.find("StatefulSet", NS)["eas-mysql"]
    assert mysql["status"]["readyReplicas"] == 1
    (pod,) = cluster.pods(NS, "app.kubernetes.io/name=eas-mysql")
    claims = [v["persistentVolumeClaim"]["claimName"] for v in pod["spec"]["volumes"]
              if "persistentVolumeClaim" in v]
    assert claims == ["eas-database"]
