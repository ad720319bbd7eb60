"""Throw-away MariaDB and RabbitMQ servers for tests, benchmarks and developers.

Each server runs as a plain background process on 127.0.0.1 with its own data directory under
a base folder and a free port; nothing touches the system's own services (ports 3306/5672,
/var/lib/mysql, /var/lib/rabbitmq). Erlang's port mapper (``epmd``) is started by us, in the
foreground on a port of its own, so that it too is stopped by its PID.

Used by ``tests/backends/conftest.py`` (session fixtures) and by ``scripts/servers.sh``::

    python tests/backends/backend_servers.py start [BASE]  # writes BASE/state.json
    python tests/backends/backend_servers.py stop [BASE]

Passwords are written to 0600 files (server config, client defaults file); never to a
command line.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

PACKAGES = ["mariadb-server", "mariadb-client", "rabbitmq-server"]
MARIADBD = "/usr/sbin/mariadbd"
RABBIT_BIN = Path("/usr/lib/rabbitmq/bin")
DEFAULT_BASE = Path(os.environ.get("EAS_SERVERS_DIR") or Path(tempfile.gettempdir())
                    / "plato-eas-servers")


class ServerError(RuntimeError):
    pass


# -- packages -----------------------------------------------------------------------------
def missing_packages() -> list[str]:
    need = []
    if not (Path(MARIADBD).exists() and shutil.which("mariadb-install-db")
            and shutil.which("mariadb-admin")):
        need.append("mariadb-server")
    if not (shutil.which("mariadb-dump") or shutil.which("mysqldump")) or not shutil.which(
            "mysql"):
        need.append("mariadb-client")
    if not (RABBIT_BIN / "rabbitmq-server").exists():
        need.append("rabbitmq-server")
    return need


def ensure_packages() -> None:
    """apt-get install the server packages when missing (root, Debian 12)."""
    need = missing_packages()
    if not need:
        return
    if os.geteuid() != 0:
        raise ServerError(f"missing Debian packages {need}; install them as root: "
                          f"apt-get install -y {' '.join(PACKAGES)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES]
    if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, check=True)
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise ServerError(f"apt-get install failed: {done.stderr.strip()[-500:]}")
    still = missing_packages()
    if still:
        raise ServerError(f"packages still missing after apt-get install: {still}")


# -- helpers ------------------------------------------------------------------------------
def make_tls_files(folder: Path, common_name: str = "plato-eas test CA") -> dict[str, Path]:
    """A throw-away CA and, signed by it, a server certificate for localhost and 127.0.0.1:
    ``ca.pem``, ``server.pem``, ``server.key`` (0600) in ``folder``."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)

    def cert(subject, key, issuer, issuer_key, ca: bool):
        usage = dict(digital_signature=not ca, content_commitment=False,
                     key_encipherment=not ca, data_encipherment=False, key_agreement=False,
                     key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False)
        build = (x509.CertificateBuilder()
                 .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                 .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                 .public_key(key.public_key()).serial_number(x509.random_serial_number())
                 .not_valid_before(now - datetime.timedelta(hours=1))
                 .not_valid_after(now + datetime.timedelta(days=30))
                 .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                 .add_extension(x509.KeyUsage(**usage), critical=True)
                 .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                                critical=False)
                 .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                     issuer_key.public_key()), critical=False))
        if not ca:
            build = (build.add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False).add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
        return build.sign(issuer_key, hashes.SHA256())

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    server_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = cert(common_name, ca_key, common_name, ca_key, ca=True)
    server = cert("localhost", server_key, common_name, ca_key, ca=False)
    files = {"ca": folder / "ca.pem", "cert": folder / "server.pem", "key": folder / "server.key"}
    pem = serialization.Encoding.PEM
    files["ca"].write_bytes(ca.public_bytes(pem))
    files["cert"].write_bytes(server.public_bytes(pem))
    _write_secret(files["key"], server_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode())
    return files


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as dead.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except OSError:
        return False


def _stop_pid(pid: int | None, timeout: float = 20.0) -> None:
    """SIGTERM, wait, then SIGKILL one process by its PID."""
    if not _alive(pid):
        _reap(pid)
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        end = time.monotonic() + wait
        while time.monotonic() < end and _alive(pid):
            _reap(pid)
            time.sleep(0.05)
        if not _alive(pid):
            break
    _reap(pid)


