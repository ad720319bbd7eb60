"""The read-only database user the dashboard reads as (MySQL/MariaDB): SELECT on the task
database and nothing else.

Run by the Kubernetes init Job as ``python -m plato_eas.admin.readonly_user`` with an
administrator's password, so that the dashboard never holds credentials that could write.
Idempotent: the user is created when missing, its password set to the one in the Secret, every
other privilege revoked and SELECT granted again.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from ..db import Database, Tx
from ..errors import ConfigError, EasError
from ..settings import Settings, load_settings

#: what the init Job sets (passwords from Secrets through secretKeyRef, never on a command line)
ENV_ADMIN_USER = "EAS_DB_ADMIN_USER"
ENV_ADMIN_PASSWORD = "EAS_DB_ADMIN_PASSWORD"
ENV_USER = "EAS_DB_READONLY_USER"
ENV_PASSWORD = "EAS_DB_READONLY_PASSWORD"


def ensure_read_only_user(admin: Settings, user: str, password: str, host: str = "%") -> dict:
    """Make ``user@host`` able to SELECT from ``admin.db_name`` and do nothing else, with
    ``password``; ``admin`` connects as a user that may create users and grant."""
    if admin.db_engine != "mysql":
        raise ConfigError("a read-only database user exists only on db_engine mysql "
                          "(the dashboard opens SQLite read-only instead)")
    if not user or not password:
        raise ConfigError("the read-only user needs a name and a password")

    def grant(tx: Tx) -> None:
        account = "?@?"
        tx.execute(f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY ?", (user, host, password))
        tx.execute(f"ALTER USER {account} IDENTIFIED BY ?", (user, host, password))
        tx.execute(f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM {account}", (user, host))
        tx.execute(f"GRANT SELECT ON {tx.dialect.quote(admin.db_name)}.* TO {account}",
                   (user, host))

    with Database(admin) as db:
        db.run(grant, atomic=False)
    return {"changed": True, "user": user, "host": host, "database": admin.db_name}


def settings_from_env(environ: Mapping[str, str]) -> tuple[Settings, str, str]:
    """The administrator's settings (EAS_CONFIG_FILE/EAS_* as usual, user and password from
    EAS_DB_ADMIN_*), and the read-only user's name and password."""
    missing = [k for k in (ENV_ADMIN_PASSWORD, ENV_USER, ENV_PASSWORD) if not environ.get(k)]
    if missing:
        raise ConfigError(f"set {', '.join(missing)} to create the read-only database user")
    admin = load_settings({"db_user": environ.get(ENV_ADMIN_USER) or "root",
                           "db_password": environ[ENV_ADMIN_PASSWORD]}, environ)
    return admin, environ[ENV_USER], environ[ENV_PASSWORD]


def main(environ: Mapping[str, str] | None = None) -> int:
    """Entry point of the init Job's container: one line out, no traceback."""
    try:
        admin, user, password = settings_from_env(os.environ if environ is None else environ)
        done = ensure_read_only_user(admin, user, password)
    except EasError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"read-only user {done['user']}@{done['host']} may SELECT on {done['database']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
