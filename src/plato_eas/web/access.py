"""Who may see the dashboard: where it listens, and the password it asks for.

Task logs can hold sensitive text, so a dashboard on anything but loopback needs a password
(from ``EAS_WEB_PASSWORD`` or a file, never a command-line flag) unless the operator says
``--insecure``. Browsers send it as HTTP basic authentication (any user name); scripts may
send it as a bearer token.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import os
from pathlib import Path

from ..errors import EasError

PASSWORD_ENV = "EAS_WEB_PASSWORD"
REALM = "plato.eas dashboard"


class AccessError(EasError):
    """A listen address or password setting the dashboard refuses."""


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses; any other name counts as reachable."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_password(password_file: str | None = None,
                  environ: dict[str, str] | None = None) -> str | None:
    """The password from ``password_file`` (first line) or ``EAS_WEB_PASSWORD``; None if
    neither is set."""
    env = os.environ if environ is None else environ
    if password_file:
        try:
            text = Path(password_file).read_text().splitlines()
        except OSError as exc:
            raise AccessError(f"cannot read password file {password_file}: {exc.strerror}")\
                from None
        if not text or not text[0].strip():
            raise AccessError(f"password file {password_file} is empty")
        return text[0].strip()
    return env.get(PASSWORD_ENV) or None


def check_listen(host: str, password: str | None, insecure: bool) -> None:
    """Refuse a non-loopback address without a password, unless ``insecure``."""
    if is_loopback(host) or password or insecure:
        return
    raise AccessError(
        f"refusing to serve the dashboard on {host} without a password: task logs may hold "
        f"sensitive text; set {PASSWORD_ENV} or --password-file (or pass --insecure)")


def authorised(header: str | None, password: str) -> bool:
    """Does an Authorization header (Basic with any user, or Bearer) carry the password?"""
    if not header:
        return False
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        given = value.strip()
    elif scheme == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        given = decoded.partition(":")[2]
    else:
        return False
    return hmac.compare_digest(given.encode("utf-8"), password.encode("utf-8"))
