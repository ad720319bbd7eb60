"""The ``eas`` command line: every command, its options and their help.

The settings options (database, queue, data) and ``-v``/``--json`` are global: they may be
given before the command or after it (``eas report progress --config-file x``). Option names
are the plato.eas modules' option names (``--job`` is ``job_name``, ``--csv`` is ``dest``):
a test checks that every module option has its flag.
"""

from __future__ import annotations

import argparse
import json
from importlib.metadata import PackageNotFoundError, version

from .. import defaults
from ..reports import REPORTS

DESCRIPTION = "Operate the PLATO WP36 EAS pipeline: task database, queues, workers, reports."
EPILOG = """\
Settings come from --config-file (YAML), then EAS_* environment variables (EAS_DB_PATH,
EAS_DB_ENGINE, ...), then these options; the embedded default is a SQLite file and data
directory under $EAS_HOME (default: <python environment>/var/plato-eas). Passwords are
never taken from the command line (every user of the machine could read them): put them in
the config file or in EAS_DB_PASSWORD / EAS_MQ_PASSWORD.

Exit status: 0 success, 1 the command failed (one line on standard error says why),
2 the command line is wrong, 130 or 143 interrupted (Ctrl-C, SIGTERM)."""

COMMAND_EPILOG = ("The settings options (--config-file, --db-path, --db-engine, ...: see\n"
                  "eas --help) are accepted here too.")

# (setting, metavar, help) of the global settings options; no password options, on purpose.
SETTINGS_OPTIONS = (
    ("config_file", "FILE", "YAML file of settings (the other options override it)"),
    ("db_engine", "ENGINE", "task database engine: sqlite (default) or mysql"),
    ("db_path", "FILE", "SQLite database file (default $EAS_HOME/eas.sqlite)"),
    ("db_host", "HOST", "MySQL/MariaDB server (default localhost)"),
    ("db_port", "PORT", "MySQL/MariaDB port (default 3306)"),
    ("db_user", "USER", "MySQL/MariaDB user (default eas)"),
    ("db_name", "NAME", "MySQL/MariaDB database (default plato_eas)"),
    ("queue_implementation", "KIND", "job queue: sql (default, the task database) or amqp"),
    ("mq_host", "HOST", "RabbitMQ server (default localhost)"),
    ("mq_port", "PORT", "RabbitMQ port (default 5672)"),
    ("mq_user", "USER", "RabbitMQ user (default guest)"),
    ("mq_vhost", "VHOST", "RabbitMQ virtual host (default /)"),
    ("mq_tls", "BOOL", "connect to RabbitMQ over TLS: true or false (default false)"),
    ("mq_ca_file", "FILE", "CA bundle that signed the broker's TLS certificate"),
    ("data_dir", "DIR", "folder of the files tasks read and write (default $EAS_HOME/data)"),
    ("registry_file", "FILE", "task-type registry (YAML) replacing the built-in one"),
    ("max_heartbeat_age", "SECONDS", "a running attempt silent this long is stalled "
                                     f"(default {defaults.MAX_HEARTBEAT_AGE:g})"),
)
SETTINGS = tuple(name for name, _, _ in SETTINGS_OPTIONS)

