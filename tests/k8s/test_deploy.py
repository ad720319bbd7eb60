"""deploy.yml against the real control plane: check mode on an empty cluster, first run (every
request replayed with strict field validation, the init Job completes, StatefulSets and
Deployments ready), secrets, idempotence (no resourceVersion moves), check mode as a server-side
dry run.

The tests of this module share namespace ``plato`` (the roles' default) and run in order: each
starts from the state the previous one left, like an operator's session.
"""

from __future__ import annotations

import base64
import copy
import json

import pytest

NS = "plato"
WORKERS = {"eas_workers": ["eas-base", {"name": "eas-tda", "replicas": 2}],
           "eas_core_queue_implementation": "amqp"}
PART_OF = {"app.kubernetes.io/part-of": "plato-eas"}
EXPECTED = {
    ("Secret", "eas-db"), ("Secret", "eas-mq"), ("ConfigMap", "eas-config"),
    ("PersistentVolumeClaim", "eas-input"), ("PersistentVolumeClaim", "eas-output"),
    ("PersistentVolumeClaim", "eas-database"), ("PersistentVolumeClaim", "eas-broker"),
    ("Service", "eas-mysql"), ("StatefulSet", "eas-mysql"),
    ("Service", "eas-rabbitmq"), ("StatefulSet", "eas-rabbitmq"),
    ("Deployment", "eas-scheduler"),
    ("Secret", "eas-web"), ("Service", "eas-web"), ("Deployment", "eas-web"),
    ("Deployment", "eas-worker-eas-base"), ("Deployment", "eas-worker-eas-tda"),
}


@pytest.fixture(scope="module")
def ansible(cluster, ansible_in):
    cluster.reset_namespace(NS, create=False)
    return ansible_in(NS)


def test_check_mode_on_an_empty_cluster_creates_nothing(cluster, ansible):
    assert cluster.call("GET", f"/api/v1/namespaces/{NS}")[0] == 404
    since = cluster.audit_lines()
    run = ansible.playbook("deploy.yml", "--check", "--diff", extra=WORKERS)
    assert run.changed >= 1  # it says it would create the namespace
    assert "A real run creates Secrets eas-db, eas-mq, eas-web" in run.out
    assert cluster.call("GET", f"/api/v1/namespaces/{NS}")[0] == 404
    writes = [e for e in cluster.audit(NS, since) if e["verb"] != "delete"]
    assert writes and all("dryRun=All" in e["requestURI"] for e in writes), writes


def test_first_deploy_creates_the_expected_objects(cluster, ansible):
    run = ansible.playbook("deploy.yml", extra=WORKERS)
    assert run.changed > 0
    assert run.warnings == [], run.warnings  # e.g. the API server's unknown-field warnings
    found = set(cluster.objects(NS))
    init = [name for kind, name in found if kind == "Job"]
    assert len(init) == 1 and init[0].startswith("eas-init-")
    assert found == EXPECTED | {("Job", init[0])}
    namespace = cluster.get(f"/api/v1/namespaces/{NS}")
    assert namespace["metadata"]["labels"].items() >= PART_OF.items()
    for (kind, name), obj in cluster.objects(NS).items():
        labels = obj["metadata"]["labels"]
        assert labels.items() >= PART_OF.items(), (kind, name)
        assert labels["app.kubernetes.io/component"], (kind, name)


def test_the_init_job_completed_and_the_workloads_are_ready(cluster):
    (job,) = cluster.find("Job", NS).values()
    assert {c["type"]: c["status"] for c in job["status"]["conditions"]}["Complete"] == "True"
    assert job["status"]["succeeded"] == 1
    for sts in cluster.find("StatefulSet", NS).values():
        assert sts["status"]["readyReplicas"] == sts["spec"]["replicas"] == 1
        assert sts["status"]["observedGeneration"] == sts["metadata"]["generation"]
    for name, dep in cluster.find("Deployment", NS).items():
        status = dep["status"]
        assert status["readyReplicas"] == status["updatedReplicas"] == dep["spec"]["replicas"]
        conditions = {c["type"]: c["status"] for c in status["conditions"]}
        assert conditions["Available"] == "True", name
    for name, pvc in cluster.find("PersistentVolumeClaim", NS).items():
        assert pvc["status"]["phase"] == "Bound", name
    phases = {p["metadata"]["name"]: p["status"]["phase"] for p in cluster.pods(NS)}
    assert sorted(phases.values()) == ["Running"] * 7 + ["Succeeded"], phases


def test_every_request_passes_strict_field_validation(cluster, ansible):
    """Each create/patch the roles sent (audit log) is sent again as a dry run with
    fieldValidation=Strict: no unknown or duplicated field hides behind the server's default,
    which only warns. Secret bodies are not in the audit log (passwords) and are not replayed."""
    writes = [e for e in cluster.audit(NS, ansible.since)
              if e["verb"] in ("create", "update", "patch") and "dryRun" not in e["requestURI"]]
    assert {e["objectRef"]["resource"] for e in writes if e.get("requestObject") is None
            } == {"secrets"}
    replayed, refused = cluster.strict_refusals(NS, ansible.since)
    assert replayed >= 16
    assert refused == []


