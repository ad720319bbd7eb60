"""One line saying what an action did — or, in check mode, what it would do.

Every action's result carries it as ``msg``: the ``eas`` command prints it, the Ansible modules
return it and the playbooks print it, so all three say the same thing in the same words.
"""

from __future__ import annotations

from typing import Any


def plural(count: int, noun: str, many: str | None = None) -> str:
    return f"{count} {noun if count == 1 else (many or noun + 's')}"


def _verb(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def _names(items: list, limit: int = 6) -> str:
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _would(check_mode: bool, done: str, planned: str) -> str:
    return planned if check_mode else done


def schema(result: dict[str, Any], check_mode: bool) -> str:
    if result["state"] == "absent":
        tables = result.get("dropped_tables") or []
        if not tables:
            return "no plato_eas tables to drop"
        held = result.get("tasks") or 0
        what = plural(len(tables), "table") + (f" holding {plural(held, 'task')}" if held
                                               else "")
        return _would(check_mode, f"dropped {what}", f"would drop {what}")
    created, types = result.get("created_tables") or [], result.get("task_types") or []
    containers = result.get("containers") or []
    parts = []
    if created:
        parts.append(_would(check_mode, "created ", "would create ")
                     + plural(len(created), "table"))
    if types or containers:
        loaded = ", ".join(p for p in (
            plural(len(types), "task type") if types else "",
            plural(len(containers), "container") if containers else "") if p)
        parts.append(_would(check_mode, "loaded ", "would load ") + loaded
                     + " from the registry")
    if not parts:
        return f"schema version {result.get('version')} is up to date; nothing to do"
    return "; ".join(parts) + f" (schema version {result.get('version')})"


def queues(result: dict[str, Any], check_mode: bool) -> str:
    declared = result.get("declared") or []
    impl = result["implementation"]
    text = (_would(check_mode, "declared ", "would declare ") + plural(len(declared), "queue")
            if declared else f"{plural(len(result.get('queues') or []), 'queue')} ready")
    if result.get("previous_implementation") != impl:
        text += _would(check_mode, "; recorded", "; would record") + f" queue implementation {impl}"
    else:
        text += f" (queue implementation {impl})"
    return text


def submit(result: dict[str, Any], check_mode: bool, validate_only: bool) -> str:
    tasks = plural(result["task_count"], "top-level task")
    job = result.get("job_name") or "<untitled>"
    if validate_only:
        return f"chain is valid: job {job}, {tasks}; nothing written"
    if check_mode:
        return f"chain is valid; would submit job {job} ({tasks})"
    return f"submitted job {job} as task {result['task_id']} ({tasks})"


def schedule(result: dict[str, Any], check_mode: bool) -> str:
    if check_mode:
        ready, stalled = result.get("task_ids") or [], result.get("stalled") or []
        text = f"would queue {plural(len(ready), 'ready task')}"
        return text + (f" and fail {plural(len(stalled), 'stalled attempt')}" if stalled else "")
    text = f"queued {plural(len(result.get('attempt_ids') or []), 'attempt')}"
    stalled = result.get("stalled") or []
    if stalled:
        text += (f"; {plural(len(stalled), 'stalled attempt')} failed, "
                 f"{len(result.get('requeued') or [])} retried, "
                 f"{len(result.get('given_up') or [])} given up")
    return text


def reschedule(result: dict[str, Any], check_mode: bool) -> str:
    tasks = plural(len(result.get("task_ids") or []), "unfinished task")
    return _would(check_mode, f"queued a new attempt for {tasks}",
                  f"would queue a new attempt for {tasks}")


def cancel(result: dict[str, Any], check_mode: bool) -> str:
    job = result["job_name"] + ("" if result.get("cancelled") else
                                " (it was cancelled already)")
    def count(key: str, noun: str, many: str | None = None) -> str:
        return plural(len(result.get(key) or []), noun, many)

    what = (f"{count('queued_attempt_ids', 'queued attempt')} taken off the queue, "
            f"{count('running_attempt_ids', 'running attempt')} stopped, "
            f"{count('retry_attempt_ids', 'retry', 'retries')} dropped; "
            "`eas reschedule --job` (plato.eas.reschedule) resumes it")
    return _would(check_mode, f"cancelled job {job}: {what}", f"would cancel job {job}: {what}")


def empty_queue(result: dict[str, Any], check_mode: bool) -> str:
    ids = result.get("attempt_ids") or []
    if not ids:
        return "the queues hold no waiting attempts; nothing removed"
    per_queue = ", ".join(f"{name} {len(group)}" for name, group in
                          sorted((result.get("per_queue") or {}).items()))
    what = f"{plural(len(ids), 'waiting attempt')} ({per_queue})"
    after = ("their tasks wait, and are not scheduled again until `eas reschedule` "
             "(plato.eas.reschedule) queues them")
    return _would(check_mode, f"removed {what}; {after}", f"would remove {what}; {after}")


def db_save(result: dict[str, Any], check_mode: bool) -> str:
    if check_mode:
        return f"would save the task database to {result['path']}"
    return (f"saved the task database to {result['path']} ({plural(result['size'], 'byte')}, "
            f"sha256 {result['sha256']})")


def db_restore(result: dict[str, Any], check_mode: bool) -> str:
    over = result.get("overwritten") or []
    replacing = (f", replacing {plural(len(over), 'table')} that held data" if over else "")
    if check_mode:
        return f"dump {result['src']} is sound; would restore it{replacing}"
    tables = result.get("tables") or {}
    rows = sum(tables.values())
    tasks = tables.get("eas_task", 0)
    return (f"restored {result['src']}: {plural(len(tables), 'table')}, "
            f"{plural(rows, 'row')} ({plural(tasks, 'task')}){replacing}")


def report_csv(result: dict[str, Any], check_mode: bool) -> str:
    if not result["changed"]:
        return f"{result['dest']} is up to date"
    return _would(check_mode, f"wrote {result['dest']}", f"would write {result['dest']}")


def local_run(result: dict[str, Any], timeout: float | None = None) -> str:
    """How an embedded run ended; when it stopped short, what the unfinished tasks wait for.
    Failed tasks come first, in the words operators grep for."""
    summary = result["summary"]
    scope = f"job {result['job_name']}" if result["job_name"] else "all work"
    if result["finished"]:
        return f"finished: {scope}, {plural(summary['done'], 'task')} done"
    why = _why_stopped(result)
    if summary["failed"]:
        return (f"{summary['failed']} task(s) failed; see plato.eas.errors_info "
                "(`eas report errors`; `eas reschedule` tries again); " + why)
    return why


def _why_stopped(result: dict[str, Any]) -> str:
    """Why a run that did not finish stopped, failed tasks aside."""
    summary = result["summary"]
    if result.get("timed_out"):
        return result["stopped"]
    if result.get("stopped") not in (None, "no more progress possible"):
        return f"stopped: {result['stopped']}"
    reasons = []
    blocked = len(result.get("blocked") or [])
    if blocked:
        reasons.append(f"{plural(blocked, 'task')} {_verb(blocked, 'waits', 'wait')} for "
                       "inputs from failed tasks")
    cancelled = summary.get("cancelled") or 0
    if cancelled:
        if result["job_name"]:
            reasons.append(f"job {result['job_name']} is cancelled "
                           f"({plural(cancelled, 'task')}); `eas reschedule --job "
                           f"{result['job_name']}` (plato.eas.reschedule) resumes it")
        else:
            reasons.append(f"{plural(cancelled, 'task')} of cancelled jobs; "
                           "`eas reschedule --job JOB` (plato.eas.reschedule) resumes one")
    unqueued = result.get("unqueued") or 0
    if unqueued:
        reasons.append(f"{plural(unqueued, 'task')} {_verb(unqueued, 'is', 'are')} waiting: "
                       "taken off the queue by empty-queue, "
                       f"{_verb(unqueued, 'it is', 'they are')} not scheduled again until "
                       "`eas reschedule` (plato.eas.reschedule) queues "
                       f"{_verb(unqueued, 'it', 'them')}")
    left = summary["waiting"] - blocked - unqueued
    if left > 0:
        reasons.append(f"{plural(left, 'task')} {_verb(left, 'waits', 'wait')} for inputs "
                       "that no task will produce")
    if not reasons:
        return "stopped: no more progress possible" + (
            "" if summary["failed"] else ": nothing left to run")
    return "stopped: no more progress possible: " + "; ".join(reasons)


def worker_plan(result: dict[str, Any]) -> str:
    """One clause per planned worker Deployment."""
    parts = []
    for w in result.get("workers") or []:
        requests = (w.get("resources") or {}).get("requests") or {}
        parts.append(f"{w['deployment']}: {plural(w['replicas'], 'replica')} of {w['image']} "
                     f"({requests.get('cpu', '-')} CPU, {requests.get('memory', '-')})")
    return "; ".join(parts) or "no worker containers to plan"
