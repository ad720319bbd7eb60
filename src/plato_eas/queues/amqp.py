"""The RabbitMQ job queue (SPEC §5), through pika.

One durable queue per task type, named after it; each message is one scheduling-attempt id in
ASCII decimal, published persistent, confirmed by the broker in batches. The task database
stays the record of truth, and the broker is never called inside a database unit (a unit may
be re-run; the broker cannot take a message back):

* **Outbox.** :meth:`AmqpQueue.stage` writes ``eas_queue_outbox`` rows inside the scheduling
  transaction; :meth:`AmqpQueue.publish` (after commit) reads them, sends them, then deletes
  them, as three steps. A batch is confirmed as a whole: on a transactional channel
  (``tx.commit-ok``), or from ``batch_connection_min`` messages on a connection of its own
  with publisher confirms acknowledged many at a time (``queues/amqp_batch.py``: pika's
  blocking channel flushes the socket after every message). Either way the broker has taken
  every (persistent) message into its durable queue before the rows go; per-message confirms
  would cost a round trip and a disk sync each (10,000 messages: 22 s against 3 s). A
  scheduler that dies between commit and publish leaves rows behind that the next
  ``publish()`` (any scheduler) sends: nothing is lost; a crash after sending but before the
  delete sends a duplicate, which claim() skips.
* **Claim.** Each queue object consumes with ``basic.qos(prefetch_count=1, global)``: at most
  one unacknowledged message per worker. A delivered id is claimed in the database with
  ``UPDATE … SET isQueued=0, isRunning=1 … WHERE schedulingAttemptId=? AND isQueued=1``; a
  message whose attempt is no longer queued (finished, running elsewhere, purged, a
  duplicate) is acked and skipped. :meth:`done` acks only after the worker recorded the
  attempt finished, so a worker that dies mid-task gets its message redelivered (and the
  running attempt is recovered by the scheduler's stalled-attempt handling). While the task
  runs, :meth:`keepalive` (with each task heartbeat) answers the broker's AMQP heartbeats, so
  the broker keeps the connection and the ack reaches it.
* **Claim while recording.** Before a worker records an attempt, :meth:`reserve` fetches the
  next message (``basic.get``, having cancelled the consumer: fetched messages do not count
  against the prefetch limit, and a busy worker must not be pushed one more); the recording
  transaction claims its attempt (:meth:`claim_within`) and loads it, so an attempt costs one
  database commit, and the message is held once that commits. A reserved message the
  transaction did not claim is claimed or skipped by the next :meth:`claim`.
* **Priorities.** Queues are declared with ``x-max-priority`` (``QUEUE_ARGUMENTS``) and each
  message carries its attempt's priority, so the broker delivers higher priorities first and
  equal ones first in, first out. RabbitMQ cannot change the arguments of an existing queue
  (a declare with other arguments is refused): a queue declared before priorities keeps
  working first in, first out; :meth:`prioritise` (the ``queues`` action) declares it again
  with priorities once it is empty and unconsumed.
* **Purge** (``empty_queue``, a cancel). The database first, holding the outbox lease:
  attempts unqueued or cancelled, the outbox rows of the queues concerned dropped, and what is
  still queued in them (another job's attempts) staged again; then the broker queues are
  purged and the staged rows published: RabbitMQ cannot take single messages out of a queue,
  so one job's messages leave by purging the queue and sending the others again (about 3 s
  per 10,000 messages).
* **Reconnect.** Every broker operation is retried on connection loss with exponential
  backoff (0.2 s → 5 s), for ``connect_patience`` seconds before the first successful
  connection and ``reconnect_patience`` seconds after one; then a one-line
  :class:`~plato_eas.errors.QueueError`. Wrong credentials or vhost, and a broker certificate
  that does not verify (``mq_tls``; ``mq_ca_file`` for a private CA), fail at once.

A broker ``consumer_timeout`` (RabbitMQ default 30 min) shorter than a task closes the
worker's channel: harmless (the redelivered message is skipped because the attempt is
running), but operators should raise it for long tasks.
"""

from __future__ import annotations

import logging
import os
import ssl
import time
from collections import deque
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TypeVar

from .. import defaults
from ..db import Database, Tx
from ..defaults import PRIORITY_MAX, PRIORITY_MIN
from ..errors import EasError, QueueError
from ..model import attempts
from . import outbox
from .amqp_batch import publish_batch

