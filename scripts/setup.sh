#!/usr/bin/env bash
# Build the project's virtual environment from scratch (idempotent): the package with every
# backend and the test tools, plus kubernetes.core taken out of the pinned ansible bundle
# (Galaxy is unreachable). Everything it installs is pinned in pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/require_tools.sh
. scripts/require_tools.sh
require_tools python3 sha256sum cut touch rm
VENV=${VENV:-.venv}
PY=${PYTHON:-python3}

if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
stamp="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e ".[mysql,amqp,web,ansible,test,science]"
    # Compile TLS's numba kernels once, into numba's on-disk cache beside them, so no test or
    # search pays for it (~15 s).
    "$VENV/bin/python" -c "from plato_eas_science.search.tls import warm_up; warm_up()"
    rm -f "$VENV"/.installed-*
    touch "$stamp"
fi
"$VENV/bin/python" scripts/install_collections.py "$VENV/collections"
