"""Safe evaluation of the expressions found in task chains (SPEC §4).

Chains are written by operators and science teams, so an expression must never reach
``eval``: it is parsed with :mod:`ast` and walked by a whitelisting ``simpleeval`` evaluator.
Only arithmetic, comparisons, boolean logic, conditional expressions, indexing, literals,
``str.format`` / ``%`` formatting, a few builtins and the functions of :mod:`math` and
:mod:`random` are reachable. Anything able to climb into Python internals (dunder or private
attributes, format fields walking attributes, arbitrary calls) is refused with a one-line
reason.

Every evaluation is bounded in size, so in time: each operator that can build a large value
checks the size of its result *before* building it — integers of at most
:data:`MAX_INTEGER_BITS` bits (``*``, ``+``, ``-``, ``<<``, ``**``, ``pow``,
``math.factorial``/``comb``/``perm``/``prod``/``lcm``), strings and lists of at most
:data:`MAX_RESULT_LENGTH` characters or items (``*``, ``+``, ``join``, ``%`` and
``str.format`` with their widths and precisions, the ``%`` specifications being parsed exactly
as Python parses them). An expression is at most :data:`MAX_EXPRESSION_LENGTH` characters.
The result must be a JSON value (tuples become lists): a set, bytes or ``metadata.keys()``,
NaN or an infinite number is refused, naming what it is.
"""

from __future__ import annotations

import _string
import ast
import math
import random
import re
import string
from collections.abc import Callable, Mapping
from typing import Any

import simpleeval

from plato_eas.errors import ExpressionError
from plato_eas.model.values import json_problem

CONSTANTS: dict[str, float] = {
    "day": 1,  # days
    "month": 28,  # days
    "year": 365.25,  # days
    "sun_radius": 695500e3,  # metres
    "earth_radius": 6371e3,  # metres
    "jupiter_radius": 71492e3,  # metres
    "phy_AU": 149597870700,  # metres
    "Rearth": 0.08911486,  # Jupiter radii
    "plato_noise": 0.000315,  # noise in a 25-second cadence pixel, from PSLS
}

# Keys whose values are evaluated later, in the context of the child task that runs them.
DEFERRED_KEYS = frozenset({"task_list", "else_task_list", "repeat_criterion"})

MAX_RESULT_LENGTH = 100_000  # longest string / list an expression may build
MAX_INTEGER_BITS = 10_000  # largest integer any operation may produce, in bits (~3,000 digits)
MAX_POWER_BITS = MAX_INTEGER_BITS
MAX_EXPRESSION_LENGTH = 100_000  # characters

_EXPRESSION_STARTS = ("(", "'", '"')


class Refused(simpleeval.InvalidExpression):
    """The expression uses something outside the whitelist (or would exhaust the worker)."""


def is_expression(value: Any) -> bool:
    """Chain strings starting with ``(``, ``'`` or ``"`` are expressions, all else literal."""
    return isinstance(value, str) and value.startswith(_EXPRESSION_STARTS)


# --- bounded operators -------------------------------------------------------------------


def _check_length(length: int) -> None:
    if length > MAX_RESULT_LENGTH:
        raise Refused(f"result too long ({length} > {MAX_RESULT_LENGTH} characters or items)")


