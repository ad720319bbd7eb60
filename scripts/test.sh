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

echo "== pytest: Kubernetes roles and playbooks against the API test double, molecule"
# Each file shares one test double and runs in order: distribute by file.
.venv/bin/pytest -p no:cacheprovider -n 2 --dist loadfile tests/k8s

echo "== pytest: the dashboard in Chromium, its access, containment and read-only proofs"
.venv/bin/pytest -p no:cacheprovider tests/web

echo "== pytest: pipeline, reports, backends (real MariaDB and RabbitMQ), collection, AWX"
exec .venv/bin/pytest -p no:cacheprovider tests/scripts tests/pipeline tests/backends tests/ansible
