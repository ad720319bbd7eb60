"""Validating a task chain before anything is written.

Submission refuses an invalid chain as a whole and reports every problem with its JSON path
(``$.task_list[1].task``), so an operator fixes the file once instead of once per problem.
First the content must be plain JSON (no duplicate keys, no NaN, valid Unicode, not nested
too deeply); then the structure is checked with the JSON schema in ``schema.json``; the rules
a schema cannot express are checked in one walk over the tasks, so validation costs time in
proportion to the chain's size. Expressions are never evaluated here: anything given as an
expression is checked at run time, once evaluated.

Fields: every task may have the common fields (the ``task`` properties of the schema); a
control-flow type adds its own (the schema's ``then`` for that type); any other task type
adds the fields it declares (:func:`plato_eas.tasks.api.task_fields`), each checked against
its declared schema. A field outside these is refused with a "did you mean" suggestion. A type
that declares nothing keeps free-form fields, except one that looks like a misspelt common
field (``input`` for ``inputs``).

Working directories (the same rule as the run-time expansion in ``chains.expand``): the
chain's ``working_directory`` is relative to the data directory root (``""``); a task's
``working_directory`` is relative to the directory it inherits from its enclosing task (or
the chain), and is inherited by its children. So a task's directory is the ``posixpath.join``
of every ``working_directory`` on the way down from the chain to the task, normalised; each
one must stay inside on its own (no ``..`` climbing out). A file is identified by
``posixpath.join(directory, filename)``, normalised. A working directory given as an
expression makes the directory unknown for that task and its children: their file checks
are skipped (run time checks them once evaluated).
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import jsonschema_rs

from ..defaults import MAX_LOOP_ITERATIONS
from ..errors import ChainError, RegistryError
from ..expressions import is_expression
from ..model.values import (
    INTEGER_BITS,
    NAME_LENGTH,
    identifier_problem,
    key_problem,
    name_problem,
    number_problem,
    text_problem,
)
from ..tasks.api import TaskFields, task_fields
from .bulk import no_cyclic_gc
from .paths import (
    check_file,
    check_relative,
    join,
    location_problem,
    working_directory_problem,
)

Problem = tuple[str, str]
ProductExists = Callable[[str], bool]
ExistingProducts = Callable[[set[str]], set[str]]
FieldsOf = Callable[[str], "TaskFields | None"]
Missing = Callable[[str], "str | None"]

MAX_DEPTH = 100  # nested arrays and objects, the chain itself being level 1
LOOP_RANGES = ("values", "linear_range", "log_range")
TASK_LISTS = ("task_list", "else_task_list")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# --- loading -----------------------------------------------------------------------------


class _Object(dict):
    """A parsed JSON object that remembers the keys it held more than once."""

    __slots__ = ("duplicates",)


def _object(pairs: list[tuple[str, Any]]) -> dict:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    marked = _Object(pairs)
    seen: set[str] = set()
    marked.duplicates = [key for key, _ in pairs if key in seen or seen.add(key)]
    return marked


def load_chain_file(path: Any) -> dict:
    """Read a chain file; unreadable or malformed JSON is a :class:`ChainError` at ``$``.

    Duplicate keys and ``NaN``/``Infinity`` are kept for :func:`validate_chain` to report
    at their JSON paths."""
    try:
        with open(path, encoding="utf-8") as handle, no_cyclic_gc():
            chain = json.load(handle, object_pairs_hook=_object, parse_constant=float)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        raise ChainError([("$", f"malformed JSON in {path}: {error.msg} at {where}")]) from None
    except RecursionError:
        raise ChainError([("$", f"{path} is nested too deeply (at most {MAX_DEPTH} levels of "
                                "arrays and objects)")]) from None
    except UnicodeDecodeError:
        raise ChainError([("$", f"{path} is not UTF-8 text")]) from None
    except OSError as error:
        where = os.path.abspath(path)  # a relative path: say where it was looked for
        raise ChainError([("$", f"cannot read {where}: {error.strerror or error}")]) from None
    if not isinstance(chain, dict):
        raise ChainError([("$", f"a chain must be a JSON object, not {_json_type(chain)}")])
    return chain


def _json_type(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean"}.get(type(value), "a number")


# --- JSON paths and walking --------------------------------------------------------------


def json_path(base: str, key: Any) -> str:
    """``$`` + ``.key`` / ``[index]``; keys that are not identifiers are quoted."""
    if isinstance(key, int):
        return f"{base}[{key}]"
    if _IDENTIFIER.match(key):
        return f"{base}.{key}"
    return f"{base}[{json.dumps(key)}]"


def path_of(base: str, *keys: Any) -> str:
    """``json_path`` over several keys."""
    for key in keys:
        base = json_path(base, key)
    return base


File = tuple[str, str, "str | None"]  # (semantic type, normalised name, file id if known)


class TaskAt:
    """A task, where it is in the chain, its working directory (None: not known yet), the
    task lists its type runs, and its literal files: worked out once per validation."""

    __slots__ = ("task", "path", "workdir", "lists", "inputs", "outputs", "bad_files")

    def __init__(self, task: dict, path: str, workdir: str | None):
        self.task, self.path, self.workdir = task, path, workdir
        self.lists: dict[str, list[TaskAt]] = _NO_LISTS
        self.bad_files: list[tuple[str, str, str]] | tuple = ()  # (key, semantic type, why)
        self.inputs = self._files("inputs") if "inputs" in task else ()
        self.outputs = self._files("outputs") if "outputs" in task else ()

    def _files(self, key: str) -> list[File]:
        """The valid literal files of ``inputs`` or ``outputs``."""
        given = self.task[key]
        files: list[File] = []
        for semantic_type, filename in (given.items() if isinstance(given, dict) else ()):
            if not isinstance(filename, str) or is_expression(filename):
                continue  # wrong types are schema problems; expressions wait for run time
            try:
                name = check_file(filename, f"{key[:-1]} file")
            except ValueError as error:
                self.bad_files = [*self.bad_files, (key, semantic_type, str(error))]
                continue
            files.append((semantic_type, name,
                          None if self.workdir is None else join(self.workdir, name)))
        return files

    def files(self, key: str) -> Any:
        return self.inputs if key == "inputs" else self.outputs


_NO_LISTS: dict[str, list[TaskAt]] = {}


def _workdir(node: dict, inherited: str | None) -> str | None:
    """The working directory of a task (or the chain), also inherited by its children."""
    value = node.get("working_directory")
    if value is None or inherited is None:
        return inherited
    if not isinstance(value, str) or is_expression(value):
        return None
    try:
        return join(inherited, check_relative(value, "working directory"))
    except ValueError:
        return None


def _tasks_of(node: dict, key: str, path: str, workdir: str | None) -> list[TaskAt]:
    """The well-formed tasks directly in ``node[key]`` (others are schema problems)."""
    tasks = node.get(key)
    if not isinstance(tasks, list):
        return []
    list_path = json_path(path, key)
    return [TaskAt(task, f"{list_path}[{index}]", _workdir(task, workdir))
            for index, task in enumerate(tasks) if isinstance(task, dict)]


def task_lists(chain: dict) -> list[list[TaskAt]]:
    """Every task list in the chain (the chain's own first), as lists of siblings; each
    task's ``lists`` holds the lists its type runs (other lists are refused fields)."""
    found = [_tasks_of(chain, "task_list", "$", _workdir(chain, ""))]
    pending = deque(found)
    while pending:
        for at in pending.popleft():
            kind = at.task.get("task")
            for key in TASK_LISTS:
                if isinstance(kind, str) and key in _CONTROL_FIELDS.get(kind, ()):
                    if at.lists is _NO_LISTS:
                        at.lists = {}
                    at.lists[key] = children = _tasks_of(at.task, key, at.path, at.workdir)
                    found.append(children)
                    pending.append(children)
    return found


# --- plain JSON --------------------------------------------------------------------------


def content_problems(chain: Any) -> list[Problem]:
    """What keeps ``chain`` from being plain JSON this database can store: duplicate keys,
    NaN/Infinity, lone surrogates, values that are not JSON, nesting deeper than MAX_DEPTH."""
    root = _value_problem(chain)
    if root != "container":
        return [("$", root)] if root else []
    problems: list[Problem] = []
    stack: list[tuple[Any, str, int]] = [(chain, "$", 1)]
    containers = (dict, list, _Object)
    while stack:  # the hot loop of validating a large chain: plain values are checked inline
        node, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            problems.append((path, f"nested too deeply (at most {MAX_DEPTH} levels of arrays "
                                   "and objects)"))
            continue
        if isinstance(node, dict):
            for key in getattr(node, "duplicates", ()):
                problems.append((json_path(path, key), f"duplicate key {key!r} (JSON objects "
                                                       "name each key once)"))
            for key in node:
                if type(key) is not str or not key.isascii():
                    problems += _key_problems(key, path)
            pairs: Iterable[tuple[Any, Any]] = node.items()
        else:
            pairs = enumerate(node)
        for key, value in pairs:
            kind = type(value)
            if kind is str:
                if value.isascii():
                    continue
            elif kind in containers:
                stack.append((value, json_path(path, key), depth + 1))
                continue
            elif kind is int:
                if value.bit_length() <= INTEGER_BITS:
                    continue
            elif kind is bool or value is None:
                continue
            problem = _value_problem(value)
            if problem == "container":
                stack.append((value, json_path(path, key), depth + 1))
            elif problem:
                problems.append((json_path(path, key), problem))
    return problems


def _key_problems(key: Any, path: str) -> list[Problem]:
    if not isinstance(key, str):
        return [(path, f"has the key {key!r}: object keys must be strings")]
    problem = text_problem(key)
    return [(json_path(path, key), f"key {problem}")] if problem else []


def _value_problem(value: Any) -> str | None:
    """One value's problem; ``"container"`` for arrays and objects (walked in turn)."""
    if isinstance(value, (dict, list)):
        return "container"
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return number_problem(value)
    return f"a {type(value).__name__} is not a JSON value"


# --- the JSON schema ---------------------------------------------------------------------


@cache
def _chain_schema() -> dict:
    text = resources.files("plato_eas.chains").joinpath("schema.json").read_text("utf-8")
    return json.loads(text)


@cache
def _schema_validator() -> Any:
    return jsonschema_rs.validator_for(_chain_schema())


def _control_fields() -> dict[str, frozenset[str]]:
    """Control-flow type -> the fields its ``then`` adds (from the schema)."""
    out = {}
    for rule in _chain_schema()["$defs"]["task"]["allOf"]:
        then = rule["then"]
        out[rule["if"]["properties"]["task"]["const"]] = frozenset(
            {*then.get("properties", {}), *then.get("required", ())})
    return out


_CONTROL_FIELDS = _control_fields()
COMMON_FIELDS = frozenset(_chain_schema()["$defs"]["task"]["properties"])
CHAIN_FIELDS = frozenset(_chain_schema()["properties"])
_ANY_CONTROL_FIELD = frozenset().union(*_CONTROL_FIELDS.values())


def schema_problems(chain: Any) -> list[Problem]:
    """Structural problems, each at the JSON path of the offending value."""
    return _rs_problems(_schema_validator(), chain, _chain_schema(), "$")


def _rs_problems(validator: Any, instance: Any, schema: dict, base: str,
                 defer_expressions: bool = False) -> list[Problem]:
    """Problems of ``instance`` against a compiled ``schema``; with ``defer_expressions``
    values given as expressions are left for run time (checked once evaluated)."""
    if validator.is_valid(instance):
        return []
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.instance_path))
    problems: list[Problem] = []
    for error in errors:
        if defer_expressions and is_expression(error.instance):
            continue
        path = base
        for key in error.instance_path:
            path = json_path(path, key)
        for problem in _schema_problems(error, path, schema):
            if problem not in problems:
                problems.append(problem)
    return problems


