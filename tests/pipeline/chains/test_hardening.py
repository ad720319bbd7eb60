"""Hostile or careless chains are refused at submission, each problem in one line with its
JSON path, before anything is written: deep nesting, invalid Unicode, duplicate keys, NaN,
a file where a folder is needed, expression top-level fields, values beyond the database's
columns, loops beyond max_loop_iterations. Validation costs time in proportion to the chain."""

from __future__ import annotations

import json

import pytest
from pipeline_helpers import table_counts

from plato_eas import actions
from plato_eas.chains import validate
from plato_eas.chains.validate import load_chain_file, validate_chain
from plato_eas.errors import ChainError

KNOWN = {"execution_chain", "execution_for_loop", "execution_do_while_loop",
         "execution_conditional", "null", "error"}


def problems(chain, **kwargs) -> list[tuple[str, str]]:
    with pytest.raises(ChainError) as caught:
        validate_chain(chain, KNOWN, **kwargs)
    assert "\n" not in str(caught.value)
    return caught.value.problems


def submitted_problems(settings, text: str, tmp_path) -> list[tuple[str, str]]:
    src = tmp_path / "chain.json"
    src.write_text(text, encoding="utf-8")
    with pytest.raises(ChainError) as caught:
        actions.submit(settings, src=str(src))
    assert "\n" not in str(caught.value)
    return caught.value.problems


def _nested(levels: int) -> dict:
    task: dict = {"task": "null"}
    for _ in range(levels):
        task = {"task": "execution_chain", "task_list": [task]}
    return {"task_list": [task]}


# --- plain JSON ----------------------------------------------------------------------------


def test_deep_nesting_is_refused_at_its_path_not_a_recursion_error(db, installed, tmp_path):
    before = table_counts(db)
    found = submitted_problems(installed, json.dumps(_nested(150)), tmp_path)
    assert len(found) == 1
    path, message = found[0]
    assert path.startswith("$.task_list[0].task_list[0].task_list[0]")
    assert message == "nested too deeply (at most 100 levels of arrays and objects)"
    assert table_counts(db) == before


def test_nesting_beyond_the_json_parsers_own_limit_is_one_line(tmp_path):
    src = tmp_path / "deep.json"
    src.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ChainError, match=r"is nested too deeply \(at most 100 levels"):
        load_chain_file(src)


def test_nesting_within_the_limit_is_fine():
    validate_chain(_nested(45), KNOWN)


def test_a_lone_surrogate_is_refused_at_its_path(db, installed, tmp_path):
    text = '{"job_name": "bad\\ud800name", "task_list": [{"task": "null", "name": "\\udfff"}]}'
    assert submitted_problems(installed, text, tmp_path) == [
        ("$.job_name", "contains '\\ud800', a lone surrogate, which is not Unicode text"),
        ("$.task_list[0].name", "contains '\\udfff', a lone surrogate, which is not Unicode text"),
    ]
    assert table_counts(db)["eas_task"] == 0


def test_duplicate_keys_are_refused_at_their_path(installed, tmp_path):
    text = '{"task_list": [{"task": "null", "name": "a", "task": "error"}], "job_name": "x",' \
           ' "job_name": "y"}'
    assert submitted_problems(installed, text, tmp_path) == [
        ("$.job_name", "duplicate key 'job_name' (JSON objects name each key once)"),
        ("$.task_list[0].task", "duplicate key 'task' (JSON objects name each key once)"),
    ]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_nan_infinity_and_numbers_beyond_a_double_are_refused(installed, tmp_path, number):
    text = '{"task_list": [{"task": "null", "sleep": NUMBER}]}'.replace("NUMBER", number)
    [(path, message)] = submitted_problems(installed, text, tmp_path)
    assert path == "$.task_list[0].sleep"
    assert message.endswith("is not a finite number (NaN, Infinity and numbers beyond 1.8e308 "
                            "are not JSON numbers)")


