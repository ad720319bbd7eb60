"""The Celery application of the benchmark: one no-op task on RabbitMQ (``PEER_BROKER``), the
database result backend when ``PEER_BACKEND`` is set. Without a backend each worker child
appends one byte per finished task to ``PEER_COUNT`` so the driver can tell when all are done."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import task_postrun

app = Celery("peers", broker=os.environ["PEER_BROKER"], backend=os.environ.get("PEER_BACKEND"))
app.conf.update(task_ignore_result=not os.environ.get("PEER_BACKEND"),
                worker_prefetch_multiplier=64, broker_connection_retry_on_startup=True,
                task_default_queue="peers", worker_hijack_root_logger=False)
_count: list[int] = []


@app.task(name="noop")
def noop(*_deps):
    return None


@task_postrun.connect
def _counted(**_kwargs) -> None:
    path = os.environ.get("PEER_COUNT")
    if not path:
        return
    if not _count:
        _count.append(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))
    os.write(_count[0], b".")
