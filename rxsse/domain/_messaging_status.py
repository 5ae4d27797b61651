"""Message status: a monotonic state machine per message, receipts, echoes (pure).

Ranks: ``sending`` = ``failed`` = 0 < ``sent`` = 1 < ``delivered`` = 2 <
``read`` = 3.  :func:`advance` is the one transition rule; :class:`StatusBook`
applies it to every message of a client's conversations.

Client-side events (what the outbox reports about our own sends) are defined
here next to the rule they drive: :class:`Sending`, :class:`Acked`,
:class:`AttemptFailed`, :class:`SendFailed`, :class:`Retrying`.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from rxsse.domain._html import HTMLReprMixin
from rxsse.domain._messaging_events import DeliveryStatus, MessageEvent, Receipt, StatusEvent

__all__ = [
    "RANK",
    "Acked",
    "AttemptFailed",
    "MessageState",
    "Retrying",
    "SendFailed",
    "Sending",
    "StatusBook",
    "advance",
]

S = DeliveryStatus
RANK: dict[DeliveryStatus, int] = {S.SENDING: 0, S.FAILED: 0, S.SENT: 1, S.DELIVERED: 2, S.READ: 3}
"""Rank of each status; a message's status never moves to a lower rank."""


def advance(current: DeliveryStatus, new: DeliveryStatus, *, retry: bool = False) -> DeliveryStatus:
    """The status after ``new`` is reported for a message in status ``current``.

    * ``failed`` is taken only from ``sending`` (a failure report after the
      server confirmed the message is stale and ignored);
    * ``sending`` is taken only from ``failed`` and only when ``retry`` is set
      (a manual retry); otherwise it is ignored;
    * ``sent``, ``delivered`` and ``read`` are taken when they rank higher
      (skips allowed, never backwards), also from ``failed``: the server
      confirming a message beats a local failure (e.g. a send that timed out
      but had in fact arrived).
    """
    if new is S.FAILED:
        return S.FAILED if current is S.SENDING else current
    if new is S.SENDING:
        return S.SENDING if (current is S.FAILED and retry) else current
    return new if RANK[new] > RANK[current] else current


class _Local(HTMLReprMixin, BaseModel):
    model_config = ConfigDict(frozen=True)

    conversation: str
    client_id: str
    at: float = 0.0


class Sending(_Local):
    """We are sending ``text`` as ``sender`` (the optimistic message appears, ``sending``)."""

    text: str = ""
    sender: str = "me"


class Acked(_Local):
    """The server stored our message as ``id`` with ``seq``; ``recipients`` excludes the sender."""

    id: str
    seq: int
    recipients: tuple[str, ...] = ()


class AttemptFailed(_Local):
    """Attempt ``attempt`` failed (``reason``); the next is due at ``retry_at``.  Status stays."""

    attempt: int
    retry_at: float
    reason: str = ""


class SendFailed(_Local):
    """The send gave up after ``attempts`` attempts: ``failed`` until a manual retry."""

    attempts: int
    reason: str = ""


class Retrying(_Local):
    """A manual retry of a failed message: ``failed`` → ``sending``, same ``client_id``."""


class MessageState(HTMLReprMixin, BaseModel):
    """One message of a conversation's timeline, as it stands now.

    ``own`` messages were sent by this client and carry a ``status`` (the
    aggregate over ``recipients``) and per-recipient statuses; messages from
    others have ``status=None``.  ``id`` and ``seq`` are ``None`` until the
    server acknowledged (or echoed) the message.
    """

    model_config = ConfigDict(frozen=True)

    conversation: str
    client_id: str | None
    id: str | None
    seq: int | None
    sender: str
    text: str
    own: bool
    status: DeliveryStatus | None
    recipients: dict[str, DeliveryStatus]
    at: float


