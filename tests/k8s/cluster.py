"""What the Kubernetes tests ask of the real control plane (tests/k8s/control_plane.py):
objects of a namespace with their resourceVersions, ReplicaSets and pods, namespaces with
labels, a namespaced service account's kubeconfig, and the replay of the write requests the
roles sent (from the API server's audit log) with strict field validation."""

from __future__ import annotations

import json
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import kubernetes
import yaml
from control_plane import kubeconfig

# What the roles create in the pipeline's namespace, as (group/version, plural resource).
KINDS = {
    "Secret": ("v1", "secrets"), "ConfigMap": ("v1", "configmaps"),
    "PersistentVolumeClaim": ("v1", "persistentvolumeclaims"), "Service": ("v1", "services"),
    "StatefulSet": ("apps/v1", "statefulsets"), "Deployment": ("apps/v1", "deployments"),
    "ReplicaSet": ("apps/v1", "replicasets"), "Job": ("batch/v1", "jobs"), "Pod": ("v1", "pods"),
}
# Created by Kubernetes itself in every namespace, not by the roles.
BUILT_IN = {("ConfigMap", "kube-root-ca.crt")}


@dataclass
class Replay:
    """A write request of the audit log sent again as a strict server-side dry run."""

    verb: str
    uri: str
    status: int
    message: str


