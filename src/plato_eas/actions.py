"""The operator's actions (SPEC §8): one function per action, the one way in for the ``eas`` CLI,
the daemons and the ``plato.eas`` Ansible modules.

Each takes a :class:`~plato_eas.settings.Settings` plus the action's own parameters and
returns a plain dict (JSON-serialisable, no secrets) that always has ``changed``, and ``msg``
(one line saying what it did, or would do: :mod:`.summaries`) unless it is a report. With
``check_mode=True`` an action computes and returns what it would do and changes nothing.
Failures raise :class:`~plato_eas.errors.EasError` subclasses with one-line messages; an
action that ran but did not succeed (``local_run`` with failed tasks) says why in
``failure``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from . import defaults, summaries
from .db import Database
from .errors import ConfigError
from .settings import Settings


def init_schema(settings: Settings, state: str = "present", check_mode: bool = False) -> dict:
    """Create (or with ``state='absent'`` drop) the task database, loading the §7 registry.

    Returns changed, state, version, created_tables / dropped_tables, task_types (added)."""
    from .admin.schema import apply_schema

    with Database(settings, create=state == "present" and not check_mode) as db:
        result = apply_schema(db, state=state, check_mode=check_mode)
    return {**result, "msg": summaries.schema(result, check_mode)}


def init_queues(settings: Settings, check_mode: bool = False) -> dict:
    """Declare a queue per task type for ``settings.queue_implementation`` and record that
    choice in the database. Returns changed, implementation, queues, declared."""
    from .admin.queues import init_queues as run

    with Database(settings) as db:
        result = run(db, check_mode=check_mode)
    return {**result, "msg": summaries.queues(result, check_mode)}


def db_save(settings: Settings, dest: str | None = None, check_mode: bool = False) -> dict:
    """Write a gzip SQL dump (consistent snapshot). Returns changed, path, size, sha256."""
    from .admin.backup import save

    result = save(settings, dest=dest, check_mode=check_mode)
    return {**result, "msg": summaries.db_save(result, check_mode)}


def db_restore(settings: Settings, src: str, force: bool = False,
               check_mode: bool = False) -> dict:
    """Restore a db_save dump; refuses a non-empty database unless ``force``.
    Returns changed, src, tables (name -> rows)."""
    from .admin.backup import restore

    result = restore(settings, src=src, force=force, check_mode=check_mode)
    return {**result, "msg": summaries.db_restore(result, check_mode)}


def submit(settings: Settings, chain: dict | None = None, src: str | None = None,
           validate_only: bool = False, allow_existing_job: bool = False,
           priority: int | None = None, check_mode: bool = False,
           allow_unimplemented: bool = False) -> dict:
    """Validate and register a chain (inline ``chain`` or JSON file ``src``) as a new job; a
    job name that exists is refused unless ``allow_existing_job``. ``priority`` (-5 to 5)
    overrides the chain's; task types with no installed implementation are refused unless
    ``allow_unimplemented``. Returns changed, task_id (None when not written), job_name,
    job_exists, priority, task_count (top level); ``check_mode`` validates only and says a
    real run would register it (or refuses the job name as a real run would)."""
    from .chains.submit import refuse_existing, submit_chain

    with Database(settings) as db:
        result = submit_chain(db, chain=chain, src=src,
                              validate_only=validate_only or check_mode,
                              allow_existing_job=allow_existing_job, priority=priority,
                              allow_unimplemented=allow_unimplemented)
    if check_mode and not validate_only:
        if result["job_exists"] and not allow_existing_job:
            raise refuse_existing(result["job_name"])
        result["changed"] = True
    return {**result, "msg": summaries.submit(result, check_mode, validate_only)}


def schedule(settings: Settings, check_mode: bool = False) -> dict:
    """One §3.3 scheduling pass (plus stalled-attempt handling).
    Returns changed, attempt_ids (new), requeued (stalled ones retried), failed_stalled."""
    from .scheduling.scheduler import schedule_pass

    with Database(settings) as db:
        result = schedule_pass(db, check_mode=check_mode)
    return {**result, "msg": summaries.schedule(result, check_mode)}


def reschedule(settings: Settings, job_name: str | None = None,
               check_mode: bool = False) -> dict:
    """Queue a new attempt for every unfinished task (no successful, queued or running
    attempt). Naming a cancelled job resumes it; without ``job_name`` cancelled jobs are left
    alone. Returns changed, attempt_ids (new), task_ids, resumed (jobs), skipped (cancelled
    jobs left alone)."""
    from .scheduling.scheduler import reschedule_unfinished

    with Database(settings) as db:
        result = reschedule_unfinished(db, job_name=job_name, check_mode=check_mode)
    return {**result, "msg": summaries.reschedule(result, check_mode)}


def cancel(settings: Settings, job_name: str, check_mode: bool = False) -> dict:
    """Cancel a job: its queued attempts leave the queue, its running attempts are stopped,
    all recorded as cancelled, and nothing of it is scheduled until ``reschedule`` names it.
    Returns changed, job_name, cancelled, queued_attempt_ids, running_attempt_ids,
    retry_attempt_ids."""
    from .scheduling.cancel import cancel as run

    with Database(settings) as db:
        result = run(db, job_name, check_mode=check_mode)
    return {**result, "msg": summaries.cancel(result, check_mode)}


def empty_queue(settings: Settings, queues: list[str] | None = None,
                job_name: str | None = None, check_mode: bool = False) -> dict:
    """Remove every waiting attempt from the queues (all, or the named task types; of one job
    only with ``job_name``). Returns changed, attempt_ids, per_queue, job_name."""
    from .admin.queues import empty_queues

    with Database(settings) as db:
        result = empty_queues(db, names=queues, job_name=job_name, check_mode=check_mode)
    return {**result, "msg": summaries.empty_queue(result, check_mode)}


def report(settings: Settings, name: str, dest: str | None = None, check_mode: bool = False,
           csv: bool = False, **filters: Any) -> dict:
    """Run one report (``plato_eas.reports.REPORTS``: progress, job_tree, errors, ...).
    Returns changed=False, rows, table (text), plus report-specific keys. With ``dest`` the
    report's CSV form is also written there, and ``changed`` says whether the file's content
    changed (``check_mode``: would change); with ``csv``, the CSV form is returned as
    ``csv`` instead."""
    from .reports import csv_report, run_report, write_report_csv

    with Database(settings) as db:
        if dest:
            result = write_report_csv(db, name, Path(dest), check_mode=check_mode, **filters)
            return {**result, "msg": summaries.report_csv(result, check_mode)}
        if csv:
            return csv_report(db, name, **filters)
        return run_report(db, name, **filters)


def report_text(settings: Settings, name: str, write: Callable[[str], Any],
                **filters: Any) -> dict:
    """Write a report's text table through ``write`` as its rows are read (the whole job
    tree at any size: ``reports.streams_text`` says when). Returns changed=False, lines."""
    from .reports import write_report_text

    with Database(settings) as db:
        return write_report_text(db, name, write, **filters)


def local_run(settings: Settings, workers: int = defaults.LOCAL_WORKERS,
              job_name: str | None = None,
              timeout: float | None = defaults.LOCAL_RUN_TIMEOUT,
              check_mode: bool = False, progress: Callable[[dict], None] | None = None) -> dict:
    """Embedded mode (§10): scheduler + N local worker processes until the job (or all work)
    is finished or blocked, or ``timeout`` seconds pass (None: no limit). Returns changed,
    finished, timed_out, failed (count), blocked (task list), progress rows, table, and
    ``failure`` (why the run did not succeed, or None); ``msg`` says how it ended and, when it
    stopped short, what the unfinished tasks wait for. ``check_mode``: the current progress
    and whether work is left, running nothing. ``progress``: called now and then with the
    task counts by state (a live display)."""
    from .scheduling.local_run import preview, run_local

    if workers < 1:
        raise ConfigError(f"workers must be at least 1, not {workers}")
    if check_mode:
        return preview(settings, workers=workers, job_name=job_name)
    return run_local(settings, workers=workers, job_name=job_name, timeout=timeout,
                     progress=progress)


def scheduler(settings: Settings, interval: float = defaults.SCHEDULER_INTERVAL) -> dict:
    """The scheduler daemon: a scheduling pass every ``interval`` seconds until SIGTERM."""
    from .scheduling.scheduler import serve

    serve(settings, interval=interval)
    return {"changed": True, "msg": "scheduler stopped"}


def worker(settings: Settings, container: str | None = None,
           task_types: list[str] | None = None, until_empty: bool = False) -> dict:
    """A worker for the task types of ``container`` (or ``task_types``): in service mode
    until SIGTERM, or until its queues are empty. Returns changed, attempts_run."""
    from .worker.worker import serve

    count = serve(settings, container=container, until_empty=until_empty, task_types=task_types)
    return {"changed": count > 0, "attempts_run": count,
            "msg": f"worker stopped after running {summaries.plural(count, 'attempt')}"}


def worker_plan(settings: Settings, containers: list[str] | None = None,
                node_capacity: dict | None = None, nodes: list[dict] | None = None,
                system_fraction: float = defaults.SYSTEM_FRACTION, replicas: dict | None = None,
                images: dict | None = None, scaling: dict | None = None,
                queue_depths: dict | None = None) -> dict:
    """The worker Deployments (image, command, resources capped to ``system_fraction`` of a
    node, replicas) for the registry's containers; with ``scaling``, replicas from
    ``queue_depths`` or else the live queue depths. Changes nothing."""
    from .admin.queues import queue_depths as live_depths
    from .kube import worker_plan as plan
    from .tasks.registry import load_registry

    registry = load_registry(settings)
    if scaling is not None and queue_depths is None:
        with Database(settings) as db:
            queue_depths = live_depths(db)
    try:
        result = plan(registry, containers=containers, node=node_capacity, nodes=nodes or (),
                      fraction=system_fraction, replicas=replicas, images=images,
                      scaling=scaling, queue_depths=queue_depths)
    except (TypeError, ValueError) as exc:  # a count or quantity that is not a number
        raise ConfigError(f"worker plan options are malformed: {exc}") from None
    return {"changed": False, **result, "msg": summaries.worker_plan(result)}


def web(settings: Settings, host: str = "127.0.0.1", port: int = 8050,
        password_file: str | None = None, insecure: bool = False) -> dict:
    """Serve the read-only dashboard until interrupted (a non-loopback ``host`` needs a
    password from EAS_WEB_PASSWORD or ``password_file``, unless ``insecure``).
    Returns changed=False once stopped."""
    from .web.server import serve

    serve(settings, host=host, port=port, password_file=password_file, insecure=insecure)
    return {"changed": False}