def _schema_problems(error: Any, path: str, schema: dict) -> list[Problem]:
    """One schema error as (path, short message): missing and unexpected properties at their
    own paths, the latter with a "did you mean"."""
    kind = error.kind
    if kind.name == "required":
        return [(json_path(path, kind.property), "is required but missing")]
    node = _schema_node(schema, list(error.schema_path)[:-1])
    if kind.name == "additionalProperties" and isinstance(node, dict):
        allowed = node.get("properties", {})
        return [(json_path(path, key), _unknown_field(key, allowed, "this object"))
                for key in kind.unexpected]
    return [_schema_problem(error, path, node)]


def _schema_problem(error: Any, path: str, node: Any) -> Problem:
    kind = error.kind
    if kind.name in ("anyOf", "oneOf") and isinstance(node, dict) and "description" in node:
        return path, f"must be {node['description']}"
    limit = getattr(kind, "limit", None)
    messages = {
        "type": lambda: f"must be of type {_type_names(kind.types)}",
        "minLength": lambda: "must not be empty",
        "minimum": lambda: f"must be at least {limit}",
        "minItems": lambda: f"must have at least {limit} item(s)",
        "maxItems": lambda: f"must have at most {limit} item(s)",
    }
    message = messages.get(kind.name)
    return path, message() if message else error.message.splitlines()[0][:200]