class _Msg:
    """The mutable record behind a :class:`MessageState`."""

    __slots__ = (
        "at",
        "client_id",
        "conversation",
        "floor",
        "id",
        "own",
        "recipients",
        "recipients_known",
        "sender",
        "seq",
        "status",
        "text",
    )

    def __init__(self, conversation: str, sender: str, text: str, at: float, *, own: bool) -> None:
        self.conversation = conversation
        self.sender = sender
        self.text = text
        self.at = at
        self.own = own
        self.client_id: str | None = None
        self.id: str | None = None
        self.seq: int | None = None
        self.status: DeliveryStatus | None = S.SENDING if own else None
        self.recipients: dict[str, DeliveryStatus] = {}
        self.recipients_known = False
        self.floor = S.SENDING  # the best status reported for every recipient at once

    def snapshot(self) -> MessageState:
        return MessageState(
            conversation=self.conversation,
            client_id=self.client_id,
            id=self.id,
            seq=self.seq,
            sender=self.sender,
            text=self.text,
            own=self.own,
            status=self.status,
            recipients=dict(self.recipients),
            at=self.at,
        )


StatusInput = (
    Sending | Acked | AttemptFailed | SendFailed | Retrying | MessageEvent | StatusEvent | Receipt
)

MAX_PENDING = 10_000
"""Status events for unknown message ids kept for a later ack (oldest dropped beyond this)."""


