"""Opening the configured job queue (queues/base.py)."""

from __future__ import annotations

import math

import pytest

from plato_eas.db import Database
from plato_eas.errors import QueueError
from plato_eas.queues.amqp import AmqpQueue
from plato_eas.queues.base import open_queue
from plato_eas.queues.sql import SqlQueue


def test_the_configured_implementation_opens_on_the_callers_database(db):
    queue = open_queue(db)
    assert isinstance(queue, SqlQueue) and queue.db is db
    queue.close()


def test_a_daemon_waits_for_the_broker_for_as_long_as_it_takes(installed):
    amqp = installed.replace(queue_implementation="amqp")
    with Database(amqp) as db:
        one_off, daemon = open_queue(db), open_queue(db, daemon=True)
        assert isinstance(one_off, AmqpQueue) and math.isfinite(one_off.reconnect_patience)
        assert daemon.connect_patience == daemon.reconnect_patience == math.inf


def test_an_unreachable_broker_is_a_one_line_error_for_a_one_off_caller(installed):
    unreachable = installed.replace(queue_implementation="amqp", mq_port=1)
    with Database(unreachable) as db:
        queue = AmqpQueue(db, connect_patience=0.3)
        with pytest.raises(QueueError) as err:
            queue.declare(["null"])
    assert str(err.value).startswith("cannot reach RabbitMQ") and "\n" not in str(err.value)
