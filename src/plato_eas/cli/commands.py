"""What each ``eas`` command runs: one ``plato_eas.actions`` call, after asking first where the
command would destroy data."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable

from .. import actions
from ..errors import ConfigError, EasError
from ..reports import REPORTS, streams_text
from ..settings import Settings, load_settings
from ..summaries import plural
from .live import live_progress
from .parser import SETTINGS


class Refused(EasError):
    """A destructive command that was not confirmed."""


def confirm(args: argparse.Namespace, question: str) -> None:
    """Go on only with ``--yes`` or a 'y' typed at a terminal; refuse in one line otherwise."""
    if getattr(args, "yes", False):
        return
    if not sys.stdin.isatty():
        raise Refused(f"{question}: refusing without --yes (standard input is not a terminal)")
    try:
        answer = input(f"{question}? [y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise Refused("nothing done")


def _filters(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def _report(settings: Settings, args: argparse.Namespace, name: str) -> dict:
    filters = _filters(args, REPORTS[name].filters)
    dest = getattr(args, "dest", None)
    if dest == "-":
        return actions.report(settings, name, csv=True, **filters)
    if dest is None and not args.json and streams_text(name, **filters):
        return actions.report_text(settings, name, sys.stdout.write, **filters)
    return actions.report(settings, name, dest=dest, **filters)


def _init(settings: Settings, args: argparse.Namespace) -> dict:
    if args.state == "absent":
        plan = actions.init_schema(settings, state="absent", check_mode=True)
        if plan["tasks"]:
            confirm(args, f"drop the {len(plan['dropped_tables'])} plato_eas tables of "
                          f"{_where(settings)}, with their {plural(plan['tasks'], 'task')} and "
                          "every attempt, log and file record")
    return actions.init_schema(settings, state=args.state)


def _empty_queue(settings: Settings, args: argparse.Namespace) -> dict:
    if not args.queues and not args.job_name:
        plan = actions.empty_queue(settings, check_mode=True)
        if plan["attempt_ids"]:
            confirm(args, f"remove {plural(len(plan['attempt_ids']), 'waiting attempt')} from "
                          "every queue")
    return actions.empty_queue(settings, queues=args.queues or None, job_name=args.job_name)


def _save(settings: Settings, args: argparse.Namespace) -> dict:
    if args.dest and Path(args.dest).exists():
        confirm(args, f"replace the existing file {args.dest}")
    return actions.db_save(settings, dest=args.dest)


def _submit(settings: Settings, args: argparse.Namespace) -> dict:
    if args.src != "-":
        return actions.submit(settings, src=args.src, validate_only=args.validate_only,
                              allow_existing_job=args.allow_existing_job, priority=args.priority,
                              allow_unimplemented=args.allow_unimplemented)
    try:
        chain = json.load(sys.stdin)
    except ValueError as exc:
        raise ConfigError(f"standard input is not a JSON chain: {exc}") from None
    return actions.submit(settings, chain=chain, validate_only=args.validate_only,
                          allow_existing_job=args.allow_existing_job, priority=args.priority,
                          allow_unimplemented=args.allow_unimplemented)


def _task(settings: Settings, args: argparse.Namespace) -> tuple[dict, int]:
    if args.task_command == "show":
        return actions.report(settings, "task", task_id=args.task_id), 0
    from ..tasks.single import load_spec, run_task

    result = run_task(args.task_type, load_spec(args.spec), inputs=args.input,
                      outputs=args.output, workdir=args.workdir, settings=settings)
    return result, 0 if result["passed"] else 1


def _run(settings: Settings, args: argparse.Namespace) -> tuple[dict, int]:
    with live_progress(sys.stderr, enabled=not args.json) as show:
        result = actions.local_run(settings, workers=args.workers, job_name=args.job_name,
                                   timeout=args.timeout, progress=show)
    return result, 0 if result["finished"] and not result["failed"] else 1


def _where(settings: Settings) -> str:
    if settings.db_engine == "sqlite":
        return settings.db_path
    return f"{settings.db_name} on {settings.db_host}:{settings.db_port}"


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], dict]] = {
    "init": _init,
    "queues": lambda s, a: actions.init_queues(s),
    "submit": _submit,
    "schedule": lambda s, a: actions.schedule(s),
    "reschedule": lambda s, a: actions.reschedule(s, job_name=a.job_name),
    "empty-queue": _empty_queue,
    "jobs": lambda s, a: _report(s, a, "jobs"),
    "cancel": lambda s, a: actions.cancel(s, job_name=a.job_name),
    "report": lambda s, a: _report(s, a, a.report),
    "logs": lambda s, a: _report(s, a, "logs"),
    "save": _save,
    "restore": lambda s, a: actions.db_restore(s, src=a.src, force=a.force),
    "scheduler": lambda s, a: actions.scheduler(s, interval=a.interval),
    "worker": lambda s, a: actions.worker(s, container=a.container, task_types=a.task_types,
                                          until_empty=a.until_empty),
    "worker-plan": lambda s, a: actions.worker_plan(s, **_filters(a, (
        "containers", "node_capacity", "nodes", "system_fraction", "replicas", "images",
        "scaling", "queue_depths"))),
    "web": lambda s, a: actions.web(s, host=a.host, port=a.port,
                                    password_file=a.password_file, insecure=a.insecure),
}


def dispatch(args: argparse.Namespace) -> tuple[dict, int]:
    """Run the command; returns its result and the exit status."""
    settings = load_settings({name: getattr(args, name) for name in SETTINGS})
    if args.command == "run":
        return _run(settings, args)
    if args.command == "task":
        return _task(settings, args)
    return COMMANDS[args.command](settings, args), 0
