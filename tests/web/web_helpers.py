"""Helpers for the dashboard tests: a database a real run filled, a dashboard process on it,
Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from plato_eas.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CHAINS = ROOT / "examples" / "chains"
OUTPUT = ROOT / "tests" / "output" / "web"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    """The process environment that points ``eas`` at ``settings`` (passwords included:
    they travel in the environment, never on a command line)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAS_")}
    for name, value in settings.__dict__.items():
        if name == "config_file" or value in ("", None):
            continue
        env["EAS_" + name.upper()] = str(value)
    env.update(extra)
    return env


def eas(settings: Settings, *args: str, check: bool = True,
        **extra: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "plato_eas.cli", *args], capture_output=True,
                          text=True, env=environment(settings, **extra), timeout=600)
    if check and done.returncode != 0:
        raise AssertionError(f"eas {' '.join(args)} exited {done.returncode}: "
                             f"{done.stderr.strip()[-800:]}")
    return done


def fill(settings: Settings, chains: list[str]) -> None:
    """Install, submit ``chains`` (example names) and run them to the end with two local
    workers, as an operator would (a chain that fails makes `eas run` exit 1)."""
    eas(settings, "init")
    eas(settings, "queues")
    for name in chains:
        eas(settings, "submit", str(CHAINS / f"{name}.json"))
    done = eas(settings, "run", "--workers", "2", "--timeout", "300", check=False)
    assert done.returncode in (0, 1), done.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dashboard:
    """`eas web` as a background process, stopped by its PID."""

    def __init__(self, settings: Settings, log: Path, *args: str, **extra: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "plato_eas.cli", "web", "--port", str(self.port), *args],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                env=environment(settings, **extra))

    def wait(self, timeout: float = 30.0) -> Dashboard:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"eas web exited {self.proc.returncode}: "
                                     f"{self.log.read_text()[-800:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2):
                    return self
            except urllib.error.HTTPError:
                return self  # it answers (a password may be required)
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"eas web did not answer: {self.log.read_text()[-800:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def ensure_chromium() -> str:
    """Debian's chromium, installed with apt-get when missing (the machine's own package:
    Playwright's browser download is not used)."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if os.geteuid() != 0:
        raise AssertionError("chromium is missing: apt-get install -y chromium")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, check=True)
        subprocess.run(cmd, env=env, capture_output=True, check=True)
    assert shutil.which("chromium"), "chromium still missing after apt-get install"
    return CHROMIUM


def get(url: str, headers: dict | None = None) -> tuple[int, bytes, Any]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers
