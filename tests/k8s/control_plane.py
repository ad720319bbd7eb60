"""A real Kubernetes control plane for the tests, without containers.

``kube-apiserver``, ``kube-controller-manager`` and ``kube-scheduler`` are built from the
``k8s.io/kubernetes`` Go module at one pinned release (``tests/k8s/gomod``: a consumer module
whose ``replace`` lines map the staging modules to the published ``v0.x.y``), ``etcd`` from the
version that release pins, and ``kwok`` (``sigs.k8s.io/kwok``) simulates the nodes and the pod
lifecycle: pods of Deployments and StatefulSets become Running and Ready, pods of Jobs
complete. The API server, the controllers and the scheduler are the real ones.

The binaries are built once into ``${XDG_CACHE_HOME:-~/.cache}/plato-eas/k8s-<versions>/bin``
(keyed by the versions and the go.sum, so a warm machine reuses them). A started plane lives in
one folder: throw-away CA, serving and client certificates and the service-account key
(cryptography), etcd's data, one log per process, ``kubeconfig`` (cluster-admin) and
``state.json`` (PIDs and ports). Everything listens on 127.0.0.1 on free ports and is stopped
by PID. ``scripts/k8s_control_plane.sh`` is the command line::

    python tests/k8s/control_plane.py build              # prints the cache folder
    python tests/k8s/control_plane.py start [DIR]        # prints the kubeconfig path
    python tests/k8s/control_plane.py stop [DIR]
    python tests/k8s/control_plane.py status [DIR]

The cluster has ``NODES`` kwok nodes of 4 CPU / 8 GiB (what the roles' tests cap workers
against), static PersistentVolumes for the claims (no provisioner runs without a kubelet) and
an audit log of the write requests of user ``admin`` (``audit.log``, Secrets at metadata level
only), which the tests replay with strict field validation; the tests' own requests use the
``observer`` identity (``observer.kubeconfig``), which is not audited.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import hashlib
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
GOMOD = HERE / "gomod"
K8S_VERSION = "v1.36.3"
KWOK_VERSION = "v0.8.0"
ETCD_MODULE = "go.etcd.io/etcd/server/v3"
MAIN_PACKAGES = {
    "etcd": ETCD_MODULE,
    "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
    "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
    "kube-scheduler": "k8s.io/kubernetes/cmd/kube-scheduler",
}
BINARIES = [*MAIN_PACKAGES, "kwok"]
# the processes of a running plane, in the order they are stopped
PROCESSES = ["kwok", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"]
KWOK_STAGES = ["kustomize/stage/node/fast/node-initialize.yaml",
               "kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
               "kustomize/stage/pod/fast/pod-ready.yaml",
               "kustomize/stage/pod/fast/pod-complete.yaml",
               "kustomize/stage/pod/fast/pod-delete.yaml"]
GO_FALLBACK = Path("/usr/local/go/bin/go")
NODES = 8
NODE_CAPACITY = {"cpu": "4", "memory": "8Gi", "pods": "110"}
VOLUMES = 48
DEFAULT_BASE = Path(os.environ.get("EAS_K8S_DIR") or Path(tempfile.gettempdir())
                    / "plato-eas-k8s")
ADMIN = "admin"  # the identity the playbooks act as (its write requests are audited)
OBSERVER = "observer"  # the tests' own identity (not audited)


class ControlPlaneError(RuntimeError):
    pass


# -- build ------------------------------------------------------------------------------------
def cache_dir() -> Path:
    """``…/plato-eas/k8s-<release>-kwok-<release>-<go.sum hash>``: a change of any pin
    builds afresh, an unchanged one reuses the binaries."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.sha256((GOMOD / "go.mod").read_bytes() + (GOMOD / "go.sum").read_bytes())
    return base / "plato-eas" / f"k8s-{K8S_VERSION}-kwok-{KWOK_VERSION}-{digest.hexdigest()[:8]}"


def bin_dir() -> Path:
    return cache_dir() / "bin"


def built() -> bool:
    return all((bin_dir() / name).is_file() for name in BINARIES) and (
        cache_dir() / "kwok-stages.yaml").is_file()