def _schema_node(schema: Any, keys: list[Any]) -> Any:
    node = schema
    for key in keys:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _type_names(expected: list[str]) -> str:
    names = {"object": "object", "array": "array (list)", "string": "string"}
    return " or ".join(names.get(name, name) for name in expected)


# --- the rules a schema cannot express ---------------------------------------------------


@dataclass
class _Rules:
    """One validation's context (types, limits, declared fields) and the problems found."""

    known_types: set[str]
    fields_of: FieldsOf
    max_loop_iterations: int
    problems: list[Problem] = field(default_factory=list)
    missing: Missing | None = None  # task type -> why no installed package implements it
    _validators: dict[str, Any] = field(default_factory=dict)
    _declared: dict[str, TaskFields | None] = field(default_factory=dict)

    def add(self, message: str | None, base: str, *keys: Any) -> None:
        """Record ``message`` (if any) at ``base`` + ``keys``: paths are built only then."""
        if message:
            self.problems.append((path_of(base, *keys), message))

    def declared(self, task_type: str) -> TaskFields | None:
        if task_type not in self._declared:
            self._declared[task_type] = self.fields_of(task_type)
        return self._declared[task_type]

    def type_validator(self, task_type: str, fields: TaskFields) -> Any:
        if task_type not in self._validators:
            schema = {"type": "object", "properties": fields}
            try:
                self._validators[task_type] = jsonschema_rs.validator_for(schema)
            except (ValueError, jsonschema_rs.ValidationError) as error:
                raise RegistryError(f"task type {task_type!r} declares an invalid JSON schema: "
                                    f"{str(error).splitlines()[0]}") from None
        return self._validators[task_type]