# Report filter -> (flag, argparse keywords with help). Dests are the module option names.
FILTERS: dict[str, tuple[str, dict]] = {
    "job_name": ("--job", dict(metavar="JOB", help="only this job (an unknown job is an error)")),
    "task_type": ("--task-type", dict(metavar="TYPE", help="only tasks of this type")),
    "task_id": ("--task", dict(type=int, metavar="ID", help="only this task")),
    "max_depth": ("--max-depth", dict(type=int, metavar="N",
                                      help="show this many levels below the roots")),
    "running_only": ("--running-only", dict(action="store_true", default=None,
                                            help="only branches with queued or running tasks")),
    "queues": ("--queue", dict(action="append", metavar="NAME",
                               help="only this queue (task type); may be repeated")),
    "show_ids": ("--show-ids", dict(type=int, metavar="N",
                                    help="list the attempt ids of queues holding at most N "
                                         f"(default {defaults.SHOW_IDS})")),
    "min_severity": ("--min-severity", dict(metavar="LEVEL",
                                            help="lowest severity: debug, info, warning, "
                                                 "error, critical or a number")),
    "since": ("--since", dict(metavar="TIME", help="from this time on: Unix time or UTC "
                                                   "'YYYY-MM-DD[ HH:MM[:SS]]'")),
    "until": ("--until", dict(metavar="TIME", help="before this time (as --since)")),
    "page": ("--page", dict(type=int, metavar="N", help="which page, from 1 (the newest)")),
    "page_size": ("--page-size", dict(type=int, metavar="N", help="rows per page")),
    "parent_id": ("--parent", dict(type=int, metavar="ID", help="the children of this task")),
    "offset": ("--offset", dict(type=int, metavar="N", help="skip this many rows")),
    "limit": ("--limit", dict(type=int, metavar="N", help="at most this many rows")),
    "variable": ("--variable", dict(metavar="NAME", help="the loop variable to plot against")),
}
CSV_HELP = "also write the CSV form to FILE ('-': print only the CSV, to standard output)"


def positive_int(text: str) -> int:
    """A whole number of at least 1 (``--workers``)."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def positive_float(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not number > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return number


def json_object(text: str) -> dict:
    """A JSON object given on the command line (``--node-capacity '{"cpu": 8}'``)."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object ({...})")
    return value


def package_version() -> str:
    try:
        return version("plato-eas")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _global_options(parser: argparse.ArgumentParser, after_command: bool) -> None:
    """The settings options, -v and --json; after a command they only override what was
    given before it (their defaults are suppressed there)."""
    def default(value):
        return argparse.SUPPRESS if after_command else value

    group = parser.add_argument_group("settings (before or after the command)")
    for name, metavar, text in SETTINGS_OPTIONS:
        # Listed once, by `eas --help`; a command's own help names them in its epilog.
        group.add_argument("--" + name.replace("_", "-"), dest=name, metavar=metavar,
                           default=default(None),
                           help=argparse.SUPPRESS if after_command else text)
    out = parser.add_argument_group("output")
    out.add_argument("-v", "--verbose", action="count", default=default(0),
                     help="log what happens (-vv: more)")
    out.add_argument("--json", action="store_true", default=default(False),
                     help="print the whole result as JSON (for scripts)")


class _Builder:
    """Adds commands that all accept the global options too."""

    def __init__(self, sub: argparse._SubParsersAction, formatter: type):
        self.sub = sub
        self.formatter = formatter

    def command(self, name: str, help_text: str, description: str | None = None,
                **kwargs) -> argparse.ArgumentParser:
        parser = self.sub.add_parser(name, help=help_text,
                                     description=description or help_text[:1].upper()
                                     + help_text[1:] + ".",
                                     epilog=COMMAND_EPILOG, formatter_class=self.formatter,
                                     **kwargs)
        _global_options(parser, after_command=True)
        return parser


def _add_report_filters(parser: argparse.ArgumentParser, filters: tuple[str, ...],
                        has_csv: bool) -> None:
    for name in filters:
        flag, keywords = FILTERS[name]
        parser.add_argument(flag, dest=name, **keywords)
    if has_csv:
        parser.add_argument("--csv", dest="dest", metavar="FILE", help=CSV_HELP)


def _reports(commands: _Builder) -> None:
    names = "\n".join(f"  {name:<15} {spec.about}" for name, spec in REPORTS.items())
    parser = commands.command("report", "print a report: " + ", ".join(REPORTS),
                              description="Print a report. Reports:\n" + names)
    reports = parser.add_subparsers(dest="report", metavar="NAME", required=True,
                                    help="the report (eas report NAME --help: its filters)")
    inner = _Builder(reports, commands.formatter)
    for name, spec in REPORTS.items():
        report = inner.command(name, spec.about)
        _add_report_filters(report, spec.filters, spec.has_csv)