def test_inline_chains_must_be_json_values_too():
    chain = {"task_list": [{"task": "null", "set_metadata": {"x": {1, 2}, 3: "y"}}]}
    assert problems(chain) == [
        ("$.task_list[0].set_metadata", "has the key 3: object keys must be strings"),
        ("$.task_list[0].set_metadata.x", "a set is not a JSON value"),
    ]


def test_values_of_the_wrong_type_are_schema_problems_not_crashes():
    chain = {"job_name": ["x"], "working_directory": 3, "task_list": [
        {"task": ["execution_chain"], "name": {"a": 1}, "task_list": [{"task": "null"}]},
        {"task": "execution_do_while_loop", "iteration_name": "i", "repeat_criterion": True,
         "requires_metadata_from_child": ["a"], "task_list": [{"task": "null", "name": [1]}]},
        {"task": "null", "inputs": {"lc": 3}, "outputs": [], "requires_metadata_from": [{}]},
    ]}
    assert [path for path, _ in problems(chain)] == [
        "$.job_name", "$.task_list[0].name", "$.task_list[0].task",
        "$.task_list[1].requires_metadata_from_child[0]", "$.task_list[1].task_list[0].name",
        "$.task_list[2].inputs.lc", "$.task_list[2].outputs",
        "$.task_list[2].requires_metadata_from[0]", "$.working_directory",
    ]


# --- files and folders, top-level fields ---------------------------------------------------


def test_a_file_where_a_folder_is_needed_is_refused():
    chain = {"working_directory": "job", "task_list": [
        {"task": "null", "outputs": {"lightcurve": "a/."}},
        {"task": "execution_chain", "task_list": [
            {"task": "null", "outputs": {"lightcurve": "a/b"}}]},
    ]}
    assert problems(chain) == [
        ("$.task_list[1].task_list[0].outputs.lightcurve",
         "output 'job/a/b' needs a folder 'job/a', which is written as a file at "
         "$.task_list[0].outputs.lightcurve"),
    ]


def test_an_output_inside_an_existing_product_file_is_refused():
    chain = {"task_list": [{"task": "null", "outputs": {"lightcurve": "old.lc/new.lc"}}]}
    assert problems(chain, existing_products=lambda paths: paths & {"old.lc"}) == [
        ("$.task_list[0].outputs.lightcurve",
         "output 'old.lc/new.lc' needs a folder 'old.lc', which is an existing product file"),
    ]


@pytest.mark.parametrize("name", [".", "a/..", "./"])
def test_a_file_name_that_names_its_folder_is_refused(name):
    chain = {"task_list": [{"task": "null", "outputs": {"lightcurve": name}}]}
    assert problems(chain) == [("$.task_list[0].outputs.lightcurve",
                                f"output file {name!r} names its working directory, not a file")]


def test_the_chains_working_directory_and_job_name_must_be_literal(installed, tmp_path):
    text = json.dumps({"job_name": "('a' + 'b')", "working_directory": '("sub" + "dir")',
                       "task_list": [{"task": "null"}]})
    assert submitted_problems(installed, text, tmp_path) == [
        ("$.job_name", "the chain's job_name must be a literal string, not an expression (it "
                       "names the job before anything runs)"),
        ("$.working_directory", "the chain's working_directory must be a literal string, not "
                                "an expression (it names the job before anything runs)"),
    ]
    assert not (installed.output_dir / '("sub" + "dir")').exists()


# --- values beyond the database's columns --------------------------------------------------


