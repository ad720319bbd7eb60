"""The safe chain-expression evaluator (SPEC §4): what works, and what is refused and why."""

import math

import pytest

from plato_eas.errors import ExpressionError
from plato_eas.expressions import CONSTANTS, evaluate, is_expression, resolve

METADATA = {"size_index": 3, "period": 100.0, "loop_index": 1, "n": 3, "tda": "bls", "xs": [4, 2]}
REQUESTED = {"transit_detection": {"outcome": "PASS"}}


def refusal(expression: str) -> str:
    """The reason an expression is refused (fails the test if it is not)."""
    with pytest.raises(ExpressionError) as caught:
        evaluate(expression, METADATA, REQUESTED)
    assert caught.value.expression == expression
    assert "\n" not in str(caught.value)
    return caught.value.reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [("(1)", True), ("'a'", True), ('"a"', True), ("a", False), ("", False), (" (1)", False),
     (3, False), (None, False), (["(1)"], False)],
)
def test_is_expression(value, expected):
    assert is_expression(value) is expected


def test_constants_have_the_prototype_values():
    assert CONSTANTS["day"] == 1 and CONSTANTS["month"] == 28 and CONSTANTS["year"] == 365.25
    assert CONSTANTS["sun_radius"] == 695500e3 and CONSTANTS["earth_radius"] == 6371e3
    assert CONSTANTS["jupiter_radius"] == 71492e3 and CONSTANTS["phy_AU"] == 149597870700
    assert CONSTANTS["Rearth"] == 0.08911486 and CONSTANTS["plato_noise"] == 0.000315


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("(constants.Rearth / 8)", 0.08911486 / 8),
        ("(constants.phy_AU)", 149597870700),
        ("(constants['year'])", 365.25),
        ("'lc_{size_index}.gz'.format(**metadata)", "lc_3.gz"),
        ("'{tda}'.format(**metadata)", "bls"),
        ("'{0}-{1:03d}'.format('a', 7)", "a-007"),
        ("'{0[tda]}'.format(metadata)", "bls"),
        ("'{tda}'.format_map(metadata)", "bls"),
        ("('%s_%03d' % ('a', 5))", "a_005"),
        ("('%(tda)s' % metadata)", "bls"),
        ("('%.2f' % constants.Rearth)", "0.09"),
        ("(requested_metadata['transit_detection']['outcome'] == 'PASS') "
         "and (metadata['loop_index'] < 3)", True),
        ("(pow(metadata['period'] / 365.25, 2 / 3))", (100.0 / 365.25) ** (2 / 3)),
        ("pow(metadata['period']/365.25, 2/3)", (100.0 / 365.25) ** (2 / 3)),
        ("('PASS' if metadata['n'] > 2 else 'FAIL')", "PASS"),
        ("('PASS' if metadata['n'] > 5 else 'FAIL')", "FAIL"),
        ("(math.sqrt(16) + math.log10(1000))", 7.0),
        ("(math.pi)", math.pi),
        ("(abs(-2) + min(3, 1) + max(*metadata['xs']) + round(2.6) + len('abc'))", 13),
        ("(int('7') + float('0.5'))", 7.5),
        ("(str(5) + 'x')", "5x"),
        ("(2 ** 10)", 1024),
        ("(7 // 2, 7 % 2, -3)", [3, 1, -3]),
        ("(metadata['xs'][0] in [4, 5] and not False)", True),
        ("(metadata.get('missing', 9))", 9),
        ("(metadata.get('missing') is None)", True),
        ("('-'.join(['a', 'b']))", "a-b"),
        ("('A,b'.lower().split(','))", ["a", "b"]),
        ("({'k': [1, 2]}['k'][-1])", 2),
        ("('abcdef'[1:3])", "bc"),
    ],
)
def test_examples_evaluate(expression, expected):
    assert evaluate(expression, METADATA, REQUESTED) == expected


def test_random_is_available_and_in_range():
    values = [evaluate("(random.random() * 200)", {}) for _ in range(50)]
    assert all(0 <= value < 200 for value in values)
    assert len(set(values)) > 1
    assert evaluate("(random.randint(1, 1))", {}) == 1


