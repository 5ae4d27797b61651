"""The events of an instant-messaging stream, and how they are read off the wire.

Pure: stdlib, pydantic, :mod:`rxsse._event` and :mod:`rxsse.errors` only.

Every event is a frozen pydantic model.  Times (``at``, ``last_active``) are
seconds on the producer's clock; the receive-side typing set does not use
them (it runs on its scheduler's clock), the status and presence reducers use
them only to label their output and to drop stale presence.

On the wire (see :func:`parse_event`) each SSE event's type names the model
and its data is a JSON object with the model's fields:

================  =============================================================
SSE event type    data
================  =============================================================
``typing``        ``{"conversation", "user", "typing": bool}``
``typing_list``   ``{"conversation", "users": [...]}`` (Matrix-style full list)
``message``       ``{"conversation", "id", "seq", "sender", "text", "client_id"?, "at"?}``
``status``        ``{"conversation", "status", "id"? , "client_id"?, "user"?}``
``receipt``       ``{"conversation", "user", "seq", "kind": "read" | "delivered"}``
``presence``      ``{"user", "state": "online" | "away" | "offline", "last_active"?, "at"?}``
================  =============================================================
"""

from __future__ import annotations

import enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rxsse._event import ServerSentEvent
from rxsse.domain._html import HTMLReprMixin
from rxsse.errors import EventDataNotJSON, MessagingEventError

__all__ = [
    "WIRE_TYPES",
    "DeliveryStatus",
    "MessageEvent",
    "MessagingEvent",
    "PresenceEvent",
    "PresenceState",
    "Receipt",
    "StatusEvent",
    "TypingEvent",
    "TypingList",
    "parse_event",
]


class _Event(HTMLReprMixin, BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class DeliveryStatus(enum.StrEnum):
    """Where one of our own messages is, in rank order (``failed`` ranks with ``sending``)."""

    SENDING = "sending"
    FAILED = "failed"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"


class PresenceState(enum.StrEnum):
    """A user's presence."""

    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class TypingEvent(_Event):
    """``user`` started (``typing=True``, also a refresh) or stopped typing in ``conversation``."""

    conversation: str
    user: str
    typing: bool = True


class TypingList(_Event):
    """The complete set of users typing in ``conversation`` (replaces what was known)."""

    conversation: str
    users: tuple[str, ...] = ()


class MessageEvent(_Event):
    """A message stored by the server: ``seq`` orders a conversation's messages (ascending).

    ``client_id`` is the id the sending client chose; when it is one of ours,
    this is the server's echo of our optimistic message.
    """

    conversation: str
    id: str
    seq: int = Field(ge=0)
    sender: str
    text: str = ""
    client_id: str | None = None
    at: float = 0.0


class StatusEvent(_Event):
    """A server-pushed status of one message, found by ``id`` or ``client_id``.

    With ``user`` the status is that recipient's; without, it holds for every
    recipient.  ``sending`` and ``failed`` are client-side states and are not
    accepted here.
    """

    conversation: str
    status: DeliveryStatus
    id: str | None = None
    client_id: str | None = None
    user: str | None = None

    @model_validator(mode="after")
    def _valid(self) -> StatusEvent:
        if self.status in (DeliveryStatus.SENDING, DeliveryStatus.FAILED):
            raise ValueError(f"status {self.status.value!r} is client-side, not a server status")
        if self.id is None and self.client_id is None:
            raise ValueError("a status event needs an id or a client_id")
        return self


class Receipt(_Event):
    """``user`` has read (``kind="read"``) or received every message up to and including ``seq``."""

    conversation: str
    user: str
    seq: int = Field(ge=0)
    kind: Literal["read", "delivered"] = "read"


class PresenceEvent(_Event):
    """``user`` is now ``state``; ``at`` is when the server saw it (orders a user's events)."""

    user: str
    state: PresenceState
    last_active: float | None = None
    at: float = 0.0


MessagingEvent = TypingEvent | TypingList | MessageEvent | StatusEvent | Receipt | PresenceEvent
"""Anything the messaging stream carries."""

WIRE_TYPES: dict[str, type[_Event]] = {
    "typing": TypingEvent,
    "typing_list": TypingList,
    "message": MessageEvent,
    "status": StatusEvent,
    "receipt": Receipt,
    "presence": PresenceEvent,
}
"""SSE event type → the model its JSON data is validated into."""


def parse_event(event: ServerSentEvent) -> MessagingEvent | None:
    """The messaging event carried by ``event``; ``None`` for an SSE type not in :data:`WIRE_TYPES`.

    Unknown types are a policy, not an error: a stream may carry other events
    (pings, future types), and they are skipped.  A known type whose data is
    not JSON, not an object, or does not fit the model raises
    :class:`rxsse.errors.MessagingEventError` with the SSE event attached and
    the parsing error chained; unknown fields inside the object are ignored.
    """
    model = WIRE_TYPES.get(event.event)
    if model is None:
        return None
    try:
        data: Any = event.json()
    except EventDataNotJSON as exc:
        raise MessagingEventError(f"{event.event!r} event: data is not JSON", event=event) from exc
    if not isinstance(data, dict):
        raise MessagingEventError(
            f"{event.event!r} event: data must be a JSON object, got {type(data).__name__}",
            event=event,
        )
    try:
        parsed: MessagingEvent = model.model_validate(data)  # type: ignore[assignment]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "data"
        raise MessagingEventError(
            f"{event.event!r} event (id {event.id!r}): {where}: {first['msg']}", event=event
        ) from exc
    return parsed
