"""A Kubernetes API test double on loopback: kmock's emulator plus what kubernetes.core needs.

kmock 0.8 (``kmock.KubernetesEmulator`` behind ``kmock.Server``) serves API discovery from its
bundled resource list and stores objects, but kubernetes.core's ``k8s``/``k8s_info`` modules
also need, and this thin wrapper adds:

* the Namespace resource at ``/api/v1/namespaces[/<name>]`` (kmock parses ``namespaces`` as a
  path prefix), and namespaced objects refused in a namespace that does not exist;
* PUT as replace, PATCH as JSON merge / strategic merge (list merge keys of the core kinds) /
  JSON patch, server-side apply (``application/apply-patch+yaml``), DELETE;
* ``kind``/``apiVersion`` on list responses; ``labelSelector`` and ``fieldSelector``;
* metadata: uid, resourceVersion (bumped only on a real change), creationTimestamp,
  generation (bumped when anything but metadata/status changes);
* ``dryRun=All``: the answer is computed, nothing is stored;
* Secret ``stringData`` folded into base64 ``data``; Service clusterIP; defaults that
  kubernetes.core's waiters read (StatefulSet updateStrategy);
* status as a healthy cluster would report it, so ``wait: true`` returns: Deployments and
  StatefulSets fully rolled out and ready, Jobs Complete, PVCs Bound, Namespaces Active.

Use :class:`KubeDouble` (starts on a free loopback port in a background thread) from Python, or
the command line (``python tests/k8s/kapi.py start|stop``) from molecule scenarios.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import copy
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp.web
import kmock
import yaml

Key = tuple[str, str, str, str | None, str]  # group, version, plural, namespace, name

# strategic-merge list keys of the kinds the roles use (k8s.io/api "patchMergeKey" tags)
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "env": "name", "volumes": "name", "volumeMounts": "mountPath", "imagePullSecrets": "name",
    "conditions": "type", "tolerations": "key", "hostAliases": "ip", "volumeDevices":
    "devicePath",
}


def _now() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message

    def response(self) -> aiohttp.web.Response:
        return aiohttp.web.json_response({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": self.message, "reason": self.reason, "code": self.code,
        }, status=self.code)


# ---------------------------------------------------------------------------------- patches

def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _list_key(field: str, items: list) -> str | None:
    if field == "ports" and items and isinstance(items[0], dict):
        return "containerPort" if "containerPort" in items[0] else "port"
    return MERGE_KEYS.get(field)


def strategic_merge(target: Any, patch: Any, field: str = "") -> Any:
    """Strategic merge patch: like a merge patch, but lists with a merge key merge by it."""
    if isinstance(patch, list):
        key = _list_key(field, patch)
        if key is None or not isinstance(target, list):
            return copy.deepcopy([p for p in patch if not _is_directive(p)])
        result = copy.deepcopy(target)
        for item in patch:
            if not isinstance(item, dict) or key not in item:
                continue
            index = next((i for i, t in enumerate(result)
                          if isinstance(t, dict) and t.get(key) == item[key]), None)
            if item.get("$patch") == "delete":
                if index is not None:
                    del result[index]
            elif index is None:
                result.append(copy.deepcopy(item))
            else:
                result[index] = strategic_merge(result[index], item)
        return result
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
        else:
            result[key] = strategic_merge(result.get(key), value, key)
    return result


def _is_directive(item: Any) -> bool:
    return isinstance(item, dict) and "$patch" in item


def _pointer(path: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]


def json_patch(doc: Any, ops: list[dict]) -> Any:
    """RFC 6902 JSON patch (add, remove, replace, test, copy, move)."""
    doc = copy.deepcopy(doc)

    def walk(parts: list[str]) -> tuple[Any, str]:
        node = doc
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node, parts[-1]

    for op in ops:
        try:
            parent, last = walk(_pointer(op["path"]))
            kind = op["op"]
            if kind in ("add", "replace"):
                value = copy.deepcopy(op["value"])
                if isinstance(parent, list):
                    index = len(parent) if last == "-" else int(last)
                    if kind == "add":
                        parent.insert(index, value)
                    else:
                        parent[index] = value
                else:
                    if kind == "replace" and last not in parent:
                        raise KeyError(last)
                    parent[last] = value
            elif kind == "remove":
                del parent[int(last) if isinstance(parent, list) else last]
            elif kind == "test":
                current = parent[int(last) if isinstance(parent, list) else last]
                if current != op["value"]:
                    raise ApiError(422, "Invalid", f"test failed at {op['path']}")
            elif kind in ("copy", "move"):
                src_parent, src_last = walk(_pointer(op["from"]))
                value = copy.deepcopy(src_parent[src_last])
                if kind == "move":
                    del src_parent[src_last]
                doc = json_patch(doc, [{"op": "add", "path": op["path"], "value": value}])
            else:
                raise ApiError(422, "Invalid", f"unknown JSON patch op {kind!r}")
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise ApiError(422, "Invalid", f"JSON patch failed at {op.get('path')}: {exc}") \
                from None
    return doc


# -------------------------------------------------------------------------------- selectors

def _split_selector(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def label_match(labels: dict[str, str], selector: str) -> bool:
    for term in _split_selector(selector):
        if m := re.fullmatch(r"([\w./-]+)\s+(in|notin)\s+\((.*)\)", term):
            values = {v.strip() for v in m.group(3).split(",")}
            present = m.group(1) in labels and labels[m.group(1)] in values
            if present != (m.group(2) == "in"):
                return False
        elif m := re.fullmatch(r"([\w./-]+)\s*(!=|==|=)\s*([\w./-]*)", term):
            equal = labels.get(m.group(1)) == m.group(3)
            if equal != (m.group(2) != "!="):
                return False
        elif term.startswith("!"):
            if term[1:].strip() in labels:
                return False
        elif term not in labels:
            return False
    return True


def _dotted(obj: dict, path: str) -> Any:
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def field_match(obj: dict, selector: str) -> bool:
    for term in _split_selector(selector):
        m = re.fullmatch(r"([\w.]+)\s*(!=|==|=)\s*(.*)", term)
        if not m:
            raise ApiError(400, "BadRequest", f"invalid field selector {term!r}")
        value = _dotted(obj, m.group(1))
        equal = ("" if value is None else str(value)) == m.group(3)
        if equal != (m.group(2) != "!="):
            return False
    return True


# ----------------------------------------------------------------------------- the emulator

@dataclass
class _Req:
    method: str
    params: dict[str, str]
    content_type: str
    text: str

    @property
    def data(self) -> Any:
        try:
            return json.loads(self.text) if self.text else None
        except ValueError:
            raise ApiError(400, "BadRequest", "the body is not valid JSON") from None


class KubeEmulator(kmock.KubernetesEmulator):
    """kmock's emulator with the object semantics kubernetes.core relies on."""

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.resources.load_bundled()
        self.store: dict[Key, dict] = {}
        self.revision = 1
        self.writes: list[tuple[str, str, str | None, str]] = []  # (verb, kind, ns, name)
        self.bodies: list[tuple[str, str, Any]] = []  # (method, content type, body) as sent
        self._index = {(r.group, r.version, r.plural): self.resources[r]
                       for r in self.resources}

    # -- request routing -------------------------------------------------------------------
    def _route(self, path: str) -> tuple[tuple[str, str, str], str | None, str | None,
                                         str | None] | None:
        parts = path.strip("/").split("/")
        if parts[:1] == ["api"] and len(parts) >= 3:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 4:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return None
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in ("status", "finalize"):
            namespace, rest = rest[1], rest[2:]
        plural = rest[0]
        if (group, version, plural) not in self._index:
            return None
        name = rest[1] if len(rest) > 1 else None
        sub = "/".join(rest[2:]) or None
        return (group, version, plural), namespace, name, sub

    async def __call__(self, raw: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        # kmock's own request parser cannot parse /api/v1/namespaces: route objects first.
        route = self._route(raw.path)
        if route is None:
            return await super().__call__(raw)  # discovery, /version, 404s: kmock's own
        body = await raw.read()
        request = _Req(raw.method.upper(), dict(raw.query), raw.headers.get("Content-Type", ""),
                       body.decode() if body else "")
        if request.method in ("POST", "PUT", "PATCH") and request.params.get("dryRun") != "All":
            try:
                sent = yaml.safe_load(request.text)  # JSON, or YAML for server-side apply
            except yaml.YAMLError:
                sent = request.text
            self.bodies.append((request.method, request.content_type, sent))
        try:
            async with self._lock:
                result, status = self._serve(request, *route)
            return aiohttp.web.json_response(result, status=status)
        except ApiError as exc:
            return exc.response()

    def _serve(self, request: _Req, gvr: tuple[str, str, str], namespace: str | None,
               name: str | None, sub: str | None) -> tuple[dict, int]:
        info = self._index[gvr]
        method = request.method
        params = request.params
        dry = params.get("dryRun") == "All"
        if sub not in (None, "status", "scale"):
            raise ApiError(404, "NotFound", f"subresource {sub} is not served by the double")
        if info.namespaced and namespace is None and name is not None:
            raise ApiError(404, "NotFound", "namespaced object requested without a namespace")
        if method == "GET" and params.get("watch") in ("true", "1"):
            raise ApiError(405, "MethodNotAllowed", "watch is not served by the double")
        if method == "GET" and name is None:
            return self._list(gvr, info, namespace, params), 200
        if method == "POST" and name is None:
            return self._create(gvr, info, namespace, request.data, dry), 201
        if name is None:
            raise ApiError(405, "MethodNotAllowed", f"{method} on a collection")
        key: Key = (*gvr, namespace if info.namespaced else None, name)
        if method == "GET":
            return self._view(self._get(key, info), sub), 200
        if method == "DELETE":
            return self._delete(key, info, dry), 200
        if method == "PUT":
            return self._replace(key, info, request.data, sub, dry), 200
        if method == "PATCH":
            ctype = request.content_type.split(";")[0].strip()
            return self._patch(key, info, request, ctype, sub, params, dry)
        raise ApiError(405, "MethodNotAllowed", f"{method} is not allowed")

    # -- verbs -----------------------------------------------------------------------------
    def _get(self, key: Key, info: Any) -> dict:
        if key not in self.store:
            raise ApiError(404, "NotFound", f'{info.kind.lower()}s "{key[4]}" not found')
        return self.store[key]

    def _list(self, gvr, info, namespace, params) -> dict:
        items = []
        for key, obj in sorted(self.store.items(), key=lambda kv: str(kv[0])):
            if key[:3] != gvr or (namespace is not None and key[3] != namespace):
                continue
            if params.get("labelSelector") and not label_match(
                    obj["metadata"].get("labels") or {}, params["labelSelector"]):
                continue
            if params.get("fieldSelector") and not field_match(obj, params["fieldSelector"]):
                continue
            items.append(copy.deepcopy(obj))
        return {"kind": f"{info.kind}List", "apiVersion": self._api_version(gvr),
                "metadata": {"resourceVersion": str(self.revision)}, "items": items}

    def _create(self, gvr, info, namespace, data, dry: bool) -> dict:
        if not isinstance(data, dict):
            raise ApiError(400, "BadRequest", "the body must be a JSON object")
        obj = copy.deepcopy(data)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        if not meta.get("name"):
            raise ApiError(422, "Invalid", "metadata.name: Required value")
        if info.namespaced:
            namespace = namespace or meta.get("namespace") or "default"
            if meta.get("namespace") not in (None, namespace):
                raise ApiError(400, "BadRequest", "namespace in the body does not match the URL")
            meta["namespace"] = namespace
            if ("", "v1", "namespaces", None, namespace) not in self.store:
                raise ApiError(404, "NotFound", f'namespaces "{namespace}" not found')
        key: Key = (*gvr, namespace if info.namespaced else None, meta["name"])
        if key in self.store:
            raise ApiError(409, "AlreadyExists",
                           f'{info.kind.lower()}s "{meta["name"]}" already exists')
        obj["kind"], obj["apiVersion"] = info.kind, self._api_version(gvr)
        meta.update(uid=str(uuid.uuid4()), creationTimestamp=_now(), generation=1)
        meta.pop("resourceVersion", None)
        obj = self._normalise(obj, None)
        return self._commit(key, obj, None, dry, "create")

    def _replace(self, key, info, data, sub, dry) -> dict:
        old = self._get(key, info)
        if not isinstance(data, dict):
            raise ApiError(400, "BadRequest", "the body must be a JSON object")
        rv = (data.get("metadata") or {}).get("resourceVersion")
        if rv and rv != old["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", "the object has been modified; please apply your "
                                            "changes to the latest version and try again")
        if sub == "status":
            new = dict(copy.deepcopy(old), status=copy.deepcopy(data.get("status")))
        elif sub == "scale":
            new = copy.deepcopy(old)
            new.setdefault("spec", {})["replicas"] = int(data.get("spec", {}).get("replicas", 0))
        else:
            new = copy.deepcopy(data)
            new["status"] = copy.deepcopy(old.get("status"))
            if new["status"] is None:
                new.pop("status")
        return self._update(key, old, new, dry, sub)

    def _patch(self, key, info, request, ctype, sub, params, dry) -> tuple[dict, int]:
        if ctype == "application/apply-patch+yaml":
            if not params.get("fieldManager"):
                raise ApiError(400, "BadRequest", "fieldManager is required for apply patch")
            data = yaml.safe_load(request.text)
            if key not in self.store:
                return self._create(key[:3], info, key[3], data, dry), 201
        else:
            data = request.data
        old = self._get(key, info)
        base = copy.deepcopy(old) if sub != "scale" else {"spec": {"replicas": old.get(
            "spec", {}).get("replicas", 1)}}
        if ctype == "application/json-patch+json":
            new = json_patch(base, data)
        elif ctype == "application/merge-patch+json":
            new = merge_patch(base, data)
        elif ctype in ("application/strategic-merge-patch+json",
                       "application/apply-patch+yaml"):
            new = strategic_merge(base, data)
        else:
            raise ApiError(415, "UnsupportedMediaType", f"unsupported patch type {ctype!r}")
        if sub == "scale":
            new = dict(copy.deepcopy(old), spec=dict(old.get("spec", {}),
                                                      replicas=new["spec"]["replicas"]))
        elif sub is None:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
        return self._update(key, old, new, dry, sub), 200

    def _update(self, key, old, new, dry, sub) -> dict:
        meta = new.setdefault("metadata", {})
        for field in ("uid", "creationTimestamp", "generation", "resourceVersion", "name",
                      "namespace"):
            if field in old["metadata"]:
                meta[field] = old["metadata"][field]
        new["kind"], new["apiVersion"] = old["kind"], old["apiVersion"]
        new = self._normalise(new, old)
        if _spec_part(new) != _spec_part(old):
            meta["generation"] = old["metadata"].get("generation", 1) + 1
            new = self._normalise(new, old)  # observedGeneration follows
        if new == old:
            return self._view(copy.deepcopy(old), sub)
        return self._view(self._commit(key, new, old, dry, "update"), sub)

    def _delete(self, key, info, dry) -> dict:
        obj = self._get(key, info)
        if not dry:
            del self.store[key]
            self.revision += 1
            self.writes.append(("delete", obj["kind"], key[3], key[4]))
            if info.kind == "Namespace":
                for other in [k for k in self.store if k[3] == key[4]]:
                    del self.store[other]
        return copy.deepcopy(obj)

    # -- helpers ---------------------------------------------------------------------------
    def _commit(self, key, obj, old, dry, verb) -> dict:
        self.revision += 1
        obj["metadata"]["resourceVersion"] = str(self.revision)
        if not dry:
            self.store[key] = obj
            self.writes.append((verb, obj["kind"], key[3], key[4]))
        else:
            self.revision -= 1
        return copy.deepcopy(obj)

    @staticmethod
    def _api_version(gvr) -> str:
        return f"{gvr[0]}/{gvr[1]}" if gvr[0] else gvr[1]

    @staticmethod
    def _view(obj: dict, sub: str | None) -> dict:
        if sub != "scale":
            return obj
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: obj["metadata"][k] for k in ("name", "namespace")},
                "spec": {"replicas": obj.get("spec", {}).get("replicas", 1)},
                "status": {"replicas": obj.get("status", {}).get("replicas", 0)}}

    def _normalise(self, obj: dict, old: dict | None) -> dict:
        """Server-side defaulting and the status of a healthy cluster."""
        kind, meta = obj["kind"], obj["metadata"]
        spec = obj.get("spec") or {}
        generation = meta.get("generation", 1)
        if kind == "Secret":
            string_data = obj.pop("stringData", None) or {}
            data = obj.setdefault("data", {})
            for k, v in string_data.items():
                data[k] = base64.b64encode(str(v).encode()).decode()
            obj.setdefault("type", "Opaque")
        elif kind == "Namespace":
            obj["status"] = {"phase": "Active"}
        elif kind == "PersistentVolumeClaim":
            obj["status"] = {"phase": "Bound",
                             "accessModes": spec.get("accessModes", []),
                             "capacity": (spec.get("resources") or {}).get("requests", {})}
        elif kind == "Service":
            if "clusterIP" not in spec:
                digest = hashlib.sha256(meta["name"].encode()).digest()
                spec["clusterIP"] = f"10.96.{digest[0]}.{digest[1] or 1}"
                obj["spec"] = spec
        elif kind in ("Deployment", "StatefulSet"):
            replicas = spec.get("replicas", 1)
            spec.setdefault("replicas", replicas)
            revision = hashlib.sha256(json.dumps(spec.get("template"), sort_keys=True)
                                      .encode()).hexdigest()[:10]
            status = {"observedGeneration": generation, "replicas": replicas,
                      "readyReplicas": replicas, "updatedReplicas": replicas,
                      "availableReplicas": replicas}
            if kind == "StatefulSet":
                spec.setdefault("updateStrategy", {"type": "RollingUpdate",
                                                   "rollingUpdate": {"partition": 0}})
                status.update(currentReplicas=replicas,
                              currentRevision=f"{meta['name']}-{revision}",
                              updateRevision=f"{meta['name']}-{revision}")
            else:
                status["conditions"] = [{"type": "Available", "status": "True",
                                         "reason": "MinimumReplicasAvailable"}]
            obj["spec"], obj["status"] = spec, status
        elif kind == "Job":
            if old is None:
                now = _now()
                obj["status"] = {"startTime": now, "completionTime": now, "succeeded": 1,
                                 "conditions": [{"type": "Complete", "status": "True"}]}
        return obj


