"""Instant messaging: typing indicators, message status, read receipts, outbox, presence.

Pure domain code (stdlib + pydantic; no Rx, no IO): the operators in
:mod:`rxsse.operators.messaging` are thin wrappers around these machines.
Time is always passed in (seconds), so the same logic runs in an Rx
pipeline, a notebook, a test or a worker without a clock.

=========================  =================================================================
piece                      what it is
=========================  =================================================================
events                     :class:`TypingEvent`, :class:`TypingList`, :class:`MessageEvent`,
                           :class:`StatusEvent`, :class:`Receipt`, :class:`PresenceEvent`;
                           :func:`parse_event` reads them off a ``ServerSentEvent``
typing (receive side)      :class:`TypingSet` → :class:`TypingUpdate`
typing (send side)         :class:`TypingThrottle` → :class:`TypingSignal`
message status             :func:`advance`, :class:`StatusBook` → :class:`MessageState`
outbox                     :class:`Outbox` (+ :class:`RetryPolicy`, :class:`Submit`,
                           :class:`ManualRetry`) → :class:`SendAttempt` and the client-side
                           events :class:`Sending`, :class:`Acked`, :class:`AttemptFailed`,
                           :class:`SendFailed`, :class:`Retrying`
presence                   :class:`PresenceTracker` → :class:`Presence`
=========================  =================================================================

The machines are mutable and sans-IO (like :class:`rxsse.SSEDecoder`): each
transition returns what changed, and the ones with deadlines say when they
next need waking (``next_deadline``), so a caller needs one timer each.
"""

from __future__ import annotations

from rxsse.domain._messaging_events import (
    WIRE_TYPES,
    DeliveryStatus,
    MessageEvent,
    MessagingEvent,
    PresenceEvent,
    PresenceState,
    Receipt,
    StatusEvent,
    TypingEvent,
    TypingList,
    parse_event,
)
from rxsse.domain._messaging_outbox import (
    ManualRetry,
    Outbox,
    OutboxEffect,
    RetryPolicy,
    SendAttempt,
    Submit,
)
from rxsse.domain._messaging_presence import Presence, PresenceTracker
from rxsse.domain._messaging_status import (
    MAX_PENDING,
    RANK,
    Acked,
    AttemptFailed,
    MessageState,
    Retrying,
    SendFailed,
    Sending,
    StatusBook,
    StatusInput,
    advance,
)
from rxsse.domain._messaging_typing import TypingSet, TypingSignal, TypingThrottle, TypingUpdate

__all__ = [
    "MAX_PENDING",
    "RANK",
    "WIRE_TYPES",
    "Acked",
    "AttemptFailed",
    "DeliveryStatus",
    "ManualRetry",
    "MessageEvent",
    "MessageState",
    "MessagingEvent",
    "Outbox",
    "OutboxEffect",
    "Presence",
    "PresenceEvent",
    "PresenceState",
    "PresenceTracker",
    "Receipt",
    "RetryPolicy",
    "Retrying",
    "SendAttempt",
    "SendFailed",
    "Sending",
    "StatusBook",
    "StatusEvent",
    "StatusInput",
    "Submit",
    "TypingEvent",
    "TypingList",
    "TypingSet",
    "TypingSignal",
    "TypingThrottle",
    "TypingUpdate",
    "advance",
    "parse_event",
]
