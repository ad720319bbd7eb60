"""The dashboard's Flask application: one view per page, each a thin layer over report
definitions (so a page and the matching info module show the same thing), plus downloads.

Every request opens its own read-only database connection and closes it afterwards. Pages of
running jobs refresh their live part (``?part=live``, swapped in place by htmx) every few
seconds; the polling stops by itself once the job is no longer running.
"""

from __future__ import annotations

import mimetypes
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    render_template,
    request,
    send_file,
    url_for,
)

from ..db import Database
from ..errors import DatabaseError, EasError, JobError
from ..model.states import (
    CANCELLED,
    DONE,
    FAILED,
    JOB_RUNNING,
    LIVE_STATES,
    QUEUED,
    RUNNING,
    STALLED,
    WAITING,
    live_attempts,
)
from ..reports import build_report, render
from ..reports.base import ReportError, utc_time
from ..reports.filters import SEVERITIES
from ..reports.task_tree import task_tree_levels
from ..settings import Settings
from . import plots
from .access import REALM, authorised
from .files import contained, listing

TREE_DEPTH = 2
TREE_PREFETCH = 8  # nodes whose children the job page loads up front
TIMELINE_BARS = 2000
MAX_REFRESH = 30


def create_app(settings: Settings, password: str | None = None,
               refresh: float = 3.0) -> Flask:
    """The dashboard for ``settings``' database and data directory; ``password`` (if any)
    is asked of every request but the health check."""
    app = Flask(__name__)
    app.url_map.merge_slashes = False  # /files//etc/passwd is not found, not redirected
    app.config.update(EAS_SETTINGS=settings, EAS_PASSWORD=password, EAS_REFRESH=refresh,
                      EAS_CONNECTIONS=threading.local(), MAX_CONTENT_LENGTH=0)
    app.jinja_env.globals.update(severity_names={v: k for k, v in SEVERITIES.items()},
                                 cell=render.cell_text)
    app.jinja_env.filters["utc"] = utc_time
    app.before_request(_check_password)
    app.after_request(_headers)
    app.teardown_appcontext(_close_database)
    app.register_error_handler(EasError, _eas_error)
    app.register_error_handler(404, _not_found)
    for rule, view in ROUTES:
        app.add_url_rule(rule, view.__name__, view)
    return app


# -- plumbing -------------------------------------------------------------------------------
def _check_password() -> Response | None:
    g.started = time.perf_counter()
    password = current_app.config["EAS_PASSWORD"]
    if not password or request.endpoint in ("healthz", "favicon"):
        return None
    if authorised(request.headers.get("Authorization"), password):
        return None
    return Response("password required\n", 401, {
        "WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"',
        "Content-Type": "text/plain; charset=utf-8"})


def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"))
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _db() -> Database:
    """This server thread's read-only connection, kept between requests (a warm page cache
    makes the big reports several times faster); a failed request drops it."""
    local = current_app.config["EAS_CONNECTIONS"]
    if getattr(local, "db", None) is None:
        local.db = Database(current_app.config["EAS_SETTINGS"], read_only=True)
    g.db = local.db
    return local.db


def _close_database(exc: BaseException | None) -> None:
    db = g.pop("db", None)
    if db is not None and exc is not None:
        db.close()


def _eas_error(exc: EasError) -> tuple[str, int]:
    if isinstance(exc, DatabaseError):
        _close_database(exc)
        current_app.config["EAS_CONNECTIONS"].db = None
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    status = 503 if isinstance(exc, DatabaseError) else 400
    if isinstance(exc, (ReportError, JobError)) and message.startswith("no "):
        status = 404
    return render_template("error.html", message=message, status=status), status


def _not_found(_exc: Exception) -> tuple[str, int]:
    return render_template("error.html", message="not found", status=404), 404


def report(name: str, **filters: Any):
    return build_report(_db(), name, **filters)


def arg(name: str) -> str | None:
    """A query argument, blank counting as not given."""
    value = request.args.get(name, "").strip()
    return value or None


