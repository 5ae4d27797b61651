"""``from_url``: a live SSE endpoint as an observable, reconnecting per the spec.

One subscription = one task on the running loop (see :mod:`rxsse._loop`)
that sends one streaming request with httpx, decodes the body with a fresh
:class:`~rxsse.SSEDecoder`, and emits each event.  When the connection is
lost or the body ends, it waits and reconnects as the WHATWG spec's
``EventSource`` does, sending ``Last-Event-ID``; when the response can never
be an event stream it fails without reconnecting.  Disposing the
subscription cancels the task, which closes the response and, if the
source created it, the client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from reactivex import Observable

from rxsse._async_source import Emit, observable_from_coroutine
from rxsse._event import ServerSentEvent
from rxsse._loop import cooperate
from rxsse.decoder import DEFAULT_MAX_EVENT_SIZE, DEFAULT_MAX_LINE_SIZE, SSEDecoder
from rxsse.errors import (
    ReconnectExhausted,
    SSEContentTypeError,
    SSEProtocolError,
    SSEStatusError,
    StreamStalled,
)
from rxsse.sources.lifecycle import (
    Closed,
    Connecting,
    ConnectionEvent,
    Open,
    Reconnecting,
    ReconnectPolicy,
)

__all__ = ["DEFAULT_TIMEOUT", "ERROR_BODY_LIMIT", "from_url"]

DEFAULT_TIMEOUT = httpx.Timeout(10.0, read=None)
"""Connect, write and pool timeouts of 10 s; **no read timeout**, so a quiet
stream is never killed by httpx (use ``idle_timeout`` to detect stalls)."""

ERROR_BODY_LIMIT = 4096
"""At most this many bytes of an error response's body are attached to it."""

_EVENT_STREAM = "text/event-stream"


def mime_essence(content_type: str) -> str:
    """``"Text/Event-Stream; charset=utf-8"`` → ``"text/event-stream"``."""
    return content_type.split(";", 1)[0].strip().lower()


class _Connection:
    """Mutable state of one subscription, shared across its reconnections."""

    __slots__ = ("last_event_id", "opened", "retry")

    def __init__(self, last_event_id: str) -> None:
        self.last_event_id = last_event_id
        self.retry: int | None = None
        self.opened = False


