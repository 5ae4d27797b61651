"""``from_url``: a live SSE endpoint as an observable, reconnecting per the spec.

One subscription = one task on the running loop (see :mod:`rxsse._loop`)
that sends one streaming request with httpx, decodes the body with a fresh
:class:`~rxsse.SSEDecoder`, and emits each event.  When the connection is
lost or the body ends, it waits and reconnects as the WHATWG spec's
``EventSource`` does, sending ``Last-Event-ID``; when the response can never
be an event stream it fails without reconnecting.  Disposing the
subscription cancels the task, which closes the response and, if the
source created it, the client.

The loop itself is format-agnostic: :func:`streaming_source` runs it for any
:class:`BodyFormat` (``from_url`` plugs in SSE; :mod:`rxsse.sources.ndjson`
plugs in newline-delimited JSON).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import httpx
from reactivex import Observable

from rxsse._async_source import Emit, observable_from_coroutine
from rxsse._event import ServerSentEvent
from rxsse._loop import cooperate
from rxsse.decoder import DEFAULT_MAX_EVENT_SIZE, DEFAULT_MAX_LINE_SIZE, SSEDecoder
from rxsse.errors import (
    ReconnectExhausted,
    SSEContentTypeError,
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
from rxsse.sources.replay import feed_salvaging

__all__ = ["DEFAULT_TIMEOUT", "ERROR_BODY_LIMIT", "BodyFormat", "from_url", "streaming_source"]

DEFAULT_TIMEOUT = httpx.Timeout(10.0, read=None)
"""Connect, write and pool timeouts of 10 s; **no read timeout**, so a quiet
stream is never killed by httpx (use ``idle_timeout`` to detect stalls)."""

ERROR_BODY_LIMIT = 4096
"""At most this many bytes of an error response's body are attached to it."""

_EVENT_STREAM = "text/event-stream"


def mime_essence(content_type: str) -> str:
    """``"Text/Event-Stream; charset=utf-8"`` → ``"text/event-stream"``."""
    return content_type.split(";", 1)[0].strip().lower()


class BodyFormat(Protocol):
    """What differs between streaming body formats (SSE, NDJSON) under one reconnect loop.

    One instance serves one subscription across all its connections:
    :meth:`prepare` shapes each request (e.g. ``Last-Event-ID``, a resume query
    parameter); :meth:`start` begins a connection's body (a fresh decoder);
    :meth:`feed` decodes a chunk and emits what it completes (on a decoding error it
    emits the good items first, then raises); :meth:`finish` is called when a
    body ended cleanly (not when it failed); :meth:`stop` ends the connection's
    body, cleanly or not, and keeps what carries over to the next connection.
    """

    media_type: str
    """Sent as ``Accept``; named in :class:`~rxsse.errors.SSEContentTypeError`."""

    def accepts(self, essence: str) -> bool:
        """Whether a response with this MIME essence is a stream of this format."""

    def prepare(
        self, headers: dict[str, str], params: Mapping[str, Any] | None
    ) -> tuple[dict[str, str], Mapping[str, Any] | None]:
        """The headers and query parameters of the next request."""

    @property
    def resume_token(self) -> str:
        """Where the next connection resumes (reported by ``Connecting``)."""

    @property
    def retry_ms(self) -> int | None:
        """The server's reconnection time, if it set one."""

    def start(self) -> None:
        """A response was accepted: begin decoding a new body."""

    def feed(self, chunk: bytes, emit: Emit) -> None:
        """Decode one chunk of the body and emit the items it completes."""

    def finish(self, emit: Emit) -> None:
        """The body ended cleanly: emit what an unterminated tail still holds, if any."""

    def stop(self) -> None:
        """The body ended (or failed): keep what carries over to the next connection."""


class _SSEBody:
    """``text/event-stream`` bodies: a fresh decoder per connection; the last event
    ID (sent back as ``Last-Event-ID``) and ``retry`` carry over."""

    media_type = _EVENT_STREAM

    def __init__(self, last_event_id: str, max_line_size: int, max_event_size: int) -> None:
        self.last_event_id = last_event_id
        self.retry: int | None = None
        self._max_line_size = max_line_size
        self._max_event_size = max_event_size
        self._decoder: SSEDecoder | None = None

    def accepts(self, essence: str) -> bool:
        return essence == _EVENT_STREAM

    def prepare(
        self, headers: dict[str, str], params: Mapping[str, Any] | None
    ) -> tuple[dict[str, str], Mapping[str, Any] | None]:
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        else:
            headers.pop("Last-Event-ID", None)
        return headers, params

    @property
    def resume_token(self) -> str:
        return self.last_event_id

    @property
    def retry_ms(self) -> int | None:
        return self.retry

    def start(self) -> None:
        self._decoder = SSEDecoder(
            max_line_size=self._max_line_size,
            max_event_size=self._max_event_size,
            last_event_id=self.last_event_id,
            retry=self.retry,
        )

    def feed(self, chunk: bytes, emit: Emit) -> None:
        assert self._decoder is not None
        for event in feed_salvaging(self._decoder, chunk, emit):
            emit(event)

    def finish(self, emit: Emit) -> None:
        """An unterminated final event is discarded, as the spec says."""

    def stop(self) -> None:
        if self._decoder is not None:
            self.last_event_id = self._decoder.last_event_id
            self.retry = self._decoder.retry
            self._decoder = None


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
    max_sizes = (max_line_size, max_event_size)
    return streaming_source(
        url,
        lambda: _SSEBody(last_event_id or "", *max_sizes),
        method=method,
        headers=headers,
        params=params,
        json=json,
        content=content,
        client=client,
        reconnect=reconnect,
        timeout=timeout,
        idle_timeout=idle_timeout,
        lifecycle=lifecycle,
    )


