"""Validating a task chain before anything is written (SPEC §4).

Submission refuses an invalid chain as a whole and reports every problem with its JSON path
(``$.task_list[1].task``), so an operator fixes the file once instead of once per problem.
The structure is checked with the JSON schema in ``schema.json``; the rules a schema cannot
express are small functions below. Expressions are never evaluated here: anything given as an
expression is checked at run time, once evaluated.

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

import json
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from plato_eas.chains.paths import check_relative
from plato_eas.errors import ChainError
from plato_eas.expressions import is_expression

Problem = tuple[str, str]
ProductExists = Callable[[str], bool]

LOOP_RANGES = ("values", "linear_range", "log_range")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# --- loading -----------------------------------------------------------------------------


def load_chain_file(path: Any) -> dict:
    """Read a chain file; unreadable or malformed JSON is a :class:`ChainError` at ``$``."""
    try:
        with open(path, encoding="utf-8") as handle:
            chain = json.load(handle)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        raise ChainError([("$", f"malformed JSON in {path}: {error.msg} at {where}")]) from None
    except UnicodeDecodeError:
        raise ChainError([("$", f"{path} is not UTF-8 text")]) from None
    except OSError as error:
        raise ChainError([("$", f"cannot read {path}: {error.strerror or error}")]) from None
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


@dataclass(frozen=True)
class TaskAt:
    """A task, where it is in the chain, and its working directory (None: not known yet)."""

    task: dict
    path: str
    workdir: str | None


def _workdir(node: dict, inherited: str | None) -> str | None:
    """The working directory of a task (or the chain), also inherited by its children."""
    value = node.get("working_directory")
    if value is None or inherited is None:
        return inherited
    if not isinstance(value, str) or is_expression(value):
        return None
    try:
        return _file_id(inherited, check_relative(value, "working directory"))
    except ValueError:
        return None


def _tasks_of(node: dict, key: str, path: str, workdir: str | None) -> Iterator[TaskAt]:
    """The well-formed tasks directly in ``node[key]`` (others are schema problems)."""
    tasks = node.get(key)
    if not isinstance(tasks, list):
        return
    for index, task in enumerate(tasks):
        if isinstance(task, dict):
            task_path = json_path(json_path(path, key), index)
            yield TaskAt(task, task_path, _workdir(task, workdir))


def _children(at: TaskAt, key: str) -> list[TaskAt]:
    return list(_tasks_of(at.task, key, at.path, at.workdir))


def task_lists(chain: dict) -> Iterator[list[TaskAt]]:
    """Every task list in the chain (the chain's own first), as lists of siblings."""
    root = list(_tasks_of(chain, "task_list", "$", _workdir(chain, "")))
    pending = [root]
    while pending:
        siblings = pending.pop(0)
        yield siblings
        for at in siblings:
            pending.extend([_children(at, "task_list"), _children(at, "else_task_list")])


def all_tasks(chain: dict) -> Iterator[TaskAt]:
    for siblings in task_lists(chain):
        yield from siblings


def _literal_files(at: TaskAt, key: str) -> Iterator[tuple[str, str]]:
    """(json path, normalised file) for the valid literal files of a task's inputs/outputs."""
    files = at.task.get(key)
    if not isinstance(files, dict):
        return
    for semantic_type, filename in files.items():
        if isinstance(filename, str) and not is_expression(filename):
            try:
                yield json_path(json_path(at.path, key), semantic_type), check_relative(
                    filename, "file"
                )
            except ValueError:
                continue


def _file_id(workdir: str, filename: str) -> str:
    """``workdir/filename`` normalised; the data directory root itself is ``""``."""
    joined = posixpath.normpath(posixpath.join(workdir, filename))
    return "" if joined == "." else joined


# --- the JSON schema ---------------------------------------------------------------------


@cache
def _schema_validator() -> jsonschema.protocols.Validator:
    text = resources.files("plato_eas.chains").joinpath("schema.json").read_text("utf-8")
    schema = json.loads(text)
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def schema_problems(chain: Any) -> list[Problem]:
    """Structural problems, each at the JSON path of the offending value."""
    errors = sorted(_schema_validator().iter_errors(chain), key=lambda e: list(e.absolute_path))
    problems = []
    for error in errors:
        path = "$"
        for key in error.absolute_path:
            path = json_path(path, key)
        problems.append(_schema_problem(error, path))
    return problems


def _schema_problem(error: jsonschema.ValidationError, path: str) -> Problem:
    """One schema error as (path, short message), naming missing properties in the path."""
    kind, expected = error.validator, error.validator_value
    if kind == "required":
        missing = [name for name in expected if f"{name!r} is a required" in error.message]
        return json_path(path, missing[0] if missing else "?"), "is required but missing"
    if kind in ("anyOf", "oneOf") and "description" in error.schema:
        return path, f"must be {error.schema['description']}"
    messages = {
        "type": f"must be of type {_type_names(expected)}",
        "minLength": "must not be empty",
        "minimum": f"must be at least {expected}",
        "minItems": f"must have at least {expected} item(s)",
        "maxItems": f"must have at most {expected} item(s)",
    }
    return path, messages.get(kind, error.message.splitlines()[0][:200])


def _type_names(expected: Any) -> str:
    names = {"object": "object", "array": "array (list)", "string": "string"}
    if isinstance(expected, list):
        return " or ".join(names.get(name, name) for name in expected)
    return names.get(expected, expected)


# --- semantic rules ----------------------------------------------------------------------


def type_problems(chain: dict, known_types: set[str]) -> list[Problem]:
    """Literal task types must be registered; expression types are checked when evaluated."""
    problems = []
    for at in all_tasks(chain):
        kind = at.task.get("task")
        if isinstance(kind, str) and kind and not is_expression(kind) and kind not in known_types:
            problems.append((json_path(at.path, "task"), f"unknown task type {kind!r}"))
    return problems


def loop_problems(chain: dict) -> list[Problem]:
    """A for loop needs exactly one of values / linear_range / log_range."""
    problems = []
    for at in all_tasks(chain):
        if at.task.get("task") != "execution_for_loop":
            continue
        found = [key for key in LOOP_RANGES if key in at.task]
        if len(found) != 1:
            what = ", ".join(found) if found else "none"
            message = f"needs exactly one of {', '.join(LOOP_RANGES)} (found {what})"
            problems.append((at.path, message))
        problems.extend(_log_range_problems(at))
    return problems


def _log_range_problems(at: TaskAt) -> list[Problem]:
    bounds = at.task.get("log_range")
    if not isinstance(bounds, list):
        return []
    return [
        (json_path(json_path(at.path, "log_range"), index), "a log_range bound must be > 0")
        for index, bound in enumerate(bounds[:2])
        if isinstance(bound, (int, float)) and not isinstance(bound, bool) and bound <= 0
    ]


def path_problems(chain: dict) -> list[Problem]:
    """Literal working directories and file names must stay inside the data directory."""
    problems = _path_problem(chain.get("working_directory"), "$.working_directory", "working "
                             "directory")
    for at in all_tasks(chain):
        problems += _path_problem(at.task.get("working_directory"),
                                  json_path(at.path, "working_directory"), "working directory")
        for key, what in (("inputs", "input file"), ("outputs", "output file")):
            files = at.task.get(key)
            for semantic_type, filename in (files.items() if isinstance(files, dict) else ()):
                path = json_path(json_path(at.path, key), semantic_type)
                problems += _path_problem(filename, path, what)
    return problems


def _path_problem(value: Any, path: str, what: str) -> list[Problem]:
    if not isinstance(value, str) or is_expression(value):
        return []  # wrong types are schema problems; expressions are checked at run time
    try:
        check_relative(value, what)
    except ValueError as error:
        return [(path, str(error))]
    return []


def metadata_problems(chain: dict) -> list[Problem]:
    """``requires_metadata_from`` names earlier siblings; ``…_child`` names children."""
    problems = []
    for siblings in task_lists(chain):
        for index, at in enumerate(siblings):
            problems += _sibling_problems(at, siblings[:index], siblings[index + 1:])
            problems += _child_problems(at)
    return problems


def _names(tasks: list[TaskAt]) -> list[Any]:
    return [at.task.get("name") for at in tasks]


def _sibling_problems(at: TaskAt, earlier: list[TaskAt], later: list[TaskAt]) -> list[Problem]:
    earlier_names, later_names = _names(earlier), _names(later)
    unknown_names = any(is_expression(name) for name in earlier_names)
    problems = []
    for index, name in enumerate(_string_list(at.task.get("requires_metadata_from"))):
        path = json_path(json_path(at.path, "requires_metadata_from"), index)
        if is_expression(name) or name in earlier_names:
            continue
        if name == at.task.get("name"):
            problems.append((path, f"{name!r} names the task itself, not an earlier sibling"))
        elif name in later_names:
            problems.append((path, f"{name!r} names a later sibling; metadata can only come "
                                   "from earlier siblings"))
        elif not unknown_names:
            problems.append((path, f"no earlier sibling is named {name!r}"))
    return problems


def _child_problems(at: TaskAt) -> list[Problem]:
    wanted = _string_list(at.task.get("requires_metadata_from_child"))
    children = _children(at, "task_list") + _children(at, "else_task_list")
    names = _names(children)
    if any(is_expression(name) for name in names):
        return []
    problems = []
    for index, name in enumerate(wanted):
        if not is_expression(name) and name not in names:
            path = json_path(json_path(at.path, "requires_metadata_from_child"), index)
            problems.append((path, f"no task directly in this task's task_list is named {name!r}"))
    return problems


def _string_list(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def duplicate_output_problems(chain: dict) -> list[Problem]:
    """Two literal outputs of one task list may not name the same file."""
    problems = []
    for siblings in task_lists(chain):
        written: dict[str, str] = {}
        for at in siblings:
            if at.workdir is None:
                continue
            for path, filename in _literal_files(at, "outputs"):
                file_id = _file_id(at.workdir, filename)
                if file_id in written:
                    problems.append((path, f"output {file_id!r} is also written at "
                                           f"{written[file_id]}"))
                else:
                    written[file_id] = path
    return problems


@dataclass
class _Files:
    """What the walk in document order knows about the files written so far."""

    written: set[str]
    vague_dirs: set[str]  # directories where an expression output may have written anything
    anywhere: bool = False  # an expression working directory may have written anything

    def copy(self) -> _Files:
        return _Files(set(self.written), self.vague_dirs, self.anywhere)


def file_problems(chain: dict, product_exists: ProductExists | None = None) -> list[Problem]:
    """Each literal input is written earlier in the chain, or already exists as a product.

    The walk is in document order. The ``else_task_list`` of a conditional does not see the
    files of its ``task_list`` (only one of them runs). Literal outputs must not exist yet.
    """
    exists = product_exists or (lambda _path: False)
    root = list(_tasks_of(chain, "task_list", "$", _workdir(chain, "")))
    problems: list[Problem] = []
    _walk_files(root, _Files(set(), set()), exists, problems)
    return problems


def _walk_files(tasks: list[TaskAt], files: _Files, exists: ProductExists,
                problems: list[Problem]) -> None:
    for at in tasks:
        problems += _input_problems(at, files, exists)
        problems += _record_outputs(at, files, exists)
        before = files.copy()
        _walk_files(_children(at, "task_list"), files, exists, problems)
        otherwise = before.copy()
        _walk_files(_children(at, "else_task_list"), otherwise, exists, problems)
        files.written |= otherwise.written
        files.anywhere |= otherwise.anywhere


def _input_problems(at: TaskAt, files: _Files, exists: ProductExists) -> list[Problem]:
    if at.workdir is None:
        return []
    problems = []
    for path, filename in _literal_files(at, "inputs"):
        file_id = _file_id(at.workdir, filename)
        if file_id in files.written or exists(file_id):
            continue
        if files.anywhere or at.workdir in files.vague_dirs:
            continue  # an expression output may be this file; checked at run time
        problems.append((path, f"input {file_id!r} is written by no earlier task and is not "
                               "an existing product"))
    return problems


def _record_outputs(at: TaskAt, files: _Files, exists: ProductExists) -> list[Problem]:
    outputs = at.task.get("outputs")
    if at.workdir is None:
        files.anywhere = files.anywhere or bool(outputs)
        return []
    if isinstance(outputs, dict) and any(is_expression(name) for name in outputs.values()):
        files.vague_dirs.add(at.workdir)
    problems = []
    for path, filename in _literal_files(at, "outputs"):
        file_id = _file_id(at.workdir, filename)
        files.written.add(file_id)
        if exists(file_id):
            problems.append((path, f"output {file_id!r} already exists as a product"))
    return problems


# --- entry point -------------------------------------------------------------------------


def validate_chain(chain: Any, known_types: set[str],
                   product_exists: ProductExists | None = None) -> None:
    """Raise :class:`ChainError` listing every problem of ``chain``; return None if valid.

    ``product_exists(path)`` says whether a file (``<working_dir>/<filename>``, relative to
    the data directory) already exists as a product, so inputs may come from earlier jobs.
    """
    problems = schema_problems(chain)
    if isinstance(chain, dict):
        problems += type_problems(chain, known_types)
        problems += loop_problems(chain)
        problems += path_problems(chain)
        problems += metadata_problems(chain)
        problems += duplicate_output_problems(chain)
        problems += file_problems(chain, product_exists)
    if problems:
        raise ChainError(problems)