def find_go() -> str:
    go = shutil.which("go") or (str(GO_FALLBACK) if GO_FALLBACK.is_file() else None)
    if not go:
        raise ControlPlaneError(f"go not found on PATH nor at {GO_FALLBACK}: install Go 1.26 "
                                "(the project's machines have it at /usr/local/go/bin)")
    return go


def build(log=print) -> Path:
    """Build the binaries into the cache unless they are there; returns the cache folder.
    A lock lets concurrent callers wait for one build."""
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if built():
            return cache
        go = find_go()
        env = dict(os.environ, GOFLAGS="-mod=readonly -buildvcs=false", GOTOOLCHAIN="local",
                   CGO_ENABLED="0")
        staging = Path(tempfile.mkdtemp(prefix="bin-", dir=cache))
        try:
            seconds = _build_into(staging, go, env, log)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        log(f"built in {seconds:.0f} s")
        return cache


def _build_into(staging: Path, go: str, env: dict, log) -> float:
    """Build every binary into ``staging``, then move it to the cache's ``bin``."""
    cache = staging.parent
    flags = ["-trimpath", "-ldflags=-s -w"]
    started = time.monotonic()
    log(f"building {', '.join(MAIN_PACKAGES)} ({K8S_VERSION}) and kwok ({KWOK_VERSION}) "
        f"into {cache} (a cold build takes tens of minutes)")
    _run([go, "build", *flags, "-o", f"{staging}/", *MAIN_PACKAGES.values()], env,
         cwd=GOMOD, what="go build (kubernetes, etcd)")
    for name, package in MAIN_PACKAGES.items():
        # go names a binary after the package path's last element that is not a major version
        parts = [p for p in package.split("/") if not re.fullmatch(r"v\d+", p)]
        if parts[-1] != name:
            (staging / parts[-1]).rename(staging / name)
    kwok_env = dict(env, GOBIN=str(staging), GOFLAGS="-buildvcs=false")
    _run([go, "install", *flags, f"sigs.k8s.io/kwok/cmd/kwok@{KWOK_VERSION}"], kwok_env,
         cwd=cache, what="go install kwok")
    source = json.loads(_run([go, "mod", "download", "-json",
                              f"sigs.k8s.io/kwok@{KWOK_VERSION}"], kwok_env, cwd=cache,
                             what="go mod download kwok"))["Dir"]
    stages = "---\n".join(Path(source, name).read_text() for name in KWOK_STAGES)
    (cache / "kwok-stages.yaml").write_text(stages)
    seconds = time.monotonic() - started
    if (cache / "bin").exists():
        shutil.rmtree(cache / "bin")
    staging.rename(cache / "bin")
    (cache / "build.json").write_text(json.dumps({
        "kubernetes": K8S_VERSION, "kwok": KWOK_VERSION, "seconds": round(seconds),
        "go": _run([go, "version"], env, cwd=cache, what="go version").strip()}))
    return seconds


def _run(cmd: list[str], env: dict, cwd: Path, what: str) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise ControlPlaneError(f"{what} failed ({' '.join(cmd)}): "
                                f"{(done.stderr or done.stdout).strip()[-2000:]}")
    return done.stdout