class StatusBook:
    """The timeline and delivery status of every message a client knows.

    Policies:

    * our messages are keyed by ``client_id``: the optimistic message
      (:class:`Sending`) and the server's echo (:class:`MessageEvent` with the
      same ``client_id``) are one message; the echo, like :class:`Acked`,
      binds ``id`` and ``seq`` and means ``sent``.  A second echo or ack is a
      no-op.
    * a :class:`Receipt` means "up to and including ``seq``" (Matrix
      semantics): receipts are watermarks per (conversation, user), only ever
      raised.  They mark every own message with ``seq <= watermark`` and
      never a later one; a message acknowledged after the receipt arrived
      gets it at the ack.  ``read`` implies ``delivered``.  A user's receipts
      never count for their own messages.
    * a :class:`StatusEvent` names one message (by ``id`` or ``client_id``)
      and one recipient (or, with no ``user``, all of them).  One naming an
      ``id`` not yet known waits (at most :data:`MAX_PENDING`) and is applied
      when the ack or echo makes it known.  One naming a ``client_id`` that is
      not ours is ignored.
    * groups: with the recipient list of the ack, the message's status is the
      lowest over its recipients (``read`` once everyone read it); without
      one (an echo first), receipts and statuses of any other user count, as
      in a one-to-one conversation, until an ack names the recipients.
    * every status change goes through :func:`advance`, so it is monotonic
      (``failed`` only from ``sending``; back to ``sending`` only by
      :class:`Retrying`).

    :meth:`apply` returns a :class:`MessageState` for each message whose
    visible state changed (nothing for duplicates), in a stable order.
    """

    def __init__(self) -> None:
        self._own: dict[str, _Msg] = {}
        self._by_id: dict[tuple[str, str], _Msg] = {}
        self._acked_seqs: dict[str, list[int]] = {}  # conversation -> sorted seqs of own messages
        self._acked_msgs: dict[str, list[_Msg]] = {}  # same order as _acked_seqs
        self._marks: dict[str, dict[str, list[int]]] = {}  # conv -> user -> [delivered, read]
        self._pending: dict[tuple[str, str], list[StatusEvent]] = {}
        self._timeline: dict[str, list[_Msg]] = {}

    # -- queries ---------------------------------------------------------------------

    def message(self, client_id: str) -> MessageState | None:
        """Our message with ``client_id``, or ``None``."""
        msg = self._own.get(client_id)
        return msg.snapshot() if msg is not None else None

    def timeline(self, conversation: str) -> list[MessageState]:
        """A conversation's messages: by ``seq``, unacknowledged ones last in send order."""
        msgs = self._timeline.get(conversation, [])
        ordered = sorted(
            msgs, key=lambda m: (m.seq is None, m.seq if m.seq is not None else 0)
        )  # stable: send order among the unacknowledged
        return [m.snapshot() for m in ordered]

    def conversations(self) -> list[str]:
        """Conversations with at least one message, in order of first appearance."""
        return list(self._timeline)

    # -- transitions -----------------------------------------------------------------------

    def apply(self, event: object) -> list[MessageState]:
        """Apply one event; the states of the messages it changed.  Other types are ignored."""
        changed: list[_Msg] = []
        if isinstance(event, Sending):
            if event.client_id not in self._own:
                new_msg = _Msg(event.conversation, event.sender, event.text, event.at, own=True)
                new_msg.client_id = event.client_id
                self._own[event.client_id] = new_msg
                self._timeline.setdefault(event.conversation, []).append(new_msg)
                changed.append(new_msg)
        elif isinstance(event, (SendFailed, Retrying)):
            own = self._own.get(event.client_id)
            if own is not None and own.status is not None:
                new = S.FAILED if isinstance(event, SendFailed) else S.SENDING
                status = advance(own.status, new, retry=isinstance(event, Retrying))
                if status is not own.status:
                    own.status = status
                    changed.append(own)
        elif isinstance(event, Acked):
            acked = self._own.get(event.client_id)
            if acked is not None:
                self._bind(acked, event.id, event.seq, event.recipients, changed)
        elif isinstance(event, MessageEvent):
            self._on_message(event, changed)
        elif isinstance(event, StatusEvent):
            self._on_status(event, changed)
        elif isinstance(event, Receipt):
            self._on_receipt(event, changed)
        return [msg.snapshot() for msg in _unique(changed)]

    # -- internals -----------------------------------------------------------------------

    def _on_message(self, event: MessageEvent, changed: list[_Msg]) -> None:
        if event.client_id is not None and event.client_id in self._own:
            self._bind(self._own[event.client_id], event.id, event.seq, (), changed)
            return
        key = (event.conversation, event.id)
        if key in self._by_id:
            return  # a duplicate delivery of a message we have
        msg = _Msg(event.conversation, event.sender, event.text, event.at, own=False)
        msg.client_id = event.client_id
        msg.id = event.id
        msg.seq = event.seq
        self._by_id[key] = msg
        self._timeline.setdefault(event.conversation, []).append(msg)
        changed.append(msg)

    def _bind(
        self,
        msg: _Msg,
        message_id: str,
        seq: int,
        recipients: tuple[str, ...],
        changed: list[_Msg],
    ) -> None:
        """The server knows ``msg`` as ``message_id``/``seq`` (first binding wins)."""
        touched = False
        if msg.id is None:
            msg.id = message_id
            msg.seq = seq
            self._by_id[(msg.conversation, message_id)] = msg
            seqs = self._acked_seqs.setdefault(msg.conversation, [])
            index = bisect.bisect_right(seqs, seq)
            seqs.insert(index, seq)
            self._acked_msgs.setdefault(msg.conversation, []).insert(index, msg)
            touched = True
        if recipients and not msg.recipients_known:
            msg.recipients_known = True
            learned = msg.recipients
            msg.recipients = {r: learned.get(r, S.SENT) for r in recipients if r != msg.sender}
            touched |= msg.recipients != learned
        marks = self._marks.get(msg.conversation, {})
        assert msg.seq is not None
        for user, (delivered, read) in marks.items():
            if user == msg.sender or (msg.recipients_known and user not in msg.recipients):
                continue
            if read >= msg.seq:
                touched |= self._raise_recipient(msg, user, S.READ)
            elif delivered >= msg.seq:
                touched |= self._raise_recipient(msg, user, S.DELIVERED)
        if msg.recipients_known:
            for user in msg.recipients:
                touched |= self._raise_recipient(msg, user, S.SENT)
        for pending in self._pending.pop((msg.conversation, message_id), ()):
            touched |= self._apply_status(msg, pending)
        touched |= self._refresh(msg)
        if touched:
            changed.append(msg)

    def _on_status(self, event: StatusEvent, changed: list[_Msg]) -> None:
        msg: _Msg | None = None
        if event.client_id is not None:
            msg = self._own.get(event.client_id)
        if msg is None and event.id is not None:
            msg = self._by_id.get((event.conversation, event.id))
            if msg is None:
                if event.client_id is None or event.client_id in self._own:
                    self._park(event)
                return
        if msg is None or not msg.own:
            return
        if self._apply_status(msg, event):
            changed.append(msg)

    def _apply_status(self, msg: _Msg, event: StatusEvent) -> bool:
        touched = False
        if event.user is None:
            if RANK[event.status] > RANK[msg.floor]:
                msg.floor = event.status
                for user in msg.recipients:
                    self._raise_recipient(msg, user, event.status)
                touched = True
        elif event.user != msg.sender:
            touched = self._raise_recipient(msg, event.user, event.status)
        return self._refresh(msg) or touched

    def _on_receipt(self, event: Receipt, changed: list[_Msg]) -> None:
        users = self._marks.setdefault(event.conversation, {})
        mark = users.setdefault(event.user, [-1, -1])
        old_delivered, old_read = mark
        if event.kind == "read":
            mark[1] = max(old_read, event.seq)
        mark[0] = max(old_delivered, event.seq, mark[1])
        if mark == [old_delivered, old_read]:
            return
        seqs = self._acked_seqs.get(event.conversation)
        if not seqs:
            return
        msgs = self._acked_msgs[event.conversation]
        start = bisect.bisect_right(seqs, min(old_delivered, old_read))
        stop = bisect.bisect_right(seqs, mark[0])
        for msg in msgs[start:stop]:
            assert msg.seq is not None
            if msg.sender == event.user:
                continue
            if msg.recipients_known and event.user not in msg.recipients:
                continue
            status = S.READ if msg.seq <= mark[1] else S.DELIVERED
            touched = self._raise_recipient(msg, event.user, status)
            if self._refresh(msg) or touched:
                changed.append(msg)

    def _raise_recipient(self, msg: _Msg, user: str, status: DeliveryStatus) -> bool:
        current = msg.recipients.get(user)
        if current is not None and RANK[status] <= RANK[current]:
            return False
        if current is None and msg.recipients_known:
            return False  # not a member of this message's audience
        msg.recipients[user] = status
        return True

    def _refresh(self, msg: _Msg) -> bool:
        """Recompute the aggregate status; ``True`` when it changed."""
        if msg.status is None:
            return False
        if msg.id is None and RANK[msg.floor] < RANK[S.SENT] and not msg.recipients:
            return False  # nothing from the server yet
        if msg.recipients_known and msg.recipients:
            aggregate = min((msg.recipients[u] for u in msg.recipients), key=RANK.__getitem__)
        elif msg.recipients:
            aggregate = max(msg.recipients.values(), key=RANK.__getitem__)
        else:
            aggregate = S.SENT
        best = aggregate if RANK[aggregate] >= RANK[msg.floor] else msg.floor
        if RANK[best] < RANK[S.SENT]:
            best = S.SENT
        status = advance(msg.status, best)
        if status is msg.status:
            return False
        msg.status = status
        return True

    def _park(self, event: StatusEvent) -> None:
        assert event.id is not None
        key = (event.conversation, event.id)
        self._pending.setdefault(key, []).append(event)
        while len(self._pending) > MAX_PENDING:
            del self._pending[next(iter(self._pending))]


def _unique(msgs: Iterable[_Msg]) -> list[_Msg]:
    seen: set[int] = set()
    out: list[_Msg] = []
    for msg in msgs:
        if id(msg) not in seen:
            seen.add(id(msg))
            out.append(msg)
    return out
