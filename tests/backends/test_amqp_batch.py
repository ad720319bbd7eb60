"""Publishing a batch on a connection of its own (queues/amqp_batch.py) against a real broker:
every message confirmed before it returns, every failure raised for the caller to retry."""

from __future__ import annotations

import pika
import pytest
from backend_helpers import amqp_options

from plato_eas.queues.amqp_batch import publish_batch

pytestmark = pytest.mark.amqp
QUEUE = "eas_batch_test"
PERSISTENT = pika.BasicProperties(delivery_mode=2)


def _parameters(rabbitmq, **changes):
    o = dict(amqp_options(rabbitmq), **changes)
    return pika.ConnectionParameters(
        host=o["mq_host"], port=int(o["mq_port"]), virtual_host=o["mq_vhost"],
        credentials=pika.PlainCredentials(o["mq_user"], o["mq_password"]),
        connection_attempts=1, socket_timeout=5)


@pytest.fixture
def queue(rabbitmq):
    rabbitmq.delete_queues([QUEUE])
    conn = pika.BlockingConnection(_parameters(rabbitmq))
    channel = conn.channel()
    channel.queue_declare(QUEUE, durable=True)
    yield channel
    conn.close()
    rabbitmq.delete_queues([QUEUE])


def test_every_message_is_in_the_queue_when_it_returns(rabbitmq, queue):
    bodies = [str(i).encode() for i in range(3000)]
    publish_batch(pika, _parameters(rabbitmq), [(QUEUE, b, PERSISTENT) for b in bodies])
    assert queue.queue_declare(QUEUE, passive=True).method.message_count == 3000
    first = queue.basic_get(QUEUE, auto_ack=True)
    assert first[2] == b"0"


def test_an_unreachable_broker_is_raised_for_the_caller_to_retry(rabbitmq, queue):
    from backend_servers import free_port

    with pytest.raises(pika.exceptions.AMQPConnectionError):
        publish_batch(pika, _parameters(rabbitmq, mq_port=free_port()), [(QUEUE, b"1", PERSISTENT)])
    with pytest.raises(pika.exceptions.AMQPConnectionError):  # authentication refused
        publish_batch(pika, _parameters(rabbitmq, mq_password="wrong"), [(QUEUE, b"1", PERSISTENT)])
    assert queue.queue_declare(QUEUE, passive=True).method.message_count == 0


def test_nothing_to_send_opens_no_connection(rabbitmq):
    publish_batch(pika, _parameters(rabbitmq, mq_port=1), [])  # no error: no call