# -- certificates -----------------------------------------------------------------------------
def _write_secret(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def make_pki(folder: Path) -> dict[str, Path]:
    """CA, API server certificate, one client certificate per identity, service-account key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    pem = serialization.Encoding.PEM
    files: dict[str, Path] = {}

    def key_pem(key) -> bytes:
        return key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    def issue(name: str, subject: x509.Name, ca: bool, server: bool = False):
        key = ec.generate_private_key(ec.SECP256R1())
        signer = ca_key if not ca else key
        build = (x509.CertificateBuilder().subject_name(subject)
                 .issuer_name(ca_name if not ca else subject).public_key(key.public_key())
                 .serial_number(x509.random_serial_number())
                 .not_valid_before(now - datetime.timedelta(hours=1))
                 .not_valid_after(now + datetime.timedelta(days=30))
                 .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if ca:
            build = build.add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False), critical=True)
        else:
            usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
            build = build.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        if server:
            build = build.add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.DNSName("kubernetes"),
                x509.DNSName("kubernetes.default.svc"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        cert = build.sign(signer, hashes.SHA256())
        files[name] = folder / f"{name}.pem"
        files[name].write_bytes(cert.public_bytes(pem))
        files[f"{name}-key"] = folder / f"{name}.key"
        _write_secret(files[f"{name}-key"], key_pem(key))
        return key

    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "plato-eas test cluster CA")])
    ca_key = issue("ca", ca_name, ca=True)
    issue("apiserver", x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]),
          ca=False, server=True)
    for name, user, group in (
            (ADMIN, ADMIN, "system:masters"),
            (OBSERVER, OBSERVER, "system:masters"),
            ("kwok", "kwok", "system:masters"),
            ("controller-manager", "system:kube-controller-manager", None),
            ("scheduler", "system:kube-scheduler", None)):
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, user)]
        if group:
            attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, group))
        issue(name, x509.Name(attrs), ca=False)
    sa_key = ec.generate_private_key(ec.SECP256R1())
    files["sa-key"] = folder / "sa.key"
    _write_secret(files["sa-key"], key_pem(sa_key))
    files["sa-pub"] = folder / "sa.pub"
    files["sa-pub"].write_bytes(sa_key.public_key().public_bytes(
        pem, serialization.PublicFormat.SubjectPublicKeyInfo))
    return files


def kubeconfig(server: str, ca: Path, user: str, cert: Path | None = None,
               key: Path | None = None, token: str | None = None,
               namespace: str | None = None) -> str:
    """A kubeconfig with one cluster, one user (client certificate or bearer token)."""
    creds = {"token": token} if token else {"client-certificate": str(cert),
                                             "client-key": str(key)}
    context = {"cluster": "plato-eas-test", "user": user}
    if namespace:
        context["namespace"] = namespace
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "plato-eas-test",
        "clusters": [{"name": "plato-eas-test",
                      "cluster": {"server": server, "certificate-authority": str(ca)}}],
        "users": [{"name": user, "user": creds}],
        "contexts": [{"name": "plato-eas-test", "context": context}],
    })


# -- processes --------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except OSError:
        return False


def _reap(pid: int | None) -> None:
    with contextlib.suppress(ChildProcessError):
        if pid:
            os.waitpid(pid, os.WNOHANG)


def _stop_pid(pid: int | None, timeout: float = 15.0) -> None:
    """SIGTERM, wait, then SIGKILL one process by its PID."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        if not _alive(pid):
            break
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        end = time.monotonic() + wait
        while time.monotonic() < end and _alive(pid):
            _reap(pid)
            time.sleep(0.05)
    _reap(pid)


def _spawn(cmd: list[str], log: Path) -> int:
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                start_new_session=True)
    return proc.pid


class Api:
    """A minimal JSON client for the plane itself (the tests use the kubernetes package)."""

    def __init__(self, server: str, pki: dict[str, Path]):
        self.server = server
        self.context = ssl.create_default_context(cafile=str(pki["ca"]))
        self.context.load_cert_chain(str(pki[ADMIN]), str(pki[f"{ADMIN}-key"]))

    def send(self, method: str, path: str, body: dict | None = None) -> bytes:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.server + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, context=self.context, timeout=10) as resp:
            return resp.read()

    def request(self, method: str, path: str, body: dict | None = None) -> dict:
        return json.loads(self.send(method, path, body) or b"{}")

    def ok(self, path: str) -> bool:
        try:
            self.send("GET", path)
            return True
        except (urllib.error.URLError, OSError):
            return False


def _wait(what: str, check, timeout: float, pids: dict[str, int], logs: Path) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        for name, pid in pids.items():
            if not _alive(pid):
                tail = (logs / f"{name}.log").read_text(errors="replace")[-1500:]
                raise ControlPlaneError(f"{name} exited while waiting for {what}:\n{tail}")
        time.sleep(0.2)
    raise ControlPlaneError(f"timed out after {timeout:.0f} s waiting for {what} (logs: {logs})")