def test_requested_metadata_defaults_to_empty():
    assert evaluate("(len(requested_metadata))", {}) == 0


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("(__import__('os').system('id'))", "name '__import__' is not allowed"),
        ("(().__class__.__bases__)", "attribute access to '__class__' is not allowed"),
        ("(metadata['xs'].__len__())", "attribute access to '__len__' is not allowed"),
        ("(constants._members)", "attribute access to '_members' is not allowed"),
        ("(open('/etc/passwd'))", "name 'open' is not allowed"),
        ("(getattr(1, 'real'))", "name 'getattr' is not allowed"),
        ("(type(1))", "name 'type' is not allowed"),
        ("(os)", "name 'os' is not allowed"),
        ("(metadata.pop('n'))", "attribute 'pop' of dict is not allowed"),
        ("('a'.encode())", "attribute 'encode' of str is not allowed"),
        ("(random.seed(1))", "random.seed is not available"),
        ("(math.sqrt)", "the result is a function or namespace, not a value"),
        ("(metadata['xs'][0]())", "only whitelisted functions and methods may be called"),
        ("(lambda: 1)", "syntax not allowed: lambda"),
        ("([x for x in metadata])", "syntax not allowed: comprehensions"),
        ("(f'{metadata}')", "syntax not allowed: f-strings (use '...'.format(**metadata))"),
        ("(x := 1)", "syntax not allowed: assignment"),
        ("import os", "syntax error: invalid syntax"),
        ("(1; 2)", "syntax error: invalid syntax"),
    ],
)
def test_escapes_are_refused_with_a_clear_reason(expression, reason):
    assert refusal(expression) == reason


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("'{0.__class__}'.format(1)", "attribute access in format field '0.__class__'"),
        ("'{x.__class__.__bases__}'.format(x=1)", "attribute access in format field 'x.__class__"),
        ("'{0.real}'.format(1)", "attribute access in format field '0.real'"),
        ("'{0[__class__]}'.format({})", "format field key '__class__' is not allowed"),
        ("'{_secret}'.format(_secret=1)", "format field key '_secret' is not allowed"),
        ("'{0.__class__}'.format_map({})", "attribute access in format field"),
    ],
)
def test_format_cannot_walk_attributes(expression, reason):
    assert refusal(expression).startswith(reason)


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("(9**9**9)", "power too large"),
        ("pow(9, 9**9)", "power too large"),
        ("(4000000 ** 4000000)", "power too large"),
        ("('a' * 10**10)", "result too long"),
        ("(10**10 * [1])", "result too long"),
        ("(['x' * 100000] * 100000)", "result too long"),
        ("(('{0}' * 30000).format('x' * 100000))", "result too long"),
        ("('%(a)s' * 30000 % {'a': 'x' * 100000})", "result too long"),
        ("(('x' * 100000).join(['a'] * 100000))", "result too long"),
        ("'{:999999999}'.format(1)", "format width too large"),
        ("'{:{w}}'.format(1, w=10**9)", "format width too large"),
        ("('%999999999d' % 1)", "format width too large"),
        ("('%*d' % (5, 1))", "'*' widths are not allowed"),
        ("(math.factorial(10**7))", "math.factorial result too large"),
        ("(math.prod([2**9000] * 1000))", "math.prod result too large"),
    ],
)
def test_resource_exhaustion_is_refused(expression, reason):
    assert refusal(expression).startswith(reason)


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("(1 / 0)", "ZeroDivisionError: division by zero"),
        ("(metadata['missing'])", "KeyError: 'missing'"),
        ("(requested_metadata['detect']['outcome'])", "KeyError: 'detect'"),
        ("('{missing}'.format(**metadata))", "KeyError: 'missing'"),
        ("(10.0 ** 400)", "OverflowError: (34, 'Numerical result out of range')"),
        ("(int('x'))", "ValueError: invalid literal for int() with base 10: 'x'"),
        ("(math.sqrt(-1))", "ValueError: math domain error"),
    ],
)
def test_failing_expressions_say_why(expression, reason):
    assert refusal(expression) == reason


def test_error_message_names_expression_and_reason():
    with pytest.raises(ExpressionError, match=r"^expression '\(1 / 0\)' rejected: Zero"):
        evaluate("(1 / 0)", {})


def test_metadata_is_not_modified():
    metadata = {"xs": [1, 2], "n": 1}
    evaluate("(metadata['xs'].count(1) + metadata['n'])", metadata)
    assert metadata == {"xs": [1, 2], "n": 1}


def test_resolve_evaluates_everything_but_deferred_keys():
    task = {
        "task": "null",
        "name": "plain name",
        "sleep": "(1 + 1)",
        "outputs": {"lightcurve": "'lc_{size_index}.gz'.format(**metadata)"},
        "specs": {"radii": ["(constants.Rearth * 2)", 3, None, True], "note": "no expression"},
        "task_list": [{"task": "null", "sleep": "(metadata['later'])"}],
        "else_task_list": [{"task": "null", "sleep": "(metadata['later'])"}],
        "repeat_criterion": "(metadata['later'] > 1)",
    }
    resolved = resolve(task, METADATA)
    assert resolved["sleep"] == 2
    assert resolved["name"] == "plain name"
    assert resolved["outputs"] == {"lightcurve": "lc_3.gz"}
    assert resolved["specs"] == {"radii": [0.08911486 * 2, 3, None, True], "note": "no expression"}
    assert resolved["task_list"] == task["task_list"]
    assert resolved["else_task_list"] == task["else_task_list"]
    assert resolved["repeat_criterion"] == "(metadata['later'] > 1)"


def test_resolve_returns_a_copy():
    task = {"task_list": [{"task": "null"}], "specs": {"a": [1]}}
    resolved = resolve(task, {})
    resolved["task_list"][0]["task"] = "changed"
    resolved["specs"]["a"].append(2)
    assert task == {"task_list": [{"task": "null"}], "specs": {"a": [1]}}