def test_the_strict_replay_refuses_an_unknown_field(cluster, ansible):
    """The check above is not vacuous: a misspelt field in a logged request is refused."""
    (event,) = [e for e in cluster.audit(NS, ansible.since) if e["verb"] == "create"
                and "dryRun" not in e["requestURI"]
                and e["objectRef"]["resource"] == "deployments"
                and e["requestObject"]["metadata"]["name"] == "eas-scheduler"]
    bad = copy.deepcopy(event)
    bad["requestObject"]["spec"]["template"]["spec"]["containers"][0]["resourcez"] = {}
    replay = cluster.replay_strict(bad)
    assert replay.status == 400
    assert 'unknown field "spec.template.spec.containers[0].resourcez"' in replay.message


def test_workers_follow_the_registry_capped_to_a_node_fraction(cluster):
    deps = cluster.find("Deployment", NS)
    tda = deps["eas-worker-eas-tda"]
    assert tda["spec"]["replicas"] == 2
    assert tda["metadata"]["labels"]["plato-eas/container"] == "eas-tda"
    assert tda["metadata"]["labels"]["app.kubernetes.io/component"] == "worker"
    pod = tda["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    assert c["command"] == ["eas", "worker", "--container", "eas-tda"]
    # registry: 4 CPU / 16 GB; the kwok nodes' 4 CPU / 8Gi x 0.25 caps it to 1 CPU / 2Gi
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


def test_scheduler_init_job_and_workers_share_one_pod_spec(cluster):
    """Config file, Secrets, claims and mounts are the same for every plato_eas pod."""
    deps = cluster.find("Deployment", NS)
    (job,) = cluster.find("Job", NS).values()
    pods = [deps[name]["spec"]["template"]["spec"] for name in
            ("eas-scheduler", "eas-worker-eas-base", "eas-worker-eas-tda")]
    pods.append(job["spec"]["template"]["spec"])

    def shared(pod):
        c = pod["containers"][0]
        env = {e["name"]: e.get("value", e.get("valueFrom")) for e in c["env"]}
        return (env, c["volumeMounts"], pod["volumes"], pod["securityContext"],
                c["securityContext"])

    first = shared(pods[0])
    assert all(shared(pod) == first for pod in pods[1:])
    assert first[0]["EAS_MQ_PASSWORD"] == {"secretKeyRef": {"name": "eas-mq",
                                                            "key": "password"}}


def test_passwords_live_only_in_secrets(cluster, ansible):
    secrets = cluster.find("Secret", NS)
    passwords = [base64.b64decode(v).decode() for s in secrets.values()
                 for v in s["data"].values()]
    assert len(passwords) == 5 and all(len(p) >= 24 for p in passwords)
    others = json.dumps([o for (kind, _), o in cluster.objects(NS).items() if kind != "Secret"])
    sent = json.dumps([e.get("requestObject") for e in cluster.audit(NS, ansible.since)])
    for password in passwords:
        assert password not in others
        assert password not in sent
        assert not any(password in out for out in ansible.outputs)
    env = cluster.find("Deployment", NS)["eas-scheduler"]["spec"]["template"]["spec"][
        "containers"][0]["env"]
    by_name = {e["name"]: e for e in env}
    assert by_name["EAS_DB_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "eas-db", "key": "password"}
    assert all("value" not in e for e in env if "PASSWORD" in e["name"])
    mysql = cluster.find("StatefulSet", NS)["eas-mysql"]["spec"]["template"]["spec"]
    assert all("value" not in e for e in mysql["containers"][0]["env"]
               if "PASSWORD" in e["name"])


def test_second_deploy_reports_no_change(cluster, ansible):
    before = cluster.resource_versions(NS)
    run = ansible.playbook("deploy.yml", extra=WORKERS)
    assert run.changed == 0, run.out[-4000:]
    assert cluster.resource_versions(NS) == before


def test_check_mode_is_a_server_side_dry_run_that_changes_nothing(cluster, ansible):
    before = cluster.resource_versions(NS)
    since = cluster.audit_lines()
    extra = dict(WORKERS, eas_workers=["eas-base", {"name": "eas-tda", "replicas": 5}])
    run = ansible.playbook("deploy.yml", "--check", "--diff", extra=extra)
    assert run.changed == 1
    assert "replicas: 5" in run.out or '"replicas": 5' in run.out
    assert cluster.resource_versions(NS) == before
    writes = [e for e in cluster.audit(NS, since) if e["verb"] in ("create", "update", "patch")]
    assert writes, "check mode sent nothing to the API server"
    assert all("dryRun=All" in e["requestURI"] for e in writes), [
        e["requestURI"] for e in writes]