AUDIT_POLICY = {
    "apiVersion": "audit.k8s.io/v1", "kind": "Policy",
    "omitStages": ["RequestReceived", "ResponseStarted"],
    "rules": [
        {"level": "None", "users": [OBSERVER, "kwok", "system:kube-scheduler",
                                    "system:kube-controller-manager"]},
        {"level": "None", "userGroups": ["system:serviceaccounts:kube-system", "system:nodes"]},
        {"level": "None", "verbs": ["get", "list", "watch"]},
        # no Secret body (passwords) is ever written to the audit log
        {"level": "Metadata", "resources": [{"group": "", "resources": ["secrets"]}]},
        {"level": "Request"},
    ],
}


def start(base: Path = DEFAULT_BASE, nodes: int = NODES, volumes: int = VOLUMES,
          log=print) -> dict:
    """Start etcd, the API server, the controller manager, the scheduler and kwok in
    ``base`` (replaced), create the nodes and volumes; returns the state (also state.json)."""
    running = load_state(base)
    if running:
        return running
    cache = build(log)
    bins = cache / "bin"
    if base.exists():
        stop(base)
        shutil.rmtree(base)
    base.mkdir(parents=True)
    os.chmod(base, 0o700)
    logs = base / "logs"
    logs.mkdir()
    started = time.monotonic()
    pki = make_pki(base / "pki")
    ports = {name: free_port() for name in ("etcd", "etcd-peer", "apiserver",
                                            "controller-manager", "scheduler")}
    server = f"https://127.0.0.1:{ports['apiserver']}"
    configs = {}
    for name in (ADMIN, OBSERVER, "kwok", "controller-manager", "scheduler"):
        configs[name] = base / f"{name}.kubeconfig"
        _write_secret(configs[name], kubeconfig(server, pki["ca"], name, pki[name],
                                                pki[f"{name}-key"]).encode())
    (base / "audit-policy.yaml").write_text(yaml.safe_dump(AUDIT_POLICY))
    state = {"base": str(base), "server": server, "ports": ports, "pids": {},
             "kubeconfig": str(configs[ADMIN]), "observer": str(configs[OBSERVER]),
             "audit_log": str(base / "audit.log"),
             "ca": str(pki["ca"]), "cache": str(cache)}
    pids: dict[str, int] = state["pids"]

    def save() -> None:
        (base / "state.json").write_text(json.dumps(state, indent=1))

    etcd = f"http://127.0.0.1:{ports['etcd']}"
    peer = f"http://127.0.0.1:{ports['etcd-peer']}"
    try:
        pids["etcd"] = _spawn([
            str(bins / "etcd"), "--name=default", f"--data-dir={base / 'etcd'}",
            f"--listen-client-urls={etcd}", f"--advertise-client-urls={etcd}",
            f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=default={peer}", "--unsafe-no-fsync",
            "--log-level=warn"], logs / "etcd.log")
        save()
        pids["kube-apiserver"] = _spawn([
            str(bins / "kube-apiserver"), f"--etcd-servers={etcd}",
            "--bind-address=127.0.0.1", f"--secure-port={ports['apiserver']}",
            "--advertise-address=127.0.0.1", "--endpoint-reconciler-type=none",
            f"--tls-cert-file={pki['apiserver']}", f"--tls-private-key-file={pki['apiserver-key']}",
            f"--client-ca-file={pki['ca']}", f"--cert-dir={base / 'pki'}",
            f"--service-account-key-file={pki['sa-pub']}",
            f"--service-account-signing-key-file={pki['sa-key']}",
            "--service-account-issuer=https://kubernetes.default.svc",
            "--service-cluster-ip-range=10.96.0.0/16", "--authorization-mode=Node,RBAC",
            f"--audit-policy-file={base / 'audit-policy.yaml'}",
            f"--audit-log-path={base / 'audit.log'}", "--audit-log-format=json",
            "--profiling=false", "--v=1"], logs / "kube-apiserver.log")
        save()
        api = Api(server, pki)
        _wait("kube-apiserver /readyz", lambda: api.ok("/readyz"), 120, pids, logs)
        for name, user_config in (("controller-manager", configs["controller-manager"]),
                                  ("scheduler", configs["scheduler"])):
            common = [f"--kubeconfig={user_config}", f"--authentication-kubeconfig={user_config}",
                      f"--authorization-kubeconfig={user_config}", "--bind-address=127.0.0.1",
                      f"--secure-port={ports[name]}", "--leader-elect=false", "--v=1"]
            extra = ([f"--service-account-private-key-file={pki['sa-key']}",
                      f"--root-ca-file={pki['ca']}", "--use-service-account-credentials=true"]
                     if name == "controller-manager" else [])
            pids[f"kube-{name}"] = _spawn([str(bins / f"kube-{name}"), *common, *extra],
                                          logs / f"kube-{name}.log")
        save()
        pids["kwok"] = _spawn([
            str(bins / "kwok"), f"--kubeconfig={configs['kwok']}",
            f"--config={cache / 'kwok-stages.yaml'}", "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            "--node-lease-duration-seconds=40", "--cidr=10.244.0.0/16",
            "--node-ip=10.244.255.1"], logs / "kwok.log")
        save()
        for i in range(1, nodes + 1):
            api.request("POST", "/api/v1/nodes", node(f"kwok-node-{i}"))
        for i in range(1, volumes + 1):
            api.request("POST", "/api/v1/persistentvolumes", volume(f"test-pv-{i:03d}", base))

        def ready() -> bool:
            found = api.request("GET", "/api/v1/nodes")["items"]
            ok = [n for n in found if any(c["type"] == "Ready" and c["status"] == "True"
                                          for c in n.get("status", {}).get("conditions", []))]
            return len(ok) == nodes and api.ok("/api/v1/namespaces/default/serviceaccounts/default")

        _wait("ready kwok nodes and the default service account", ready, 120, pids, logs)
    except BaseException:
        save()
        stop(base)
        raise
    state["start_seconds"] = round(time.monotonic() - started, 1)
    save()
    return state