def test_literal_names_and_keys_must_fit_their_columns():
    chain = {"job_name": "j" * 257, "task_list": [
        {"task": "null", "name": "n" * 257, "set_metadata": {"k" * 65: 1, "a": 1, "a ": 2}},
        {"task": "execution_for_loop", "parameter": "p" * 60, "values": [1], "task_list": []},
        {"task": "null", "job_name": "trailing ", "outputs": {"lc ": "f.lc", "x": "f " + "/g"}},
    ]}
    found = problems(chain)
    assert [path for path, _ in found] == [
        "$.job_name",
        "$.task_list[0].name",
        '$.task_list[0].set_metadata["a "]',
        "$.task_list[0].set_metadata.kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
        "kkkkkkk",
        "$.task_list[1].parameter",
        "$.task_list[2].job_name",
        '$.task_list[2].outputs["lc "]',
        "$.task_list[2].outputs.x",
    ]
    messages = [message for _, message in found]
    assert messages[0].endswith("is 257 characters long (at most 256)")
    assert messages[1].endswith("is 257 characters long (at most 256)")
    assert messages[2] == ("metadata key 'a ' ends with a space (MariaDB would not tell it "
                           "apart from the same name without)")
    assert messages[3].endswith("is 65 characters long (at most 64)")
    assert messages[4].startswith("metadata key 'pppppppppp") and "(at most 64)" in messages[4]
    assert messages[5].startswith("job name 'trailing ' ends with a space")
    assert messages[6].startswith("semantic type 'lc ' ends with a space")
    assert messages[7].startswith("output file folder 'f ' ends with a space")


# --- loops ---------------------------------------------------------------------------------


def test_a_literal_loop_count_beyond_max_loop_iterations_is_refused(db, installed):
    loop = {"task": "execution_for_loop", "parameter": "x", "task_list": [{"task": "null"}]}
    chain = {"task_list": [
        {**loop, "linear_range": [0, 1, 100_000_000]},
        {**loop, "log_range": [1, 10, 100_001]},
        {**loop, "values": list(range(100_001))},
        {"task": "execution_do_while_loop", "iteration_name": "i", "repeat_criterion": True,
         "max_iterations": 100_001, "task_list": []},
    ]}
    before = table_counts(db)
    with pytest.raises(ChainError) as caught:
        actions.submit(installed, chain=chain)
    assert caught.value.problems == [
        ("$.task_list[0].linear_range[2]",
         "a count of 100,000,000 is more than max_loop_iterations (100,000)"),
        ("$.task_list[1].log_range[2]",
         "a count of 100,001 is more than max_loop_iterations (100,000)"),
        ("$.task_list[2].values", "100,001 values are more than max_loop_iterations (100,000)"),
        ("$.task_list[3].max_iterations",
         "max_iterations 100,001 is above max_loop_iterations (100,000)"),
    ]
    assert table_counts(db) == before


def test_max_loop_iterations_is_a_setting(installed):
    chain = {"task_list": [{"task": "execution_for_loop", "parameter": "x",
                            "linear_range": [0, 1, 11], "task_list": [{"task": "null"}]}]}
    with pytest.raises(ChainError, match=r"a count of 11 is more than max_loop_iterations \(10\)"):
        actions.submit(installed.replace(max_loop_iterations=10), chain=chain)
    assert actions.submit(installed, chain=chain)["changed"]


# --- linear cost ---------------------------------------------------------------------------


def _flat(n: int) -> dict:
    return {"task_list": [
        {"task": "null", "name": f"t{i}", "outputs": {"lightcurve": f"f{i}.lc"},
         **({"inputs": {"lightcurve": f"f{i - 1}.lc"}, "requires_metadata_from": [f"t{i - 1}"]}
            if i % 2 else {})}
        for i in range(n)]}


def test_validation_work_grows_linearly_with_the_chain(monkeypatch):
    """Counts calls, not seconds: each task's siblings must not be looked at again."""
    calls = []
    real = validate.is_expression
    monkeypatch.setattr(validate, "is_expression", lambda value: calls.append(1) or real(value))
    counts = []
    for n in (1_000, 4_000):
        calls.clear()
        validate_chain(_flat(n), KNOWN)
        counts.append(len(calls))
    assert counts[1] <= 4.2 * counts[0], counts
