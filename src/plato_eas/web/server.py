"""Serve the dashboard with waitress (a production WSGI server in pure Python) until
interrupted."""

from __future__ import annotations

import logging

from ..settings import Settings
from .access import AccessError, check_listen, load_password

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8050
THREADS = 4
log = logging.getLogger(__name__)


def serve(settings: Settings, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          password_file: str | None = None, insecure: bool = False,
          refresh: float = 3.0) -> None:
    """Check the listen address against the password policy, then serve until stopped."""
    from waitress.server import create_server

    from .app import create_app

    password = load_password(password_file)
    check_listen(host, password, insecure)
    app = create_app(settings, password=password, refresh=refresh)
    try:
        server = create_server(app, host=host, port=int(port), threads=THREADS,
                               ident="plato-eas", clear_untrusted_proxy_headers=True)
    except (OSError, ValueError) as exc:
        raise AccessError(f"cannot listen on {host}:{port}: "
                          f"{getattr(exc, 'strerror', None) or exc}") from None
    where = f"http://{host}:{server.effective_port}/"
    print(f"plato.eas dashboard on {where} (database {_describe(settings)}, read-only"
          f"{', password required' if password else ''}); Ctrl-C stops it", flush=True)
    try:
        server.run()
    finally:
        server.close()


def _describe(settings: Settings) -> str:
    from ..db.dialects import dialect_for

    return dialect_for(settings).describe()
