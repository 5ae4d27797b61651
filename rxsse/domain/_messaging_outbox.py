"""The outbox: optimistic sends with a retry queue, as a sans-IO state machine (pure).

The machine decides *what* to send and *when*; the caller does the sending
(an HTTP request) and reports back with :meth:`Outbox.acked` or
:meth:`Outbox.failed`.  Every method returns a list of effects: the
client-side status events of :mod:`rxsse.domain._messaging_status`
(:class:`Sending`, :class:`Acked`, :class:`AttemptFailed`,
:class:`SendFailed`, :class:`Retrying`) for the status book, and
:class:`SendAttempt` commands for the caller to carry out.
"""

from __future__ import annotations

import random
import uuid
from collections import deque
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rxsse.domain._html import HTMLReprMixin
from rxsse.domain._messaging_status import Acked, AttemptFailed, Retrying, SendFailed, Sending

__all__ = [
    "ManualRetry",
    "Outbox",
    "OutboxEffect",
    "RetryPolicy",
    "SendAttempt",
    "Submit",
]


class RetryPolicy(HTMLReprMixin, BaseModel):
    """How the outbox retries a failed send.

    Attempt ``n`` (1-based) that fails is retried after
    ``min(max_delay, base_delay * multiplier ** (n - 1))`` seconds, scaled by
    a factor drawn uniformly from ``[1 - jitter, 1]`` (so concurrent clients
    do not retry in lockstep); after ``max_attempts`` failed attempts the
    message is ``failed`` until a manual retry.  ``timeout`` is how long an
    attempt may wait for its answer before it counts as failed (used by the
    operator; the machine has no clock).
    """

    model_config = ConfigDict(frozen=True)

    max_attempts: int = Field(default=5, ge=1)
    base_delay: float = Field(default=0.5, gt=0)
    multiplier: float = Field(default=2.0, ge=1)
    max_delay: float = Field(default=30.0, gt=0)
    jitter: float = Field(default=0.5, ge=0, le=1)
    timeout: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> RetryPolicy:
        if self.max_delay < self.base_delay:
            raise ValueError("max_delay must be at least base_delay")
        return self

    def delay(self, attempt: int, draw: float) -> float:
        """Seconds to wait after failed attempt ``attempt``, for a uniform draw in [0, 1)."""
        raw = min(self.max_delay, self.base_delay * self.multiplier ** (attempt - 1))
        return raw * (1.0 - self.jitter * draw)


class Submit(HTMLReprMixin, BaseModel):
    """A command: send ``text`` to ``conversation`` (``client_id`` chosen if not given)."""

    model_config = ConfigDict(frozen=True)

    conversation: str
    text: str
    client_id: str | None = None


class ManualRetry(HTMLReprMixin, BaseModel):
    """A command: retry our message ``client_id`` now (the user pressed "retry")."""

    model_config = ConfigDict(frozen=True)

    client_id: str


class SendAttempt(HTMLReprMixin, BaseModel):
    """A command for the caller: send this message now (attempt ``attempt``, 1-based).

    Retries carry the same ``client_id``, so a server that deduplicates by it
    stores the message once however many attempts reach it.
    """

    model_config = ConfigDict(frozen=True)

    conversation: str
    client_id: str
    text: str
    attempt: int
    sender: str


OutboxEffect = Sending | Acked | AttemptFailed | SendFailed | Retrying | SendAttempt


class _Item:
    __slots__ = ("attempts", "client_id", "conversation", "due", "state", "text")

    def __init__(self, conversation: str, client_id: str, text: str) -> None:
        self.conversation = conversation
        self.client_id = client_id
        self.text = text
        self.attempts = 0
        self.state = "queued"  # queued | in_flight | backoff | acked | failed
        self.due = 0.0


