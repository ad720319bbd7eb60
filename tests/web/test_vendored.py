"""The vendored htmx is the npm release the docs name, byte for byte, with its licence."""

from __future__ import annotations

import hashlib
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "src" / "plato_eas" / "web" / "static"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "dashboard.md"


def test_htmx_is_the_recorded_release():
    digest = hashlib.sha256((STATIC / "htmx.min.js").read_bytes()).hexdigest()
    docs = DOCS.read_text()
    assert "htmx 2.0.11" in docs and digest in docs
    assert "Zero-Clause BSD" in (STATIC / "htmx.LICENSE").read_text()
    assert b'version:"2.0.11"' in (STATIC / "htmx.min.js").read_bytes()
