"""Unknown fields are refused with their JSON path and a "did you mean" suggestion; a task
type's own fields are those it declares (and are checked against their schemas)."""

from __future__ import annotations

import pytest

from plato_eas import actions
from plato_eas.chains.validate import validate_chain
from plato_eas.errors import ChainError, RegistryError
from plato_eas.tasks.api import task_fields

KNOWN = {
    "execution_chain", "execution_for_loop", "execution_do_while_loop",
    "execution_conditional", "null", "error", "outside_type",
}


def problems(chain, **kwargs) -> list[tuple[str, str]]:
    with pytest.raises(ChainError) as caught:
        validate_chain(chain, KNOWN, **kwargs)
    return caught.value.problems


def test_misspelt_optional_fields_are_refused_with_a_suggestion():
    chain = {"task_list": [
        {"task": "null", "set_metdata": {"outcome": "PASS"}},
        {"task": "execution_conditional", "criterion": True, "task_list": [],
         "else_tasklist": [{"task": "null"}]},
        {"task": "null", "input": {"lightcurve": "a.lc"}},
    ]}
    assert problems(chain) == [
        ("$.task_list[0].set_metdata",
         "unknown field 'set_metdata' for a task of type 'null' (did you mean 'set_metadata'?)"),
        ("$.task_list[1].else_tasklist", "unknown field 'else_tasklist' for a task of type "
                                         "'execution_conditional' (did you mean "
                                         "'else_task_list'?)"),
        ("$.task_list[2].input",
         "unknown field 'input' for a task of type 'null' (did you mean 'inputs'?)"),
    ]


def test_unknown_fields_of_the_chain_itself_are_refused():
    assert problems({"jobname": "x", "task_list": []}) == [
        ("$.jobname", "unknown field 'jobname' for a chain (did you mean 'job_name'?)"),
    ]


def test_fields_without_a_close_match_are_refused_too():
    assert problems({"task_list": [{"task": "error", "colour": "red"}]}) == [
        ("$.task_list[0].colour", "unknown field 'colour' for a task of type 'error'"),
    ]


def test_control_flow_fields_belong_to_the_control_flow_types():
    chain = {"task_list": [
        {"task": "null", "task_list": [{"task": "null"}]},
        {"task": "'null'", "parameter": "x"},
        {"task": "execution_chain", "task_list": [], "criterion": True},
    ]}
    assert problems(chain) == [
        ("$.task_list[0].task_list", "'task_list' belongs to the control-flow types; a task of "
                                     "type 'null' does not use it (control-flow types must be "
                                     "literal)"),
        ("$.task_list[1].parameter", "'parameter' belongs to the control-flow types; a task "
                                     "does not use it (control-flow types must be literal)"),
        ("$.task_list[2].criterion", "unknown field 'criterion' for a task of type "
                                     "'execution_chain'"),
    ]


def test_a_type_that_declares_nothing_keeps_its_own_fields_but_not_misspelt_common_ones():
    keeps = {"task": "outside_type", "lc_duration": 730, "search_settings": {"period_min": 1},
             "specs": {"anything": ["goes"]}}
    validate_chain({"task_list": [keeps]}, KNOWN)
    misspelt = {"task": "outside_type", "output": {"lightcurve": "a.lc"}}
    assert problems({"task_list": [misspelt]}) == [
        ("$.task_list[0].output",
         "unknown field 'output' for a task of type 'outside_type' (did you mean 'outputs'?)"),
    ]


BATMAN = {
    "specs": {"type": "object", "additionalProperties": False, "required": ["duration"],
              "properties": {"duration": {"type": "number", "exclusiveMinimum": 0},
                             "mode": {"enum": ["fast", "exact"]}}},
    "lc_duration": {"type": "number"},
}


def _declared(task_type):
    return BATMAN if task_type == "outside_type" else task_fields(task_type)


def test_declared_fields_are_checked_against_their_schemas():
    chain = {"task_list": [
        {"task": "outside_type", "specs": {"duration": 10, "mode": "fast"}, "lc_duration": 1},
        {"task": "outside_type", "specs": {"duration": "(metadata['d'])"},
         "lc_duration": "(metadata['l'])"},
        {"task": "outside_type", "specs": {"duration": -1, "mdoe": "fast"}},
        {"task": "outside_type", "specs": {"mode": "slow"}, "lc_duraton": 3},
    ]}
    assert problems(chain, fields_of=_declared) == [
        ("$.task_list[2].specs.duration", "-1 is less than or equal to the minimum of 0"),
        ("$.task_list[2].specs.mdoe",
         "unknown field 'mdoe' for this object (did you mean 'mode'?)"),
        ("$.task_list[3].lc_duraton", "unknown field 'lc_duraton' for a task of type "
                                      "'outside_type' (did you mean 'lc_duration'?)"),
        ("$.task_list[3].specs.duration", "is required but missing"),
        ("$.task_list[3].specs.mode", '"slow" is not one of "fast" or "exact"'),
    ]


def test_the_test_types_declare_their_fields():
    assert set(task_fields("null")) == {"sleep", "set_metadata"}
    assert task_fields("error") == {}
    assert task_fields("no_such_type") is None


def test_a_declaration_that_is_not_a_schema_is_the_packages_error():
    chain = {"task_list": [{"task": "outside_type"}]}
    with pytest.raises(RegistryError, match="declares an invalid JSON schema"):
        validate_chain(chain, KNOWN, fields_of=lambda t: {"specs": {"type": "no-such-type"}})


def test_submit_refuses_a_misspelt_field_and_writes_nothing(db, installed):
    chain = {"job_name": "typo", "task_list": [
        {"task": "null", "name": "probe", "set_metdata": {"outcome": "PASS"}}]}
    with pytest.raises(ChainError, match=r"\$\.task_list\[0\]\.set_metdata: unknown field "
                                         r"'set_metdata' for a task of type 'null' \(did you "
                                         r"mean 'set_metadata'\?\)"):
        actions.submit(installed, chain=chain)
    assert db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM eas_task")) == 0
