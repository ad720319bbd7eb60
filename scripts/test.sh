#!/usr/bin/env bash
# The whole test suite — what `make test` (the README's test command) and CI run.
# Every step installs what it needs: the venv (scripts/setup.sh), the Debian server packages
# (the backend harness in tests/backends), the ansible-test environment (scripts/ansible_tests.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$PWD/collections:$PWD/.venv/collections"

echo "== ruff, yamllint, ansible-lint"
make --no-print-directory lint

if [ -f scripts/ansible_tests.sh ]; then
    echo "== ansible-test sanity and units, collection build"
    bash scripts/ansible_tests.sh
fi

echo "== pytest: pipeline, reports, backends (MariaDB, RabbitMQ), Kubernetes, playbooks"
suites=()
for d in tests/unit tests/backends tests/k8s tests/ansible; do
    [ -d "$d" ] && suites+=("$d")
done
exec .venv/bin/pytest -p no:cacheprovider "${suites[@]}"