def _size(value: Any) -> int:
    """Rough output size of a value: string lengths plus one per item, walked recursively."""
    if isinstance(value, (str, bytes)):
        return len(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return sum(_size(item) + 1 for item in value)
    if isinstance(value, dict):
        return sum(_size(key) + _size(item) + 1 for key, item in value.items())
    return 1


def _refuse_bits(bits: int, what: str) -> None:
    if bits > MAX_INTEGER_BITS:
        raise Refused(f"{what} too large (integers of {MAX_INTEGER_BITS:,} bits at most)")


def safe_pow(base: Any, exponent: Any, modulus: Any = None) -> Any:
    """``**`` and ``pow`` refusing integer results too large to compute quickly."""
    if modulus is None and _is_int(base) and _is_int(exponent) and exponent > 0:
        if abs(base) > 1:
            _refuse_bits(math.ceil(exponent * math.log2(abs(base))), "power")
    return pow(base, exponent) if modulus is None else pow(base, exponent, modulus)


def _is_int(value: Any) -> bool:
    return isinstance(value, int)


def _is_sequence(value: Any) -> bool:
    return isinstance(value, (str, bytes, list, tuple))


def _safe_mult(left: Any, right: Any) -> Any:
    """``*`` refusing repetitions that would be too long and products too large."""
    for seq, times in ((left, right), (right, left)):
        if _is_sequence(seq) and _is_int(times):
            _check_length(_size(seq) * times)
    if _is_int(left) and _is_int(right):
        _refuse_bits(left.bit_length() + right.bit_length() - 1, "product")
    return left * right


def _safe_add(left: Any, right: Any) -> Any:
    if _is_sequence(left) and _is_sequence(right):
        _check_length(_size(left) + _size(right))
    if _is_int(left) and _is_int(right):
        _refuse_bits(max(left.bit_length(), right.bit_length()) + 1, "sum")
    return left + right


def _safe_sub(left: Any, right: Any) -> Any:
    if _is_int(left) and _is_int(right):
        _refuse_bits(max(left.bit_length(), right.bit_length()) + 1, "difference")
    return left - right


def _safe_lshift(left: Any, right: Any) -> Any:
    if _is_int(left) and _is_int(right) and right > 0:
        _refuse_bits(left.bit_length() + right, "shift")
    return left << right


def percent_specs(text: str) -> list[tuple[str | None, str | None, str | None]]:
    """The ``%`` conversion specifications of ``text`` as (mapping key, width, precision),
    parsed as CPython's ``str.__mod__`` parses them: a mapping key is everything up to the
    parenthesis that balances the opening one (``%((x))d`` has the key ``(x)``), then flags,
    a width (``*`` or digits), a precision, one length modifier and the conversion."""
    specs = []
    pos, end = 0, len(text)
    while (pos := text.find("%", pos)) >= 0:
        pos += 1
        key = None
        if pos < end and text[pos] == "(":
            depth, start = 1, pos + 1
            pos += 1
            while depth and pos < end:
                depth += {"(": 1, ")": -1}.get(text[pos], 0)
                pos += 1
            if depth:
                raise Refused("incomplete format key in % formatting")
            key = text[start:pos - 1]
        while pos < end and text[pos] in "-+ #0":
            pos += 1
        width, pos = _spec_number(text, pos)
        precision = None
        if pos < end and text[pos] == ".":
            precision, pos = _spec_number(text, pos + 1)
        if pos < end and text[pos] in "hlL":
            pos += 1
        pos += 1  # the conversion character ('%' included)
        specs.append((key, width, precision))
    return specs


def _spec_number(text: str, pos: int) -> tuple[str | None, int]:
    if pos < len(text) and text[pos] == "*":
        return "*", pos + 1
    start = pos
    while pos < len(text) and "0" <= text[pos] <= "9":
        pos += 1
    return (text[start:pos] or None), pos


def _safe_mod(left: Any, right: Any) -> Any:
    """``%``: modulo, or ``%``-formatting with bounded widths, precisions and output."""
    if isinstance(left, (str, bytes)):
        text = left.decode("latin-1") if isinstance(left, bytes) else left
        item = _largest_item(right)
        total = len(text)
        for _, width, precision in percent_specs(text):
            total += max(_check_width(width), _check_width(precision) + item + 330)
        _check_length(total)
    return left % right


def _largest_item(value: Any) -> int:
    items = value.values() if isinstance(value, dict) else value
    if isinstance(value, (dict, tuple)):
        return max((_size(item) for item in items), default=0)
    return _size(value)


def _check_width(number: str | None) -> int:
    """A width or precision as a number, refused when ``*`` or too large."""
    if number == "*":
        raise Refused("'*' widths are not allowed in % formatting")
    if number is None:
        return 0
    if len(number) > 7 or int(number) > MAX_RESULT_LENGTH:
        raise Refused(f"format width too large ({number[:12]})")
    return int(number)


def _safe_join(separator: str) -> Callable[[Any], str]:
    """``str.join`` refusing results that would be too long."""
    def join(items: Any) -> str:
        items = list(items)
        _check_length(sum(_size(item) for item in items) + len(separator) * len(items))
        return separator.join(items)

    return join


OPERATORS = {
    **simpleeval.DEFAULT_OPERATORS,
    ast.Pow: safe_pow,
    ast.Mult: _safe_mult,
    ast.Add: _safe_add,
    ast.Sub: _safe_sub,
    ast.LShift: _safe_lshift,
    ast.Mod: _safe_mod,
}


# --- safe str.format ---------------------------------------------------------------------


class SafeFormatter(string.Formatter):
    """``str.format`` without attribute lookups, private keys or huge widths.

    Plain ``str.format`` evaluates ``'{0.__class__.__bases__}'``, which walks from any value
    into Python internals; here a field may only name an argument and index into it. One
    instance formats one string, counting its output so ``'{0}{0}…'`` cannot explode.
    """

    def __init__(self) -> None:
        super().__init__()
        self.produced = 0

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> tuple[Any, Any]:
        first, rest = _field_parts(field_name)
        if any(is_attribute for is_attribute, _ in rest):
            raise Refused(f"attribute access in format field {field_name!r} is not allowed")
        for key in (first, *(key for _, key in rest)):
            _refuse_private(key)
        value = self.get_value(first, args, kwargs)
        for _, key in rest:
            value = value[key]
        return value, first

    def format_field(self, value: Any, format_spec: str) -> Any:
        for number in re.findall(r"\d+", format_spec):
            _check_width(number)
        text = super().format_field(value, format_spec)
        self.produced += len(text)
        _check_length(self.produced)
        return text


def _field_parts(field_name: str) -> tuple[Any, Any]:
    """Split a field like ``x[0].y`` with the parser ``str.format`` itself uses."""
    first, rest = _string.formatter_field_name_split(field_name)
    return first, list(rest)


def _refuse_private(key: Any) -> None:
    if isinstance(key, str) and key.startswith("_"):
        raise Refused(f"format field key {key!r} is not allowed")


def _bound_format(text: str) -> Callable[..., str]:
    def format_(*args: Any, **kwargs: Any) -> str:
        return SafeFormatter().vformat(text, args, kwargs)

    return format_


def _bound_format_map(text: str) -> Callable[[Mapping], str]:
    def format_map(mapping: Mapping) -> str:
        return SafeFormatter().vformat(text, (), mapping)

    return format_map


# --- what expressions can reach ----------------------------------------------------------


class Namespace:
    """A read-only bag of names reachable with attribute access (``constants.Rearth``)."""

    def __init__(self, label: str, members: Mapping[str, Any]):
        self._label = label
        self._members = dict(members)

    def lookup(self, name: str) -> Any:
        try:
            return self._members[name]
        except KeyError:
            raise Refused(f"{self._label}.{name} is not available") from None

    def __getitem__(self, name: str) -> Any:
        return self.lookup(name)


def _log2_factorial(n: int) -> float:
    return math.lgamma(n + 1) / math.log(2)


def _combinatoric_bits(name: str, args: tuple) -> float:
    """About how many bits math.factorial / comb / perm would return."""
    if not args or not all(_is_int(arg) and arg >= 0 for arg in args):
        return 0.0  # invalid arguments: math itself says why
    n = args[0]
    if name == "factorial":
        return _log2_factorial(n)
    k = args[1] if len(args) > 1 else n
    if k > n:
        return 0.0
    if name == "perm":
        return _log2_factorial(n) - _log2_factorial(n - k)
    return _log2_factorial(n) - _log2_factorial(k) - _log2_factorial(n - k)


def _bounded_combinatoric(function: Callable[..., int]) -> Callable[..., int]:
    def bounded(*args: Any) -> int:
        if _combinatoric_bits(function.__name__, args) > MAX_INTEGER_BITS:
            raise Refused(f"math.{function.__name__} result too large (integers of "
                          f"{MAX_INTEGER_BITS:,} bits at most)")
        return function(*args)

    return bounded


def _bounded_product(function: Callable[..., int]) -> Callable[..., Any]:
    def bounded(*args: Any, **kwargs: Any) -> Any:
        values = list(args[0]) if function is math.prod and args else list(args)
        bits = sum(abs(v).bit_length() for v in values if _is_int(v))
        start = kwargs.get("start", 1)
        bits += abs(start).bit_length() if _is_int(start) else 0
        if bits > MAX_INTEGER_BITS:
            raise Refused(f"math.{function.__name__} result too large (integers of "
                          f"{MAX_INTEGER_BITS:,} bits at most)")
        return function(values, **kwargs) if function is math.prod else function(*values)

    return bounded


def _math_namespace() -> Namespace:
    members = {name: getattr(math, name) for name in dir(math) if not name.startswith("_")}
    members["pow"] = math.pow  # float power: overflows with an error, never hangs
    for name in ("factorial", "comb", "perm"):
        members[name] = _bounded_combinatoric(getattr(math, name))
    for name in ("prod", "lcm"):
        members[name] = _bounded_product(getattr(math, name))
    return Namespace("math", members)


_RANDOM_FUNCTIONS = (
    "random uniform gauss normalvariate lognormvariate expovariate triangular betavariate "
    "gammavariate vonmisesvariate paretovariate weibullvariate randint randrange choice"
).split()

NAMESPACES = {
    "constants": Namespace("constants", CONSTANTS),
    "math": _math_namespace(),
    "random": Namespace("random", {name: getattr(random, name) for name in _RANDOM_FUNCTIONS}),
}

FUNCTIONS = {
    "abs": abs,
    "min": min,
    "max": max,
    "round": round,
    "int": int,
    "float": float,
    "str": str,
    "len": len,
    "pow": safe_pow,
}

# Methods callable on values, by exact type; none mutates, none builds unbounded output.
METHODS: dict[type, frozenset[str]] = {
    str: frozenset(
        "lower upper strip lstrip rstrip startswith endswith split rsplit find rfind count "
        "index capitalize title removeprefix removesuffix partition rpartition join splitlines "
        "isdigit isalpha isalnum isspace islower isupper".split()
    ),
    dict: frozenset({"get", "keys", "values", "items"}),
    list: frozenset({"index", "count"}),
    tuple: frozenset({"index", "count"}),
    int: frozenset({"bit_length", "real", "imag"}),
    float: frozenset({"is_integer", "real", "imag"}),
}


# Syntax simpleeval would refuse with its node name, named the way chain authors know it.
_SYNTAX_NAMES = {
    "JoinedStr": "f-strings (use '...'.format(**metadata))",
    "NamedExpr": "assignment",
    "Lambda": "lambda",
    "ListComp": "comprehensions",
    "SetComp": "comprehensions",
    "DictComp": "comprehensions",
    "GeneratorExp": "comprehensions",
    "Starred": "'*' unpacking here",
    "Await": "await",
    "Yield": "yield",
}


def _refuse_private_attributes(tree: ast.AST) -> None:
    """Refuse ``_``-prefixed attributes up front, naming the innermost (first written)."""
    private = [
        node for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr.startswith("_")
    ]
    if private:
        first = min(private, key=lambda node: (node.end_lineno, node.end_col_offset))
        raise Refused(f"attribute access to {first.attr!r} is not allowed")


class SafeEvaluator(simpleeval.EvalWithCompoundTypes):
    """simpleeval with whitelisted attributes and calls, ``**kwargs`` and a safe format."""

    def __init__(self, names: dict[str, Any]):
        super().__init__(operators=OPERATORS, functions=dict(FUNCTIONS), names=names)
        for node_type in (ast.ListComp, ast.GeneratorExp, ast.DictComp):
            self.nodes.pop(node_type, None)
        for constructor in ("list", "tuple", "dict", "set"):  # literals suffice
            self.functions.pop(constructor, None)
        self.nodes.pop(ast.JoinedStr, None)  # f-strings: use '...'.format(**metadata)

    def _eval(self, node: ast.AST) -> Any:
        if type(node) not in self.nodes:
            syntax = type(node).__name__
            raise Refused(f"syntax not allowed: {_SYNTAX_NAMES.get(syntax, syntax)}")
        return super()._eval(node)

    def _eval_name(self, node: ast.Name) -> Any:
        if node.id in self.names:
            return self.names[node.id]
        raise Refused(f"name {node.id!r} is not allowed")

    def _eval_attribute(self, node: ast.Attribute) -> Any:
        name = node.attr
        if name.startswith("_"):
            raise Refused(f"attribute access to {name!r} is not allowed")
        value = self._eval(node.value)
        if isinstance(value, Namespace):
            return value.lookup(name)
        if isinstance(value, str) and name == "format":
            return _bound_format(value)
        if isinstance(value, str) and name == "format_map":
            return _bound_format_map(value)
        if isinstance(value, str) and name == "join":
            return _safe_join(value)
        if name not in METHODS.get(type(value), ()):
            raise Refused(f"attribute {name!r} of {type(value).__name__} is not allowed")
        return getattr(value, name)

    def _eval_call(self, node: ast.Call) -> Any:
        function = self._callee(node.func)
        args: list[Any] = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                args.extend(self._eval(arg.value))
            else:
                args.append(self._eval(arg))
        kwargs: dict[str, Any] = {}
        for keyword in node.keywords:
            value = self._eval(keyword.value)
            if keyword.arg is None:
                kwargs.update(value)
            else:
                kwargs[keyword.arg] = value
        return function(*args, **kwargs)

    def _callee(self, node: ast.expr) -> Callable[..., Any]:
        if isinstance(node, ast.Name):
            if node.id not in self.functions:
                raise Refused(f"name {node.id!r} is not allowed")
            return self.functions[node.id]
        if isinstance(node, ast.Attribute):
            function = self._eval(node)
            if callable(function):
                return function
        raise Refused("only whitelisted functions and methods may be called")


# --- public API --------------------------------------------------------------------------


def evaluate(
    expression: str, metadata: dict, requested_metadata: dict | None = None
) -> Any:
    """Evaluate one chain expression; raise :class:`ExpressionError` saying why it failed.

    The result is a JSON value (tuples become lists); anything else is refused."""
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(expression[:60] + "…", f"the expression is {len(expression):,} "
                              f"characters long (at most {MAX_EXPRESSION_LENGTH:,})")
    names = {
        **NAMESPACES,
        "metadata": metadata,
        "requested_metadata": requested_metadata or {},
        "True": True,
        "False": False,
        "None": None,
    }
    try:
        tree = ast.parse(expression.strip(), mode="eval")
        _refuse_private_attributes(tree)
        result = SafeEvaluator(names).eval(expression, previously_parsed=tree.body)
    except ExpressionError:
        raise
    except SyntaxError as error:
        raise ExpressionError(expression, f"syntax error: {error.msg}") from None
    except Exception as error:  # noqa: BLE001 - every failure becomes a one-line reason
        raise ExpressionError(expression, _reason(error)) from None
    if callable(result) or isinstance(result, Namespace):
        raise ExpressionError(expression, "the result is a function or namespace, not a value")
    result = _lists(result)
    problem = json_problem(result)
    if problem:
        raise ExpressionError(expression, f"the result is not a JSON value: {problem}")
    return result


def _lists(value: Any) -> Any:
    """``value`` with its tuples (at any depth) as lists: JSON has arrays only."""
    if isinstance(value, tuple):
        return [_lists(item) for item in value]
    if isinstance(value, list) and any(isinstance(item, (tuple, list, dict)) for item in value):
        return [_lists(item) for item in value]
    if isinstance(value, dict) and any(isinstance(item, (tuple, list)) for item in value.values()):
        return {key: _lists(item) for key, item in value.items()}
    return value


def _reason(error: Exception) -> str:
    """A one-line reason: simpleeval refusals as they are, Python errors with their type."""
    if isinstance(error, simpleeval.InvalidExpression):
        return str(error).splitlines()[0] if str(error) else type(error).__name__
    if isinstance(error, RecursionError):
        return "expression nested too deeply"
    if isinstance(error, MemoryError):
        return "out of memory"
    message = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def resolve(value: Any, metadata: dict, requested_metadata: dict | None = None) -> Any:
    """Return a copy of a JSON value with its expressions evaluated.

    Values under ``task_list``, ``else_task_list`` and ``repeat_criterion`` are copied
    untouched: they belong to child tasks and are evaluated in the child's context.
    """
    if isinstance(value, dict):
        return {
            key: _copy(item) if key in DEFERRED_KEYS
            else resolve(item, metadata, requested_metadata)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [resolve(item, metadata, requested_metadata) for item in value]
    if is_expression(value):
        return evaluate(value, metadata, requested_metadata)
    return value


def _copy(value: Any) -> Any:
    """Deep copy of a JSON value (cheaper and stricter than copy.deepcopy)."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value