def node(name: str) -> dict:
    """A kwok-managed node with the capacity the roles' tests expect (no taint: the pipeline's
    pods need no toleration)."""
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "annotations": {"kwok.x-k8s.io/node": "fake"},
                         "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                    "kubernetes.io/arch": "amd64", "type": "kwok"}},
            "status": {"allocatable": dict(NODE_CAPACITY), "capacity": dict(NODE_CAPACITY)}}


def volume(name: str, base: Path) -> dict:
    """A pre-provisioned volume, as a cluster without a dynamic provisioner offers them; the
    real PersistentVolume controller binds the roles' claims to them."""
    return {"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": name, "labels": {"plato-eas-test": "pool"}},
            "spec": {"capacity": {"storage": "100Gi"},
                     "accessModes": ["ReadWriteOnce", "ReadWriteMany"],
                     "persistentVolumeReclaimPolicy": "Retain",
                     "hostPath": {"path": str(base / "volumes" / name)}}}


def load_state(base: Path = DEFAULT_BASE) -> dict | None:
    """The state of the plane in ``base`` when every process of it still runs."""
    try:
        state = json.loads((base / "state.json").read_text())
    except (OSError, ValueError):
        return None
    pids = state.get("pids", {})
    if "start_seconds" in state and set(pids) == set(PROCESSES) and all(
            map(_alive, pids.values())):
        return state
    return None


def stop(base: Path = DEFAULT_BASE) -> None:
    """Stop every process of the plane in ``base`` by PID (kwok and the controllers first)."""
    try:
        state = json.loads((base / "state.json").read_text())
    except (OSError, ValueError):
        return
    for name in PROCESSES:
        _stop_pid(state.get("pids", {}).get(name))
    (base / "state.json").unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    commands = ("build", "start", "stop", "status")
    if len(argv) < 2 or argv[1] not in commands:
        print(__doc__)
        return 2
    base = Path(argv[2]).resolve() if len(argv) > 2 and argv[2] else DEFAULT_BASE
    try:
        if argv[1] == "build":
            print(build(log=lambda msg: print(msg, file=sys.stderr)))
        elif argv[1] == "start":
            state = start(base, log=lambda msg: print(msg, file=sys.stderr))
            print(f"started in {state.get('start_seconds', 0)} s: {state['server']}",
                  file=sys.stderr)
            print(state["kubeconfig"])
        elif argv[1] == "stop":
            stop(base)
        else:
            print("running" if load_state(base) else "stopped")
    except ControlPlaneError as exc:
        print(f"k8s control plane: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