def test_resolve_uses_requested_metadata():
    criterion = {"criterion": "(requested_metadata['detect']['outcome'] == 'PASS')"}
    assert resolve(criterion, {}, {"detect": {"outcome": "PASS"}}) == {"criterion": True}


def test_resolve_reports_the_failing_expression():
    with pytest.raises(ExpressionError) as caught:
        resolve({"specs": {"a": "(1)", "b": "(metadata['nope'])"}}, {})
    assert caught.value.expression == "(metadata['nope'])"


# --- every operator is bounded -------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        # the mapping key of a % specification may hold balanced parentheses, as in CPython
        ("'%((x))1500000000d' % {'(x)': 1}", "format width too large (1500000000)"),
        ("'%((x))5d' % {'(x)': 1} + '%(a(b)c).999999f' % {'a(b)c': 1.0}",
         "format width too large (999999)"),
        ("'%(x' % {'x': 1}", "incomplete format key in % formatting"),
        ("'%-+ #0100000.100000f' % 1.0", "result too long"),
        ("'%50000s%50000s%50000s' % ('a', 'b', 'c')", "result too long"),
        ("'%.99999d' % (10**2999)", "result too long"),
        # integer products, sums, shifts and math functions: at most 10,000 bits
        ("(" + " * ".join(["(2**4000)"] * 3) + ")", "product too large"),
        ("(" + " * ".join(["99999999999999999999"] * 200) + ")", "product too large"),
        ("((2**9999) + (2**9999))", "sum too large"),
        ("((2**9999) - -(2**9999))", "difference too large"),
        ("(1 << 20000)", "shift too large"),
        ("((2**9000) << 2000)", "shift too large"),
        ("(math.factorial(2000))", "math.factorial result too large"),
        ("(math.comb(20000, 10000))", "math.comb result too large"),
        ("(math.perm(5000, 2000))", "math.perm result too large"),
        ("(math.prod([2**5000, 2**5000, 2**5000]))", "math.prod result too large"),
        ("(math.prod([2**5000], start=2**9999))", "math.prod result too large"),
        ("(math.lcm(2**5000 + 1, 2**5001 + 1, 2**5003 + 1))", "math.lcm result too large"),
        ("('(' * 200000)", "result too long"),
    ],
)
def test_every_operator_is_bounded(expression, reason):
    assert refusal(expression).startswith(reason)


def _products(levels: int) -> str:
    """A balanced tree of products of 2**4000: 2**levels factors."""
    return "(2**4000)" if levels == 0 else f"({_products(levels - 1)} * {_products(levels - 1)})"


def test_a_long_expression_of_products_is_refused_not_computed():
    # 14 KB of products: without a bound this computes a 4-million-bit integer
    expression = _products(10)
    assert len(expression) > 12_000
    assert refusal(expression).startswith("product too large")


def test_an_expression_longer_than_the_limit_is_refused():
    with pytest.raises(ExpressionError, match=r"at most 100,000\)$"):
        evaluate("(" + "1 + " * 30_000 + "1)", {})


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("(math.factorial(1000) > 0)", True),
        ("(math.comb(100, 50))", math.comb(100, 50)),
        ("((2**5000) * (2**4999) > 0)", True),
        ("(1 << 9999 > 0)", True),
        ("('%((x))5d|%(y)-3s|' % {'(x)': 1, 'y': 'a'})", "    1|a  |"),
        ("('%%d %5.2f%%' % 3.14159)", "%d  3.14%"),
        ("('%(a)s' % {'a': 'x' * 50000})", "x" * 50000),
    ],
)
def test_bounded_operators_still_compute_within_bounds(expression, value):
    assert evaluate(expression, {}) == value


# --- results are JSON values ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("({1, 2})", "the result is not a JSON value: a set is not a JSON value"),
        ("(b'x')", "the result is not a JSON value: a bytes is not a JSON value"),
        ("(metadata.keys())", "the result is not a JSON value: a dict_keys is not a JSON value"),
        ("([1, {2}])", "the result is not a JSON value: [1]: a set is not a JSON value"),
        ("({1: 'a'})", "the result is not a JSON value: has the key 1: object keys must be "
                       "strings"),
        ("(float('inf'))", "the result is not a JSON value: inf is not a finite number"),
        ("(float('nan'))", "the result is not a JSON value: nan is not a finite number"),
        ("(1e400)", "the result is not a JSON value: inf is not a finite number"),
    ],
)
def test_results_that_are_not_json_are_refused_with_what_they_are(expression, reason):
    assert refusal(expression).startswith(reason)


def test_tuples_become_lists():
    assert evaluate("((1, (2, 3)), [4, (5,)])", {}) == [[1, [2, 3]], [4, [5]]]
    assert evaluate("({'a': (1, 2)})", {}) == {"a": [1, 2]}


def test_resolve_names_the_field_whose_value_is_not_json():
    with pytest.raises(ExpressionError) as caught:
        resolve({"set_metadata": {"x": "({1, 2})"}}, {})
    assert caught.value.expression == "({1, 2})"
    assert "a set is not a JSON value" in str(caught.value)
