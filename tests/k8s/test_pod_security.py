"""Pod Security admission: the pipeline deploys into namespaces that enforce the ``baseline``
and the ``restricted`` Pod Security Standards, and every pod is admitted (the API server
refuses the pods, not the Deployments, so a refused pod shows as FailedCreate and a rollout
that never completes).

mysql, rabbitmq and the plato_eas image (init Job, scheduler, dashboard, workers) all run as
their image's non-root user (999, 999, 10001) with no privilege escalation, no capabilities
and the runtime's default seccomp profile, which is what ``restricted`` asks; nothing here
runs the images themselves.
"""

from __future__ import annotations

import pytest

WORKERS = {"eas_workers": ["eas-base", {"name": "eas-tda", "replicas": 2}],
           "eas_core_queue_implementation": "amqp",
           # a refused pod never becomes ready: fail in a minute, not ten
           "eas_core_wait_timeout": 90, "eas_workers_wait_timeout": 90}


@pytest.mark.parametrize("level", ["baseline", "restricted"])
def test_every_pod_is_admitted(cluster, ansible_in, level):
    namespace = f"plato-psa-{level}"
    cluster.reset_namespace(namespace, {"pod-security.kubernetes.io/enforce": level,
                                         "pod-security.kubernetes.io/warn": level})
    ansible = ansible_in(namespace)
    run = ansible.playbook("deploy.yml", extra=WORKERS, check=False)
    refused = [e["message"] for e in cluster.events(namespace, "FailedCreate")]
    assert refused == [], refused[:3]
    assert run.rc == 0, run.out[-4000:]
    assert not [w for w in run.warnings if "PodSecurity" in w], run.warnings
    pods = cluster.pods(namespace)
    assert sorted(p["status"]["phase"] for p in pods) == ["Running"] * 7 + ["Succeeded"]
    for name, dep in cluster.find("Deployment", namespace).items():
        assert dep["status"]["readyReplicas"] == dep["spec"]["replicas"], name
    labels = cluster.get(f"/api/v1/namespaces/{namespace}")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == level  # the deploy kept it