def _chain_problems(chain: dict, rules: _Rules) -> None:
    """The chain's own fields: known ones only, literal, within their columns."""
    for key in chain:
        if key not in CHAIN_FIELDS:
            rules.add(_unknown_field(key, CHAIN_FIELDS, "a chain"), "$", key)
    for key in ("job_name", "working_directory"):
        if is_expression(chain.get(key)):
            rules.add(f"the chain's {key} must be a literal string, not an expression (it "
                      "names the job before anything runs)", "$", key)
    job_name = chain.get("job_name")
    if isinstance(job_name, str) and job_name and not is_expression(job_name):
        rules.add(identifier_problem(job_name, "job name", NAME_LENGTH), "$", "job_name")
    root = _literal_path(chain.get("working_directory"), "working directory", rules, "$")
    if root is not None:
        rules.add(working_directory_problem(root), "$", "working_directory")


def _unknown_field(key: str, allowed: Iterable[str], owner: str) -> str:
    close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown field {key!r} for {owner}{hint}"


def _field_problems(at: TaskAt, rules: _Rules) -> None:
    """Fields outside the task's type; declared fields against their schemas."""
    kind = at.task.get("task")
    if not isinstance(kind, str):
        return
    control = _CONTROL_FIELDS.get(kind)
    declared = None if control is not None or is_expression(kind) else rules.declared(kind)
    own = control or declared or ()
    unknown = [key for key in at.task if key not in COMMON_FIELDS and key not in own]
    if unknown:
        _unknown_fields(at, rules, unknown, control, declared)
    if declared:
        validator = rules.type_validator(kind, declared)
        rules.problems += _rs_problems(validator, at.task, {"properties": declared}, at.path,
                                       defer_expressions=True)


