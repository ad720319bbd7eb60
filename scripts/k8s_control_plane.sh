#!/usr/bin/env bash
# A real Kubernetes control plane for the Kubernetes tests and for developers, without
# containers (tests/k8s/control_plane.py does the work; tests/k8s/README.md has the details):
# kube-apiserver, kube-controller-manager and kube-scheduler built from the pinned
# k8s.io/kubernetes release, etcd, and kwok simulating 4 nodes and the pods' lifecycle. Every
# process listens on 127.0.0.1 on a free port and is stopped by PID.
#
#   scripts/k8s_control_plane.sh build          # builds the binaries into the cache if missing
#   scripts/k8s_control_plane.sh start [DIR]    # prints the kubeconfig (cluster-admin)
#   scripts/k8s_control_plane.sh status [DIR]
#   scripts/k8s_control_plane.sh stop [DIR]
#
# DIR defaults to $EAS_K8S_DIR or /tmp/plato-eas-k8s. While it runs, `EAS_K8S_DIR=DIR pytest
# tests/k8s` uses it instead of starting one of its own. The binaries are cached in
# ${XDG_CACHE_HOME:-~/.cache}/plato-eas/k8s-<versions>/ (a cold build needs Go 1.26 and the Go
# module proxy; it takes tens of minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/require_tools.sh
. scripts/require_tools.sh
PY=${PYTHON:-.venv/bin/python}
case "${1:-}" in
    build) require_tools go; exec "$PY" tests/k8s/control_plane.py build ;;
    start) require_tools go; exec "$PY" tests/k8s/control_plane.py start "${2:-}" ;;
    stop|status) exec "$PY" tests/k8s/control_plane.py "$1" "${2:-}" ;;
    *) echo "usage: $0 build|start [DIR]|status [DIR]|stop [DIR]" >&2; exit 2 ;;
esac
