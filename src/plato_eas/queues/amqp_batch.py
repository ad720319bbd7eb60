"""Publishing a large batch of messages on a connection of its own (pika's SelectConnection).

pika's ``BlockingChannel.basic_publish`` flushes the socket and waits for it after every
message, so a batch costs a write and a wake-up per message (10,000 persistent messages:
about twice the time of the asynchronous connection here). The asynchronous connection frames
the whole batch into its output buffer in one callback, writes it in large chunks, and the
broker confirms it with publisher confirms acknowledged many at a time (``multiple``). The
call returns once every message is confirmed, the same guarantee as a transaction's
``tx.commit-ok``: the broker has taken each persistent message into its durable queue.
"""

from __future__ import annotations

from typing import Any

CONFIRM_TIMEOUT = 120.0  # seconds a batch may take from connecting to its last confirm


class _Batch:
    """One publishing run: open, publish everything, count the confirms, close."""

    def __init__(self, pika: Any, messages: list[tuple[str, bytes, Any]]):
        self.pika = pika
        self.messages = messages
        self.unconfirmed = set(range(1, len(messages) + 1))  # delivery tags count from 1
        self.lowest = 1
        self.error: BaseException | None = None
        self.conn: Any = None

    def on_open(self, conn: Any) -> None:
        conn.channel(on_open_callback=self.on_channel)

    def on_channel(self, channel: Any) -> None:
        channel.add_on_close_callback(self.on_channel_closed)
        channel.confirm_delivery(self.on_confirm, callback=lambda _frame: self.send(channel))

    def send(self, channel: Any) -> None:
        for name, body, properties in self.messages:
            channel.basic_publish(exchange="", routing_key=name, body=body,
                                  properties=properties)

    def on_confirm(self, frame: Any) -> None:
        method = frame.method
        if isinstance(method, self.pika.spec.Basic.Nack):
            self.fail(self.pika.exceptions.NackError([]))
            return
        if method.multiple:
            for tag in range(self.lowest, method.delivery_tag + 1):
                self.unconfirmed.discard(tag)
            self.lowest = max(self.lowest, method.delivery_tag + 1)
        else:
            self.unconfirmed.discard(method.delivery_tag)
        if not self.unconfirmed:
            self.conn.close()

    def on_channel_closed(self, _channel: Any, reason: BaseException) -> None:
        if self.unconfirmed:
            self.fail(reason)

    def on_closed(self, _conn: Any, reason: BaseException) -> None:
        if self.unconfirmed and self.error is None:
            self.error = reason
        self.conn.ioloop.stop()

    def on_open_error(self, _conn: Any, reason: BaseException) -> None:
        self.error = reason if isinstance(reason, BaseException) else \
            self.pika.exceptions.AMQPConnectionError(str(reason))
        self.conn.ioloop.stop()

    def fail(self, reason: BaseException) -> None:
        if self.error is None:
            self.error = reason
        if not (self.conn.is_closing or self.conn.is_closed):
            self.conn.close()  # on_closed stops the loop


def publish_batch(pika: Any, parameters: Any, messages: list[tuple[str, bytes, Any]],
                  timeout: float = CONFIRM_TIMEOUT) -> None:
    """Publish each (queue name, body, properties) to the default exchange and return once the
    broker confirmed them all; otherwise raise the pika exception that ended the run (the
    caller retries the whole batch: at-least-once)."""
    if not messages:
        return
    batch = _Batch(pika, messages)
    batch.conn = pika.SelectConnection(
        parameters, on_open_callback=batch.on_open, on_open_error_callback=batch.on_open_error,
        on_close_callback=batch.on_closed)
    loop = batch.conn.ioloop
    loop.call_later(timeout, lambda: batch.fail(
        pika.exceptions.AMQPConnectionError(f"no confirm within {timeout:g} s")))
    try:
        loop.start()
    finally:
        loop.close()
    if batch.error is not None:
        raise batch.error
