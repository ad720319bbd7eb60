#!/usr/bin/env bash
# The Ansible collection's test layers, non-interactive and offline (Galaxy unreachable):
#
#   bash scripts/ansible_tests.sh [LAYER ...]     LAYER: sanity units integration collection
#                                                 (default: sanity units integration)
#
#   sanity       ansible-test sanity (all 24 tests) on a copy of the collection
#   units        ansible-test units: the module glue (tests/unit/plugins)
#   integration  every module (tests/integration/targets/*, one ansible-playbook run) and every
#                playbook (tests/integration/playbooks.yml) against scratch SQLite databases
#   collection   the pytest checks of tests/ansible: galaxy build + install + run from the
#                tarball, demo.yml through ansible-runner (AWX layout), ansible-builder, the
#                AWX credential type (scripts/test.sh runs these with the rest of pytest)
#
# Every setup step is done here: the collection tree is copied to a physical
# .../ansible_collections/plato/eas directory (ansible-test refuses a symlinked path), the
# get-pip stand-in that lets `ansible-test sanity` bootstrap its venvs offline is written,
# ANSIBLE_COLLECTIONS_PATH is set, and HOME points at a cache outside the checkout so nothing is
# written to the developer's home. Needs the project venv (bash scripts/setup.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/require_tools.sh
. "$ROOT/scripts/require_tools.sh"
require_tools sha256sum cut mktemp grep rm mkdir cat
VENV=${VENV:-$ROOT/.venv}
export PATH="$VENV/bin:$PATH"
# Outside the repository: inside it, ansible-test would list files with `git ls-files` of the
# repository and skip the (untracked) copy. Kept between runs as a cache of sanity venvs.
STATE=${EAS_ANSIBLE_TEST_STATE:-${TMPDIR:-/tmp}/plato-eas-ansible-tests-$(printf %s "$ROOT" | sha256sum | cut -c1-8)}
COLL_ROOT=$STATE/collections
COPY=$COLL_ROOT/ansible_collections/plato/eas
export HOME=$STATE/home
export ANSIBLE_COLLECTIONS_PATH=$COLL_ROOT:$VENV/collections
export ANSIBLE_LOCAL_TEMP=$STATE/home/.ansible/tmp
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 PY_COLORS=0
mkdir -p "$HOME/.ansible/tmp"
# The developer's own EAS_* settings must not reach the tests.
while read -r name; do unset "$name"; done < <(compgen -e | grep '^EAS_' || true)

log() { printf '\n=== %s\n' "$*"; }

write_get_pip_stand_in() {
    # ansible-test bootstraps pip in each sanity venv with a get-pip script downloaded from a
    # host that is unreachable here; it uses a cached copy when there is one. This stand-in runs
    # the pip wheel bundled with the stdlib's ensurepip instead.
    local version
    version=$(python - <<'PY'
import re
from pathlib import Path

import ansible_test

source = (Path(ansible_test.__file__).parent / "_internal/python_requirements.py").read_text()
print(re.search(r"pip='([0-9.]+)'", source).group(1))
PY
)
    local cache="$HOME/.ansible/test/cache"
    mkdir -p "$cache"
    cat > "$cache/get_pip_${version//./_}.py" <<'PY'
"""Offline stand-in for get-pip.py: run the pip wheel bundled with ensurepip."""
import glob
import os
import sys

import ensurepip

bundled = sorted(glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", "pip-*.whl")))
sys.path.insert(0, bundled[-1])
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
from pip._internal.cli.main import main  # noqa: E402

sys.exit(main(["install", *args]))
PY
}

copy_collection() {
    # Only what the collection ships and tests (not the pipeline's src/, the venv, or the
    # collections/ symlink back to the root); pure Python, no rsync.
    python "$ROOT/scripts/copy_collection.py" "$ROOT" "$COPY"
}

layer_sanity() {
    log "ansible-test sanity"
    write_get_pip_stand_in && copy_collection &&
        (cd "$COPY" && ansible-test sanity --local --python 3.11 --color no)
}

layer_units() {
    log "ansible-test units"
    # --local runs the tests with this venv's Python, where plato_eas is installed.
    copy_collection && (cd "$COPY" && ansible-test units --local --python 3.11 --color no)
}

layer_integration() {
    log "integration: every module and every playbook, embedded default (SQLite)"
    local scratch status=0
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/plato-eas-integration.XXXXXX")
    # From the checkout, as an operator runs it: ansible.cfg, collections/ symlink. Two runs,
    # so a failure in one still lets the other report.
    (cd "$ROOT" && export TMPDIR=$scratch \
        ANSIBLE_COLLECTIONS_PATH="$ROOT/collections:$VENV/collections" \
        ANSIBLE_ROLES_PATH="$ROOT/tests/integration/targets" &&
        ansible-playbook tests/integration/modules.yml) || status=1
    (cd "$ROOT" && export TMPDIR=$scratch \
        ANSIBLE_COLLECTIONS_PATH="$ROOT/collections:$VENV/collections" &&
        ansible-playbook tests/integration/playbooks.yml) || status=1
    rm -rf "$scratch"
    return $status
}

layer_collection() {
    log "collection: galaxy build/install, ansible-runner, ansible-builder, AWX credential type"
    (cd "$ROOT" && python -m pytest -p no:cacheprovider -q tests/ansible)
}

run_layer() {
    case "$1" in
        sanity) layer_sanity ;;
        units) layer_units ;;
        integration) layer_integration ;;
        collection) layer_collection ;;
        *) echo "unknown layer: $1" >&2; exit 2 ;;
    esac
}

layers=("$@")
[ ${#layers[@]} -gt 0 ] || layers=(sanity units integration)
failed=()
for layer in "${layers[@]}"; do
    case "$layer" in sanity|units|integration|collection) ;; *)
        echo "unknown layer: $layer (sanity units integration collection)" >&2; exit 2 ;;
    esac
    run_layer "$layer" || failed+=("$layer")
done
if [ ${#failed[@]} -gt 0 ]; then
    log "ansible tests FAILED: ${failed[*]} (of: ${layers[*]})"
    exit 1
fi
log "ansible tests passed: ${layers[*]}"
