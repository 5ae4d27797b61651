"""Connection lifecycle of a network source, and its reconnection policy.

A source such as :func:`rxsse.from_url` reports its lifecycle, when asked to,
as a sequence of small immutable values, separate from the event stream::

    Connecting(attempt=0) ─► Open ─► (events…) ─► Reconnecting(attempt=1, delay)
        ─► Connecting(attempt=1) ─► Open ─► … ─► Closed(cause)

``attempt`` counts consecutive attempts since the last successful open (0 for
the very first connection).  ``Closed`` is reported exactly once, when the
subscription ends for any reason (completion, error or dispose).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "Closed",
    "Connecting",
    "ConnectionEvent",
    "Open",
    "ReconnectPolicy",
    "Reconnecting",
]


@dataclass(frozen=True, slots=True)
class Connecting:
    """A request is about to be sent."""

    url: str
    attempt: int
    last_event_id: str
    state: Literal["connecting"] = "connecting"


@dataclass(frozen=True, slots=True)
class Open:
    """The response was accepted as an event stream; events may follow."""

    url: str
    attempt: int
    status_code: int
    state: Literal["open"] = "open"


@dataclass(frozen=True, slots=True)
class Reconnecting:
    """The connection ended; the source waits ``delay`` seconds, then retries.

    ``cause`` is the network error, or ``None`` when the body simply ended.
    """

    attempt: int
    delay: float
    cause: BaseException | None
    state: Literal["reconnecting"] = "reconnecting"


@dataclass(frozen=True, slots=True)
class Closed:
    """The subscription is over.

    ``cause`` is the error that ended it, or ``None`` for completion or dispose.
    """

    cause: BaseException | None
    state: Literal["closed"] = "closed"


ConnectionEvent = Connecting | Open | Reconnecting | Closed

_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})


@dataclass(frozen=True)
class ReconnectPolicy:
    """When and how often a network source reconnects.

    The delay before reconnect attempt ``n`` (1-based, counted since the last
    successful open) is::

        base = server's last ``retry:`` (ms → s) if any, else default_delay
        delay = min(base * backoff ** (n - 1), max(max_delay, base)) * uniform(1 - jitter, 1)

    so the first reconnect after a stream that was open waits the server's
    ``retry`` value (minus jitter), and repeated failures back off
    exponentially up to ``max_delay`` (a server ``retry`` above ``max_delay``
    is still honoured).  ``max_attempts`` consecutive failed attempts raise
    :class:`~rxsse.errors.ReconnectExhausted` (``None`` retries forever).
    Requests with a non-idempotent method (POST, PATCH) are not reconnected
    unless ``reconnect_non_idempotent`` is true, because replaying them could
    repeat a side effect (for an LLM: bill a second completion).  All times
    are in seconds.
    """

    default_delay: float = 3.0
    max_delay: float = 60.0
    backoff: float = 2.0
    jitter: float = 0.2
    max_attempts: int | None = 10
    reconnect_non_idempotent: bool = False
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.default_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must not be negative")
        if self.backoff < 1:
            raise ValueError("backoff must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be between 0 and 1")
        if self.max_attempts is not None and self.max_attempts < 0:
            raise ValueError("max_attempts must not be negative")

    def allows(self, method: str) -> bool:
        """Whether a request with ``method`` may be reconnected at all."""
        return self.reconnect_non_idempotent or method.upper() in _IDEMPOTENT

    def delay(self, attempt: int, retry_ms: int | None) -> float:
        """Seconds to wait before reconnect attempt ``attempt`` (1-based)."""
        base = retry_ms / 1000 if retry_ms is not None else self.default_delay
        exponent = max(attempt - 1, 0)
        raw = min(base * self.backoff ** min(exponent, 64), max(self.max_delay, base))
        if self.jitter:
            raw *= self.rng.uniform(1 - self.jitter, 1)
        return raw