def _reap(pid: int | None) -> None:
    if pid:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def _wait_port(port: int, timeout: float, what: str, proc_pid: int | None = None) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if proc_pid is not None and not _alive(proc_pid):
            raise ServerError(f"{what} exited during start-up")
        time.sleep(0.05)
    raise ServerError(f"{what} did not listen on port {port} within {timeout:.0f} s")


def _spawn(cmd: list[str], log: Path, env: dict | None = None) -> int:
    """Start a background process in its own session, output to ``log``; returns its PID."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env,
                                start_new_session=True)
    return proc.pid


# -- MariaDB ------------------------------------------------------------------------------
@dataclass
class MariaDB:
    base: Path
    port: int = 0
    user: str = "eas"
    password: str = ""
    pid: int | None = None
    #: tests trade commit durability for speed (flush the redo log once a second, as after a
    #: power cut nothing is kept anyway); benchmarks use the server's default (flush at commit)
    fast_commit: bool = True

    @property
    def datadir(self) -> Path:
        return self.base / "data"

    @property
    def socket(self) -> Path:
        return self.base / "mysqld.sock"

    def start(self) -> MariaDB:
        self.base.mkdir(parents=True, exist_ok=True)
        fresh = not (self.datadir / "mysql").exists()
        if fresh:
            done = subprocess.run(
                ["mariadb-install-db", "--no-defaults", f"--datadir={self.datadir}", "--user=root",
                 "--auth-root-authentication-method=normal", "--skip-test-db"],
                capture_output=True, text=True)
            if done.returncode != 0:
                raise ServerError(f"mariadb-install-db failed: {done.stderr.strip()[-400:]}")
        self.port = self.port or free_port()
        self.pid = _spawn(
            [MARIADBD, "--no-defaults", f"--datadir={self.datadir}", f"--socket={self.socket}",
             f"--pid-file={self.base / 'mysqld.pid'}", f"--port={self.port}",
             "--bind-address=127.0.0.1", "--user=root", "--skip-log-bin",
             "--innodb-buffer-pool-size=256M", "--max-connections=500",
             f"--innodb-flush-log-at-trx-commit={2 if self.fast_commit else 1}",
             f"--log-error={self.base / 'error.log'}"],
            self.base / "stdout.log")
        self._wait_ready(30)
        if fresh or not self.password:
            self.password = self.password or secrets.token_urlsafe(16)
            with self.admin() as conn, conn.cursor() as cur:
                for host in ("127.0.0.1", "localhost"):
                    cur.execute("CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s",
                                (self.user, host, self.password))
                    cur.execute(f"GRANT ALL PRIVILEGES ON *.* TO '{self.user}'@'{host}'")
        self.write_defaults_file()
        return self

    def _wait_ready(self, timeout: float) -> None:
        _wait_port(self.port, timeout, "mariadbd", self.pid)
        end = time.monotonic() + timeout
        while True:
            try:
                self.admin().close()
                return
            except Exception as exc:  # noqa: BLE001 - not ready yet
                if time.monotonic() > end or not _alive(self.pid):
                    raise ServerError(f"mariadbd not ready: {exc}") from None
                time.sleep(0.05)

    def admin(self):
        """A root connection over the server's Unix socket (no password)."""
        import pymysql

        return pymysql.connect(unix_socket=str(self.socket), user="root", autocommit=True)

    def write_defaults_file(self) -> Path:
        path = self.base / "client.cnf"
        _write_secret(path, f"[client]\nhost=127.0.0.1\nport={self.port}\nuser={self.user}\n"
                            f"password={self.password}\n")
        return path

    def create_database(self, name: str) -> None:
        with self.admin() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")

    def drop_database(self, name: str) -> None:
        with self.admin() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")

    def stop(self) -> None:
        if self.pid and _alive(self.pid):
            subprocess.run(["mariadb-admin", "--no-defaults", f"--socket={self.socket}",
                            "--user=root", "shutdown"], capture_output=True, timeout=60)
            end = time.monotonic() + 30
            while _alive(self.pid) and time.monotonic() < end:
                _reap(self.pid)
                time.sleep(0.05)
        _stop_pid(self.pid)
        self.pid = None

    def kill(self) -> None:
        """Crash the server (SIGKILL), as a power cut would."""
        _stop_pid_now(self.pid)
        self.pid = None

    def restart(self, down_for: float = 0.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()


def _stop_pid_now(pid: int | None) -> None:
    if pid and _alive(pid):
        os.kill(pid, signal.SIGKILL)
        while _alive(pid):
            _reap(pid)
            time.sleep(0.02)
    _reap(pid)


# -- RabbitMQ -----------------------------------------------------------------------------
@dataclass
class RabbitMQ:
    base: Path
    port: int = 0
    tls_port: int = 0  # AMQPS listener, certificate signed by the CA in ca_file
    ca_file: str = ""
    dist_port: int = 0
    epmd_port: int = 0
    user: str = "eas"
    password: str = ""
    vhost: str = "plato"
    pid: int | None = None
    epmd_pid: int | None = None
    node: str = field(default="")

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
        env.update(
            HOME=str(self.base / "home"),
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            ERL_EPMD_PORT=str(self.epmd_port),
            ERL_EPMD_ADDRESS="127.0.0.1",
            RABBITMQ_MNESIA_BASE=str(self.base / "mnesia"),
            RABBITMQ_LOG_BASE=str(self.base / "log"),
            RABBITMQ_PID_FILE=str(self.base / "rabbit.pid"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.base / "enabled_plugins"),
            RABBITMQ_CONFIG_FILE=str(self.base / "rabbitmq.conf"),
            RABBITMQ_CONF_ENV_FILE=str(self.base / "rabbitmq-env.conf"),
            RABBITMQ_ADVANCED_CONFIG_FILE=str(self.base / "advanced.config"),
        )
        return env

    def start(self) -> RabbitMQ:
        self.base.mkdir(parents=True, exist_ok=True)
        (self.base / "home").mkdir(exist_ok=True)
        self.port = self.port or free_port()
        self.tls_port = self.tls_port or free_port()
        tls = make_tls_files(self.base / "tls") if not self.ca_file else {
            "ca": Path(self.ca_file), "cert": self.base / "tls" / "server.pem",
            "key": self.base / "tls" / "server.key"}
        self.ca_file = str(tls["ca"])
        self.dist_port = self.dist_port or free_port()
        self.epmd_port = self.epmd_port or free_port()
        self.node = self.node or f"eas{self.port}@localhost"
        self.password = self.password or secrets.token_urlsafe(16)
        (self.base / "enabled_plugins").write_text("[].\n")
        (self.base / "rabbitmq-env.conf").write_text("")
        (self.base / "advanced.config").write_text("[].\n")
        # default_* create the user, vhost and permissions on first boot: no rabbitmqctl
        # call carries the password.
        _write_secret(self.base / "rabbitmq.conf", "\n".join([
            "loopback_users = none",
            f"default_user = {self.user}",
            f"default_pass = {self.password}",
            f"default_vhost = {self.vhost}",
            "default_permissions.configure = .*",
            "default_permissions.read = .*",
            "default_permissions.write = .*",
            "default_user_tags.administrator = true",
            "log.file.level = warning",
            "disk_free_limit.absolute = 50MB",
            f"listeners.ssl.default = 127.0.0.1:{self.tls_port}",
            f"ssl_options.cacertfile = {tls['ca']}",
            f"ssl_options.certfile = {tls['cert']}",
            f"ssl_options.keyfile = {tls['key']}",
            "ssl_options.verify = verify_none",
            "ssl_options.fail_if_no_peer_cert = false",
            "",
        ]))
        env = self.env()
        if not _alive(self.epmd_pid):
            self.epmd_pid = _spawn(["epmd", "-port", str(self.epmd_port), "-address",
                                    "127.0.0.1"], self.base / "epmd.log", env)
            _wait_port(self.epmd_port, 10, "epmd", self.epmd_pid)
        self.pid = _spawn([str(RABBIT_BIN / "rabbitmq-server")], self.base / "stdout.log", env)
        done = subprocess.run([str(RABBIT_BIN / "rabbitmqctl"), "-n", self.node, "wait",
                               "--timeout", "60", str(self.base / "rabbit.pid")],
                              env=env, capture_output=True, text=True, timeout=90)
        if done.returncode != 0:
            raise ServerError(f"rabbitmq-server not ready: {done.stdout[-300:]}"
                              f"{done.stderr[-300:]}")
        _wait_port(self.port, 30, "rabbitmq-server", self.pid)
        _wait_port(self.tls_port, 30, "rabbitmq-server (TLS)", self.pid)
        return self

    def ctl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(RABBIT_BIN / "rabbitmqctl"), "-n", self.node, *args],
                              env=self.env(), capture_output=True, text=True, timeout=120)

    def stop(self, keep_epmd: bool = False) -> None:
        if self.pid and _alive(self.pid):
            self.ctl("shutdown")
        # rabbitmq-server is a shell script that execs beam: its PID is the node's.
        _stop_pid(self.pid)
        self.pid = None
        if not keep_epmd:
            _stop_pid(self.epmd_pid)
            self.epmd_pid = None

    def restart(self, down_for: float = 0.0) -> None:
        self.stop(keep_epmd=True)
        time.sleep(down_for)
        self.start()

    def delete_queues(self, names: list[str]) -> None:
        import pika

        params = pika.ConnectionParameters(
            host="127.0.0.1", port=self.port, virtual_host=self.vhost,
            credentials=pika.PlainCredentials(self.user, self.password))
        conn = pika.BlockingConnection(params)
        try:
            ch = conn.channel()
            for name in names:
                ch.queue_delete(queue=name)
        finally:
            conn.close()