def _unknown_fields(at: TaskAt, rules: _Rules, unknown: list[str],
                    control: frozenset[str] | None, declared: TaskFields | None) -> None:
    """The fields of ``at.task`` outside its type's: refused, or free-form."""
    kind = at.task["task"]
    allowed = COMMON_FIELDS | frozenset(control or declared or ())
    owner = "a task" if is_expression(kind) else f"a task of type {kind!r}"
    for key in unknown:
        if key in _ANY_CONTROL_FIELD and control is None:
            rules.add(f"{key!r} belongs to the control-flow types; {owner} does not use it "
                      "(control-flow types must be literal)", at.path, key)
        elif control is not None or declared is not None:
            rules.add(_unknown_field(key, allowed, owner), at.path, key)
        elif difflib.get_close_matches(key, sorted(COMMON_FIELDS), n=1, cutoff=0.8):
            rules.add(_unknown_field(key, COMMON_FIELDS, owner), at.path, key)


def _type_problems(at: TaskAt, rules: _Rules) -> None:
    """Literal task types must be registered and (when ``rules.missing`` is given) implemented
    by an installed package; expression types are checked when evaluated."""
    kind = at.task.get("task")
    if not isinstance(kind, str) or not kind or is_expression(kind):
        return
    if kind not in rules.known_types:
        rules.add(f"unknown task type {kind!r}", at.path, "task")
    elif rules.missing is not None:
        rules.add(rules.missing(kind), at.path, "task")


def _name_problems(at: TaskAt, rules: _Rules) -> None:
    """Literal names within their columns; names that become metadata keys valid keys."""
    task = at.task
    name = task.get("name")
    if isinstance(name, str) and not is_expression(name):
        rules.add(name_problem(name, "task name"), at.path, "name")
    job_name = task.get("job_name")
    if isinstance(job_name, str) and job_name and not is_expression(job_name):
        rules.add(identifier_problem(job_name, "job name", NAME_LENGTH), at.path, "job_name")
    for key in ("parameter", "iteration_name"):
        value = task.get(key)
        if isinstance(value, str) and value:
            rules.add(key_problem(value) or key_problem(f"{value}_index"), at.path, key)
    metadata = task.get("set_metadata")
    if isinstance(metadata, dict):
        for key in metadata:
            rules.add(key_problem(key), at.path, "set_metadata", key)
    for key in ("inputs", "outputs"):
        files = task.get(key)
        for semantic_type in (files if isinstance(files, dict) else ()):
            if not semantic_type or len(semantic_type) > NAME_LENGTH \
                    or semantic_type.endswith(" ") or not semantic_type.isascii():
                rules.add(identifier_problem(semantic_type, "semantic type", NAME_LENGTH),
                          at.path, key, semantic_type)