def streaming_source(
    url: str | httpx.URL,
    body: Callable[[], BodyFormat],
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    content: str | bytes | None = None,
    client: httpx.AsyncClient | None = None,
    reconnect: ReconnectPolicy | bool = True,
    timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
    idle_timeout: float | None = None,
    lifecycle: Callable[[ConnectionEvent], Any] | None = None,
) -> Observable[Any]:
    """The request, check, decode and reconnect loop of :func:`from_url`, for any format.

    ``body()`` is called once per subscription and decides what is requested,
    accepted and emitted (see :class:`BodyFormat`); every other argument and
    behaviour is exactly :func:`from_url`'s.
    """
    policy = reconnect if isinstance(reconnect, ReconnectPolicy) else ReconnectPolicy()
    may_reconnect = reconnect is not False and policy.allows(method)
    if isinstance(timeout, (int, float)):
        timeout = httpx.Timeout(float(timeout), read=None)
    if json is not None and content is not None:
        raise ValueError("pass either json or content, not both")
    if idle_timeout is not None and idle_timeout <= 0:
        raise ValueError("idle_timeout must be positive")
    target = str(url)
    extra_headers = dict(headers) if headers else {}

    def notify(event: ConnectionEvent) -> None:
        if lifecycle is not None:
            lifecycle(event)

    async def produce(emit: Emit) -> None:
        own_client = client is None
        http = client if client is not None else httpx.AsyncClient(timeout=timeout)
        fmt = body()
        base_headers = {"Accept": fmt.media_type, "Cache-Control": "no-cache", **extra_headers}
        failures = 0
        cause: BaseException | None = None
        try:
            while True:
                notify(Connecting(target, failures, fmt.resume_token))
                opened: list[bool] = []
                try:
                    await _stream_once(http, fmt, base_headers, emit, opened, failures)
                    error: BaseException | None = None
                except (httpx.TransportError, StreamStalled) as exc:
                    error = exc
                if not may_reconnect:
                    if error is not None:
                        raise error
                    return
                failures = 1 if opened else failures + 1
                if policy.max_attempts is not None and failures > policy.max_attempts:
                    raise ReconnectExhausted(
                        f"gave up on {target} after {failures - 1} reconnect attempts",
                        attempts=failures - 1,
                        last_cause=error,
                    ) from error
                delay = policy.delay(failures, fmt.retry_ms)
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
        fmt: BodyFormat,
        base_headers: dict[str, str],
        emit: Emit,
        opened: list[bool],
        attempt: int,
    ) -> None:
        request_headers, request_params = fmt.prepare(dict(base_headers), params)
        request = http.build_request(
            method,
            target,
            headers=request_headers,
            params=request_params,
            json=json,
            content=content,
        )
        response = await http.send(request, stream=True, follow_redirects=True)
        try:
            await _check_response(response, fmt)
            opened.append(True)
            notify(Open(str(response.url), attempt, response.status_code))
            fmt.start()
            try:
                await _pump(response, fmt, emit)
                fmt.finish(emit)
            finally:
                fmt.stop()
        finally:
            await response.aclose()

    async def _pump(response: httpx.Response, fmt: BodyFormat, emit: Emit) -> None:
        chunks = response.aiter_bytes()
        if idle_timeout is None:
            async for chunk in chunks:
                fmt.feed(chunk, emit)
                await cooperate()
            return
        loop = asyncio.get_running_loop()
        deadline = asyncio.timeout(idle_timeout)
        try:
            async with deadline:
                async for chunk in chunks:
                    deadline.reschedule(None)  # our own processing is not idleness
                    fmt.feed(chunk, emit)
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


async def _check_response(response: httpx.Response, fmt: BodyFormat) -> None:
    """Raise the typed error for a response that can never be a stream of ``fmt``."""
    status = response.status_code
    content_type = response.headers.get("content-type", "")
    if 200 <= status < 300 and status != 204 and fmt.accepts(mime_essence(content_type)):
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
        f"{response.url} answered {shown!r}, not {fmt.media_type!r}", **details
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