def _task(commands: _Builder) -> None:
    parser = commands.command("task", "inspect one task")
    actions = parser.add_subparsers(dest="task_command", metavar="ACTION", required=True,
                                    help="what to do with the task")
    show = _Builder(actions, commands.formatter).command(
        "show", "one task whole: description, files (versions, sizes, MD5, QC), input "
                "metadata, every attempt (host, times, state, reason) and its log messages")
    show.add_argument("task_id", type=int, metavar="ID", help="the task's id")
    run = _Builder(actions, commands.formatter).command(
        "run", "science developers: run one task type outside any chain, in a scratch "
               "directory, and print its outputs, metadata and QC as JSON")
    run.add_argument("task_type", metavar="TYPE", help="the task type to run")
    run.add_argument("--spec", metavar="FILE",
                     help="JSON file of the task's fields (specs, lc_duration, ...)")
    run.add_argument("--input", action="append", metavar="NAME=PATH",
                     help="an input file of the task; may be repeated")
    run.add_argument("--output", action="append", metavar="NAME=FILE",
                     help="an output file the task writes; may be repeated")
    run.add_argument("--workdir", metavar="DIR",
                     help="scratch directory (default: a new temporary one)")


def _daemons(commands: _Builder) -> None:
    p = commands.command("scheduler", "run scheduling passes until stopped (daemon)")
    p.add_argument("--interval", type=positive_float, default=defaults.SCHEDULER_INTERVAL,
                   metavar="SECONDS", help="seconds between passes while idle (default "
                                           f"{defaults.SCHEDULER_INTERVAL:g})")
    p = commands.command("worker", "run a worker: serve until stopped, or until its queues "
                                   "are empty (--until-empty)")
    p.add_argument("--container", metavar="NAME",
                   help="serve the task types of this registry container (default: all)")
    p.add_argument("--task-type", dest="task_types", action="append", metavar="TYPE",
                   help="serve this task type; may be repeated")
    p.add_argument("--until-empty", action="store_true",
                   help="stop when its queues are empty instead of waiting for more")


def _actions(commands: _Builder) -> None:
    p = commands.command("init", "create the task database and load the task-type registry "
                                 "(a missing MySQL database too, when the user may)")
    p.add_argument("--absent", dest="state", action="store_const", const="absent",
                   default="present", help="drop every plato_eas table instead (asks first)")
    p.add_argument("--yes", action="store_true", help="do not ask before dropping data")
    commands.command("queues", "declare a queue per task type and record the implementation")
    p = commands.command("submit", "validate and submit a task chain")
    p.add_argument("src", metavar="CHAIN", help="chain file (JSON); '-' reads standard input")
    p.add_argument("--validate-only", action="store_true",
                   help="only check the chain; write nothing")
    p.add_argument("--allow-existing-job", action="store_true",
                   help="add the chain to an existing job of the same name (default: refuse)")
    p.add_argument("--priority", type=int, metavar="N",
                   help="the job's priority, -5 to 5 (higher runs first; default: the chain's)")
    p.add_argument("--allow-unimplemented", action="store_true",
                   help="accept task types no package on this node implements (the workers "
                        "have packages this node lacks)")
    commands.command("schedule", "one scheduling pass: queue every ready task")
    p = commands.command("reschedule", "queue a new attempt for every unfinished task "
                                       "(naming a cancelled job resumes it)")
    p.add_argument("--job", dest="job_name", metavar="JOB", help="only this job's tasks")
    p = commands.command("empty-queue", "remove waiting attempts from the queues (their tasks "
                                        "wait for eas reschedule)")
    p.add_argument("queues", nargs="*", metavar="QUEUE",
                   help="queues (task types) to empty (default: every queue, asks first)")
    p.add_argument("--job", dest="job_name", metavar="JOB",
                   help="only the attempts of this job")
    p.add_argument("--yes", action="store_true", help="do not ask before emptying every queue")
    p = commands.command("jobs", "every job: submitted, task counts by state, first start, "
                                 "last end, state")
    _add_report_filters(p, REPORTS["jobs"].filters, REPORTS["jobs"].has_csv)
    p = commands.command("cancel", "cancel a job: its queued attempts leave the queue, its "
                                   "running attempts are stopped (reschedule resumes it)")
    p.add_argument("job_name", metavar="JOB", help="the job to cancel")
    p = commands.command("run", "embedded mode: scheduler and local workers until the job is "
                                "finished or can make no more progress")
    p.add_argument("--workers", type=positive_int, default=defaults.LOCAL_WORKERS, metavar="N",
                   help=f"worker processes, at least 1 (default {defaults.LOCAL_WORKERS})")
    p.add_argument("--job", dest="job_name", metavar="JOB",
                   help="run until this job is done (default: all work)")
    p.add_argument("--timeout", type=positive_float, metavar="SECONDS",
                   help="stop after this long, returning running attempts to the queue "
                        "(default: no limit)")
    p = commands.command("logs", "log messages at any severity, newest first, a page at a time")
    _add_report_filters(p, REPORTS["logs"].filters, True)
    p = commands.command("save", "write a gzip SQL dump of the task database")
    p.add_argument("--dest", metavar="FILE",
                   help="the dump file (default: a dated file under $EAS_HOME/backups); asks "
                        "before replacing a file")
    p.add_argument("--yes", action="store_true", help="replace an existing file without asking")
    p = commands.command("restore", "restore a dump written by eas save")
    p.add_argument("src", metavar="DUMP", help="the dump file")
    p.add_argument("--force", action="store_true",
                   help="replace a database that holds data")


