"""restart_workers / scale_workers / stop (and deploy after stop) against the API double.

The tests of this module share one double and run in order: each starts from the state the
previous one left (like an operator's session).
"""

from __future__ import annotations

import json

NS = "plato"
WORKERS = {"eas_workers": ["eas-base", {"name": "eas-tda", "replicas": 2}],
           "eas_core_queue_implementation": "amqp"}
PART_OF = {"app.kubernetes.io/part-of": "plato-eas"}


def kinds(double, namespace=NS):
    return {(o["kind"], o["metadata"]["name"]) for o in double.objects()
            if o["metadata"].get("namespace") == namespace}


def test_deploy(double, ansible):
    assert ansible.playbook("deploy.yml", extra=WORKERS).changed > 0
    assert set(double.find("Deployment", NS)) == {
        "eas-scheduler", "eas-worker-eas-base", "eas-worker-eas-tda"}


def _strip(obj):
    obj = json.loads(json.dumps(obj))
    obj["metadata"].pop("resourceVersion")
    obj["metadata"].pop("generation")
    obj["status"].pop("observedGeneration")
    return obj


def test_restart_changes_only_the_restart_annotation(double, ansible):
    before = double.find("Deployment", NS)
    ansible.playbook("restart_workers.yml")
    after = double.find("Deployment", NS)
    assert after["eas-scheduler"] == before["eas-scheduler"]
    for name in ("eas-worker-eas-base", "eas-worker-eas-tda"):
        annotations = after[name]["spec"]["template"]["metadata"]["annotations"]
        stamp = annotations.pop("kubectl.kubernetes.io/restartedAt")
        assert stamp.endswith("Z")
        assert after[name]["metadata"]["generation"] == before[name]["metadata"]["generation"] + 1
        assert _strip(after[name]) == _strip(before[name])


def test_scale_from_queue_depths_within_budget(double, ansible):
    extra = {"eas_scale_queue_depths": {"transit_search_bls": 35, "null": 3},
             "eas_scale_budget_cpu": 4, "eas_scale_default_max": 4}
    run = ansible.playbook("scale_workers.yml", extra=extra)
    assert run.changed == 1
    deps = double.find("Deployment", NS)
    # demand: tda 35 -> wants 4, base 3 (the shared null queue) -> wants 1; the budget holds
    # four one-CPU pods (capped to a quarter of the 4-CPU node): base keeps 1, tda 2 -> 3
    assert deps["eas-worker-eas-tda"]["spec"]["replicas"] == 3
    assert deps["eas-worker-eas-base"]["spec"]["replicas"] == 1
    assert ansible.playbook("scale_workers.yml", extra=extra).changed == 0


def test_stop_removes_workloads_but_keeps_volumes_and_secrets(double, ansible):
    pvcs = {n: o["metadata"]["uid"] for n, o in double.find("PersistentVolumeClaim", NS).items()}
    secrets = {n: o["data"] for n, o in double.find("Secret", NS).items()}
    ansible.playbook("stop.yml")
    left = kinds(double)
    assert {k for k, _ in left} == {"PersistentVolumeClaim", "Secret", "ConfigMap"}
    assert "plato" in double.find("Namespace")
    assert {n: o["metadata"]["uid"] for n, o in double.find("PersistentVolumeClaim", NS).items()
            } == pvcs
    assert {n: o["data"] for n, o in double.find("Secret", NS).items()} == secrets
    assert ansible.playbook("stop.yml").changed == 0


def test_deploy_after_stop_reuses_the_data_and_credentials(double, ansible):
    pvcs = {n: o["metadata"]["uid"] for n, o in double.find("PersistentVolumeClaim", NS).items()}
    secrets = {n: o["data"] for n, o in double.find("Secret", NS).items()}
    ansible.playbook("deploy.yml", extra=WORKERS)
    assert {n: o["metadata"]["uid"] for n, o in double.find("PersistentVolumeClaim", NS).items()
            } == pvcs
    assert {n: o["data"] for n, o in double.find("Secret", NS).items()} == secrets
    assert "eas-mysql" in double.find("StatefulSet", NS)
