#!/usr/bin/env bash
# `make sanity`: ansible-test sanity of the plato.eas collection, offline, no Docker
# (all the setup - physical ansible_collections/plato/eas copy, get-pip stand-in - is done by
# scripts/ansible_tests.sh).
set -euo pipefail
exec bash "$(dirname "$0")/ansible_tests.sh" sanity "$@"