def _loop_problems(at: TaskAt, rules: _Rules) -> None:
    """A for loop needs exactly one of values / linear_range / log_range, and a literal
    count within max_loop_iterations; a do-while's max_iterations is within it too."""
    kind, task = at.task.get("task"), at.task
    cap = rules.max_loop_iterations
    if kind == "execution_do_while_loop":
        limit = task.get("max_iterations")
        if isinstance(limit, int) and not isinstance(limit, bool) and limit > cap:
            rules.add(f"max_iterations {limit:,} is above max_loop_iterations ({cap:,})",
                      at.path, "max_iterations")
    if kind != "execution_for_loop":
        return
    found = [key for key in LOOP_RANGES if key in task]
    if len(found) != 1:
        what = ", ".join(found) if found else "none"
        rules.add(f"needs exactly one of {', '.join(LOOP_RANGES)} (found {what})", at.path)
    values = task.get("values")
    if isinstance(values, list) and len(values) > cap:
        rules.add(f"{len(values):,} values are more than max_loop_iterations ({cap:,})",
                  at.path, "values")
    for key in ("linear_range", "log_range"):
        bounds = task.get(key)
        if not isinstance(bounds, list):
            continue
        count = bounds[2] if len(bounds) > 2 else None
        if isinstance(count, int) and not isinstance(count, bool) and count > cap:
            rules.add(f"a count of {count:,} is more than max_loop_iterations ({cap:,})",
                      at.path, key, 2)
        if key == "log_range":
            for index, bound in enumerate(bounds[:2]):
                if isinstance(bound, (int, float)) and not isinstance(bound, bool) \
                        and bound <= 0:
                    rules.add("a log_range bound must be > 0", at.path, key, index)


def _path_problems(at: TaskAt, rules: _Rules) -> None:
    """Literal working directories and file names stay inside the data directory and fit
    their columns."""
    if "working_directory" in at.task:
        _literal_path(at.task["working_directory"], "working directory", rules, at.path)
        if at.workdir is not None:
            rules.add(working_directory_problem(at.workdir), at.path, "working_directory")
    for key, semantic_type, why in at.bad_files:
        rules.add(why, at.path, key, semantic_type)
    for key in ("inputs", "outputs"):
        for semantic_type, _, file_id in at.files(key):
            if file_id is not None:
                rules.add(location_problem(file_id, f"{key[:-1]} file"), at.path, key,
                          semantic_type)


def _literal_path(value: Any, what: str, rules: _Rules, base: str) -> str | None:
    """A literal working directory normalised, or None (expression, wrong type, refused)."""
    if not isinstance(value, str) or is_expression(value):
        return None
    try:
        return check_relative(value, what)
    except ValueError as error:
        rules.add(str(error), base, "working_directory")
    return None


