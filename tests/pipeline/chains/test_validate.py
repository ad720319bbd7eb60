"""Chain validation at submission (SPEC §4): every problem, each at its JSON path."""

import copy
import json
from pathlib import Path

import pytest

from plato_eas.chains.paths import check_relative
from plato_eas.chains.validate import load_chain_file, validate_chain
from plato_eas.errors import ChainError
from plato_eas.tasks.registry import load_registry

EXAMPLES = sorted((Path(__file__).parents[3] / "examples" / "chains").glob("*.json"))
KNOWN = {
    "execution_chain", "execution_for_loop", "execution_do_while_loop",
    "execution_conditional", "null", "error",
}


def problems(chain, product_exists=None) -> list[tuple[str, str]]:
    """The problems validate_chain reports (fails the test if the chain is accepted)."""
    with pytest.raises(ChainError) as caught:
        validate_chain(chain, KNOWN, product_exists)
    return caught.value.problems


def paths(chain, product_exists=None) -> list[str]:
    return [path for path, _ in problems(chain, product_exists)]


def chain_of(*tasks, working_directory="job") -> dict:
    return {"job_name": "t", "working_directory": working_directory, "task_list": list(tasks)}


# --- paths ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "normalised"),
    [("a.lc", "a.lc"), ("a/b.lc", "a/b.lc"), ("a/../b", "b"), ("./a//b/", "a/b"), ("a/..", ".")],
)
def test_relative_paths_are_normalised(path, normalised):
    assert check_relative(path, "file") == normalised


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/etc/passwd", "file '/etc/passwd' is absolute"),
        ("", "file '' is empty"),
        ("  ", "file '  ' is empty"),
        ("..", "file '..' climbs out of the data directory"),
        ("../x", "file '../x' climbs out of the data directory"),
        ("a/../../x", "file 'a/../../x' climbs out of the data directory"),
        ("a\\..\\..\\x", "file 'a\\\\..\\\\..\\\\x' contains a backslash"),
    ],
)
def test_escaping_paths_are_refused(path, reason):
    with pytest.raises(ValueError) as caught:
        check_relative(path, "file")
    assert str(caught.value).startswith(reason)


# --- loading -------------------------------------------------------------------------------


def test_examples_exist():
    assert {path.name for path in EXAMPLES} >= {
        "conditional.json", "do_while.json", "failing.json", "file_dependency.json",
        "for_loop_grid.json", "large_grid.json", "null_parallel.json",
    }


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_every_example_chain_is_valid(path):
    validate_chain(load_chain_file(path), set(load_registry().task_types))


def test_malformed_json_is_reported_with_line_and_column(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"task_list": [\n  {"task": "null",}\n]}\n')
    with pytest.raises(ChainError) as caught:
        load_chain_file(broken)
    [(path, message)] = caught.value.problems
    assert path == "$"
    assert message.startswith(f"malformed JSON in {broken}: ")
    assert message.endswith("at line 2 column 19")


def test_missing_file_is_a_chain_error(tmp_path):
    with pytest.raises(ChainError, match=r"cannot read .*nothing.json: No such file"):
        load_chain_file(tmp_path / "nothing.json")


def test_a_chain_must_be_an_object(tmp_path):
    listed = tmp_path / "list.json"
    listed.write_text("[]")
    with pytest.raises(ChainError, match=r"\$: a chain must be a JSON object, not an array"):
        load_chain_file(listed)


# --- structure -----------------------------------------------------------------------------


def test_missing_task_list_is_reported():
    assert problems({"job_name": "x"}) == [("$.task_list", "is required but missing")]


def test_missing_nested_task_list_and_type_are_reported():
    chain = chain_of({"task": "execution_chain"}, {"name": "no type"})
    assert problems(chain) == [
        ("$.task_list[0].task_list", "is required but missing"),
        ("$.task_list[1].task", "is required but missing"),
    ]


def test_type_specific_fields_are_required():
    chain = chain_of(
        {"task": "execution_do_while_loop", "task_list": []},
        {"task": "execution_conditional", "task_list": []},
        {"task": "execution_for_loop", "values": [1], "task_list": []},
    )
    assert paths(chain) == [
        "$.task_list[0].iteration_name",
        "$.task_list[0].repeat_criterion",
        "$.task_list[1].criterion",
        "$.task_list[2].parameter",
    ]


def test_wrong_types_are_reported():
    chain = chain_of(
        {"task": "null", "sleep": "soon", "inputs": ["a.lc"], "requires_metadata_from": "a"},
        {"task": "execution_conditional", "criterion": "maybe", "task_list": [3]},
        {"task": "execution_for_loop", "parameter": "p", "linear_range": [1, 2], "task_list": []},
    )
    assert problems(chain) == [
        ("$.task_list[0].inputs", "must be of type object"),
        ("$.task_list[0].requires_metadata_from", "must be of type array (list)"),
        ("$.task_list[0].sleep", "must be a number of seconds (at least 0) or an expression"),
        ("$.task_list[1].criterion", "must be true, false or an expression"),
        ("$.task_list[1].task_list[0]", "must be of type object"),
        ("$.task_list[2].linear_range", "must have at least 3 item(s)"),
    ]


