"""The one settings model (SPEC §9), shared by the CLI, the daemons and the Ansible modules.

Sources, lowest precedence first: built-in defaults, the YAML ``config_file``, ``EAS_*``
environment variables, explicit values. Option names are the prototype's command-line
argument names, and the environment variables are the same names upper-cased with ``EAS_``.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

import yaml

from . import defaults
from .errors import ConfigError

SECRET_FIELDS = frozenset({"db_password", "mq_password"})


def default_home() -> Path:
    """Per-installation folder: beside the Python environment plato_eas is installed in."""
    return Path(os.environ.get("EAS_HOME") or Path(sys.prefix) / "var" / "plato-eas")


@dataclass(frozen=True)
class Settings:
    db_engine: str = "sqlite"
    db_path: str = ""
    db_host: str = "localhost"
    db_port: int = 3306
    db_user: str = "eas"
    db_password: str = field(default="", repr=False)
    db_name: str = "plato_eas"
    queue_implementation: str = "sql"
    mq_host: str = "localhost"
    mq_port: int = 5672
    mq_user: str = "guest"
    mq_password: str = field(default="", repr=False)
    mq_vhost: str = "/"
    mq_tls: bool = False
    mq_ca_file: str = ""
    data_dir: str = ""
    registry_file: str = ""
    max_heartbeat_age: float = defaults.MAX_HEARTBEAT_AGE
    retry_limit: int = defaults.RETRY_LIMIT
    max_loop_iterations: int = defaults.MAX_LOOP_ITERATIONS
    config_file: str = ""

    def __post_init__(self) -> None:
        home = default_home()
        if not self.db_path:
            object.__setattr__(self, "db_path", str(home / "eas.sqlite"))
        if not self.data_dir:
            object.__setattr__(self, "data_dir", str(home / "data"))
        if self.db_engine not in ("sqlite", "mysql"):
            raise ConfigError(f"db_engine must be 'sqlite' or 'mysql', not {self.db_engine!r}")
        if self.queue_implementation not in ("sql", "amqp"):
            raise ConfigError(
                f"queue_implementation must be 'sql' or 'amqp', not {self.queue_implementation!r}"
            )

    @property
    def output_dir(self) -> Path:
        """Root of the file repository that tasks write into (working directories live here)."""
        return Path(self.data_dir) / "output"

    @property
    def input_dir(self) -> Path:
        """Root of the external files a task may ingest (``ingest_external_lcs``)."""
        return Path(self.data_dir) / "input"

    def where(self) -> str:
        """Which database and queue these settings reach, without secrets (daemon start lines)."""
        database = (f"sqlite {self.db_path}" if self.db_engine == "sqlite" else
                    f"mysql {self.db_user}@{self.db_host}:{self.db_port}/{self.db_name}")
        queue = ("sql queue" if self.queue_implementation == "sql" else
                 f"amqp queue {self.mq_user}@{self.mq_host}:{self.mq_port}{self.mq_vhost}")
        return f"database {database}, {queue}"

    def public(self) -> dict[str, Any]:
        """The settings with secrets masked: safe for logs and module results."""
        out = dataclasses.asdict(self)
        for name in SECRET_FIELDS:
            out[name] = "********" if out[name] else ""
        return out

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


_FIELDS = {f.name: f for f in fields(Settings)}


def _coerce(name: str, value: Any) -> Any:
    kind = type(_FIELDS[name].default)
    try:
        if kind is bool and isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"setting {name} must be a {kind.__name__}, not {value!r}") from None


def _clean(values: Mapping[str, Any], origin: str) -> dict[str, Any]:
    unknown = sorted(set(values) - set(_FIELDS))
    if unknown:
        raise ConfigError(f"unknown setting(s) in {origin}: {', '.join(unknown)}")
    return {k: _coerce(k, v) for k, v in values.items() if v is not None}


def _from_file(path: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read config_file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config_file {path} is not valid YAML: {exc}".splitlines()[0]) from None
    if not isinstance(data, dict):
        raise ConfigError(f"config_file {path} must hold a mapping of settings")
    return _clean(data, path)


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values = {}
    for name in _FIELDS:
        key = "EAS_" + name.upper()
        if environ.get(key, "") != "":
            values[name] = environ[key]
    return _clean(values, "the environment")


def load_settings(
    explicit: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Merge defaults < config file < EAS_* environment < explicit values (None = not given)."""
    explicit = _clean(dict(explicit or {}), "options")
    env = _from_env(os.environ if environ is None else environ)
    config_file = explicit.get("config_file") or env.get("config_file")
    merged = _from_file(config_file) if config_file else {}
    merged.update(env)
    merged.update(explicit)
    return Settings(**merged)
