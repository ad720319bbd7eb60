#!/usr/bin/env bash
# Start or stop throw-away MariaDB and RabbitMQ servers for development (the same ones the
# backend tests start by themselves): loopback only, free ports, data under $EAS_SERVERS_DIR
# (default /tmp/plato-eas-servers). Installs the Debian packages when missing (root).
#
#   scripts/servers.sh start    # prints ports; passwords stay in the 0600 state file
#   scripts/servers.sh status
#   scripts/servers.sh stop     # stops mariadbd, the RabbitMQ node and its epmd by PID
#
# While they run, `EAS_SERVERS_DIR=... pytest tests/backends` reuses them (faster reruns).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
export EAS_SERVERS_DIR=${EAS_SERVERS_DIR:-${TMPDIR:-/tmp}/plato-eas-servers}
case "${1:-}" in
    start|stop|status) exec "$PY" tests/backends/backend_servers.py "$1" "$EAS_SERVERS_DIR" ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