def _string_list(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _sibling_problems(siblings: list[TaskAt], rules: _Rules) -> None:
    """``requires_metadata_from`` names earlier siblings (one pass over the list)."""
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    first_expression = len(siblings)
    for index, at in enumerate(siblings):
        name = at.task.get("name")
        if is_expression(name):
            first_expression = min(first_expression, index)
        elif isinstance(name, str):
            first.setdefault(name, index)
            last[name] = index
    for index, at in enumerate(siblings):
        wanted = _string_list(at.task.get("requires_metadata_from"))
        for position, name in enumerate(wanted):
            if first.get(name, index) < index or is_expression(name):
                continue
            where = (at.path, "requires_metadata_from", position)
            if name == at.task.get("name"):
                rules.add(f"{name!r} names the task itself, not an earlier sibling", *where)
            elif last.get(name, -1) > index:
                rules.add(f"{name!r} names a later sibling; metadata can only come from "
                          "earlier siblings", *where)
            elif first_expression >= index:
                rules.add(f"no earlier sibling is named {name!r}", *where)


def _child_problems(at: TaskAt, rules: _Rules) -> None:
    """``requires_metadata_from_child`` names tasks directly in the task's own lists."""
    wanted = _string_list(at.task.get("requires_metadata_from_child"))
    if not wanted:
        return
    names = {name for children in at.lists.values() for child in children
             if isinstance(name := child.task.get("name"), str)}
    if any(is_expression(name) for name in names):
        return
    for index, name in enumerate(wanted):
        if not is_expression(name) and name not in names:
            rules.add(f"no task directly in this task's task_list is named {name!r}",
                      at.path, "requires_metadata_from_child", index)


def _duplicate_outputs(siblings: list[TaskAt], rules: _Rules) -> None:
    """Two literal outputs of one task list may not name the same file."""
    written: dict[str, tuple[str, str]] = {}  # file -> (task path, semantic type)
    for at in siblings:
        for semantic_type, _, file_id in at.outputs:
            if file_id is None:
                continue
            if file_id in written:
                first = path_of(written[file_id][0], "outputs", written[file_id][1])
                rules.add(f"output {file_id!r} is also written at {first}",
                          at.path, "outputs", semantic_type)
            else:
                written[file_id] = (at.path, semantic_type)


def _folders(file_id: str) -> Iterator[str]:
    """``a/b/c`` -> ``a``, ``a/b``: the folders a file needs."""
    parts = file_id.split("/")
    for end in range(1, len(parts)):
        yield "/".join(parts[:end])


def _file_folder_problems(lists: list[list[TaskAt]], existing: set[str],
                          rules: _Rules) -> None:
    """A file needs its folders to be folders: ``a`` and ``a/b`` cannot both be files."""
    outputs: dict[str, tuple[str, str]] = {}  # file -> (task path, semantic type)
    for siblings in lists:
        for at in siblings:
            for semantic_type, _, file_id in at.outputs:
                if file_id is not None:
                    outputs.setdefault(file_id, (at.path, semantic_type))
    for file_id, (path, semantic_type) in outputs.items():
        for folder in _folders(file_id):
            if folder in outputs:
                rules.add(f"output {file_id!r} needs a folder {folder!r}, which is written as "
                          f"a file at {path_of(outputs[folder][0], 'outputs', outputs[folder][1])}",
                          path, "outputs", semantic_type)
                break
            if folder in existing:
                rules.add(f"output {file_id!r} needs a folder {folder!r}, which is an existing "
                          "product file", path, "outputs", semantic_type)
                break


# --- files written and read, in document order -------------------------------------------


@dataclass
class _Files:
    """What the walk in document order knows about the files written so far."""

    written: set[str] = field(default_factory=set)
    log: list[str] = field(default_factory=list)  # files added to ``written``, in order
    vague_dirs: set[str] = field(default_factory=set)  # an expression output may be here
    anywhere: bool = False  # an expression working directory may have written anything

    def add(self, file_id: str) -> None:
        if file_id not in self.written:
            self.written.add(file_id)
            self.log.append(file_id)


def _wanted_files(lists: list[list[TaskAt]]) -> set[str]:
    """Literal files whose existence as products matters: inputs, outputs and their folders."""
    wanted: set[str] = set()
    for siblings in lists:
        for at in siblings:
            wanted.update(f for _, _, f in at.inputs if f is not None)
            for _, _, file_id in at.outputs:
                if file_id is not None:
                    wanted.add(file_id)
                    wanted.update(_folders(file_id))
    return wanted


def _file_problems(root: list[TaskAt], existing: set[str], rules: _Rules) -> None:
    """Each literal input is written earlier in the chain, or already exists as a product.

    The walk is in document order. The ``else_task_list`` of a conditional does not see the
    files of its ``task_list`` (only one of them runs). Literal outputs must not exist yet.
    """
    files = _Files()
    pending: list[Iterator[Any]] = [iter(root)]
    while pending:  # an explicit stack: deep chains never meet Python's recursion limit
        step = next(pending[-1], None)
        if step is None:
            pending.pop()
        elif callable(step):
            step()
        else:
            pending.append(iter(_visit(step, files, existing, rules)))


def _visit(at: TaskAt, files: _Files, existing: set[str], rules: _Rules) -> list[Any]:
    """Check one task's files now; return the steps that walk its lists in turn."""
    _input_problems(at, files, existing, rules)
    _record_outputs(at, files, existing, rules)
    then, otherwise = at.lists.get("task_list", []), at.lists.get("else_task_list", [])
    if not otherwise:
        return then
    state: dict[str, Any] = {"mark": len(files.log), "anywhere": files.anywhere}

    def before_else() -> None:  # hide what the then-branch wrote from the else-branch
        state["then"] = files.log[state["mark"]:]
        state["then_anywhere"] = files.anywhere
        files.written.difference_update(state["then"])
        files.anywhere = state["anywhere"]

    def after_else() -> None:
        files.written.update(state["then"])
        files.anywhere = files.anywhere or state["then_anywhere"]

    return [*then, before_else, *otherwise, after_else]


def _input_problems(at: TaskAt, files: _Files, existing: set[str], rules: _Rules) -> None:
    for semantic_type, _, file_id in at.inputs:
        if file_id is None or file_id in files.written or file_id in existing:
            continue
        if files.anywhere or at.workdir in files.vague_dirs:
            continue  # an expression output may be this file; checked at run time
        rules.add(f"input {file_id!r} is written by no earlier task and is not an existing "
                  "product", at.path, "inputs", semantic_type)


def _record_outputs(at: TaskAt, files: _Files, existing: set[str], rules: _Rules) -> None:
    outputs = at.task.get("outputs")
    if at.workdir is None:
        files.anywhere = files.anywhere or bool(outputs)
        return
    if isinstance(outputs, dict) and any(is_expression(name) for name in outputs.values()):
        files.vague_dirs.add(at.workdir)
    for semantic_type, _, file_id in at.outputs:
        files.add(file_id)
        if file_id in existing:
            rules.add(f"output {file_id!r} already exists as a product", at.path, "outputs",
                      semantic_type)


# --- entry point -------------------------------------------------------------------------


def validate_chain(chain: Any, known_types: set[str],
                   product_exists: ProductExists | None = None, *,
                   existing_products: ExistingProducts | None = None,
                   fields_of: FieldsOf = task_fields,
                   max_loop_iterations: int = MAX_LOOP_ITERATIONS,
                   missing: Missing | None = None) -> None:
    """Raise :class:`ChainError` listing every problem of ``chain``; return None if valid.

    Whether files (``<working_dir>/<filename>``, relative to the data directory) already
    exist as products, so inputs may come from earlier jobs, is asked once for all of them
    through ``existing_products(paths) -> the existing ones`` (or ``product_exists(path)``
    per file). ``fields_of(task_type)`` gives the fields a task type declares;
    ``missing(task_type)`` the reason a known type has no implementation installed.
    """
    with no_cyclic_gc():
        _validate(chain, known_types, product_exists, existing_products, fields_of,
                  max_loop_iterations, missing)


def _validate(chain: Any, known_types: set[str], product_exists: ProductExists | None,
              existing_products: ExistingProducts | None, fields_of: FieldsOf,
              max_loop_iterations: int, missing: Missing | None) -> None:
    problems = content_problems(chain)
    if problems:  # not plain JSON: the structure cannot be checked meaningfully
        raise ChainError(problems)
    problems = schema_problems(chain)
    if not isinstance(chain, dict):
        raise ChainError(problems)
    rules = _Rules(known_types, fields_of, max_loop_iterations, problems, missing=missing)
    _chain_problems(chain, rules)
    lists = task_lists(chain)
    for siblings in lists:
        for at in siblings:
            _type_problems(at, rules)
            _field_problems(at, rules)
            _name_problems(at, rules)
            _loop_problems(at, rules)
            _path_problems(at, rules)
            _child_problems(at, rules)
        _sibling_problems(siblings, rules)
        _duplicate_outputs(siblings, rules)
    wanted = _wanted_files(lists)
    if existing_products is not None:
        existing = existing_products(wanted) if wanted else set()
    else:
        existing = {path for path in wanted if product_exists and product_exists(path)}
    _file_folder_problems(lists, existing, rules)
    _file_problems(lists[0], existing, rules)
    if rules.problems:
        raise ChainError(sorted(rules.problems, key=_document_order))


def _document_order(problem: Problem) -> list[Any]:
    """Sort key: paths in the order their places appear (``[2]`` before ``[10]``)."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"[\[\].]+", problem[0]) if part]
