"""Upgrading a running pipeline: deploy with the previous release of the roles, then with these
ones (same image and settings, then a new image tag and changed settings). The real API server
refuses what an emulator lets through — a Job's pod template, a StatefulSet's selector or
serviceName, a Deployment's selector cannot change in place — so every step must succeed
without mutating an immutable field, and the workers must roll onto the new pod template.

The tests share namespace ``plato-upgrade`` and run in order.
"""

from __future__ import annotations

import io
import subprocess
import tarfile

import pytest
from conftest import ROOT

NS = "plato-upgrade"
# The released roles and playbooks an upgrade starts from: the repository as it was before
# the roles met a real API server. Move it forward with each release.
PREVIOUS_RELEASE = "d6a0998c7701711dea86d9d1298c07e36bc3d788"
SETTINGS = {"eas_workers": ["eas-base", {"name": "eas-tda", "replicas": 2}],
            "eas_core_queue_implementation": "amqp", "eas_core_image": "plato-eas-worker:0.1.0",
            "eas_core_max_heartbeat_age": 300,
            "eas_workers_images": {"eas-base": "plato-eas-worker:0.1.0",
                                   "eas-tda": "plato-eas-worker:0.1.0"}}
NEW = dict(SETTINGS, eas_core_image="plato-eas-worker:0.2.0", eas_core_max_heartbeat_age=600,
           eas_workers_images={"eas-base": "plato-eas-worker:0.2.0",
                               "eas-tda": "plato-eas-worker:0.2.0"})
WORKERS = ("eas-worker-eas-base", "eas-worker-eas-tda")


@pytest.fixture(scope="module")
def ansible(cluster, ansible_in):
    cluster.reset_namespace(NS, create=False)
    return ansible_in(NS)


@pytest.fixture(scope="module")
def previous(tmp_path_factory):
    """The previous release's roles and playbooks as a collection (with today's modules and
    action groups, which the roles call)."""
    root = tmp_path_factory.mktemp("previous")
    target = root / "ansible_collections" / "plato" / "eas"
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", PREVIOUS_RELEASE, "roles", "playbooks"],
                             cwd=ROOT, capture_output=True, check=False)
    assert archive.returncode == 0, (
        f"the previous release {PREVIOUS_RELEASE} is not in this clone's history: "
        f"{archive.stderr.decode()[-300:]}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    (target / "plugins").symlink_to(ROOT / "plugins")
    (target / "meta").symlink_to(ROOT / "meta")
    (target / "galaxy.yml").symlink_to(ROOT / "galaxy.yml")
    return root


def worker_state(cluster):
    deps = cluster.find("Deployment", NS)
    return {name: ({rs["metadata"]["name"] for rs in cluster.replica_sets(NS, name)},
                   deps[name]["metadata"]["generation"]) for name in WORKERS}


def assert_rolled(cluster, before, image: str):
    deps = cluster.find("Deployment", NS)
    for name in WORKERS:
        dep = deps[name]
        status = dep["status"]
        assert status["updatedReplicas"] == status["readyReplicas"] == dep["spec"]["replicas"]
        assert status["observedGeneration"] == dep["metadata"]["generation"] > before[name][1]
        sets = cluster.replica_sets(NS, name)
        new = [rs for rs in sets if rs["metadata"]["name"] not in before[name][0]]
        assert len(new) == 1, name
        assert all(rs["spec"]["replicas"] == 0 for rs in sets if rs is not new[0])
        pods = cluster.pods(NS, f"app.kubernetes.io/name={name}")
        assert pods and all(p["spec"]["containers"][0]["image"] == image for p in pods)


def test_deploy_the_previous_release(cluster, ansible, previous):
    run = ansible.playbook("deploy.yml", extra=SETTINGS, collection=previous)
    assert run.changed > 0
    assert set(cluster.find("Deployment", NS)) == {"eas-scheduler", *WORKERS}


def test_upgrade_the_roles_keeping_image_and_settings(cluster, ansible):
    before = worker_state(cluster)
    volumes = {n: o["metadata"]["uid"]
               for n, o in cluster.find("PersistentVolumeClaim", NS).items()}
    statefulsets = {n: o["metadata"]["uid"] for n, o in cluster.find("StatefulSet", NS).items()}
    secrets = {n: o["data"] for n, o in cluster.find("Secret", NS).items()}
    run = ansible.playbook("deploy.yml", extra=SETTINGS)
    assert run.changed > 0
    assert_rolled(cluster, before, "plato-eas-worker:0.1.0")
    assert {n: o["metadata"]["uid"] for n, o in cluster.find("PersistentVolumeClaim", NS).items()
            } == volumes
    assert {n: o["metadata"]["uid"] for n, o in cluster.find("StatefulSet", NS).items()
            } == statefulsets
    after = {n: o["data"] for n, o in cluster.find("Secret", NS).items()}
    assert all(after[n].items() >= data.items() for n, data in secrets.items())  # kept
    # what this release adds: the dashboard's password and its read-only database user's
    assert set(after) - set(secrets) == {"eas-web"}
    assert set(after["eas-db"]) - set(secrets["eas-db"]) == {"readonly-password"}
    (job,) = cluster.find("Job", NS).values()
    assert {c["type"]: c["status"] for c in job["status"]["conditions"]}["Complete"] == "True"


def test_upgrade_to_a_new_image_and_settings(cluster, ansible):
    before = worker_state(cluster)
    (old_job,) = cluster.find("Job", NS)
    scheduler = cluster.find("Deployment", NS)["eas-scheduler"]["metadata"]["generation"]
    run = ansible.playbook("deploy.yml", extra=NEW)
    assert run.changed > 0
    assert_rolled(cluster, before, "plato-eas-worker:0.2.0")
    (job,) = cluster.find("Job", NS).values()  # the new release's; the old one removed
    assert job["metadata"]["name"] != old_job
    assert job["spec"]["template"]["spec"]["containers"][0]["image"] == "plato-eas-worker:0.2.0"
    assert job["status"]["succeeded"] == 1
    config = cluster.find("ConfigMap", NS)["eas-config"]["data"]["config.yaml"]
    assert "max_heartbeat_age: 600" in config
    sched = cluster.find("Deployment", NS)["eas-scheduler"]
    assert sched["metadata"]["generation"] > scheduler
    assert sched["status"]["updatedReplicas"] == sched["status"]["readyReplicas"] == 1


def test_the_upgraded_pipeline_is_stable(cluster, ansible):
    before = cluster.resource_versions(NS)
    assert ansible.playbook("deploy.yml", extra=NEW).changed == 0
    assert cluster.resource_versions(NS) == before


def test_every_upgrade_request_passes_strict_field_validation(cluster, ansible):
    replayed, refused = cluster.strict_refusals(NS, ansible.since)
    assert replayed >= 30
    assert refused == []