# -- state file (scripts/servers.sh) ------------------------------------------------------
def _state_path(base: Path) -> Path:
    return base / "state.json"


def start_all(base: Path = DEFAULT_BASE) -> dict:
    ensure_packages()
    existing = load_state(base)
    if existing:
        return existing
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)
    os.chmod(base, 0o700)
    db = MariaDB(base / "mariadb").start()
    mq = RabbitMQ(base / "rabbitmq").start()
    state = {"mariadb": asdict(db), "rabbitmq": asdict(mq)}
    _write_secret(_state_path(base), json.dumps(state, default=str, indent=1))
    return state


def load_state(base: Path = DEFAULT_BASE) -> dict | None:
    """The servers started by ``start_all`` when they are all still running."""
    try:
        state = json.loads(_state_path(base).read_text())
    except (OSError, ValueError):
        return None
    ok = (_alive(state["mariadb"]["pid"]) and _alive(state["rabbitmq"]["pid"])
          and _alive(state["rabbitmq"]["epmd_pid"]))
    return state if ok else None


def servers_from_state(state: dict) -> tuple[MariaDB, RabbitMQ]:
    db = dict(state["mariadb"])
    mq = dict(state["rabbitmq"])
    return (MariaDB(**{**db, "base": Path(db["base"])}),
            RabbitMQ(**{**mq, "base": Path(mq["base"])}))


def stop_all(base: Path = DEFAULT_BASE) -> None:
    try:
        state = json.loads(_state_path(base).read_text())
    except (OSError, ValueError):
        return
    db, mq = servers_from_state(state)
    db.stop()
    mq.stop()
    _state_path(base).unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in ("start", "stop", "status"):
        print(__doc__)
        return 2
    base = Path(argv[2]) if len(argv) > 2 else DEFAULT_BASE
    if argv[1] == "start":
        state = start_all(base)
        db, mq = state["mariadb"], state["rabbitmq"]
        print(json.dumps({
            "EAS_DB_HOST": "127.0.0.1", "EAS_DB_PORT": db["port"], "EAS_DB_USER": db["user"],
            "EAS_MQ_HOST": "127.0.0.1", "EAS_MQ_PORT": mq["port"], "EAS_MQ_USER": mq["user"],
            "EAS_MQ_VHOST": mq["vhost"], "state_file": str(_state_path(base)),
            "passwords": "in the 0600 state file",
        }, indent=1))
    elif argv[1] == "stop":
        stop_all(base)
    else:
        print("running" if load_state(base) else "stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