class Cluster:
    def __init__(self, state: dict):
        self.state = state
        self.kubeconfig = Path(state["kubeconfig"])
        self.audit_log = Path(state["audit_log"])
        # the tests' own requests go as "observer", which the audit log leaves out
        self.api = kubernetes.config.new_client_from_config(config_file=state["observer"])

    # -- raw API ----------------------------------------------------------------------------
    def call(self, method: str, path: str, body=None, query: list | None = None,
             content_type: str = "application/json") -> tuple[int, dict]:
        """One request as the observer (cluster-admin): (HTTP status, decoded body); never
        raises for an HTTP error (the tests look at what the server said)."""
        url = self.api.configuration.host + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        resp = self.api.call_api(method, url, header_params={
            "Content-Type": content_type, "Accept": "application/json"}, body=body)
        raw = resp.read()
        try:
            return resp.status, json.loads(raw or b"{}")
        except ValueError:
            return resp.status, {"message": raw.decode(errors="replace")}

    def get(self, path: str) -> dict:
        status, body = self.call("GET", path)
        assert status == 200, (path, status, body)
        return body

    @staticmethod
    def path(kind: str, namespace: str | None = None, name: str | None = None) -> str:
        version, plural = KINDS[kind]
        prefix = "/api/v1" if version == "v1" else f"/apis/{version}"
        ns = f"/namespaces/{namespace}" if namespace else ""
        return f"{prefix}{ns}/{plural}" + (f"/{name}" if name else "")

    # -- reading ----------------------------------------------------------------------------
    def find(self, kind: str, namespace: str) -> dict[str, dict]:
        items = self.get(self.path(kind, namespace))["items"]
        return {o["metadata"]["name"]: o for o in items}

    def objects(self, namespace: str) -> dict[tuple[str, str], dict]:
        """Every object of the kinds the roles manage (not pods, not ReplicaSets)."""
        found = {}
        for kind in KINDS:
            if kind in ("Pod", "ReplicaSet"):
                continue
            for name, obj in self.find(kind, namespace).items():
                if (kind, name) not in BUILT_IN:
                    found[(kind, name)] = obj
        return found

    def resource_versions(self, namespace: str) -> dict[tuple[str, str], str]:
        versions = {key: o["metadata"]["resourceVersion"]
                    for key, o in self.objects(namespace).items()}
        ns = self.get(f"/api/v1/namespaces/{namespace}")
        versions[("Namespace", namespace)] = ns["metadata"]["resourceVersion"]
        return versions

    def replica_sets(self, namespace: str, deployment: str) -> list[dict]:
        uid = self.find("Deployment", namespace)[deployment]["metadata"]["uid"]
        return [rs for rs in self.find("ReplicaSet", namespace).values()
                if any(ref["uid"] == uid for ref in rs["metadata"].get("ownerReferences", []))]

    def pods(self, namespace: str, selector: str = "") -> list[dict]:
        path = self.path("Pod", namespace) + (f"?labelSelector={selector}" if selector else "")
        return self.get(path)["items"]

    def events(self, namespace: str, reason: str) -> list[dict]:
        items = self.get(f"/api/v1/namespaces/{namespace}/events")["items"]
        return [e for e in items if e.get("reason") == reason]

    def wait_for(self, what: str, check, timeout: float = 60):
        end = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            assert time.monotonic() < end, f"timed out waiting for {what}"
            time.sleep(0.5)

    # -- writing ----------------------------------------------------------------------------
    def reset_namespace(self, name: str, labels: dict | None = None,
                        create: bool = True) -> None:
        """Delete ``name`` with everything in it (a rerun on a developer's running plane),
        then create it afresh with ``labels`` unless ``create`` is false."""
        if self.call("DELETE", f"/api/v1/namespaces/{name}")[0] in (200, 202):
            self.wait_for(f"namespace {name} to go", lambda: self.call(
                "GET", f"/api/v1/namespaces/{name}")[0] == 404, timeout=120)
        self.recycle_volumes(name)
        if create:
            status, body = self.call("POST", "/api/v1/namespaces", {
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": name, "labels": labels or {}}})
            assert status == 201, body

    def delete_namespace(self, name: str) -> None:
        """Delete ``name`` without waiting (frees the nodes' capacity for the next module)."""
        self.call("DELETE", f"/api/v1/namespaces/{name}")

    def recycle_volumes(self, namespace: str) -> None:
        """Make the pool's volumes that claims of ``namespace`` held (now deleted) available
        again, as an administrator does with a Retain volume."""
        for pv in self.get("/api/v1/persistentvolumes")["items"]:
            ref = pv["spec"].get("claimRef") or {}
            if pv["status"].get("phase") == "Released" and ref.get("namespace") == namespace:
                status, body = self.call(
                    "PATCH", f"/api/v1/persistentvolumes/{pv['metadata']['name']}",
                    {"spec": {"claimRef": None}}, content_type="application/merge-patch+json")
                assert status == 200, body

    def service_account_kubeconfig(self, namespace: str, name: str, rules: list[dict],
                                   path: Path) -> Path:
        """A ServiceAccount bound to a Role of ``rules`` in ``namespace`` only, and a
        kubeconfig with a token for it (what an AWX job template usually runs as)."""
        meta = {"name": name, "namespace": namespace}
        for kind, plural, group, body in (
                ("ServiceAccount", "serviceaccounts", "/api/v1", {}),
                ("Role", "roles", "/apis/rbac.authorization.k8s.io/v1", {"rules": rules}),
                ("RoleBinding", "rolebindings", "/apis/rbac.authorization.k8s.io/v1", {
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                "name": name},
                    "subjects": [{"kind": "ServiceAccount", "name": name,
                                  "namespace": namespace}]})):
            api_version = "v1" if group == "/api/v1" else "rbac.authorization.k8s.io/v1"
            status, answer = self.call("POST", f"{group}/namespaces/{namespace}/{plural}",
                                       {"apiVersion": api_version, "kind": kind,
                                        "metadata": meta, **body})
            assert status == 201, answer
        status, token = self.call(
            "POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
            {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
             "spec": {"expirationSeconds": 3600}})
        assert status == 201, token
        path.write_text(kubeconfig(self.state["server"], Path(self.state["ca"]),
                                   f"system:serviceaccount:{namespace}:{name}",
                                   token=token["status"]["token"], namespace=namespace))
        path.chmod(0o600)
        return path

    # -- the audit log ----------------------------------------------------------------------
    def audit(self, namespace: str, since: int = 0) -> list[dict]:
        """The admin's write requests in ``namespace`` (and to it), from line ``since`` on."""
        events = []
        with open(self.audit_log) as fh:
            for number, line in enumerate(fh):
                if number < since:
                    continue
                event = json.loads(line)
                ref = event.get("objectRef", {})
                if event.get("stage") != "ResponseComplete":
                    continue
                if ref.get("namespace") == namespace or (
                        ref.get("resource") == "namespaces" and ref.get("name") == namespace):
                    events.append(event)
        return events

    def audit_lines(self) -> int:
        with open(self.audit_log) as fh:
            return sum(1 for _ in fh)

    def strict_refusals(self, namespace: str, since: int) -> tuple[int, list[Replay]]:
        """Replay every create/update/patch of ``namespace`` since line ``since`` (not dry runs,
        not Secrets, whose bodies the log leaves out; not objects deleted since) with strict
        field validation: (how many were replayed, the refused ones)."""
        events = [e for e in self.audit(namespace, since)
                  if e["verb"] in ("create", "update", "patch") and "dryRun" not in e["requestURI"]
                  and e.get("requestObject") is not None]
        replays = [self.replay_strict(e) for e in events]
        refused = [r for r in replays if r.status not in (200, 201)
                   and not (r.status == 404 and r.verb != "create")]
        return len(replays), refused

    def replay_strict(self, event: dict) -> Replay:
        """Send a logged create/update/patch again with ``fieldValidation=Strict`` as a dry
        run: unknown or duplicate fields that the default (Warn) let through fail here."""
        verb, uri, body = event["verb"], event["requestURI"], event["requestObject"]
        path = uri.split("?")[0]
        query = [("dryRun", "All"), ("fieldValidation", "Strict")]
        if verb == "create":
            status, answer = self.call("POST", path, body, query)
            if status == 409:  # exists: strict decoding passed before the conflict
                status = 201
        elif verb == "update":
            body = json.loads(json.dumps(body))
            body["metadata"].pop("resourceVersion", None)
            status, answer = self.call("PUT", path, body, query)
        else:
            kind = ("application/json-patch+json" if isinstance(body, list)
                    else "application/strategic-merge-patch+json")
            status, answer = self.call("PATCH", path, body, query, kind)
            if status == 415:
                status, answer = self.call("PATCH", path, body, query,
                                           "application/merge-patch+json")
        return Replay(verb, uri, status, answer.get("message", ""))


def load_kubeconfig(path: Path) -> dict:
    return yaml.safe_load(path.read_text())
