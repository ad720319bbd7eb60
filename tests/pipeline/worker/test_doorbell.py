"""An idle worker of an embedded run waits on the run's doorbell: it claims work the moment a
pass (or another worker's recording transaction) queued it, and leaves the moment it is told
to stop, instead of at the end of its idle wait. The waits here are made an hour long, so
only the doorbell (or the stop) can end them within the test."""

from __future__ import annotations

import threading

from pipeline_helpers import attempt_rows, wait_for

from plato_eas import actions
from plato_eas.db import Database
from plato_eas.queues.base import open_queue
from plato_eas.queues.doorbell import Doorbell
from plato_eas.scheduling.scheduler import schedule_pass
from plato_eas.worker import worker as worker_module
from plato_eas.worker.worker import Worker

HOUR = (3600.0, 3600.0)


def _idle_worker(settings, bell: Doorbell | None, idle_bell: Doorbell | None = None):
    worker = Worker(settings, work_bell=bell, idle_bell=idle_bell)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return worker, thread


def _pass(settings, bell: Doorbell | None) -> list[int]:
    with Database(settings) as db:
        queue = open_queue(db)
        queue.doorbell = bell
        return schedule_pass(db, queue=queue)["attempt_ids"]


def _submit(settings) -> None:
    actions.submit(settings, chain={"job_name": "bell", "task_list": [
        {"task": "null", "name": "first", "outputs": {"x": "first.lc"}},
        {"task": "null", "name": "second", "inputs": {"x": "first.lc"}}]})


def _done(settings) -> int:
    return sum(1 for a in attempt_rows(settings) if a["isFinished"] and not a["errorFail"])


def test_a_pass_that_queues_work_wakes_an_idle_worker(installed, monkeypatch):
    monkeypatch.setattr(worker_module, "IDLE_WAIT", HOUR)
    bell, idle = Doorbell(), Doorbell()
    worker, thread = _idle_worker(installed, bell, idle)
    try:
        assert idle.wait(30)  # it found the queue empty, said so, and waits
        _submit(installed)
        assert _pass(installed, bell)
        # the chain, then both tasks: the second queued by the first's recording transaction
        assert wait_for(lambda: _done(installed) == 3, 30)
    finally:
        worker.stop()
        thread.join(30)
    assert not thread.is_alive()


def test_without_a_ring_the_idle_worker_waits_out_its_wait(installed, monkeypatch):
    monkeypatch.setattr(worker_module, "IDLE_WAIT", HOUR)
    bell, idle = Doorbell(), Doorbell()
    worker, thread = _idle_worker(installed, bell, idle)
    try:
        assert idle.wait(30)
        _submit(installed)
        assert _pass(installed, None)  # queued, but nobody rings
        assert not wait_for(lambda: _done(installed) > 0, 2)
    finally:
        worker.stop()
        thread.join(30)


def test_an_idle_worker_told_to_stop_leaves_at_once(installed, monkeypatch):
    monkeypatch.setattr(worker_module, "IDLE_WAIT", HOUR)
    for bell in (Doorbell(), None):
        idle = Doorbell()
        worker, thread = _idle_worker(installed, bell, idle)
        assert idle.wait(30)
        worker.stop()
        thread.join(30)
        assert not thread.is_alive()
