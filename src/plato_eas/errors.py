"""Exceptions raised by plato_eas.

Every error an operator can cause (bad input, unreachable server, wrong credentials) is an
:class:`EasError` whose ``str()`` is one clear line; callers (CLI, Ansible modules) print that
line instead of a traceback.
"""


class EasError(Exception):
    """Base class: an operator-facing failure with a one-line message."""


class ConfigError(EasError):
    """Settings are missing, malformed or contradictory."""


class DatabaseError(EasError):
    """The task database cannot be reached or used."""


class SchemaError(EasError):
    """The database schema is absent, or was written by a newer release."""


class QueueError(EasError):
    """The job queue (SQL table or broker) cannot be reached or used."""


class RegistryError(EasError):
    """The task-type registry is malformed or names something unknown."""


class ExpressionError(EasError):
    """A chain expression was refused by the safe evaluator or failed while evaluating."""

    def __init__(self, expression: str, reason: str):
        super().__init__(f"expression {expression!r} rejected: {reason}")
        self.expression = expression
        self.reason = reason


class ChainError(EasError):
    """A task chain is invalid; ``problems`` lists every one as (json_path, message)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        shown = "; ".join(f"{path}: {msg}" for path, msg in problems)
        super().__init__(f"invalid chain ({len(problems)} problem(s)): {shown}")


class JobError(EasError):
    """An unknown job, or a job name a submission may not reuse."""


class BackupError(EasError):
    """A database dump cannot be written, read or restored."""


class Interrupted(EasError):
    """Stopped by SIGINT or SIGTERM; the message says what went back to the queue."""

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.signum = signum
