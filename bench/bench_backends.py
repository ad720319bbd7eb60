"""Benchmarks of the production backends (issue 4 §6): MariaDB and RabbitMQ, real servers.

    python bench/bench_backends.py [--tasks 10000] [--attempts 5000] [--claim-rounds 3]
                                   [--only schedule,publish,claims,commits,end_to_end]
                                   [--queues sql,amqp] [--workers 4[,2...]]
                                   [--relaxed-durability] [--json out.json]

Starts throw-away MariaDB (default durability: redo log flushed at every commit;
``--relaxed-durability``: once a second, to measure what that flush costs) and RabbitMQ
servers (tests/backends/backend_servers.py; reuses those of ``scripts/servers.sh`` when
``EAS_SERVERS_DIR`` points at them) and prints:

* one scheduling pass over N ready tasks (MariaDB; SQL queue, and AMQP with the publishing of
  its N messages timed apart);
* claims/s with 4 claimer processes on the SQL queue (MariaDB), with deadlocks that escaped
  to the caller and "empty" answers given while attempts were still queued;
* the server's commit rate: one-row transactions committed by 1 and by 4 connections at once
  (with the server's ``innodb_flush_log_at_trx_commit``, printed);
* ``null`` attempts/s end to end with 4 worker processes (``--workers``), SQL queue and AMQP
  queue, with the statements (and commits) the server ran per attempt, from its
  ``Questions`` and ``Com_*`` counters.

Targets (prototype on this machine class → target): pass over 10,000 tasks 39.9 s → < 0.5 s;
claims/s 259 → > 2,000 with no deadlock escapes; end to end "a few/s" → > 300/s (issue 4),
≥ 1,000/s (issue 15).
These are measurements, not assertions.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "backends"))
sys.path.insert(0, str(ROOT / "src"))

import backend_servers as servers  # noqa: E402
from backend_helpers import add_null_tasks, init, new_host  # noqa: E402

from plato_eas.db import Database  # noqa: E402
from plato_eas.queues.base import open_queue  # noqa: E402
from plato_eas.scheduling.scheduler import schedule_pass  # noqa: E402
from plato_eas.settings import Settings  # noqa: E402

CTX = multiprocessing.get_context("fork")
TARGETS = {"schedule_pass_s": 0.5, "claims_per_s": 2000, "attempts_per_s": 1000}


def fresh(mariadb, rabbitmq, queue: str, tmp: Path) -> Settings:
    name = "eas_b_" + uuid.uuid4().hex[:10]
    mariadb.create_database(name)
    extra = {}
    if queue == "amqp":
        rabbitmq.delete_queues(["null", "error"])
        extra = dict(queue_implementation="amqp", mq_host="127.0.0.1", mq_port=rabbitmq.port,
                     mq_user=rabbitmq.user, mq_password=rabbitmq.password,
                     mq_vhost=rabbitmq.vhost)
    settings = Settings(db_engine="mysql", db_host="127.0.0.1", db_port=mariadb.port,
                        db_user=mariadb.user, db_password=mariadb.password, db_name=name,
                        data_dir=str(tmp / name), **extra)
    init(settings)
    return settings


def bench_schedule(settings: Settings, tasks: int) -> dict:
    """The pass, and (AMQP) the publishing of its outbox that ``schedule_pass`` ends with,
    timed apart: the pass is database work; publishing is one persistent message per
    attempt, bounded by the broker."""
    add_null_tasks(settings, tasks)
    with Database(settings) as db:
        queue = open_queue(db)
        publish, timed = queue.publish, {"publish": 0.0}

        def timed_publish() -> int:
            started = time.perf_counter()
            try:
                return publish()
            finally:
                timed["publish"] += time.perf_counter() - started

        queue.publish = timed_publish
        started = time.perf_counter()
        result = schedule_pass(db, queue=queue)
        elapsed = time.perf_counter() - started
        queue.close()
    assert len(result["attempt_ids"]) == tasks
    return {"tasks": tasks, "seconds": round(elapsed - timed["publish"], 3),
            "publish_seconds": round(timed["publish"], 3), "total_seconds": round(elapsed, 3)}


def bench_publish(mariadb, rabbitmq, tmp: Path, messages: int) -> dict:
    """The same outbox published both ways pika allows through its public API: a
    connection of its own with batched publisher confirms (what ``AmqpQueue`` does for
    large batches) and the blocking channel, which flushes the socket after every message."""
    from plato_eas.queues.amqp import AmqpQueue

    default = AmqpQueue.batch_connection_min
    figures = {}
    try:
        for key, smallest in (("per_message_flush_s", 10**9), ("batch_connection_s", default)):
            AmqpQueue.batch_connection_min = smallest
            settings = fresh(mariadb, rabbitmq, "amqp", tmp)
            figures[key] = bench_schedule(settings, messages)["publish_seconds"]
    finally:
        AmqpQueue.batch_connection_min = default
    return figures


def _claimer(settings: Settings, host: int, out) -> None:
    from plato_eas.errors import EasError

    # A "spurious empty" is a None answer followed by a successful claim of the same claimer:
    # the queue was reported empty although it was not. (A None while the last rows are
    # locked by other claimers' uncommitted claims is a true answer: they are taken.)
    claimed, empties, escapes, doubted = [], 0, 0, False
    with Database(settings) as db:
        queue = open_queue(db)
        while True:
            try:
                aid = queue.claim(["null"], host)
            except EasError:
                escapes += 1
                continue
            if aid is None:
                time.sleep(0.01)
                left = db.read(lambda tx: tx.scalar(
                    "SELECT COUNT(*) FROM eas_scheduling_attempt WHERE isQueued = 1"))
                if left:
                    doubted = True
                    continue
                break
            if doubted:
                empties += 1
                doubted = False
            claimed.append(aid)
        queue.close()
    out.put((claimed, empties, escapes))


def bench_claims(settings: Settings, attempts: int, claimers: int = 4) -> dict:
    add_null_tasks(settings, attempts)
    with Database(settings) as db:
        schedule_pass(db)
    hosts = [new_host(settings, f"claimer-{i}") for i in range(claimers)]
    out = CTX.Queue()
    procs = [CTX.Process(target=_claimer, args=(settings, h, out)) for h in hosts]
    started = time.perf_counter()
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    elapsed = time.perf_counter() - started
    for p in procs:
        p.join()
    claimed = [a for r in results for a in r[0]]
    return {"claimers": claimers, "claims": len(claimed), "duplicates": len(claimed)
            - len(set(claimed)), "seconds": round(elapsed, 3),
            "claims_per_s": round(len(claimed) / elapsed), "spurious_empty":
            sum(r[1] for r in results), "deadlock_escapes": sum(r[2] for r in results)}


def _worker(settings: Settings) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    from plato_eas.worker.worker import serve

    serve(settings, until_empty=True, task_types=["null"])


COUNTERS = ("Questions", "Com_commit", "Com_begin", "Com_select", "Com_insert", "Com_update",
            "Com_delete", "Innodb_log_writes", "Innodb_data_fsyncs")


def server_status(mariadb) -> dict[str, int]:
    """The server's global statement and redo-log counters (every client's)."""
    with mariadb.admin() as conn, conn.cursor() as cur:
        cur.execute("SHOW GLOBAL STATUS WHERE Variable_name IN ("
                    + ", ".join(["%s"] * len(COUNTERS)) + ")", COUNTERS)
        return {name: int(value) for name, value in cur.fetchall()}


def server_variable(mariadb, name: str) -> str:
    with mariadb.admin() as conn, conn.cursor() as cur:
        cur.execute("SELECT @@GLOBAL." + name)
        return str(cur.fetchone()[0])


def process_cpu(pid: int | None) -> float | None:
    """CPU seconds (user + system) a process has used so far; None when it cannot be read."""
    try:
        fields = Path(f"/proc/{int(pid)}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, TypeError, ValueError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_pids(mariadb, rabbitmq) -> dict[str, int | None]:
    try:
        rabbit = int((rabbitmq.base / "rabbit.pid").read_text().strip())
    except (OSError, ValueError):
        rabbit = None
    return {"mariadbd": mariadb.pid, "rabbitmq": rabbit}


def _committer(settings: Settings, row: int, seconds: float, out) -> None:
    with Database(settings) as db:
        done, end = 0, time.perf_counter() + seconds
        while time.perf_counter() < end:
            db.run(lambda tx, name=str(done): tx.execute(
                "UPDATE eas_worker_host SET hostname = ? WHERE hostId = ?", (name, row)))
            done += 1
    out.put(done)


def bench_commits(mariadb, settings: Settings, clients: int, seconds: float = 3.0,
                  pid: int | None = None) -> dict:
    """One-row UPDATE transactions (BEGIN, UPDATE, COMMIT: three round trips) committed as
    fast as ``clients`` connections can, each on its own row: the ceiling the redo-log flush
    at commit puts on transactions per second."""
    rows = [new_host(settings, f"committer-{i}") for i in range(clients)]
    out = CTX.Queue()
    procs = [CTX.Process(target=_committer, args=(settings, r, seconds, out)) for r in rows]
    before = server_status(mariadb)
    cpu = process_cpu(pid)
    for p in procs:
        p.start()
    commits = sum(out.get() for _ in procs)
    for p in procs:
        p.join()
    cpu = None if cpu is None else process_cpu(pid) - cpu
    after = server_status(mariadb)
    return {"clients": clients, "commits": commits, "commits_per_s": round(commits / seconds),
            "fsyncs_per_commit": round((after["Innodb_data_fsyncs"]
                                        - before["Innodb_data_fsyncs"]) / max(commits, 1), 2),
            "server_cpu_us_per_commit": None if cpu is None else round(
                cpu / max(commits, 1) * 1e6)}


def bench_end_to_end(settings: Settings, attempts: int, workers: int = 4,
                     mariadb=None, pids: dict | None = None) -> dict:
    add_null_tasks(settings, attempts)
    with Database(settings) as db:
        schedule_pass(db)
    procs = [CTX.Process(target=_worker, args=(settings,)) for _ in range(workers)]
    before = server_status(mariadb) if mariadb else None
    server_cpu = {name: process_cpu(pid) for name, pid in (pids or {}).items()}
    started = time.perf_counter()
    cpu = os.times()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - started
    spent = os.times()
    server_cpu = {name: round(process_cpu(pid) - server_cpu[name], 2)
                  for name, pid in (pids or {}).items() if server_cpu[name] is not None}
    after = server_status(mariadb) if mariadb else None
    with Database(settings) as db:
        done = db.read(lambda tx: tx.scalar(
            "SELECT COUNT(*) FROM eas_scheduling_attempt WHERE isFinished = 1 "
            "AND errorFail = 0"))
    figures = {"workers": workers, "attempts": attempts, "done": done,
               "seconds": round(elapsed, 2), "attempts_per_s": round(done / elapsed),
               "worker_cpu_s": round(spent.children_user + spent.children_system
                                     - cpu.children_user - cpu.children_system, 2),
               "server_cpu_s": server_cpu}
    if before and after:
        figures["per_attempt"] = {k: round((after[k] - before[k]) / max(done, 1), 2)
                                  for k in COUNTERS}
    return figures


PARTS = ("schedule", "publish", "claims", "commits", "end_to_end")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10000)
    parser.add_argument("--attempts", type=int, default=5000)
    parser.add_argument("--claim-rounds", type=int, default=3)
    parser.add_argument("--only", default=",".join(PARTS),
                        help="comma-separated parts to run: " + ", ".join(PARTS))
    parser.add_argument("--queues", default="sql,amqp", help="end to end: sql, amqp or both")
    parser.add_argument("--workers", default="4",
                        help="end to end: worker processes (comma-separated: one run each)")
    parser.add_argument("--relaxed-durability", action="store_true",
                        help="start MariaDB with innodb_flush_log_at_trx_commit=2 (redo log "
                        "flushed once a second: a power cut loses up to a second of commits), "
                        "to measure what the flush at commit costs; the default is durable")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    unknown = parts - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s) {sorted(unknown)}; known: {', '.join(PARTS)}")
    queues = [q for q in args.queues.split(",") if q]
    worker_counts = [int(w) for w in args.workers.split(",") if w]

    state = servers.load_state(Path(os.environ["EAS_SERVERS_DIR"])) \
        if os.environ.get("EAS_SERVERS_DIR") else None
    tmp = Path(tempfile.mkdtemp(prefix="eas-bench-"))
    if state and args.relaxed_durability:
        parser.error("--relaxed-durability starts servers of its own: unset EAS_SERVERS_DIR")
    if state:
        mariadb, rabbitmq = servers.servers_from_state(state)
        own = False
    else:
        servers.ensure_packages()
        mariadb = servers.MariaDB(tmp / "mariadb",
                                  fast_commit=args.relaxed_durability).start()
        rabbitmq = servers.RabbitMQ(tmp / "rabbitmq").start()
        own = True
    flush = server_variable(mariadb, "innodb_flush_log_at_trx_commit")
    durability = f"innodb_flush_log_at_trx_commit={flush}" + (
        " (durable: redo log flushed at every commit)" if flush == "1" else " (NOT durable)")
    print(f"MariaDB {server_variable(mariadb, 'version')}, {durability}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    figures: dict = {"innodb_flush_log_at_trx_commit": flush}
    try:
        for queue in ("sql", "amqp") if "schedule" in parts else ():
            figures[f"schedule_pass_{queue}"] = bench_schedule(
                fresh(mariadb, rabbitmq, queue, tmp), args.tasks)
            p = figures[f"schedule_pass_{queue}"]
            sent = (f"; then publishing {args.tasks} persistent messages "
                    f"{p['publish_seconds']} s, {p['total_seconds']} s in all"
                    if queue == "amqp" else "")
            print(f"schedule pass, {args.tasks} ready tasks, MariaDB + {queue}: "
                  f"{p['seconds']} s (target < {TARGETS['schedule_pass_s']} s; "
                  f"prototype 39.9 s){sent}", flush=True)
        if "publish" in parts:
            figures["publish"] = bench_publish(mariadb, rabbitmq, tmp, args.tasks)
            p = figures["publish"]
            print(f"publishing {args.tasks} persistent messages: {p['batch_connection_s']} s on "
                  f"a connection of its own with batched confirms, {p['per_message_flush_s']} s "
                  f"on the blocking channel (one flush per message, one transaction)",
                  flush=True)
        if "claims" in parts:
            # Several rounds (a fresh database each): on a small VM one round can vary by 15 %.
            rounds = [bench_claims(fresh(mariadb, rabbitmq, "sql", tmp), args.attempts)
                      for _ in range(args.claim_rounds)]
            rates = [r["claims_per_s"] for r in rounds]
            figures["claims_sql"] = {"rounds": rounds, "median_claims_per_s": median(rates)}
            print(f"claims, 4 claimers, SQL queue on MariaDB: median {median(rates):.0f}/s over "
                  f"{len(rounds)} rounds {rates} ({sum(r['claims'] for r in rounds)} claims, "
                  f"{sum(r['duplicates'] for r in rounds)} duplicates, "
                  f"{sum(r['deadlock_escapes'] for r in rounds)} deadlock escapes, "
                  f"{sum(r['spurious_empty'] for r in rounds)} spurious empty; "
                  f"target > {TARGETS['claims_per_s']}/s; prototype 259/s)", flush=True)
        if "commits" in parts:
            settings = fresh(mariadb, rabbitmq, "sql", tmp)
            for clients in (1, 4):
                c = bench_commits(mariadb, settings, clients,
                                  pid=server_pids(mariadb, rabbitmq)["mariadbd"])
                figures[f"commits_{clients}"] = c
                print(f"commits, {clients} connection(s), one-row UPDATE each, "
                      f"innodb_flush_log_at_trx_commit={flush}: {c['commits_per_s']}/s "
                      f"({c['fsyncs_per_commit']} fsyncs and {c['server_cpu_us_per_commit']} µs "
                      f"of mariadbd CPU per commit; load average {os.getloadavg()[0]:.2f})",
                      flush=True)
        for queue in queues if "end_to_end" in parts else ():
            for workers in worker_counts:
                key = f"end_to_end_{queue}_{workers}"
                figures[key] = bench_end_to_end(fresh(mariadb, rabbitmq, queue, tmp),
                                                args.attempts, workers, mariadb,
                                                server_pids(mariadb, rabbitmq))
                e = figures[key]
                per = e.get("per_attempt", {})
                counts = ", ".join(f"{k} {v}" for k, v in per.items())
                print(f"null attempts end to end, {workers} workers, MariaDB + {queue}: "
                      f"{e['attempts_per_s']}/s ({e['done']}/{e['attempts']} done in "
                      f"{e['seconds']} s, CPU: workers {e['worker_cpu_s']} s, "
                      + "".join(f"{k} {v} s, " for k, v in e["server_cpu_s"].items())
                      + f"target > {TARGETS['attempts_per_s']}/s; load average "
                      f"{os.getloadavg()[0]:.2f}); per attempt: {counts}", flush=True)
    finally:
        if own:
            rabbitmq.stop()
            mariadb.stop()
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
