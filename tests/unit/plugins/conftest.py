"""Helpers for the plato.eas module unit tests.

They run under `ansible-test units` (scripts/ansible_tests.sh units), and also under plain
pytest from the checkout (`pytest tests/unit`), where this file installs Ansible's collection
loader over the repository's collections/ directory (plato/eas -> the repository) the way
ansible-test does.
"""

import json
import os
import sys
from pathlib import Path

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


def _install_collection_finder():
    if any(type(finder).__name__ == "_AnsibleCollectionFinder" for finder in sys.meta_path):
        return  # ansible-test did it
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    collections = Path(__file__).resolve().parents[3] / "collections"
    _AnsibleCollectionFinder(paths=[str(collections)])._install()


_install_collection_finder()


class ModuleExit(Exception):
    """exit_json was called; ``result`` holds its keyword arguments."""

    def __init__(self, result):
        super().__init__(result)
        self.result = result


class ModuleFail(Exception):
    """fail_json was called; ``result`` holds its keyword arguments."""

    def __init__(self, result):
        super().__init__(result)
        self.result = result


def _exit_json(self, **kwargs):
    kwargs.setdefault("changed", False)
    json.dumps(kwargs)  # what the module returns must be plain JSON
    raise ModuleExit(kwargs)


def _fail_json(self, msg, **kwargs):
    kwargs["msg"] = msg
    kwargs["failed"] = True
    json.dumps(kwargs)
    raise ModuleFail(kwargs)


@pytest.fixture(autouse=True)
def _capture_module_results(monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, "exit_json", _exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", _fail_json)
    # Keep the developer's EAS_* settings out of the tests.
    for name in list(os.environ):
        if name.startswith("EAS_"):
            monkeypatch.delenv(name)


class FakeActions:
    """Stands in for plato_eas.actions: records each call, returns a canned result or raises."""

    def __init__(self, result=None, error=None):
        self.calls = []
        self.result = {"changed": False} if result is None else result
        self.error = error

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)

        def action(settings, *args, **kwargs):
            self.calls.append((name, settings, args, kwargs))
            if self.error is not None:
                raise self.error
            return dict(self.result)

        return action


def _run_module(module, args, check_mode=False, diff=False):
    """Run ``module.main()`` with ``args``; returns ("exit"|"fail", result dict)."""
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args):
        try:
            module.main()
        except ModuleExit as done:
            return "exit", done.result
        except ModuleFail as failed:
            return "fail", failed.result
    raise AssertionError("module returned without exit_json or fail_json")


@pytest.fixture
def fake_actions(monkeypatch):
    """Install a FakeActions where every module reaches plato_eas.actions (the EasModule
    helper): ``fake = fake_actions(module, result=..., error=...)``."""
    from ansible_collections.plato.eas.plugins.module_utils import common

    def install(_module, result=None, error=None):
        fake = FakeActions(result=result, error=error)
        monkeypatch.setattr(common, "actions", fake)
        return fake

    return install


@pytest.fixture
def run_module():
    """``run_module(module, args, check_mode=False, diff=False)`` -> ("exit"|"fail", result)."""
    return _run_module