log = logging.getLogger(__name__)
T = TypeVar("T")

# Queues carry RabbitMQ message priorities 0 .. MAX_PRIORITY: our priorities shifted up.
MAX_PRIORITY = PRIORITY_MAX - PRIORITY_MIN
QUEUE_ARGUMENTS = {"x-max-priority": MAX_PRIORITY}


def message_priority(priority: int | None) -> int:
    """An attempt's priority as a RabbitMQ message priority (0 .. MAX_PRIORITY)."""
    return min(MAX_PRIORITY, max(0, (priority or 0) - PRIORITY_MIN))

class _ExpectedNotFound(logging.Filter):
    """pika logs every broker-closed channel as a warning; a passive declare of a queue that
    does not exist yet is expected (declare, depths), so that one is not worth a warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "NOT_FOUND - no queue" not in record.getMessage()


logging.getLogger("pika.channel").addFilter(_ExpectedNotFound())


class _Reconnect(Exception):
    """Internal: the channel went away under us (e.g. a consumed queue was deleted)."""


class AmqpQueue:
    implementation = "amqp"
    #: seconds to keep retrying before the first successful connection (admin actions)
    connect_patience = defaults.AMQP_CONNECT_PATIENCE
    #: seconds to keep retrying after a connection was lost (daemons survive broker restarts)
    reconnect_patience = defaults.AMQP_RECONNECT_PATIENCE
    #: longest a claim waits for a delivery while the broker still reports ready messages
    claim_wait = 5.0
    #: AMQP heartbeat timeout (seconds) the client asks for; it takes precedence over the
    #: broker's proposal
    heartbeat = defaults.AMQP_HEARTBEAT
    #: batches of at least this many messages are published on a connection of their own
    batch_connection_min = 200

    def __init__(self, db: Database, connect_patience: float | None = None,
                 reconnect_patience: float | None = None):
        try:
            import pika
        except ImportError:
            raise QueueError(
                "queue_implementation amqp needs the pika package (pip install 'plato-eas[amqp]')"
            ) from None
        self.pika = pika
        self.db = db
        self.settings = db.settings
        if connect_patience is not None:
            self.connect_patience = connect_patience
        if reconnect_patience is not None:
            self.reconnect_patience = reconnect_patience
        self._tls = self._tls_context() if self.settings.mq_tls else None
        self._conn: Any = None
        self._ch: Any = None
        self._pub: Any = None  # transactional publishing channel
        self._gen = 0  # connection generation: delivery tags die with their connection
        self._ever_connected = False
        self._declared: set[str] = set()
        self._consuming: tuple[str, ...] = ()
        self._buffer: deque[tuple[int, bytes]] = deque()
        self._held: dict[int, tuple[int, int]] = {}  # attempt id -> (generation, tag)
        # (generation, tag, attempt id): fetched by reserve() for claim_within, not claimed yet
        self._reserved: tuple[int, int, int] | None = None
        self._lease = outbox.Lease()
        import pika.exceptions as px

        self._fatal = (px.ProbableAuthenticationError, px.AuthenticationError,
                       px.ProbableAccessDeniedError)
        self._transient = (px.AMQPConnectionError, px.ChannelWrongStateError,
                           px.ConsumerCancelled, px.UnroutableError, px.NackError, OSError,
                           _Reconnect)

    # -- connection -----------------------------------------------------------------------
    def describe(self) -> str:
        s = self.settings
        scheme = "amqps" if s.mq_tls else "amqp"
        vhost = s.mq_vhost if s.mq_vhost == "/" else "/" + s.mq_vhost
        return f"{scheme}://{s.mq_user}@{s.mq_host}:{s.mq_port}{vhost}"

    def _tls_context(self) -> ssl.SSLContext:
        """Verify the broker's certificate and host name against ``mq_ca_file`` (a private
        CA) or else the system's trusted CAs."""
        ca_file = self.settings.mq_ca_file or None
        try:
            return ssl.create_default_context(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or exc
            raise QueueError(f"mq_ca_file {ca_file}: {reason}") from None

    def _parameters(self) -> Any:
        s = self.settings
        pika = self.pika
        options = None
        if self._tls is not None:
            options = pika.SSLOptions(self._tls, server_hostname=s.mq_host)
        return pika.ConnectionParameters(
            host=s.mq_host, port=int(s.mq_port), virtual_host=s.mq_vhost,
            credentials=pika.PlainCredentials(s.mq_user, s.mq_password, erase_on_connect=False),
            ssl_options=options, heartbeat=self.heartbeat, blocked_connection_timeout=120,
            connection_attempts=1, socket_timeout=5, stack_timeout=15,
            client_properties={"connection_name": f"plato-eas pid {os.getpid()}"},
        )

    def _connect(self) -> None:
        self._drop()
        conn = self.pika.BlockingConnection(self._parameters())
        try:
            ch = conn.channel()
            ch.basic_qos(prefetch_count=1, global_qos=True)
            ch.add_on_cancel_callback(self._on_cancel)
            pub = conn.channel()
            pub.tx_select()
        except BaseException:
            conn.close()
            raise
        self._conn, self._ch, self._pub = conn, ch, pub
        self._gen += 1
        self._ever_connected = True

    def _drop(self) -> None:
        """Forget the connection; the broker requeues whatever it had delivered to us."""
        conn, self._conn, self._ch, self._pub = self._conn, None, None, None
        self._declared.clear()
        self._consuming = ()
        self._buffer.clear()
        self._held.clear()
        self._reserved = None
        if conn is not None:
            try:
                if conn.is_open:
                    conn.close()
            except Exception:  # noqa: BLE001 - it is gone either way
                pass

    def _on_cancel(self, _frame: Any) -> None:
        self._consuming = ()  # the broker cancelled a consumer (queue deleted): re-consume

    def _broker(self, op: Callable[[], T]) -> T:
        """Run ``op`` on a live channel, reconnecting with backoff on connection loss."""
        px = self.pika.exceptions
        delay = 0.2
        start = time.monotonic()
        while True:
            try:
                if (self._conn is None or not self._conn.is_open or not self._ch.is_open
                        or not self._pub.is_open):
                    self._connect()
                return op()
            except self._fatal as exc:
                self._drop()
                raise QueueError(f"RabbitMQ {self.describe()} refused the login "
                                 f"(user, password or vhost): {type(exc).__name__}") from None
            except px.ChannelClosedByBroker as exc:
                self._drop()
                raise QueueError(f"RabbitMQ {self.describe()}: {exc.reply_code} "
                                 f"{exc.reply_text}") from None
            except ssl.SSLCertVerificationError as exc:  # retrying would not change it
                self._drop()
                raise QueueError(f"RabbitMQ {self.describe()}: TLS certificate verify failed: "
                                 f"{exc.verify_message}") from None
            except self._transient as exc:
                self._drop()
                patience = (self.reconnect_patience if self._ever_connected
                            else self.connect_patience)
                if time.monotonic() - start + delay > patience:
                    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    raise QueueError(f"cannot reach RabbitMQ {self.describe()}: {detail}"
                                     ) from None
                log.warning("RabbitMQ connection lost (%s); retrying in %.1f s",
                            type(exc).__name__, delay)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _count(self, name: str) -> int | None:
        """Ready messages in ``name`` (None when the queue does not exist), not consuming."""
        with self._side_channel() as ch:
            try:
                return ch.queue_declare(queue=name, passive=True).method.message_count
            except self.pika.exceptions.ChannelClosedByBroker as exc:
                if exc.reply_code == 404:
                    return None
                raise

    def _ensure_declared(self, names: list[str]) -> list[str]:
        """Declare (durable, with priorities) each queue that does not exist yet; returns the
        new ones. An existing queue is accepted as it is (an operator may have made it a
        quorum queue; one declared before priorities delivers first in, first out:
        :meth:`prioritise` upgrades it)."""
        new = []
        for name in names:
            if name in self._declared:
                continue
            if self._count(name) is None:
                self._ch.queue_declare(queue=name, durable=True, arguments=QUEUE_ARGUMENTS)
                new.append(name)
            self._declared.add(name)
        return new

    @contextmanager
    def _side_channel(self) -> Iterator[Any]:
        """A channel of its own for a request the broker may refuse by closing the channel
        (the main channel and its consumers stay as they are)."""
        ch = self._conn.channel()
        try:
            yield ch
        finally:
            if ch.is_open:
                ch.close()

    def _unless_precondition_fails(self, request: Callable[[Any], None]) -> bool:
        """Run ``request`` on a side channel: False when the broker refuses it with 406
        PRECONDITION_FAILED, which changes nothing."""
        with self._side_channel() as ch:
            try:
                request(ch)
            except self.pika.exceptions.ChannelClosedByBroker as exc:
                if exc.reply_code == 406:
                    return False
                raise
        return True

    def _has_priorities(self, name: str) -> bool:
        """Whether the existing queue ``name`` was declared with our ``x-max-priority``: a
        declare with other arguments is refused, changing nothing."""
        return self._unless_precondition_fails(lambda ch: ch.queue_declare(
            queue=name, durable=True, arguments=QUEUE_ARGUMENTS))

    def _inspect(self, names: list[str]) -> dict[str, tuple[int, int] | None]:
        """{name: (ready messages, consumers)} of the existing queues without priorities."""
        out: dict[str, tuple[int, int] | None] = {}
        for name in names:
            if self._count(name) is not None and not self._has_priorities(name):
                with self._side_channel() as ch:
                    found = ch.queue_declare(queue=name, passive=True).method
                    out[name] = (found.message_count, found.consumer_count)
        return out

    def _recreate(self, name: str) -> bool:
        """Delete an empty, unconsumed queue and declare it again with priorities (the
        broker refuses the delete if a message or a consumer arrived meanwhile)."""
        if not self._unless_precondition_fails(lambda ch: ch.queue_delete(
                queue=name, if_unused=True, if_empty=True)):
            return False
        self._declared.discard(name)
        self._ch.queue_declare(queue=name, durable=True, arguments=QUEUE_ARGUMENTS)
        self._declared.add(name)
        return True

    def _ready(self, name: str) -> int:
        """Ready messages in a queue we consume (so it exists), on the main channel."""
        try:
            return self._ch.queue_declare(queue=name, passive=True).method.message_count
        except self.pika.exceptions.ChannelClosedByBroker as exc:
            if exc.reply_code == 404:  # deleted under us: reconnect, redeclare, re-consume
                raise _Reconnect(str(exc)) from None
            raise

    # -- JobQueue interface ---------------------------------------------------------------
    def declare(self, names: list[str]) -> list[str]:
        return self._broker(lambda: self._ensure_declared(list(names)))

    def prioritise(self, names: list[str], check_mode: bool = False) -> dict:
        """Existing queues declared without priorities (RabbitMQ cannot change a queue's
        arguments): each one that is empty and unconsumed is deleted and declared again
        with them, holding the outbox lease so that nothing is published meanwhile; the
        others are returned with their ready messages, to be emptied first. Returns
        {"upgraded": [names], "without_priority": {name: messages}}."""
        found = self._broker(lambda: self._inspect(list(names)))
        idle = [name for name, (messages, consumers) in found.items()
                if messages == 0 and consumers == 0]
        upgraded: list[str] = []
        if idle and not check_mode:
            self._leased(lambda tx: None)
            try:
                upgraded = [n for n in idle if self._broker(lambda n=n: self._recreate(n))]
            finally:
                self._release_lease()
        elif check_mode:
            upgraded = idle
        return {"upgraded": upgraded,
                "without_priority": {name: found[name][0] for name in sorted(found)
                                     if name not in upgraded}}

    def stage(self, tx: Tx, attempts: dict[str, list[int]]) -> None:
        outbox.stage(tx, attempts)

    def publish(self) -> int:
        """Send every outbox row (ours or a crashed scheduler's), then delete the rows sent.
        Rows whose attempt is no longer queued (purged, deleted) are dropped unsent.

        Read (under the scheduler lock and the outbox lease), send, then delete (giving the
        lease back), as separate steps: no database unit waits on the broker, a unit re-run
        after a deadlock sends nothing again, and two publishers never send the same rows.
        A batch whose delete fails after the broker confirmed it is sent again later (at
        least once: the claimer acks and skips a message whose attempt is not queued)."""
        if not self.db.read(outbox.pending):
            return 0
        sent = 0
        while True:
            rows = self._leased(outbox.batch)
            sent += self._send_then_delete(rows)
            if len(rows) < outbox.BATCH:
                return sent

    def _send_then_delete(self, rows: list[tuple]) -> int:
        """Send the outbox rows whose attempt is still queued, then delete them all and give
        the lease back; returns how many were sent."""
        todo = [(int(aid), str(name), priority) for _, aid, name, queued, priority in rows
                if queued]
        try:
            if todo:
                self._broker(lambda: self._send(todo))
        except BaseException:
            self._release_lease()
            raise
        done = [int(r[0]) for r in rows]

        def record(tx: Tx) -> None:
            outbox.delete(tx, done)
            self._lease.release(tx)

        self.db.run(record)
        return len(todo)

    def _leased(self, unit: Callable[[Tx], T]) -> T:
        """``unit(tx)`` under the scheduler lock once the outbox lease is ours (waiting while
        another publisher holds a live one)."""
        def attempt(tx: Tx) -> tuple[bool, T | None]:
            tx.dialect.lock_scheduler(tx)
            if not self._lease.take(tx):
                return False, None
            return True, unit(tx)

        while True:
            taken, result = self.db.run(attempt)
            if taken:
                return result  # type: ignore[return-value]
            time.sleep(0.05)

    def _release_lease(self) -> None:
        """Give the lease back after a failure; if even that fails, it expires on its own."""
        try:
            self.db.run(self._lease.release)
        except EasError as exc:
            log.warning("could not release the outbox lease (%s); it expires by itself", exc)

    def _send(self, messages: list[tuple[int, str, int | None]]) -> None:
        # Every target queue exists (declared just now), so the default exchange routes
        # each message; both ways return once the broker holds the whole batch.
        self._ensure_declared(sorted({name for _, name, _ in messages}))
        props = {level: self.pika.BasicProperties(delivery_mode=2, content_type="text/plain",
                                                  priority=level)
                 for level in range(MAX_PRIORITY + 1)}
        bodies = [(name, str(attempt_id).encode("ascii"), props[message_priority(priority)])
                  for attempt_id, name, priority in messages]
        if len(bodies) >= self.batch_connection_min:
            publish_batch(self.pika, self._parameters(), bodies)
            return
        for name, body, properties in bodies:
            self._pub.basic_publish(exchange="", routing_key=name, body=body,
                                    properties=properties)
        self._pub.tx_commit()

    def _on_message(self, _ch: Any, method: Any, _props: Any, body: bytes) -> None:
        self._buffer.append((method.delivery_tag, body))

    def _stop_consuming(self) -> None:
        """Cancel our consumers; deliveries not yet claimed go back to their queues."""
        if self._consuming:
            for tag in list(self._ch.consumer_tags):
                self._ch.basic_cancel(tag)
            while self._buffer:
                tag, _ = self._buffer.popleft()
                self._ch.basic_nack(tag, requeue=True)
            self._consuming = ()

    def _ensure_consuming(self, names: tuple[str, ...]) -> None:
        if self._consuming == names:
            return
        self._stop_consuming()
        self._ensure_declared(list(names))
        for name in names:
            self._ch.basic_consume(queue=name, on_message_callback=self._on_message)
        self._consuming = names

    def _next_delivery(self, names: tuple[str, ...]) -> tuple[int, int, bytes] | None:
        self._ensure_consuming(names)
        deadline = time.monotonic() + self.claim_wait
        while True:
            self._conn.process_data_events(time_limit=0)
            if self._buffer:
                tag, body = self._buffer.popleft()
                return self._gen, tag, body
            if self._held:
                # Our one prefetch slot is taken by a claimed, unfinished attempt: fetch
                # directly (a worker running several attempts at once).
                for name in names:
                    method, _props, body = self._ch.basic_get(queue=name)
                    if method is not None:
                        return self._gen, method.delivery_tag, body
                return None
            # After our ack the broker pushes the next message at once: wait for it briefly
            # (returns as soon as it arrives) before asking the broker what is ready.
            self._conn.process_data_events(time_limit=0.01)
            if self._buffer:
                continue
            ready = sum(self._ready(name) for name in names)
            if ready == 0:
                self._conn.process_data_events(time_limit=0)
                if not self._buffer:
                    return None
                continue
            if time.monotonic() > deadline:
                return None
            self._conn.process_data_events(time_limit=0.02)

    def claim(self, names: list[str], host_id: int) -> int | None:
        key = tuple(sorted(set(names)))
        if not key:
            return None
        reserved, self._reserved = self._reserved, None
        if reserved is not None and self._claimed(reserved[:2], reserved[2], host_id):
            return reserved[2]
        while True:
            delivery = self._broker(lambda: self._next_delivery(key))
            if delivery is None:
                return None
            gen, tag, body = delivery
            try:
                attempt_id: int | None = int(body.decode("ascii"))
            except (UnicodeDecodeError, ValueError):
                log.error("dropping malformed message %r", body[:40])
                attempt_id = None
            if attempt_id is not None and self._claimed((gen, tag), attempt_id, host_id):
                return attempt_id
            if attempt_id is None:
                self._settle(gen, tag, ack=True)

    def _claimed(self, delivery: tuple[int, int], attempt_id: int, host_id: int) -> bool:
        """Claim a delivered attempt in the database and hold its message; a message whose
        attempt is not queued (finished, running elsewhere, purged, a duplicate) is acked
        and skipped."""
        gen, tag = delivery
        try:
            taken = self._take(attempt_id, host_id)
        except BaseException:
            self._settle(gen, tag, ack=False)  # give it back: our one slot is free
            raise
        if taken:
            if gen == self._gen:  # else its connection is gone: a redelivery is skipped
                self._held[attempt_id] = (gen, tag)
            return True
        self._settle(gen, tag, ack=True)
        return False

    def _take(self, attempt_id: int, host_id: int) -> bool:
        """Mark the attempt running on ``host_id`` if it is still queued. ``now`` is fixed
        before the first try: when a connection drops during COMMIT and the unit is re-run,
        the row already carrying exactly our host and start time was our own claim. The
        conditional UPDATE is atomic on its own: no BEGIN and COMMIT round trips."""
        now = time.time()

        def unit(tx: Tx) -> bool:
            return bool(attempts.take(tx, attempt_id, host_id, now)
                        or attempts.taken_by(tx, host_id, now) == attempt_id)

        return self.db.run(unit, atomic=False)

    def _settle(self, gen: int, tag: int, ack: bool) -> None:
        """Ack (or requeue) one delivery; a delivery from a lost connection was already
        requeued by the broker, so there is nothing to do for it."""
        if gen != self._gen or self._ch is None or not self._ch.is_open:
            return
        try:
            if ack:
                self._ch.basic_ack(tag)
            else:
                self._ch.basic_nack(tag, requeue=True)
        except (self.pika.exceptions.AMQPError, OSError) as exc:
            log.warning("could not settle a delivery (%s): it will be redelivered and skipped",
                        type(exc).__name__)
            self._drop()

    def reserve(self, names: list[str]) -> None:
        """Fetch the next message (``basic.get``: at once, or nothing) for the recording
        transaction to claim (``claim_within``); never waits, never reconnects: without a
        live connection there is simply nothing reserved. The consumer is cancelled first:
        the broker does not count fetched messages against the prefetch limit, so it would
        push one more to this worker while the fetched one runs, kept from idle workers."""
        if (self._reserved is not None or self._conn is None or not self._conn.is_open
                or self._ch is None or not self._ch.is_open):
            return
        key = sorted(set(names))
        if not key or not set(key) <= self._declared:
            return
        try:
            self._stop_consuming()
            for name in key:
                method, _props, body = self._ch.basic_get(queue=name)
                if method is not None:
                    break
            else:
                return
        except (self.pika.exceptions.AMQPError, OSError) as exc:
            log.warning("could not fetch the next message ahead (%s)", type(exc).__name__)
            self._drop()
            return
        try:
            attempt_id = int(body.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            log.error("dropping malformed message %r", body[:40])
            self._settle(self._gen, method.delivery_tag, ack=True)
            return
        self._reserved = (self._gen, method.delivery_tag, attempt_id)

    def claim_within(self, tx: Tx, names: list[str], host_id: int,
                     now: float | None = None) -> int | None:
        """Claim the message :meth:`reserve` fetched in the caller's transaction; it is held
        (acked by :meth:`done`) once that transaction commits. None when nothing is
        reserved or its attempt is not queued any more (the next :meth:`claim` acks and
        skips it)."""
        reserved = self._reserved
        if reserved is None or reserved[0] != self._gen:
            return None
        gen, tag, attempt_id = reserved
        if not attempts.take(tx, attempt_id, host_id, time.time() if now is None else now):
            return None

        def hold() -> None:
            if self._reserved == reserved:
                self._reserved = None
            if gen == self._gen:
                self._held[attempt_id] = (gen, tag)

        tx.after_commit(hold)
        return attempt_id

    def _settle_reserved(self, attempt_id: int, ack: bool) -> bool:
        """Settle the reserved message if it carries ``attempt_id`` (claimed by a
        transaction whose COMMIT's answer was lost, so it never moved to the held ones)."""
        reserved = self._reserved
        if reserved is None or reserved[2] != int(attempt_id):
            return False
        self._reserved = None
        self._settle(reserved[0], reserved[1], ack=ack)
        return True

    def done(self, attempt_id: int) -> None:
        held = self._held.pop(int(attempt_id), None)
        if held is not None:
            self._settle(*held, ack=True)
        else:
            self._settle_reserved(attempt_id, ack=True)

    def release(self, attempt_id: int, reason: str | None = None) -> None:
        """Queued again in the database, and its message back in the broker queue (for
        another consumer: we stop consuming until our next claim)."""
        requeued = self.db.run(lambda tx: attempts.release(tx, attempt_id, reason))
        if self._settle_reserved(attempt_id, ack=not requeued):
            return
        held = self._held.pop(int(attempt_id), None)
        if held is not None and held[0] == self._gen and self._ch is not None:
            try:
                self._stop_consuming()
            except (self.pika.exceptions.AMQPError, OSError):
                self._drop()  # the broker requeues everything we held
                return
            self._settle(*held, ack=not requeued)

    def keepalive(self) -> None:
        """Let pika answer broker heartbeats while a long task runs: the worker calls it with
        each task heartbeat, so the broker keeps the connection and the ack after the task
        reaches it."""
        if self._conn is not None and self._conn.is_open:
            try:
                self._conn.process_data_events(time_limit=0)
            except (self.pika.exceptions.AMQPError, OSError):
                self._drop()

    def depths(self, names: list[str], show_ids: int = defaults.SHOW_IDS) -> dict[str, dict]:
        """Ready messages per queue from the broker (passive declare, nothing consumed); the
        ids are the attempts the database records as queued for that task type."""
        names = list(names)
        counts = self._broker(lambda: {name: self._count(name) for name in names})
        waiting = self.db.read(lambda tx: attempts.queued_by_type(tx, names))
        return {
            name: {"messages": counts[name] or 0,
                   "ids": waiting[name] if len(waiting[name]) <= show_ids else []}
            for name in names
        }

    def purge(self, names: list[str], job_name: str | None = None) -> dict[str, list[int]]:
        """Mark the queued attempts of these types (of ``job_name`` only, when given) not
        queued, and remove their messages (:meth:`withdraw`)."""
        names = list(names)

        def unqueue(tx: Tx) -> dict[str, list[int]]:
            waiting = attempts.queued_by_type(tx, names, job_name)
            attempts.unqueue(tx, [i for group in waiting.values() for i in group])
            return waiting

        return self.withdraw(unqueue)

    def withdraw(self, unit: Callable[[Tx], dict[str, list[int]]]) -> dict[str, list[int]]:
        """Run ``unit`` holding the outbox lease (so nobody publishes meanwhile); for each
        broker queue it took attempts from, drop the outbox rows and stage again what is still
        queued there; then purge those broker queues, give the lease back and publish: the
        broker ends up holding exactly the attempts the database calls queued (RabbitMQ cannot
        take single messages out of a queue). A failed commit purges nothing; a failed purge
        leaves only messages that claims skip, as does a message delivered to a worker
        meanwhile."""
        def step(tx: Tx) -> tuple[dict[str, list[int]], list[str]]:
            taken = unit(tx)
            names = sorted(name for name, ids in taken.items() if ids)
            if names:
                outbox.drop_queues(tx, names)
                outbox.stage(tx, attempts.queued_by_type(tx, names))
            return taken, names

        taken, names = self._leased(step)
        try:
            if names:
                self._broker(lambda: [self._ch.queue_purge(queue=name) for name in names
                                      if self._count(name) is not None])
        finally:
            self._release_lease()
        self.publish()
        return taken

    def close(self) -> None:
        """Close the broker connection (unacknowledged deliveries return to their queues);
        the database connection belongs to the caller."""
        self._drop()
