"""The task-type registry (tasks/registry.py): the built-in one, an operator's file, and the
one-line errors a malformed file gets."""

from __future__ import annotations

import pytest

from plato_eas.errors import RegistryError
from plato_eas.settings import Settings
from plato_eas.tasks.registry import CONTROL_FLOW_TYPES, load_registry

CONTROL_FLOW = "".join(f"  - {{name: {t}}}\n" for t in CONTROL_FLOW_TYPES)


def _from(tmp_path, text: str):
    path = tmp_path / "registry.yaml"
    path.write_text(text)
    return load_registry(Settings(registry_file=str(path), db_path=str(tmp_path / "x.sqlite")))


def test_the_built_in_registry_runs_control_flow_everywhere():
    registry = load_registry()
    names = [c.name for c in registry.containers]
    for task_type in CONTROL_FLOW_TYPES:
        assert registry.containers_for(task_type) == names
    assert set(CONTROL_FLOW_TYPES) <= set(registry.types_for(names[0]))


def test_an_operators_registry_replaces_the_built_in_one(tmp_path):
    registry = _from(tmp_path, "containers:\n  - {name: big, image: img:2, cpu: 8, memory_gb: 32,"
                               " gpu: 1}\ntask_types:\n" + CONTROL_FLOW
                     + "  - {name: fit, container: big}\n")
    assert registry.container("big").gpu == 1
    assert registry.types_for("big") == sorted([*CONTROL_FLOW_TYPES, "fit"])
    with pytest.raises(RegistryError, match="unknown worker container 'small'"):
        registry.types_for("small")


@pytest.mark.parametrize("text, message", [
    ("containers: [{name: a}]\ntask_types: []\n", "is malformed"),
    ("containers: [{name: a, image: i, cpu: 1, memory_gb: 1}]\ntask_types:\n" + CONTROL_FLOW
     + "  - {name: fit, container: b}\n", "task type 'fit' names unknown container 'b'"),
    ("containers: [{name: a, image: i, cpu: 1, memory_gb: 1}]\ntask_types: []\n",
     "lacks control-flow type 'execution_chain'"),
    (": [", "is malformed"),
])
def test_a_malformed_registry_is_one_line(tmp_path, text, message):
    with pytest.raises(RegistryError, match=message) as err:
        _from(tmp_path, text)
    assert "\n" not in str(err.value)


def test_an_unreadable_registry_file_says_which(tmp_path):
    settings = Settings(registry_file=str(tmp_path / "none.yaml"), db_path=str(tmp_path / "x"))
    with pytest.raises(RegistryError, match="cannot read registry_file .*none.yaml"):
        load_registry(settings)