def test_a_types_undeclared_fields_are_refused():
    assert problems(chain_of({"task": "null", "lc_duration": 720})) == [
        ("$.task_list[0].lc_duration", "unknown field 'lc_duration' for a task of type 'null'"),
    ]


# --- task types and loops ------------------------------------------------------------------


def test_unknown_task_type_is_reported():
    chain = chain_of({"task": "null"}, {"task": "transit_search_nope"})
    assert problems(chain) == [("$.task_list[1].task", "unknown task type 'transit_search_nope'")]


def test_task_type_given_as_expression_is_checked_later():
    validate_chain(chain_of({"task": "'transit_search_{tda}'.format(**metadata)"}), KNOWN)


def test_loop_with_two_ranges_is_reported():
    loop = {"task": "execution_for_loop", "parameter": "p", "values": [1, 2],
            "linear_range": [0, 1, 3], "task_list": [{"task": "null"}]}
    assert problems(chain_of(loop)) == [(
        "$.task_list[0]",
        "needs exactly one of values, linear_range, log_range (found values, linear_range)",
    )]


def test_loop_with_no_range_is_reported():
    loop = {"task": "execution_for_loop", "parameter": "p", "task_list": [{"task": "null"}]}
    assert problems(chain_of(loop)) == [
        ("$.task_list[0]", "needs exactly one of values, linear_range, log_range (found none)"),
    ]


def test_log_range_bounds_must_be_positive():
    loop = {"task": "execution_for_loop", "parameter": "p", "log_range": [0, 1, 3],
            "task_list": []}
    assert problems(chain_of(loop)) == [
        ("$.task_list[0].log_range[0]", "a log_range bound must be > 0"),
    ]


# --- paths in the chain --------------------------------------------------------------------


def test_absolute_paths_are_reported():
    chain = chain_of({"task": "null", "outputs": {"lightcurve": "/tmp/x.lc"}},
                     working_directory="/data")
    assert problems(chain) == [
        ("$.task_list[0].outputs.lightcurve",
         "output file '/tmp/x.lc' is absolute; it must be relative to the data directory"),
        ("$.working_directory",
         "working directory '/data' is absolute; it must be relative to the data directory"),
    ]


def test_climbing_paths_are_reported():
    chain = chain_of(
        {"task": "null", "working_directory": "a/../../b"},
        {"task": "null", "outputs": {"lightcurve": "../x.lc", "log": "sub/../fine.log"}},
    )
    assert problems(chain) == [
        ("$.task_list[0].working_directory",
         "working directory 'a/../../b' climbs out of the data directory with '..'"),
        ("$.task_list[1].outputs.lightcurve",
         "output file '../x.lc' climbs out of the data directory with '..'"),
    ]


def test_expression_paths_are_checked_later():
    chain = chain_of({"task": "null", "working_directory": "('../x')",
                      "inputs": {"lightcurve": "'{a}'.format(**metadata)"}})
    validate_chain(chain, KNOWN)


# --- metadata references -------------------------------------------------------------------


def test_requires_metadata_from_an_earlier_sibling_is_fine():
    validate_chain(chain_of({"task": "null", "name": "a"},
                            {"task": "null", "requires_metadata_from": ["a"]}), KNOWN)


def test_requires_metadata_from_a_later_or_unknown_sibling_is_reported():
    chain = chain_of(
        {"task": "null", "name": "first", "requires_metadata_from": ["second", "ghost", "first"]},
        {"task": "null", "name": "second"},
    )
    assert problems(chain) == [
        ("$.task_list[0].requires_metadata_from[0]",
         "'second' names a later sibling; metadata can only come from earlier siblings"),
        ("$.task_list[0].requires_metadata_from[1]", "no earlier sibling is named 'ghost'"),
        ("$.task_list[0].requires_metadata_from[2]",
         "'first' names the task itself, not an earlier sibling"),
    ]


def test_requires_metadata_from_must_be_a_sibling_not_a_cousin():
    chain = chain_of(
        {"task": "execution_chain", "task_list": [{"task": "null", "name": "inner"}]},
        {"task": "null", "requires_metadata_from": ["inner"]},
    )
    assert paths(chain) == ["$.task_list[1].requires_metadata_from[0]"]


def test_requires_metadata_from_child_must_name_a_body_task():
    loop = {"task": "execution_do_while_loop", "iteration_name": "i",
            "repeat_criterion": "(metadata['i_index'] < 3)",
            "requires_metadata_from_child": ["probe", "ghost"],
            "task_list": [{"task": "null", "name": "probe"}]}
    assert problems(chain_of(loop)) == [(
        "$.task_list[0].requires_metadata_from_child[1]",
        "no task directly in this task's task_list is named 'ghost'",
    )]


# --- files ---------------------------------------------------------------------------------