class Outbox:
    """Optimistic sends, FIFO per conversation, with retries.

    * :meth:`submit` reports :class:`Sending` at once (the optimistic
      message) and queues the message behind the conversation's others;
    * only the head of each conversation's queue is in flight or waiting to
      be retried, so later messages wait: the server stores a conversation's
      messages in the order they were submitted;
    * a failed attempt is retried after the :class:`RetryPolicy` backoff
      (:meth:`next_deadline` / :meth:`expire` drive the wait); after
      ``max_attempts`` the message is reported :class:`SendFailed`, leaves the
      queue, and the next message goes;
    * :meth:`retry` on a failed message reports :class:`Retrying` and puts it
      at the *end* of its conversation's queue with a fresh attempt count; on
      a message waiting for its backoff it sends at once; otherwise nothing;
    * an ack is accepted whenever it comes (even for a message being
      retried or given up on: the server has it); a second ack is ignored.
      A failure report for a message that is not in flight is ignored.

    ``rng`` draws the jitter (pass a seeded :class:`random.Random` for
    reproducible delays); ``client_ids`` makes the ids (default: uuid4 hex).
    """

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        sender: str = "me",
        rng: random.Random | None = None,
        client_ids: Callable[[], str] | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.sender = sender
        self._rng = rng or random.Random()
        self._new_id = client_ids or (lambda: uuid.uuid4().hex)
        self._items: dict[str, _Item] = {}
        self._queues: dict[str, deque[_Item]] = {}

    # -- queries -------------------------------------------------------------------

    def state(self, client_id: str) -> str | None:
        """``queued``, ``in_flight``, ``backoff``, ``acked`` or ``failed``; ``None`` if unknown."""
        item = self._items.get(client_id)
        return item.state if item is not None else None

    def queued(self, conversation: str) -> list[str]:
        """Client ids waiting in ``conversation``'s queue, head first."""
        return [item.client_id for item in self._queues.get(conversation, ())]

    def next_deadline(self) -> float | None:
        """When the earliest backoff ends, or ``None`` when no retry is waiting."""
        dues = [q[0].due for q in self._queues.values() if q and q[0].state == "backoff"]
        return min(dues) if dues else None

    # -- transitions -------------------------------------------------------------------------

    def submit(self, command: Submit, now: float) -> list[OutboxEffect]:
        """Queue a new message; :class:`Sending` now, and a :class:`SendAttempt` if it is head."""
        client_id = command.client_id or self._new_id()
        if client_id in self._items:
            return []  # idempotent: the same client id is the same message
        item = _Item(command.conversation, client_id, command.text)
        self._items[client_id] = item
        effects: list[OutboxEffect] = [
            Sending(
                conversation=item.conversation,
                client_id=client_id,
                text=item.text,
                sender=self.sender,
                at=now,
            )
        ]
        queue = self._queues.setdefault(item.conversation, deque())
        queue.append(item)
        self._pump(item.conversation, effects)
        return effects

    def acked(
        self, client_id: str, message_id: str, seq: int, recipients: tuple[str, ...], now: float
    ) -> list[OutboxEffect]:
        """The server stored ``client_id`` as ``message_id``/``seq``."""
        item = self._items.get(client_id)
        if item is None or item.state == "acked":
            return []
        was_head = self._is_head(item)
        item.state = "acked"
        self._dequeue(item)
        effects: list[OutboxEffect] = [
            Acked(
                conversation=item.conversation,
                client_id=client_id,
                id=message_id,
                seq=seq,
                recipients=recipients,
                at=now,
            )
        ]
        if was_head:
            self._pump(item.conversation, effects)
        return effects

    def failed(self, client_id: str, reason: str, now: float) -> list[OutboxEffect]:
        """The in-flight attempt of ``client_id`` failed (error, rejection or timeout)."""
        item = self._items.get(client_id)
        if item is None or item.state != "in_flight":
            return []
        effects: list[OutboxEffect] = []
        if item.attempts >= self.policy.max_attempts:
            item.state = "failed"
            self._dequeue(item)
            effects.append(
                SendFailed(
                    conversation=item.conversation,
                    client_id=client_id,
                    attempts=item.attempts,
                    reason=reason,
                    at=now,
                )
            )
            self._pump(item.conversation, effects)
            return effects
        item.state = "backoff"
        item.due = now + self.policy.delay(item.attempts, self._rng.random())
        effects.append(
            AttemptFailed(
                conversation=item.conversation,
                client_id=client_id,
                attempt=item.attempts,
                retry_at=item.due,
                reason=reason,
                at=now,
            )
        )
        return effects

    def retry(self, command: ManualRetry, now: float) -> list[OutboxEffect]:
        """A manual retry (see the class docstring for what it does in each state)."""
        item = self._items.get(command.client_id)
        if item is None:
            return []
        effects: list[OutboxEffect] = []
        if item.state == "failed":
            item.state = "queued"
            item.attempts = 0
            effects.append(
                Retrying(conversation=item.conversation, client_id=item.client_id, at=now)
            )
            self._queues.setdefault(item.conversation, deque()).append(item)
            self._pump(item.conversation, effects)
        elif item.state == "backoff":
            item.due = now
            effects.extend(self.expire(now))
        return effects

    def expire(self, now: float) -> list[OutboxEffect]:
        """Send every head whose backoff ended at or before ``now``."""
        effects: list[OutboxEffect] = []
        for queue in self._queues.values():
            if queue and queue[0].state == "backoff" and queue[0].due <= now:
                queue[0].state = "queued"
                self._pump(queue[0].conversation, effects)
        return effects

    # -- internals ---------------------------------------------------------------------------

    def _is_head(self, item: _Item) -> bool:
        queue = self._queues.get(item.conversation)
        return queue is not None and bool(queue) and queue[0] is item

    def _dequeue(self, item: _Item) -> None:
        queue = self._queues.get(item.conversation)
        if queue is not None and item in queue:
            queue.remove(item)
            if not queue:
                del self._queues[item.conversation]

    def _pump(self, conversation: str, effects: list[OutboxEffect]) -> None:
        queue = self._queues.get(conversation)
        if not queue or queue[0].state != "queued":
            return
        head = queue[0]
        head.state = "in_flight"
        head.attempts += 1
        effects.append(
            SendAttempt(
                conversation=conversation,
                client_id=head.client_id,
                text=head.text,
                attempt=head.attempts,
                sender=self.sender,
            )
        )