def _worker_plan(commands: _Builder) -> None:
    p = commands.command("worker-plan", "the worker Deployments Kubernetes would run: image, "
                                        "command, resources, replicas (changes nothing)")
    p.add_argument("--container", dest="containers", action="append", metavar="NAME",
                   help="plan this registry container; may be repeated (default: all)")
    p.add_argument("--node-capacity", type=json_object, metavar="JSON",
                   help='one node\'s capacity, e.g. \'{"cpu": 8, "memory": "32Gi"}\'')
    p.add_argument("--node", dest="nodes", type=json_object, action="append", metavar="JSON",
                   help="a node's capacity (as --node-capacity); may be repeated")
    p.add_argument("--system-fraction", type=positive_float, metavar="FRACTION",
                   help="largest share of a node one worker may request "
                        f"(default {defaults.SYSTEM_FRACTION:g})")
    p.add_argument("--replicas", type=json_object, metavar="JSON",
                   help='replicas per container, e.g. \'{"eas-tda": 3}\'')
    p.add_argument("--images", type=json_object, metavar="JSON",
                   help="image per container")
    p.add_argument("--scaling", type=json_object, metavar="JSON",
                   help="replicas from queue depths: min/max per container and tasks per "
                        "replica")
    p.add_argument("--queue-depths", type=json_object, metavar="JSON",
                   help="waiting tasks per queue to plan for (default: the live depths)")


def _web(commands: _Builder) -> None:
    p = commands.command("web", "serve the read-only dashboard (default 127.0.0.1:8050)",
                         allow_abbrev=False)
    p.add_argument("--host", default="127.0.0.1", help="listen address (not loopback: needs "
                   "a password from EAS_WEB_PASSWORD or --password-file, or --insecure)")
    p.add_argument("--port", type=int, default=8050, help="listen port (default 8050)")
    p.add_argument("--password-file", metavar="FILE",
                   help="file whose first line is the dashboard password")
    p.add_argument("--insecure", action="store_true",
                   help="allow a non-loopback address without a password")


def build_parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog="eas", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=formatter)
    parser.add_argument("--version", action="version",
                        version=f"eas (plato-eas) {package_version()}",
                        help="print the version and exit")
    _global_options(parser, after_command=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                help="what to do (eas COMMAND --help: its options)")
    commands = _Builder(sub, formatter)
    _actions(commands)
    _reports(commands)
    _task(commands)
    _daemons(commands)
    _worker_plan(commands)
    _web(commands)
    return parser
