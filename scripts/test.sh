#!/usr/bin/env bash
# The whole test suite — what `make test` (the README's test command) and CI run.
# Every step installs what it needs: the venv (scripts/setup.sh), the Debian server packages
# (the backend harness in tests/backends), the ansible-test environment (scripts/ansible_tests.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# Every external command the scripts use, installed when missing (a fresh machine has no rsync,
# say); tests/scripts/test_tools.py fails when a script uses one that is not declared there.
bash scripts/require_tools.sh
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$PWD/collections:$PWD/.venv/collections"

echo "== ruff, yamllint, ansible-lint"
make --no-print-directory lint

echo "== ansible-test sanity, units and integration (every module and playbook, embedded)"
bash scripts/ansible_tests.sh

echo "== Kubernetes control plane (tests/k8s/README.md): build when missing, start"
# kube-apiserver, controller manager and scheduler of the pinned release, etcd and kwok: built
# once per machine into ~/.cache/plato-eas (a cold build takes about 15 min on 2 cores), run on
# loopback for the Kubernetes tests and stopped by PID when they end, whatever happens.
K8S_DIR=$(mktemp -d "${TMPDIR:-/tmp}/plato-eas-k8s.XXXXXX")
stop_k8s() {
    bash scripts/k8s_control_plane.sh stop "$K8S_DIR" || true
    rm -rf "$K8S_DIR"
}
trap stop_k8s EXIT
SECONDS=0
bash scripts/k8s_control_plane.sh build
echo "control plane binaries ready after ${SECONDS} s"
bash scripts/k8s_control_plane.sh start "$K8S_DIR"

echo "== pytest: Kubernetes roles and playbooks against the real control plane, molecule"
# Each file works in a namespace of its own and runs in order: distribute by file.
EAS_K8S_DIR=$K8S_DIR .venv/bin/pytest -p no:cacheprovider -n 4 --dist loadfile tests/k8s
stop_k8s
trap - EXIT

echo "== pytest: the dashboard in Chromium, its access, containment and read-only proofs"
.venv/bin/pytest -p no:cacheprovider tests/web

echo "== pytest: pipeline, reports, backends (real MariaDB and RabbitMQ), collection, AWX"
exec .venv/bin/pytest -p no:cacheprovider tests/scripts tests/pipeline tests/science tests/backends \
    tests/ansible
