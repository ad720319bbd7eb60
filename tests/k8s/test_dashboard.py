"""The dashboard (``eas web``) on the real control plane: deploy.yml brings up Deployment and
Service ``eas-web`` with the core (every request replayed strictly, the rollout ready), the pod
shares the plato_eas pod spec but reads as the SELECT-only database user that the init Job
creates, its passwords live only in Secrets; a second deploy changes nothing,
restart_dashboard.yml rolls it onto a new ReplicaSet, stop.yml removes it and keeps its Secret.

(Nothing runs inside the pods here, so the probe's answer and the grants themselves are proven
elsewhere: /healthz in tests/web/test_access.py, the user in
tests/backends/test_readonly_user.py.)

The tests of this module share namespace ``plato-web`` and run in order.
"""

from __future__ import annotations

import base64
import json

import pytest

NS = "plato-web"
CORE = {"eas_core_queue_implementation": "amqp"}


@pytest.fixture(scope="module")
def ansible(cluster, ansible_in):
    cluster.reset_namespace(NS, create=False)
    return ansible_in(NS)


def _env(container: dict) -> dict:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def _secret(key_name: str, key: str) -> dict:
    return {"secretKeyRef": {"name": key_name, "key": key}}


def _ready(dep: dict) -> bool:
    status, replicas = dep["status"], dep["spec"]["replicas"]
    conditions = {c["type"]: c["status"] for c in status.get("conditions", [])}
    return (status.get("observedGeneration") == dep["metadata"]["generation"]
            and status.get("readyReplicas", 0) == status.get("updatedReplicas", 0) == replicas
            and conditions.get("Available") == "True")


def test_deploy_brings_the_dashboard_up_with_the_core(cluster, ansible):
    run = ansible.playbook("deploy.yml", extra=CORE)
    assert run.rc == 0 and run.changed > 0, run.out[-3000:]
    assert run.warnings == [], run.warnings
    found = set(cluster.objects(NS))
    assert {("Deployment", "eas-web"), ("Service", "eas-web"), ("Secret", "eas-web")} <= found
    dep = cluster.find("Deployment", NS)["eas-web"]
    assert dep["spec"]["replicas"] == 1 and _ready(dep), dep["status"]
    assert dep["metadata"]["labels"]["app.kubernetes.io/component"] == "dashboard"
    (pod,) = cluster.pods(NS, "app.kubernetes.io/name=eas-web")
    assert pod["status"]["phase"] == "Running"
    service = cluster.find("Service", NS)["eas-web"]["spec"]
    assert service["type"] == "ClusterIP"
    assert [(p["name"], p["port"], p["targetPort"]) for p in service["ports"]] == [
        ("http", 8050, "http")]
    assert service["selector"].items() <= pod["metadata"]["labels"].items()


def test_every_request_passes_strict_field_validation(cluster, ansible):
    sent = {(e["objectRef"]["resource"], e["requestObject"]["metadata"]["name"])
            for e in cluster.audit(NS, ansible.since) if e["verb"] == "create"
            and e.get("requestObject") and "dryRun" not in e["requestURI"]}
    assert {("deployments", "eas-web"), ("services", "eas-web")} <= sent
    replayed, refused = cluster.strict_refusals(NS, ansible.since)
    assert replayed >= 12
    assert refused == []


def test_the_dashboard_shares_the_pod_spec_and_reads_as_the_select_only_user(cluster):
    deps = cluster.find("Deployment", NS)
    web, sched = (deps[n]["spec"]["template"]["spec"] for n in ("eas-web", "eas-scheduler"))
    (c,), (s,) = web["containers"], sched["containers"]
    assert c["command"] == ["eas", "web", "--host", "0.0.0.0", "--port", "8050"]
    assert c["ports"] == [{"name": "http", "containerPort": 8050, "protocol": "TCP"}]
    probe = c["readinessProbe"]["httpGet"]
    assert (probe["path"], probe["port"]) == ("/healthz", "http")
    assert c["resources"] == {"requests": {"cpu": "100m", "memory": "256Mi"},
                              "limits": {"memory": "512Mi"}}
    assert (c["image"], web["securityContext"], c["securityContext"], web["volumes"]) == (
        s["image"], sched["securityContext"], s["securityContext"], sched["volumes"])
    assert [(m["name"], m["mountPath"]) for m in c["volumeMounts"]] == [
        (m["name"], m["mountPath"]) for m in s["volumeMounts"]]
    assert all(m["readOnly"] for m in c["volumeMounts"])
    env, shared = _env(c), _env(s)
    assert env == {
        "EAS_CONFIG_FILE": shared["EAS_CONFIG_FILE"],
        "EAS_MQ_PASSWORD": shared["EAS_MQ_PASSWORD"],
        "EAS_DB_USER": "eas_ro",
        "EAS_DB_PASSWORD": _secret("eas-db", "readonly-password"),
        "EAS_WEB_PASSWORD": _secret("eas-web", "password"),
    }