def _spec_part(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


# ----------------------------------------------------------------------- serving, from Python

class KubeDouble:
    """The emulator served on a free loopback port from a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None):
        self.host, self.port = host, port
        self.emulator: KubeEmulator | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> KubeDouble:
        self._thread = threading.Thread(target=self._run, name="kube-double", daemon=True)
        self._thread.start()
        if not self._ready.wait(30) or self._error:
            raise RuntimeError(f"the Kubernetes API double did not start: {self._error!r}")
        return self

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            self._error = exc
            self._ready.set()
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        self.emulator = KubeEmulator()
        async with self.emulator, kmock.Server(self.emulator, host=self.host,
                                               port=self.port) as server:
            self.port = server.port
            self._ready.set()
            await self._stop.wait()

    def stop(self) -> None:
        if self._loop and self._stop and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread:
            self._thread.join(15)

    def __enter__(self) -> KubeDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def call(self, fn, *args):
        """Run ``fn(emulator, *args)`` on the server's loop, under its lock (thread-safe)."""
        async def run():
            async with self.emulator._lock:
                return fn(self.emulator, *args)
        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def objects(self) -> list[dict]:
        return self.call(lambda emu: [copy.deepcopy(o) for o in emu.store.values()])

    def find(self, kind: str, namespace: str | None = None) -> dict[str, dict]:
        return {o["metadata"]["name"]: o for o in self.objects()
                if o["kind"] == kind and o["metadata"].get("namespace") == namespace}

    def writes(self) -> list[tuple]:
        return self.call(lambda emu: list(emu.writes))

    def bodies(self) -> list[tuple]:
        return self.call(lambda emu: copy.deepcopy(emu.bodies))

    def add(self, obj: dict) -> None:
        """Seed an object as if a controller had created it (e.g. a Node)."""
        def put(emu: KubeEmulator) -> None:
            kind = obj["kind"]
            gvr = next(g for g, i in emu._index.items()
                       if i.kind == kind and emu._api_version(g) == obj["apiVersion"])
            meta = obj["metadata"]
            emu.store[(*gvr, meta.get("namespace"), meta["name"])] = copy.deepcopy(
                dict(obj, metadata=dict(meta, uid=str(uuid.uuid4()), resourceVersion="1",
                                        creationTimestamp=_now())))
        self.call(put)

    def kubeconfig(self) -> dict:
        return {
            "apiVersion": "v1", "kind": "Config", "current-context": "kube-double",
            "clusters": [{"name": "kube-double", "cluster": {"server": self.url}}],
            "users": [{"name": "tester", "user": {"token": "kube-double"}}],
            "contexts": [{"name": "kube-double",
                          "context": {"cluster": "kube-double", "user": "tester"}}],
        }

    def write_kubeconfig(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        path.write_text(yaml.safe_dump(self.kubeconfig()))
        return path


# ---------------------------------------------------------------- serving, from the shell

def _serve_forever(args: argparse.Namespace) -> None:
    double = KubeDouble(port=args.port).start()
    for node in args.node or ():
        cpu, memory = node.split(",")
        double.add({"apiVersion": "v1", "kind": "Node",
                    "metadata": {"name": f"node-{len(double.find('Node')) + 1}"},
                    "status": {"allocatable": {"cpu": cpu, "memory": memory}}})
    tmp = Path(str(args.kubeconfig) + ".tmp")
    double.write_kubeconfig(tmp)
    tmp.rename(args.kubeconfig)  # appears whole: the launcher waits for it
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    double.stop()


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("serve", "start"):
        how = "in the foreground" if name == "serve" else "in the background, when ready"
        p = sub.add_parser(name, help=f"{name} the double ({how})")
        p.add_argument("--kubeconfig", required=True, type=Path)
        p.add_argument("--port", type=int, default=None, help="default: a free port")
        p.add_argument("--node", action="append", help="seed a Node: CPU,MEMORY (4,8Gi)")
        if name == "start":
            p.add_argument("--pidfile", required=True, type=Path)
            p.add_argument("--log", type=Path, default=Path(os.devnull))
    p = sub.add_parser("stop", help="stop a double started with 'start'")
    p.add_argument("--pidfile", required=True, type=Path)
    args = parser.parse_args(argv)

    if args.command == "serve":
        _serve_forever(args)
        return 0
    if args.command == "start":
        args.kubeconfig.unlink(missing_ok=True)
        cmd = [sys.executable, os.path.abspath(__file__), "serve",
               "--kubeconfig", str(args.kubeconfig)]
        cmd += ["--port", str(args.port)] if args.port else []
        for node in args.node or ():
            cmd += ["--node", node]
        with open(args.log, "ab") as log:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    start_new_session=True)
        args.pidfile.write_text(str(proc.pid))
        deadline = time.monotonic() + 30
        while not args.kubeconfig.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                print("the Kubernetes API double did not start", file=sys.stderr)
                return 1
            time.sleep(0.1)
        print(json.dumps({"pid": proc.pid, "kubeconfig": str(args.kubeconfig)}))
        return 0
    if args.pidfile.exists():
        pid = int(args.pidfile.read_text())
        try:
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                os.kill(pid, 0)
                if _zombie(pid):
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        args.pidfile.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