def test_input_no_earlier_task_produces_is_reported():
    chain = chain_of(
        {"task": "null", "inputs": {"lightcurve": "later.lc"}},
        {"task": "null", "outputs": {"lightcurve": "later.lc"}},
    )
    assert problems(chain) == [(
        "$.task_list[0].inputs.lightcurve",
        "input 'job/later.lc' is written by no earlier task and is not an existing product",
    )]


def test_input_may_be_an_existing_product():
    chain = chain_of({"task": "null", "inputs": {"lightcurve": "old.lc"}})
    validate_chain(chain, KNOWN, product_exists=lambda path: path == "job/old.lc")
    assert paths(chain, lambda path: path == "old.lc") == ["$.task_list[0].inputs.lightcurve"]


def test_inputs_are_looked_up_in_their_working_directory():
    chain = chain_of(
        {"task": "null", "outputs": {"lightcurve": "a.lc"}},
        {"task": "execution_chain", "working_directory": "sub",
         "task_list": [{"task": "null", "inputs": {"lightcurve": "a.lc"}},
                       {"task": "null", "outputs": {"lightcurve": "b.lc"}},
                       {"task": "null", "working_directory": "deeper",
                        "inputs": {"lightcurve": "b.lc"}}]},
        {"task": "null", "working_directory": "sub/.", "inputs": {"lightcurve": "b.lc"}},
        {"task": "null", "working_directory": "sub/..", "inputs": {"lightcurve": "a.lc"}},
    )
    assert problems(chain) == [
        ("$.task_list[1].task_list[0].inputs.lightcurve",
         "input 'job/sub/a.lc' is written by no earlier task and is not an existing product"),
        ("$.task_list[1].task_list[2].inputs.lightcurve",
         "input 'job/sub/deeper/b.lc' is written by no earlier task and is not an existing "
         "product"),
    ]


def test_files_at_the_data_directory_root_have_no_directory():
    chain = {"task_list": [{"task": "null", "inputs": {"lightcurve": "a.lc"}}]}
    seen = []
    validate_chain(chain, KNOWN, product_exists=lambda path: seen.append(path) or True)
    assert seen == ["a.lc"]


def test_nested_outputs_feed_later_inputs_and_else_does_not_see_then():
    chain = chain_of(
        {"task": "execution_conditional", "criterion": True,
         "task_list": [{"task": "null", "outputs": {"lightcurve": "then.lc"}}],
         "else_task_list": [{"task": "null", "inputs": {"lightcurve": "then.lc"}}]},
        {"task": "null", "inputs": {"lightcurve": "then.lc"}},
    )
    assert paths(chain) == ["$.task_list[0].else_task_list[0].inputs.lightcurve"]


def test_output_that_already_exists_is_reported():
    chain = chain_of({"task": "null", "outputs": {"lightcurve": "x.lc"}})
    assert problems(chain, lambda path: path == "job/x.lc") == [
        ("$.task_list[0].outputs.lightcurve", "output 'job/x.lc' already exists as a product"),
    ]


def test_duplicate_outputs_in_a_list_are_reported():
    chain = chain_of(
        {"task": "null", "outputs": {"lightcurve": "x.lc"}},
        {"task": "null", "outputs": {"lightcurve": "./x.lc"}},
        {"task": "null", "working_directory": "other", "outputs": {"lightcurve": "x.lc"}},
    )
    assert problems(chain) == [(
        "$.task_list[1].outputs.lightcurve",
        "output 'job/x.lc' is also written at $.task_list[0].outputs.lightcurve",
    )]


# --- all at once ---------------------------------------------------------------------------


def test_every_problem_is_reported_at_once():
    chain = chain_of(
        {"task": "mystery", "name": "a", "requires_metadata_from": ["b"]},
        {"task": "null", "name": "b", "inputs": {"lightcurve": "/abs.lc"}},
        {"task": "execution_for_loop", "parameter": "p", "task_list": [{"task": "null"}]},
        {"task": "execution_chain"},
        {"task": "null", "outputs": {"lightcurve": "../up.lc"}},
    )
    with pytest.raises(ChainError) as caught:
        validate_chain(chain, KNOWN)
    assert sorted(path for path, _ in caught.value.problems) == [
        "$.task_list[0].requires_metadata_from[0]",
        "$.task_list[0].task",
        "$.task_list[1].inputs.lightcurve",
        "$.task_list[2]",
        "$.task_list[3].task_list",
        "$.task_list[4].outputs.lightcurve",
    ]
    assert str(caught.value).startswith("invalid chain (6 problem(s)): ")
    assert "\n" not in str(caught.value)


def test_validation_does_not_modify_the_chain():
    chain = json.loads(EXAMPLES[0].read_text())
    before = copy.deepcopy(chain)
    validate_chain(chain, KNOWN)
    assert chain == before


def test_loop_values_must_be_a_non_empty_list():
    loop = {"task": "execution_for_loop", "parameter": "p", "task_list": []}
    assert problems(chain_of({**loop, "values": "(metadata['xs'])"}, {**loop, "values": []})) == [
        ("$.task_list[0].values", "must be of type array (list)"),
        ("$.task_list[1].values", "must have at least 1 item(s)"),
    ]
