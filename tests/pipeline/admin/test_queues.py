"""Queue administration (admin/queues.py) on the SQL queue: declaring records the choice, a
database recorded for the other queue is refused, emptying takes attempts off the queue."""

from __future__ import annotations

import pytest
from pipeline_helpers import chain

from plato_eas import actions
from plato_eas.admin.queues import check_implementation, queue_depths
from plato_eas.db import Database
from plato_eas.errors import QueueError


def test_recording_the_queue_is_idempotent(installed):
    again = actions.init_queues(installed)
    assert again["changed"] is False and again["implementation"] == "sql"
    assert again["previous_implementation"] == "sql" and "null" in again["queues"]


def test_a_database_recorded_for_the_other_queue_is_refused(installed):
    with Database(installed.replace(queue_implementation="amqp")) as db, \
            pytest.raises(QueueError, match="initialised for the 'sql' queue"):
        check_implementation(db)


def test_emptying_the_queue_leaves_the_attempts_for_reschedule(installed):
    actions.submit(installed, chain=chain("null_parallel"))
    queued = actions.schedule(installed)["attempt_ids"]
    with Database(installed) as db:
        assert queue_depths(db)["execution_chain"] == 1
    assert actions.empty_queue(installed, check_mode=True)["attempt_ids"] == queued
    emptied = actions.empty_queue(installed, queues=["execution_chain"])
    assert emptied == {"changed": True, "attempt_ids": queued,
                       "per_queue": {"execution_chain": queued}, "job_name": None,
                       "msg": "removed 1 waiting attempt (execution_chain 1); their tasks wait,"
                              " and are not scheduled again until `eas reschedule`"
                              " (plato.eas.reschedule) queues them"}
    with Database(installed) as db:
        assert queue_depths(db)["execution_chain"] == 0
    assert actions.empty_queue(installed)["changed"] is False
    assert len(actions.reschedule(installed)["attempt_ids"]) == 1


def test_emptying_an_unknown_queue_is_refused(installed):
    with pytest.raises(QueueError, match="unknown queue"):
        actions.empty_queue(installed, queues=["warp_drive"])
