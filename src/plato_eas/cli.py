"""The ``eas`` console script: every operator action, the daemons and the embedded runner.

Connection settings come from ``--config-file``, ``EAS_*`` environment variables and the
flags below; there are deliberately no password flags (a password on a command line is
visible to every user of the machine) — use the config file or EAS_DB_PASSWORD/EAS_MQ_PASSWORD.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from . import actions, defaults
from .errors import EasError, Interrupted
from .settings import load_settings

CONNECTION_FLAGS = ("config_file", "db_engine", "db_path", "db_host", "db_port", "db_user",
                    "db_name", "queue_implementation", "mq_host", "mq_port", "mq_user",
                    "mq_vhost", "mq_tls", "mq_ca_file", "data_dir", "registry_file",
                    "max_heartbeat_age")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eas", description=__doc__.splitlines()[0])
    for name in CONNECTION_FLAGS:
        parser.add_argument("--" + name.replace("_", "-"), dest=name, default=None)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="create the task database and load the registry")
    p.add_argument("--absent", action="store_true", help="drop every plato_eas table instead")
    sub.add_parser("queues", help="declare a queue per task type and record the choice")
    p = sub.add_parser("submit", help="validate and submit a task chain (JSON file)")
    p.add_argument("src")
    p.add_argument("--validate-only", action="store_true")
    p.add_argument("--allow-existing-job", action="store_true",
                   help="add the chain to an existing job of the same name")
    p.add_argument("--priority", type=int,
                   help="the job's priority, -5 to 5 (higher runs first; default: the chain's)")
    p.add_argument("--allow-unimplemented", action="store_true",
                   help="accept task types no package on this node implements (the workers "
                        "have packages this node lacks)")
    p = sub.add_parser("task", help="science developers: run one task type outside any chain")
    task_sub = p.add_subparsers(dest="task_command", required=True)
    p = task_sub.add_parser("run", help="run TYPE in a scratch directory and print its "
                                        "outputs, metadata and QC")
    p.add_argument("task_type")
    p.add_argument("--spec", help="JSON file of the task's fields (specs, lc_duration, ...)")
    p.add_argument("--input", action="append", metavar="NAME=PATH")
    p.add_argument("--output", action="append", metavar="NAME=FILE")
    p.add_argument("--workdir", help="scratch directory (default: a new temporary one)")
    sub.add_parser("schedule", help="one scheduling pass")
    p = sub.add_parser("reschedule", help="queue a new attempt for every unfinished task "
                                          "(naming a cancelled job resumes it)")
    p.add_argument("--job", dest="job_name")
    p = sub.add_parser("empty-queue", help="remove every waiting attempt from the queues")
    p.add_argument("queues", nargs="*")
    p.add_argument("--job", dest="job_name", help="only the attempts of this job")
    p = sub.add_parser("jobs", help="every job: submitted, task counts by state, first start, "
                                    "last end, state")
    p.add_argument("--job", dest="job_name")
    p.add_argument("--csv", dest="dest", help="write the CSV form to this file")
    p = sub.add_parser("cancel", help="cancel a job: its queued attempts leave the queue, its "
                                      "running attempts are stopped (reschedule resumes it)")
    p.add_argument("job_name", metavar="JOB")
    p = sub.add_parser("scheduler", help="run scheduling passes forever (daemon)")
    p.add_argument("--interval", type=float, default=defaults.SCHEDULER_INTERVAL)
    p = sub.add_parser("worker", help="run a worker (service mode unless --until-empty)")
    p.add_argument("--container", default=None)
    p.add_argument("--task-type", dest="task_types", action="append")
    p.add_argument("--until-empty", action="store_true")
    p = sub.add_parser("run", help="embedded mode: scheduler + local workers until done")
    p.add_argument("--workers", type=int, default=defaults.LOCAL_WORKERS)
    p.add_argument("--job", dest="job_name")
    p.add_argument("--timeout", type=float)
    p = sub.add_parser("report", help="print a report (progress, job_tree, errors, timings, "
                                      "pass_fail, queue)")
    p.add_argument("name")
    p.add_argument("--job", dest="job_name")
    p.add_argument("--task-type")
    p.add_argument("--max-depth", type=int)
    p.add_argument("--running-only", action="store_true")
    p.add_argument("--offset", type=int, help="job_tree: skip this many rows, show one page "
                   "(the result's next_offset is where the next one starts)")
    p.add_argument("--limit", type=int, help="job_tree: rows per page (default 100)")
    p.add_argument("--csv", dest="dest", help="write the CSV form to this file")
    p = sub.add_parser("web", help="serve the read-only dashboard (default 127.0.0.1:8050)",
                       allow_abbrev=False)
    p.add_argument("--host", default="127.0.0.1", help="listen address (not loopback: needs "
                   "a password from EAS_WEB_PASSWORD or --password-file, or --insecure)")
    p.add_argument("--port", type=int, default=8050)
    p.add_argument("--password-file", help="file whose first line is the dashboard password")
    p.add_argument("--insecure", action="store_true",
                   help="allow a non-loopback address without a password")
    p = sub.add_parser("save", help="write a gzip SQL dump of the task database")
    p.add_argument("--dest")
    p = sub.add_parser("restore", help="restore a dump written by `eas save`")
    p.add_argument("src")
    p.add_argument("--force", action="store_true")
    return parser


def _report_filters(args: argparse.Namespace) -> dict[str, Any]:
    names = ("job_name", "task_type", "max_depth", "running_only", "offset", "limit")
    # `is`, not `in`: 0 (an offset) equals False
    return {k: getattr(args, k) for k in names
            if getattr(args, k) is not None and getattr(args, k) is not False}


def _dispatch(args: argparse.Namespace) -> tuple[dict, int]:
    settings = load_settings({k: getattr(args, k) for k in CONNECTION_FLAGS})
    cmd = args.command
    if cmd == "init":
        return actions.init_schema(settings, state="absent" if args.absent else "present"), 0
    if cmd == "queues":
        return actions.init_queues(settings), 0
    if cmd == "submit":
        return actions.submit(settings, src=args.src, validate_only=args.validate_only,
                              allow_existing_job=args.allow_existing_job,
                              priority=args.priority,
                              allow_unimplemented=args.allow_unimplemented), 0
    if cmd == "task":
        from .tasks.single import load_spec, run_task

        result = run_task(args.task_type, load_spec(args.spec), inputs=args.input,
                          outputs=args.output, workdir=args.workdir, settings=settings)
        return result, 0 if result["passed"] else 1
    if cmd == "schedule":
        return actions.schedule(settings), 0
    if cmd == "reschedule":
        return actions.reschedule(settings, job_name=args.job_name), 0
    if cmd == "empty-queue":
        return actions.empty_queue(settings, queues=args.queues or None,
                                   job_name=args.job_name), 0
    if cmd == "jobs":
        return actions.report(settings, "jobs", dest=args.dest, job_name=args.job_name), 0
    if cmd == "cancel":
        return actions.cancel(settings, job_name=args.job_name), 0
    if cmd == "scheduler":
        actions.scheduler(settings, interval=args.interval)
        return {}, 0
    if cmd == "worker":
        ran = actions.worker(settings, container=args.container, task_types=args.task_types,
                             until_empty=args.until_empty)
        return {"attempts_run": ran["attempts_run"]}, 0
    if cmd == "run":
        result = actions.local_run(settings, workers=args.workers, job_name=args.job_name,
                                   timeout=args.timeout)
        return result, 0 if result["finished"] and not result["failed"] else 1
    if cmd == "report":
        return actions.report(settings, args.name, dest=args.dest, **_report_filters(args)), 0
    if cmd == "web":
        return actions.web(settings, host=args.host, port=args.port,
                           password_file=args.password_file, insecure=args.insecure), 0
    if cmd == "save":
        return actions.db_save(settings, dest=args.dest), 0
    if cmd == "restore":
        return actions.db_restore(settings, src=args.src, force=args.force), 0
    raise AssertionError(cmd)


def _print(command: str, result: dict) -> None:
    if "table" in result:
        print(result["table"])
        if result.get("next_offset") is not None:  # a page of a paged report
            print(f"more rows: --offset {result['next_offset']}")
        if command == "run":
            for task in result.get("blocked", []):
                print(f"blocked: {task}")
            for report in result.get("worker_errors", []):
                print(report)
            print("finished" if result["finished"] else
                  f"{result['stopped']}; {result['returned_to_queue']} attempt(s) returned to "
                  "the queue" if result["timed_out"] else f"stopped: {result['stopped']}")
        return
    if result:
        print(json.dumps(result, indent=2, default=str))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        result, status = _dispatch(args)
    except Interrupted as exc:  # one line: what went back to the queue
        print(f"eas: {exc}", file=sys.stderr)
        return 128 + exc.signum
    except EasError as exc:
        print(f"eas: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    _print(args.command, result)
    return status


if __name__ == "__main__":
    sys.exit(main())
