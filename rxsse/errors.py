"""The exceptions rxsse raises, as one tree.

Every error rxsse raises on purpose derives from :class:`RxSSEError`, so one
``except RxSSEError`` catches them all; each class also derives from the
builtin a caller would naturally expect (``ValueError`` for bad input,
``ConnectionError`` for the network, ``OverflowError`` for full buffers)::

    RxSSEError
    ├── SSEProtocolError (ValueError)        the byte stream breaks a rule or a limit
    │   ├── LineTooLong                      one line exceeds ``max_line_size``
    │   └── EventTooLarge                    one event's data exceeds ``max_event_size``
    ├── EventDataNotJSON (ValueError)        ``ServerSentEvent.json()`` on non-JSON data
    ├── SSEConnectionError (ConnectionError) the HTTP side of a source
    │   ├── SSEResponseError                 the response can never be an event stream
    │   │   ├── SSEStatusError               non-2xx status, or 204 No Content
    │   │   └── SSEContentTypeError          MIME essence is not text/event-stream
    │   ├── StreamStalled                    no bytes within the idle timeout
    │   └── ReconnectExhausted               max attempts used up; ``last_cause`` says why
    ├── BufferOverflowError (OverflowError)  a bounded bridge buffer hit policy "error"
    └── DomainError                          a domain reducer found the stream wanting
        ├── IncompleteStreamError            the stream ended before its terminal marker
        └── MessagingEventError (ValueError) a messaging event's data does not fit its type

Errors are raised at one boundary each: the decoder raises protocol errors,
sources raise connection errors, bridges raise overflow errors, and domain
operators raise domain errors. This module imports nothing from rxsse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "RxSSEError",
    "SSEProtocolError",
    "LineTooLong",
    "EventTooLarge",
    "EventDataNotJSON",
    "SSEConnectionError",
    "SSEResponseError",
    "SSEStatusError",
    "SSEContentTypeError",
    "StreamStalled",
    "ReconnectExhausted",
    "BufferOverflowError",
    "DomainError",
    "IncompleteStreamError",
    "MessagingEventError",
]


class RxSSEError(Exception):
    """Root of every error rxsse raises on purpose."""


class SSEProtocolError(RxSSEError, ValueError):
    """The byte stream broke a decoding limit.

    ``events`` holds the events that were completed by the same ``feed``
    call before the offending input, so no good data is lost when a decoder
    raises halfway through a chunk.  After raising, the decoder is failed:
    every further ``feed``/``close`` raises the same error again.
    """

    def __init__(self, message: str, *, limit: int, size: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.size = size
        self.events: list[Any] = []


class LineTooLong(SSEProtocolError):
    """A single line (without its terminator) is longer than ``max_line_size``."""


class EventTooLarge(SSEProtocolError):
    """An event's data buffer grew beyond ``max_event_size`` bytes (UTF-8 as received)."""


class EventDataNotJSON(RxSSEError, ValueError):
    """``ServerSentEvent.json()`` was called on data that is not valid JSON.

    ``event`` is the offending event; the ``json.JSONDecodeError`` is chained
    as ``__cause__``.
    """

    def __init__(self, message: str, *, event: Any) -> None:
        super().__init__(message)
        self.event = event


class SSEConnectionError(RxSSEError, ConnectionError):
    """Something went wrong on the HTTP side of a source."""


class SSEResponseError(SSEConnectionError):
    """The server answered, but the answer can never be an event stream.

    Sources never reconnect after this error (the WHATWG spec "fails the
    connection").  ``status_code``, ``headers``, ``content_type`` and the
    first bytes of the body (``body``, at most a few KiB) are attached,
    plus the ``url`` that was requested.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str = "",
        status_code: int = 0,
        headers: Mapping[str, str] | Sequence[tuple[str, str]] = (),
        content_type: str = "",
        body: bytes = b"",
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status_code = status_code
        self.headers: dict[str, str] = dict(headers)
        self.content_type = content_type
        self.body = body


class SSEStatusError(SSEResponseError):
    """The status code was not 2xx, or was 204 No Content (server says: stop)."""


class SSEContentTypeError(SSEResponseError):
    """The response's MIME essence is not the one the source reads.

    ``text/event-stream`` for :func:`rxsse.from_url`; for
    :func:`rxsse.from_ndjson_url`, one of the NDJSON types it accepts.
    """


class StreamStalled(SSEConnectionError, TimeoutError):
    """No bytes at all (comments included) arrived within the idle timeout."""

    def __init__(self, message: str, *, idle_timeout: float) -> None:
        super().__init__(message)
        self.idle_timeout = idle_timeout


class ReconnectExhausted(SSEConnectionError):
    """The maximum number of connection attempts was used up.

    ``attempts`` counts the attempts made; ``last_cause`` is the error of the
    last one (also chained as ``__cause__``).
    """

    def __init__(self, message: str, *, attempts: int, last_cause: BaseException | None) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.last_cause = last_cause


class BufferOverflowError(RxSSEError, OverflowError):
    """A bounded bridge buffer was full under the ``"error"`` overflow policy."""

    def __init__(self, message: str, *, maxsize: int) -> None:
        super().__init__(message)
        self.maxsize = maxsize


class DomainError(RxSSEError):
    """A domain reducer found the stream inconsistent or incomplete."""


class IncompleteStreamError(DomainError):
    """The stream ended before its terminal marker.

    ``partial`` carries the last state reduced so far, so callers can still
    show (and label) what arrived.
    """

    def __init__(self, message: str, *, partial: Any = None) -> None:
        super().__init__(message)
        self.partial = partial


class MessagingEventError(DomainError, ValueError):
    """A messaging event of a known type whose data is not the expected JSON object.

    ``event`` is the offending ``ServerSentEvent``; the JSON or validation
    error is chained as ``__cause__``.
    """

    def __init__(self, message: str, *, event: Any) -> None:
        super().__init__(message)
        self.event = event


class LLMProviderError(DomainError):
    """An LLM provider reported an error inside the stream.

    ``body`` is the error as sent, ``retryable`` says whether the error's type
    or code looks transient (overloaded, rate limit, server error, timeout),
    and ``partial`` is the snapshot accumulated before it.
    """

    def __init__(self, message: str, *, body: Any, retryable: bool, partial: Any = None) -> None:
        super().__init__(message)
        self.body = body
        self.retryable = retryable
        self.partial = partial
