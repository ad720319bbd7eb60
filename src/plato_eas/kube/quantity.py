"""Kubernetes resource quantities ("500m", "2", "4Gi", "16384Ki", "1e3")."""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

from ..errors import ConfigError

_SUFFIX = {
    "": Decimal(1),
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"),
    "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
    "P": Decimal("1e15"), "E": Decimal("1e18"),
    "Ki": Decimal(2**10), "Mi": Decimal(2**20), "Gi": Decimal(2**30), "Ti": Decimal(2**40),
    "Pi": Decimal(2**50), "Ei": Decimal(2**60),
}
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)([a-zA-Z]*)$")
GIB = 2**30


def parse_quantity(value: str | int | float) -> float:
    """A quantity as a plain number (CPU in cores, memory in bytes)."""
    if isinstance(value, bool):
        raise ConfigError(f"not a Kubernetes quantity: {value!r}")
    if isinstance(value, int | float):
        return float(value)
    match = _QUANTITY.match(str(value).strip())
    if not match or match.group(2) not in _SUFFIX:
        raise ConfigError(f"not a Kubernetes quantity: {value!r}")
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
        raise ConfigError(f"not a Kubernetes quantity: {value!r}") from None
    return float(number * _SUFFIX[match.group(2)])


def format_cpu(cores: float) -> str:
    """Cores as a quantity: whole cores as "2", fractions as millicores ("500m")."""
    milli = max(1, math.floor(cores * 1000 + 1e-6))
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def format_memory(gib: float) -> str:
    """GiB as a quantity in whole MiB, in the API server's canonical form ("2Gi", "1536Mi")."""
    mib = max(1, math.floor(gib * 1024 + 1e-6))
    return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"
