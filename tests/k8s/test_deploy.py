"""deploy.yml against the Kubernetes API double: first run, validation, secrets, idempotence,
check mode.

The tests of this module share one double and run in order: each starts from the state the
previous one left (like an operator's session).
"""

from __future__ import annotations

import base64
import json

import kubernetes_validate
import pytest

NS = "plato"
WORKERS = {"eas_workers": ["eas-base", {"name": "eas-tda", "replicas": 2}],
           "eas_core_queue_implementation": "amqp"}
K8S_VERSION = "1.33.0"
PART_OF = {"app.kubernetes.io/part-of": "plato-eas"}


def kinds(double, namespace=NS):
    return {(o["kind"], o["metadata"]["name"]) for o in double.objects()
            if o["metadata"].get("namespace") == namespace}


def test_check_mode_on_an_empty_cluster_creates_nothing(double, ansible):
    run = ansible.playbook("deploy.yml", "--check", "--diff", extra=WORKERS)
    assert run.changed >= 1  # it says it would create the namespace
    assert "A real run creates Secrets eas-db, eas-mq" in run.out
    assert double.writes() == []
    assert [o["kind"] for o in double.objects()] == ["Node"]


def test_first_deploy_creates_the_expected_objects(double, ansible):
    run = ansible.playbook("deploy.yml", extra=WORKERS)
    assert run.changed > 0
    found = kinds(double)
    init = [name for kind, name in found if kind == "Job"]
    assert len(init) == 1 and init[0].startswith("eas-init-")
    assert found == {
        ("Secret", "eas-db"), ("Secret", "eas-mq"), ("ConfigMap", "eas-config"),
        ("PersistentVolumeClaim", "eas-input"), ("PersistentVolumeClaim", "eas-output"),
        ("PersistentVolumeClaim", "eas-database"), ("PersistentVolumeClaim", "eas-broker"),
        ("Service", "eas-mysql"), ("StatefulSet", "eas-mysql"),
        ("Service", "eas-rabbitmq"), ("StatefulSet", "eas-rabbitmq"),
        ("Job", init[0]), ("Deployment", "eas-scheduler"),
        ("Deployment", "eas-worker-eas-base"), ("Deployment", "eas-worker-eas-tda"),
    }
    assert double.find("Namespace")[NS]["metadata"]["labels"].items() >= PART_OF.items()
    for obj in double.objects():
        if obj["metadata"].get("namespace") == NS:
            labels = obj["metadata"]["labels"]
            assert labels.items() >= PART_OF.items(), obj["metadata"]["name"]
            assert labels["app.kubernetes.io/component"]


def test_workers_follow_the_registry_capped_to_a_node_fraction(double):
    deps = double.find("Deployment", NS)
    tda = deps["eas-worker-eas-tda"]
    assert tda["spec"]["replicas"] == 2
    assert tda["metadata"]["labels"]["plato-eas/container"] == "eas-tda"
    assert tda["metadata"]["labels"]["app.kubernetes.io/component"] == "worker"
    pod = tda["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    assert c["command"] == ["eas", "worker", "--container", "eas-tda"]
    # registry: 2 CPU / 4 GB; node 4 CPU / 8Gi x 0.25 caps it to 1 CPU / 2Gi
    assert c["resources"] == {"requests": {"cpu": "1", "memory": "2Gi"},
                              "limits": {"cpu": "1", "memory": "2Gi"}}
    assert {m["mountPath"] for m in c["volumeMounts"]} >= {"/data/input", "/data/output"}
    claims = {v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"]
              if "persistentVolumeClaim" in v}
    assert claims == {"eas-input", "eas-output"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    base = deps["eas-worker-eas-base"]["spec"]
    assert base["replicas"] == 1
    assert base["template"]["spec"]["containers"][0]["resources"]["limits"] == {
        "cpu": "1", "memory": "2Gi"}
    sched = deps["eas-scheduler"]["spec"]["template"]["spec"]["containers"][0]
    assert sched["command"] == ["eas", "scheduler"]


def test_every_rendered_manifest_validates_strictly(double):
    created = [body for method, _ctype, body in double.bodies() if method == "POST"]
    assert len(created) >= 16
    for manifest in created:
        manifest = dict(manifest)
        manifest.get("metadata", {}).pop("namespace", None) if manifest["kind"] == "Namespace" \
            else None
        try:
            kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{manifest['kind']}/{manifest['metadata']['name']}: {exc.message} "
                        f"at {list(exc.path)}")


def test_an_invalid_manifest_is_caught_by_the_validator():
    bad = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
           "spec": {"replicas": 1, "selector": {}, "template": {"spec": {"containers": [
               {"name": "c", "image": "i", "resourcez": {}}]}}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, K8S_VERSION, strict=True)


def test_passwords_live_only_in_secrets(double, ansible):
    secrets = double.find("Secret", NS)
    passwords = [base64.b64decode(v).decode() for s in secrets.values()
                 for v in s["data"].values()]
    assert len(passwords) == 3 and all(len(p) >= 24 for p in passwords)
    others = json.dumps([o for o in double.objects() if o["kind"] != "Secret"])
    sent = json.dumps([b for _m, _c, b in double.bodies() if b.get("kind") != "Secret"])
    for password in passwords:
        assert password not in others
        assert password not in sent
        assert not any(password in out for out in ansible.outputs)
    env = double.find("Deployment", NS)["eas-scheduler"]["spec"]["template"]["spec"][
        "containers"][0]["env"]
    by_name = {e["name"]: e for e in env}
    assert by_name["EAS_DB_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "eas-db", "key": "password"}
    assert all("value" not in e for e in env if "PASSWORD" in e["name"])
    mysql = double.find("StatefulSet", NS)["eas-mysql"]["spec"]["template"]["spec"]
    assert all("value" not in e for e in mysql["containers"][0]["env"]
               if "PASSWORD" in e["name"])


def test_second_deploy_reports_no_change(double, ansible):
    before = double.writes()
    run = ansible.playbook("deploy.yml", extra=WORKERS)
    assert run.changed == 0, run.out[-4000:]
    assert double.writes() == before


def test_check_mode_reports_but_changes_nothing(double, ansible):
    before = double.objects()
    extra = dict(WORKERS, eas_workers=["eas-base", {"name": "eas-tda", "replicas": 5}])
    run = ansible.playbook("deploy.yml", "--check", "--diff", extra=extra)
    assert run.changed == 1
    assert "replicas: 5" in run.out or '"replicas": 5' in run.out
    assert double.objects() == before