def page(template: str, running: bool = False, **context: Any) -> str | tuple[str, int]:
    """The whole page, or only its ``live`` block when htmx polls for it (``part=live``);
    status 286 tells htmx to stop polling once nothing runs any more."""
    context.update(running=running, refresh=_refresh(), live_url=_with(part="live"))
    if request.args.get("part") == "live":
        env = current_app.jinja_env
        current_app.update_template_context(context)
        context["m"] = env.get_template("_macros.html").make_module(context)
        tmpl = env.get_template(template)
        body = "".join(tmpl.blocks["live"](tmpl.new_context(context)))
        return body, 200 if running else 286
    return render_template(template, **context)


def _refresh() -> int:
    """Seconds between refreshes: the configured interval, longer for pages that take long to
    compute (four times what this one took so far, at most MAX_REFRESH), so that a few open
    tabs on a huge job do not keep the server busy."""
    spent = time.perf_counter() - g.started
    return int(min(MAX_REFRESH, max(current_app.config["EAS_REFRESH"], 4 * spent)))


def _with(**changes: Any) -> str:
    """This page's URL with some query arguments changed (None removes one)."""
    args = {k: v for k, v in request.args.items() if k != "part"}
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    query = urlencode(args)
    return request.path + ("?" + query if query else "")


def _csv(name: str, filename: str, **filters: Any) -> Response:
    """A report's CSV form, exactly as the info module's ``dest`` file would hold it."""
    built = report(name, **filters)
    tables = built.tables if built.csv_tables is None else built.csv_tables
    return Response(render.to_csv(tables), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


# -- pages ----------------------------------------------------------------------------------
def healthz() -> Response:
    """Readiness: the database answers (read-only) and has a schema this release reads."""
    from ..model.schema import check_version

    _db().read(lambda tx: check_version(tx, read_only=True))
    return Response("ok\n", mimetype="text/plain")


def favicon() -> Response:
    return Response(status=204)


def jobs_page() -> str | tuple[str, int]:
    built = report("jobs")
    running = any(r["state"] == JOB_RUNNING for r in built.rows)
    return page("jobs.html", running=running, jobs=built.rows, states=STATE_ORDER)


def _tree_level(parent_id: int | None, job: str | None, running_only: bool,
                offset: int = 0) -> dict:
    built = report("task_tree", job_name=job if parent_id is None else None,
                   parent_id=parent_id, running_only=running_only, offset=offset)
    return {"nodes": built.rows, **built.extra}


def _prefetch(level: dict, running_only: bool, depth: int) -> None:
    """Open the first nodes of each level down to ``depth`` levels (at most TREE_PREFETCH
    nodes per level), one query per level."""
    nodes = [n for n in level["nodes"] if n["children"]][:TREE_PREFETCH]
    for _ in range(depth - 1):
        if not nodes:
            return
        levels = task_tree_levels(_db(), [n["task_id"] for n in nodes], running_only)
        for node in nodes:
            built = levels[node["task_id"]]
            node["level"] = {"nodes": built.rows, **built.extra}
        nodes = [c for n in nodes for c in n["level"]["nodes"] if c["children"]][:TREE_PREFETCH]


def job_page(job: str) -> str | tuple[str, int]:
    row = report("jobs", job_name=job).rows[0]
    running_only = arg("running_only") == "1"
    depth = int(arg("depth") or TREE_DEPTH) if (arg("depth") or "").isdigit() else TREE_DEPTH
    failures = report("failures", job_name=job, offset=arg("failures_from"))
    context = dict(job=row, progress=row["by_type"], total={**row, "task_type": "Total"},
                   failures=failures.rows, failures_extra=failures.extra,
                   running_only=running_only, depth=depth, states=STATE_ORDER)
    if request.args.get("part") != "live":
        tree = _tree_level(None, job, running_only)
        _prefetch(tree, running_only, max(1, min(depth, 6)))
        context["tree"] = tree
    return page("job.html", running=row["state"] == JOB_RUNNING, **context)


def tree_fragment() -> str:
    """Children of one node (or a job's top level), for htmx to insert when a node opens
    or "more" is clicked."""
    job, parent = arg("job_name"), arg("parent")
    level = _tree_level(int(parent) if parent and parent.isdigit() else None,
                        job, arg("running_only") == "1", int(arg("offset") or 0)
                        if (arg("offset") or "").isdigit() else 0)
    return render_template("_tree.html", level=level, job=job,
                           running_only=arg("running_only") == "1", parent=parent)


def task_page(task_id: int) -> str | tuple[str, int]:
    built = report("task", task_id=task_id)
    found = built.rows[0]
    root = Path(current_app.config["EAS_SETTINGS"].output_dir)
    for direction in ("inputs", "outputs"):
        for product in found[direction]:
            product["on_disk"] = _is_file(root, product["path"])
    live = found["state"] in LIVE_STATES
    return page("task.html", running=live, task=found, logs_truncated=built.extra[
        "logs_truncated"])


def _is_file(root: Path, relative: str) -> bool:
    real = contained(root, relative)
    return real is not None and real.is_file()


def logs_page() -> str | tuple[str, int]:
    filters = {k: arg(k) for k in ("job_name", "task_type", "task_id", "min_severity",
                                   "since", "until", "page")}
    built = report("logs", **filters)
    pages = {"previous": _with(page=built.extra["page"] - 1) if built.extra["page"] > 1
             else None,
             "next": _with(page=built.extra["page"] + 1)
             if built.extra["page"] < built.extra["pages"] else None}
    live = built.extra["page"] == 1 and _any_running(filters["job_name"])
    return page("logs.html", running=live, logs=built.rows, extra=built.extra,
                filters=filters, pages=pages)


def _any_running(job: str | None) -> bool:
    """Is anything of the job (or of any job) queued or running? Decides whether a page
    keeps refreshing itself."""
    return _db().read(lambda tx: live_attempts(tx, job)) > 0


def timings_page() -> str | tuple[str, int]:
    job, task_type = arg("job_name"), arg("task_type")
    built = report("timing_summary", job_name=job, task_type=task_type)
    figures = []
    for row in built.rows:
        figures.append({"task_type": row["task_type"], "plots": [
            plots.histogram(row["wall_clock"]["histogram"], "wall-clock (s)",
                            f"{row['task_type']} wall-clock histogram", "bar wall"),
            plots.histogram(row["cpu"]["histogram"], "CPU (s)",
                            f"{row['task_type']} CPU histogram", "bar cpu")]})
    return page("timings.html", running=_any_running(job), rows=built.rows,
                table=built.tables[0], figures=figures, job_name=job, task_type=task_type,
                csv_url=url_for("timings_csv", **_filters(job_name=job, task_type=task_type)),
                summary_csv_url=url_for("timing_summary_csv",
                                        **_filters(job_name=job, task_type=task_type)))


def _filters(**values: str | None) -> dict[str, str]:
    return {k: v for k, v in values.items() if v}


def timings_csv() -> Response:
    return _csv("timings", "timings.csv", job_name=arg("job_name"), task_type=arg("task_type"))


def timing_summary_csv() -> Response:
    return _csv("timing_summary", "timing_summary.csv", job_name=arg("job_name"),
                task_type=arg("task_type"))


def pass_fail_page() -> str | tuple[str, int]:
    job, task_type, variable = arg("job_name"), arg("task_type"), arg("variable")
    built = report("detection", job_name=job, task_type=task_type, variable=variable)
    chosen = built.extra["variable"]
    series: dict[str, list] = {}
    for row in built.rows:
        if row["value"] is None:
            continue
        name = row["task_type"] if job else f"{row['job_name']} / {row['task_type']}"
        series.setdefault(name, []).append((
            float(row["value"]), row["fraction"],
            f"{name}: {chosen}={render.cell_text(row['value'])}: {row['passed']}/"
            f"{row['attempts']} passed"))
    figure = plots.line_plot(list(series.items()), chosen or "(no loop variable)",
                             "detection fraction", "detection fraction per TDA")
    return page("pass_fail.html", running=_any_running(job), tables=built.tables,
                figure=figure, variables=built.extra["variables"], variable=chosen,
                job_name=job, task_type=task_type,
                csv_url=url_for("pass_fail_csv", **_filters(job_name=job, task_type=task_type)),
                detection_csv_url=url_for("detection_csv", **_filters(
                    job_name=job, task_type=task_type, variable=chosen)))


def pass_fail_csv() -> Response:
    return _csv("pass_fail", "pass_fail.csv", job_name=arg("job_name"),
                task_type=arg("task_type"))


def detection_csv() -> Response:
    return _csv("detection", "detection.csv", job_name=arg("job_name"),
                task_type=arg("task_type"), variable=arg("variable"))


def timeline_page() -> str | tuple[str, int]:
    job = arg("job_name")
    built = report("timeline", job_name=job, since=arg("since"), until=arg("until"),
                   limit=TIMELINE_BARS)
    extra = built.extra
    lanes = [h["host"] for h in extra["hosts"]]
    if extra["truncated"]:
        figure = plots.occupancy(lanes, extra["occupancy"], extra["since"], extra["until"],
                                 "worker occupancy")
    else:
        bars = [{"lane": r["lane"], "start": r["start"], "end": r["end"], "state": r["state"],
                 "id": r["attempt_id"],
                 "title": f"attempt {r['attempt_id']} (task {r['task_id']}, {r['task_type']}): "
                          f"{r['state']}, {r['start_time']} – {r['end_time']}"}
                for r in built.rows]
        figure = plots.gantt(lanes, bars, extra["since"], extra["until"], "attempts per worker")
    return page("timeline.html", running=_any_running(job), figure=figure, extra=extra,
                hosts=extra["hosts"], job_name=job, since=arg("since"), until=arg("until"))


def queue_page() -> str | tuple[str, int]:
    queues = report("queue")
    workers = report("workers")
    running = any(r["messages"] for r in queues.rows) or any(r["running"] for r in workers.rows)
    return page("queue.html", running=running, queues=queues.rows,
                total_messages=queues.extra["total_messages"], workers=workers.rows,
                recent=workers.extra["recent"],
                implementation=current_app.config["EAS_SETTINGS"].queue_implementation,
                max_age=current_app.config["EAS_SETTINGS"].max_heartbeat_age)


def files(relative: str = "") -> Response | str:
    """Browse the output directory; a file downloads (never rendered in our origin)."""
    root = Path(current_app.config["EAS_SETTINGS"].output_dir)
    real = contained(root, relative)
    if real is None and relative == "" and not root.exists():
        return render_template("files.html", entries=[], path="", parent=None)
    if real is None:
        abort(404)
    if real.is_dir():
        parent = str(Path(relative).parent) if relative not in ("", ".") else None
        return render_template("files.html", entries=listing(real, root), path=relative,
                               parent=None if parent is None else ("" if parent == "." else
                                                                   parent))
    if not real.is_file():
        abort(404)
    kind = mimetypes.guess_type(real.name)[0] or "application/octet-stream"
    response = send_file(real, mimetype=kind, as_attachment=True, download_name=real.name,
                         conditional=True, etag=True)
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


STATE_ORDER = (DONE, RUNNING, QUEUED, STALLED, WAITING, FAILED, CANCELLED)
ROUTES = [
    ("/healthz", healthz),
    ("/favicon.ico", favicon),
    ("/", jobs_page),
    ("/tree", tree_fragment),
    ("/jobs/<path:job>", job_page),
    ("/tasks/<int:task_id>", task_page),
    ("/logs", logs_page),
    ("/timings", timings_page),
    ("/timings.csv", timings_csv),
    ("/timing_summary.csv", timing_summary_csv),
    ("/pass_fail", pass_fail_page),
    ("/pass_fail.csv", pass_fail_csv),
    ("/detection.csv", detection_csv),
    ("/timeline", timeline_page),
    ("/queue", queue_page),
    ("/files/", files),
    ("/files/<path:relative>", files),
]