def test_the_init_job_creates_the_read_only_user_as_root(cluster):
    (job,) = cluster.find("Job", NS).values()
    assert job["status"]["succeeded"] == 1
    spec = job["spec"]["template"]["spec"]
    first = spec["initContainers"][0]
    assert first["name"] == "readonly-user"
    assert first["command"] == ["python", "-m", "plato_eas.admin.readonly_user"]
    assert first["securityContext"] == spec["containers"][0]["securityContext"]
    env = _env(first)
    assert env["EAS_DB_ADMIN_USER"] == "root"
    assert env["EAS_DB_ADMIN_PASSWORD"] == _secret("eas-db", "root-password")
    assert env["EAS_DB_READONLY_USER"] == "eas_ro"
    assert env["EAS_DB_READONLY_PASSWORD"] == _secret("eas-db", "readonly-password")
    assert "EAS_DB_PASSWORD" not in env and "EAS_MQ_PASSWORD" not in env


def test_its_passwords_live_only_in_secrets(cluster, ansible):
    secrets = cluster.find("Secret", NS)
    web = base64.b64decode(secrets["eas-web"]["data"]["password"]).decode()
    readonly = base64.b64decode(secrets["eas-db"]["data"]["readonly-password"]).decode()
    others = {base64.b64decode(v).decode() for name, s in secrets.items()
              for key, v in s["data"].items() if (name, key) not in (
                  ("eas-web", "password"), ("eas-db", "readonly-password"))}
    assert len(web) >= 24 and len(readonly) >= 24 and web != readonly
    assert not {web, readonly} & others
    plain = json.dumps([o for (kind, _), o in cluster.objects(NS).items() if kind != "Secret"])
    sent = json.dumps([e.get("requestObject") for e in cluster.audit(NS, ansible.since)])
    for password in (web, readonly):
        assert password not in plain and password not in sent
        assert not any(password in out for out in ansible.outputs)


def test_second_deploy_reports_no_change(cluster, ansible):
    before = cluster.resource_versions(NS)
    run = ansible.playbook("deploy.yml", extra=CORE)
    assert run.changed == 0, run.out[-4000:]
    assert cluster.resource_versions(NS) == before


def test_restart_dashboard_rolls_it_onto_a_new_replica_set(cluster, ansible):
    before = cluster.find("Deployment", NS)
    old_sets = {rs["metadata"]["name"] for rs in cluster.replica_sets(NS, "eas-web")}
    old_pods = {p["metadata"]["name"] for p in cluster.pods(NS, "app.kubernetes.io/name=eas-web")}
    run = ansible.playbook("restart_dashboard.yml")
    assert run.changed == 1, run.out[-3000:]
    after = cluster.find("Deployment", NS)
    assert after["eas-scheduler"]["metadata"]["resourceVersion"] == before["eas-scheduler"][
        "metadata"]["resourceVersion"]
    dep = after["eas-web"]
    assert dep["spec"]["template"]["metadata"]["annotations"][
        "kubectl.kubernetes.io/restartedAt"].endswith("Z")
    assert dep["metadata"]["generation"] == before["eas-web"]["metadata"]["generation"] + 1
    assert _ready(dep), dep["status"]
    sets = {rs["metadata"]["name"]: rs for rs in cluster.replica_sets(NS, "eas-web")}
    (new,) = set(sets) - old_sets
    assert sets[new]["status"]["readyReplicas"] == 1
    assert all(sets[old]["spec"]["replicas"] == 0 for old in old_sets)
    pods = cluster.pods(NS, "app.kubernetes.io/name=eas-web")
    assert pods and {p["metadata"]["name"] for p in pods}.isdisjoint(old_pods)
    assert all(p["metadata"]["labels"]["pod-template-hash"]
               == sets[new]["metadata"]["labels"]["pod-template-hash"] for p in pods)
    replayed, refused = cluster.strict_refusals(NS, ansible.since)
    assert refused == []


def test_stop_removes_the_dashboard_and_keeps_its_secrets(cluster, ansible):
    secrets = {n: o["data"] for n, o in cluster.find("Secret", NS).items()}
    ansible.playbook("stop.yml")
    left = set(cluster.objects(NS))
    assert ("Deployment", "eas-web") not in left and ("Service", "eas-web") not in left
    assert {k for k, _ in left} == {"PersistentVolumeClaim", "Secret", "ConfigMap"}
    assert cluster.pods(NS) == [] and cluster.find("ReplicaSet", NS) == {}
    assert {n: o["data"] for n, o in cluster.find("Secret", NS).items()} == secrets
    assert "eas-web" in secrets and "readonly-password" in secrets["eas-db"]


def test_deploy_after_stop_keeps_the_dashboard_passwords(cluster, ansible):
    secrets = {n: (o["metadata"]["resourceVersion"], o["data"])
               for n, o in cluster.find("Secret", NS).items()}
    assert ansible.playbook("deploy.yml", extra=CORE).rc == 0
    assert {n: (o["metadata"]["resourceVersion"], o["data"])
            for n, o in cluster.find("Secret", NS).items()} == secrets
    assert _ready(cluster.find("Deployment", NS)["eas-web"])