def from_url(
    url: str | httpx.URL,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    content: str | bytes | None = None,
    client: httpx.AsyncClient | None = None,
    last_event_id: str | None = None,
    reconnect: ReconnectPolicy | bool = True,
    timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
    idle_timeout: float | None = None,
    lifecycle: Callable[[ConnectionEvent], Any] | None = None,
    max_line_size: int = DEFAULT_MAX_LINE_SIZE,
    max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
) -> Observable[ServerSentEvent]:
    """Subscribe to a Server-Sent Events endpoint.

    Each subscription sends its own request (``method``, ``headers``,
    ``params``, and a ``json`` or ``content`` body) with ``Accept:
    text/event-stream`` and ``Cache-Control: no-cache``, following redirects.
    With ``client`` the caller's :class:`httpx.AsyncClient` is used and left
    open; otherwise a client is created for the subscription and closed with
    it.  ``timeout`` applies to the client the source creates (a number sets
    connect/write/pool timeouts and keeps the read timeout off).

    **Failing without reconnecting** (the stream errors, nothing is retried):
    a status outside 2xx, or 204 No Content →
    :class:`~rxsse.errors.SSEStatusError`; a content type whose MIME essence is
    not ``text/event-stream`` (parameters such as ``charset`` are ignored) →
    :class:`~rxsse.errors.SSEContentTypeError`.  Both carry the status, the
    headers and the first :data:`ERROR_BODY_LIMIT` bytes of the body.  A
    decoder limit (:class:`~rxsse.errors.SSEProtocolError`) also fails, after
    the good events before it.

    **Reconnecting**: when the body ends or the connection fails (any
    ``httpx.TransportError``, or no bytes at all — comments included — for
    ``idle_timeout`` seconds, which raises
    :class:`~rxsse.errors.StreamStalled` internally), the source waits per
    ``reconnect`` (a :class:`ReconnectPolicy`; ``True`` = the default policy,
    ``False`` = never reconnect, so the end of the body completes the
    stream and a network error errors it) and requests the *original* URL
    again with ``Last-Event-ID`` set to the last event ID committed by the
    stream (omitted when it is empty).  ``last_event_id`` seeds that value
    for the first request, to resume a stream.  Each connection gets a fresh
    decoder; only the committed last event ID and the ``retry`` value carry
    over.  After ``max_attempts`` consecutive failures the stream errors with
    :class:`~rxsse.errors.ReconnectExhausted` carrying the last cause.

    ``lifecycle``, if given, is called on the loop thread with
    :class:`~rxsse.sources.lifecycle.Connecting`, ``Open``, ``Reconnecting``
    and, once, ``Closed`` values; the event stream itself carries only events.
    """
    policy = reconnect if isinstance(reconnect, ReconnectPolicy) else ReconnectPolicy()
    may_reconnect = reconnect is not False and policy.allows(method)
    if isinstance(timeout, (int, float)):
        timeout = httpx.Timeout(float(timeout), read=None)
    if json is not None and content is not None:
        raise ValueError("pass either json or content, not both")
    if idle_timeout is not None and idle_timeout <= 0:
        raise ValueError("idle_timeout must be positive")
    base_headers = {"Accept": _EVENT_STREAM, "Cache-Control": "no-cache"}
    if headers:
        base_headers.update(headers)
    target = str(url)

    def notify(event: ConnectionEvent) -> None:
        if lifecycle is not None:
            lifecycle(event)

    async def produce(emit: Emit) -> None:
        own_client = client is None
        http = client if client is not None else httpx.AsyncClient(timeout=timeout)
        conn = _Connection(last_event_id or "")
        failures = 0
        cause: BaseException | None = None
        try:
            while True:
                notify(Connecting(target, failures, conn.last_event_id))
                conn.opened = False
                try:
                    await _stream_once(http, conn, emit, notify, failures)
                    error: BaseException | None = None
                except (httpx.TransportError, StreamStalled) as exc:
                    error = exc
                if not may_reconnect:
                    if error is not None:
                        raise error
                    return
                failures = 1 if conn.opened else failures + 1
                if policy.max_attempts is not None and failures > policy.max_attempts:
                    raise ReconnectExhausted(
                        f"gave up on {target} after {failures - 1} reconnect attempts",
                        attempts=failures - 1,
                        last_cause=error,
                    ) from error
                delay = policy.delay(failures, conn.retry)
                notify(Reconnecting(failures, delay, error))
                await asyncio.sleep(delay)
        except BaseException as exc:
            cause = None if isinstance(exc, asyncio.CancelledError) else exc
            raise
        finally:
            try:
                if own_client:
                    await http.aclose()
            finally:
                notify(Closed(cause))

    async def _stream_once(
        http: httpx.AsyncClient,
        conn: _Connection,
        emit: Emit,
        notify: Callable[[ConnectionEvent], None],
        attempt: int,
    ) -> None:
        request_headers = dict(base_headers)
        if conn.last_event_id:
            request_headers["Last-Event-ID"] = conn.last_event_id
        else:
            request_headers.pop("Last-Event-ID", None)
        request = http.build_request(
            method,
            target,
            headers=request_headers,
            params=params,
            json=json,
            content=content,
        )
        response = await http.send(request, stream=True, follow_redirects=True)
        try:
            await _check_response(response)
            conn.opened = True
            notify(Open(str(response.url), attempt, response.status_code))
            decoder = SSEDecoder(
                max_line_size=max_line_size,
                max_event_size=max_event_size,
                last_event_id=conn.last_event_id,
                retry=conn.retry,
            )
            try:
                await _pump(response, decoder, emit)
            finally:
                conn.last_event_id = decoder.last_event_id
                conn.retry = decoder.retry
        finally:
            await response.aclose()

    async def _pump(response: httpx.Response, decoder: SSEDecoder, emit: Emit) -> None:
        chunks = response.aiter_bytes()
        if idle_timeout is None:
            async for chunk in chunks:
                for event in _feed(decoder, chunk, emit):
                    emit(event)
                await cooperate()
            return
        loop = asyncio.get_running_loop()
        deadline = asyncio.timeout(idle_timeout)
        try:
            async with deadline:
                async for chunk in chunks:
                    deadline.reschedule(None)  # our own processing is not idleness
                    for event in _feed(decoder, chunk, emit):
                        emit(event)
                    await cooperate()
                    deadline.reschedule(loop.time() + idle_timeout)
        except TimeoutError as exc:
            if deadline.expired():
                raise StreamStalled(
                    f"no bytes from {response.url} for {idle_timeout} s",
                    idle_timeout=idle_timeout,
                ) from exc
            raise

    return observable_from_coroutine(produce)


def _feed(decoder: SSEDecoder, chunk: bytes, emit: Emit) -> list[ServerSentEvent]:
    try:
        return decoder.feed(chunk)
    except SSEProtocolError as exc:
        for event in exc.events:
            emit(event)
        raise


async def _check_response(response: httpx.Response) -> None:
    """Raise the typed error for a response that can never be an event stream."""
    status = response.status_code
    content_type = response.headers.get("content-type", "")
    if 200 <= status < 300 and status != 204 and mime_essence(content_type) == _EVENT_STREAM:
        return
    body = await _read_prefix(response)
    details: dict[str, Any] = {
        "url": str(response.url),
        "status_code": status,
        "headers": list(response.headers.items()),
        "content_type": content_type,
        "body": body,
    }
    if status == 204:
        raise SSEStatusError(f"{response.url} answered 204 No Content: stop", **details)
    if not 200 <= status < 300:
        reason = response.reason_phrase or ""
        raise SSEStatusError(f"{response.url} answered {status} {reason}".rstrip(), **details)
    shown = content_type or "no content type"
    raise SSEContentTypeError(
        f"{response.url} answered {shown!r}, not {_EVENT_STREAM!r}", **details
    )


async def _read_prefix(response: httpx.Response) -> bytes:
    """The first bytes of a body, without waiting long for a slow one."""
    body = bytearray()
    try:
        async with asyncio.timeout(2.0):
            async for part in response.aiter_bytes():
                body += part
                if len(body) >= ERROR_BODY_LIMIT:
                    break
    except (TimeoutError, httpx.HTTPError):
        pass
    return bytes(body[:ERROR_BODY_LIMIT])
