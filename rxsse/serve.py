"""Serve any observable as a Server-Sent Events HTTP response (Starlette, FastAPI, any ASGI).

Three pieces, from the wire up:

**Framing** -- :func:`encode_event` and :func:`encode_comment` are pure functions
that turn values into ``text/event-stream`` bytes with a few C-level ``str``
operations.  What :class:`rxsse.SSEDecoder` (or a browser) reads back is the
same event, with line terminators in ``data`` normalised to ``"\\n"``.

**One stream per request** -- :class:`EventSourceResponse` subscribes to an
observable when the server starts sending the response and writes each item:

* a :class:`~rxsse.ServerSentEvent` is encoded (its ``id`` is written only
  when it differs from the last ID sent on this connection);
* ``bytes`` are written verbatim -- an escape hatch for fault injection
  (malformed or partial output); the response does not parse them;
* anything else goes through ``encoder(item) -> ServerSentEvent``
  (:func:`default_encoder` by default: pydantic models as JSON, ``str`` as
  is, anything else through ``json.dumps``).

Policies, per connection:

``max_queue`` (overflow)
    Items are encoded on the event loop and wait in a bounded per-client
    queue of ``max_queue`` frames.  Rx has no backpressure, so when a client
    reads more slowly than the source emits and the queue is full, **the
    client is disconnected**: its queued frames are discarded, the response
    ends (cleanly if the terminating chunk can be written within
    ``send_timeout``) and the upstream subscription is disposed.  A client
    that reconnects with ``Last-Event-ID`` resumes where it stopped (see
    :class:`Broadcaster`).  :attr:`EventSourceResponse.outcome` becomes
    ``"overflow"``; :attr:`Broadcaster.overflow_drops` counts such drops.
    rxsse's own cooperative sources (``from_url``, ``from_async_iterable``,
    ``from_bytes`` over an async iterable) are *paused* instead while the
    queue is at least half full, so proxying them to one slow client never
    overflows; synchronous sources (a ``Subject``, ``reactivex.from_iterable``)
    cannot be paused.
``send_timeout`` (frozen clients)
    Every write must be accepted by the server within ``send_timeout``
    seconds (``None``: wait forever).  A write blocks when the client stops
    reading and the socket buffers are full; on timeout the client is
    dropped: the response returns without the terminating chunk (the server
    closes the connection; uvicorn logs "ASGI callable returned without
    completing response") and the upstream is disposed at once.
    ``outcome == "send_timeout"``.
``heartbeat``
    After ``heartbeat`` seconds without output a comment line ``:`` is
    written (``None`` disables it).  Comments are invisible to
    ``EventSource`` and keep proxies from closing an idle connection.
Client disconnect
    ``http.disconnect`` from ``receive`` cancels the writer and disposes the
    upstream subscription immediately.  ``outcome == "disconnected"``.
Upstream completion
    The queued frames are written, then the response ends with the
    terminating chunk.  ``outcome == "completed"``.
Upstream error
    The error is logged (logger ``rxsse.serve``, level ERROR, with
    traceback); queued frames are written, then -- **only if** an
    ``error_event`` callback is given and returns an event -- that event,
    then the response ends cleanly.  Nothing about the error is written by
    default, so no internals leak to clients.  An ``encoder`` that raises, or
    an event that cannot be framed (a newline in its ``id``), counts as an
    upstream error.  ``outcome == "error"``.
:class:`AbortConnection`
    An upstream error of this type (fault injection) writes the queued
    frames and then drops the connection **without** the terminating chunk,
    which a client sees as a broken transfer (httpx raises
    ``RemoteProtocolError``).  Logged at DEBUG only.  ``outcome == "aborted"``.

Drops (overflow, send timeout) are logged at WARNING on ``rxsse.serve``.

Threads: items may be emitted from any thread.  They are handed to the loop
that runs the response with ``loop.call_soon_threadsafe`` (in emission
order); ``encoder`` and ``error_event`` run on that loop's thread.  Needs
an asyncio-based server (uvicorn, hypercorn on asyncio).

**Fan-out and resume** -- :class:`Broadcaster` shares one upstream
subscription among every connected client, keeps a replay ring of recent
events, and builds responses that resume after a ``Last-Event-ID`` with no
gap and no duplicate.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, Protocol

from rxsse._extras import require

require("rxsse.serve", "server", "starlette")

import anyio
from pydantic import BaseModel
from reactivex import Observable, abc
from starlette.background import BackgroundTask
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from rxsse._event import ServerSentEvent
from rxsse._loop import BACKPRESSURE, running_loop

__all__ = [
    "AbortConnection",
    "Broadcaster",
    "EventSourceResponse",
    "Outcome",
    "UnknownIdPolicy",
    "default_encoder",
    "encode_comment",
    "encode_event",
]

logger = logging.getLogger("rxsse.serve")

Outcome = Literal[
    "completed", "error", "aborted", "overflow", "send_timeout", "disconnected", "closed"
]
"""How a response ended (:attr:`EventSourceResponse.outcome`).

``completed``: upstream completed, everything written.  ``error``: upstream
failed (logged), queued frames written.  ``aborted``: upstream failed with
:class:`AbortConnection`, connection dropped without the terminating chunk.
``overflow``: the client's queue overflowed, client dropped.
``send_timeout``: a write was not accepted within ``send_timeout``, client
dropped.  ``disconnected``: the client went away (or the server cancelled
the response).  ``closed``: the :class:`Broadcaster` was closed.
"""

UnknownIdPolicy = Literal["replay", "live"]
"""What :meth:`Broadcaster.response` does with a ``Last-Event-ID`` it cannot find."""

_HEARTBEAT = b":\n"
_BATCH_BYTES = 256 * 1024  # queued frames are joined into writes of about this size


class AbortConnection(Exception):
    """Upstream error that makes a response drop its connection abruptly.

    When the observable behind an :class:`EventSourceResponse` (or a
    :class:`Broadcaster`) fails with this exception, the frames already
    queued are written and the connection is then closed without the
    chunked terminator, as if the network broke.  Meant for fault
    injection (the emulator's "drop after N events").
    """


# -- framing --------------------------------------------------------------------------


def _check_field(value: str, field: str, *, nul: bool) -> None:
    if "\n" in value or "\r" in value or (nul and "\0" in value):
        forbidden = "CR, LF or NUL" if nul else "CR or LF"
        raise ValueError(f"SSE {field} must not contain {forbidden}: {value!r}")


def encode_event(event: ServerSentEvent, *, previous_id: str | None = None) -> bytes:
    """Encode one event as UTF-8 ``text/event-stream`` bytes, ending with a blank line.

    * ``event:`` is written only when ``event.event`` is not ``"message"``
      (or empty); a CR or LF in it raises ``ValueError``.
    * ``data`` is split at every CRLF, CR and LF into one ``data:`` line per
      line, so a decoder returns it with every terminator turned into
      ``"\\n"``.  Empty data still yields one ``data:`` line, so the client
      dispatches the event.
    * ``id:`` is written when ``event.id`` differs from ``previous_id``, the
      last event ID the client already holds on this connection: a bare
      ``id`` line resets it to ``""``.  ``previous_id=None`` means "no
      state": a non-empty id is always written and an empty one never.  A
      CR, LF or NUL in a written id raises ``ValueError`` (a decoder would
      otherwise split or ignore it).
    * ``retry:`` (milliseconds) is written when ``event.retry`` is not
      ``None``; it must be a non-negative ``int`` (else ``ValueError``).

    Field order is ``event``, ``id``, ``retry``, ``data``; one space follows
    each colon, so values that start with a space survive decoding.
    Strings with lone surrogates raise ``UnicodeEncodeError`` (a
    ``ValueError``).
    """
    name, data, event_id, retry = event
    if "\r" in data:
        data = data.replace("\r\n", "\n").replace("\r", "\n")
    data = data.replace("\n", "\ndata: ")
    if name == "message" or not name:
        head = ""
    else:
        _check_field(name, "event type", nul=False)
        head = "event: " + name + "\n"
    if event_id != previous_id:
        if event_id:
            _check_field(event_id, "event id", nul=True)
            head += "id: " + event_id + "\n"
        elif previous_id is not None:
            head += "id\n"
    if retry is not None:
        if not isinstance(retry, int) or isinstance(retry, bool) or retry < 0:
            raise ValueError(f"SSE retry must be a non-negative int (milliseconds): {retry!r}")
        head += "retry: " + str(retry) + "\n"
    return (head + "data: " + data + "\n\n").encode("utf-8")


def encode_comment(text: str = "") -> bytes:
    """Encode a comment: one ``:`` line per line of ``text`` (CRLF, CR, LF split it).

    ``encode_comment()`` is ``b":\\n"``, the heartbeat.  Comments never
    dispatch an event and may be written between events at any time.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    return "".join(": " + line + "\n" if line else ":\n" for line in lines).encode("utf-8")


def default_encoder(item: Any) -> ServerSentEvent:
    """Turn a non-event item into a ``"message"`` event without an id.

    A pydantic model becomes ``model_dump_json()``; a ``str`` is the data as
    is; anything else is ``json.dumps``-ed compactly (``dict``, ``list``,
    numbers, ``None``...) and raises ``TypeError`` when it is not JSON
    serialisable.
    """
    if isinstance(item, str):
        return ServerSentEvent(data=item)
    if isinstance(item, BaseModel):
        return ServerSentEvent(data=item.model_dump_json())
    return ServerSentEvent(data=json.dumps(item, separators=(",", ":"), ensure_ascii=False))


Encoder = Callable[[Any], ServerSentEvent]
ErrorEvent = Callable[[BaseException], ServerSentEvent | None]


class _Framer:
    """Frames items for one ordered stream, tracking the last ID written."""

    __slots__ = ("encoder", "sent_id")

    def __init__(self, encoder: Encoder, sent_id: str) -> None:
        self.encoder = encoder
        self.sent_id = sent_id

    def event_of(self, item: Any) -> ServerSentEvent | None:
        """The event ``item`` stands for, or ``None`` for verbatim bytes."""
        if isinstance(item, ServerSentEvent):
            return item
        if isinstance(item, bytes | bytearray | memoryview):
            return None
        event = self.encoder(item)
        if not isinstance(event, ServerSentEvent):
            raise TypeError(f"encoder returned {type(event).__name__}, not ServerSentEvent")
        return event

    def frame(self, event: ServerSentEvent) -> bytes:
        frame = encode_event(event, previous_id=self.sent_id)
        self.sent_id = event.id
        return frame


def _error_frame(error_event: ErrorEvent | None, exc: BaseException, framer: _Framer) -> bytes:
    if error_event is None:
        return b""
    try:
        event = error_event(exc)
        return b"" if event is None else framer.frame(event)
    except Exception:
        logger.exception("error_event callback failed; nothing written for the error")
        return b""


# -- crossing threads into the loop ----------------------------------------------------

_NEXT, _ERROR, _COMPLETED = 0, 1, 2


class _LoopInbox:
    """Hands Rx notifications from any thread to one loop thread, in emission order.

    On the loop thread with nothing pending, a notification is delivered
    inline; otherwise it is queued and the queue is drained by a callback
    scheduled with ``loop.call_soon_threadsafe`` (at most one at a time).
    Must be created on the loop thread.
    """

    __slots__ = (
        "_closed",
        "_draining",
        "_lock",
        "_loop",
        "_on_completed",
        "_on_error",
        "_on_next",
        "_pending",
        "_scheduled",
        "_terminated",
        "_thread",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        on_next: Callable[[Any], None],
        on_error: Callable[[Exception], None],
        on_completed: Callable[[], None],
    ) -> None:
        self._loop = loop
        self._thread = threading.get_ident()
        self._on_next = on_next
        self._on_error = on_error
        self._on_completed = on_completed
        self._lock = threading.Lock()
        self._pending: deque[tuple[int, Any]] = deque()
        self._scheduled = False
        self._draining = False
        self._terminated = False
        self._closed = False

    def close(self) -> None:
        """Deliver nothing more (loop thread)."""
        self._closed = True
        self._pending.clear()

    def on_next(self, item: Any) -> None:
        if (
            not self._pending
            and not self._draining
            and threading.get_ident() == self._thread
            and not self._closed
            and not self._terminated
        ):
            self._on_next(item)
        else:
            self._push(_NEXT, item)

    def on_error(self, error: Exception) -> None:
        self._push(_ERROR, error)

    def on_completed(self) -> None:
        self._push(_COMPLETED, None)

    def _push(self, kind: int, value: Any) -> None:
        if self._closed or self._terminated:
            return
        on_loop = threading.get_ident() == self._thread
        with self._lock:
            self._pending.append((kind, value))
            if kind != _NEXT:
                self._terminated = True
            if not on_loop:
                if self._scheduled:
                    return
                self._scheduled = True
        if on_loop:
            self._drain()
            return
        try:
            self._loop.call_soon_threadsafe(self._drain)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            self._closed = True

    def _drain(self) -> None:
        if self._draining:  # an outer drain on this thread delivers it next
            return
        self._draining = True
        try:
            while True:
                with self._lock:
                    self._scheduled = False
                    batch = self._pending
                    if not batch:
                        return
                    self._pending = deque()
                for kind, value in batch:
                    if self._closed:
                        return
                    if kind == _NEXT:
                        self._on_next(value)
                    elif kind == _ERROR:
                        self._on_error(value)
                    else:
                        self._on_completed()
        finally:
            self._draining = False


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _resolve_threadsafe(waiter: asyncio.Future[None]) -> None:
    loop = waiter.get_loop()
    if running_loop() is loop:
        _resolve(waiter)
    elif not loop.is_closed():
        loop.call_soon_threadsafe(_resolve, waiter)


# -- the per-client queue --------------------------------------------------------------


class _Outbox:
    """Frames waiting for one client; used on the loop thread only.

    ``backlog`` holds replayed frames (bounded by the replay ring, not by
    ``max_queue``); ``live`` holds frames that arrived while connected and
    overflows at ``max_queue``.  ``end`` becomes the outcome once the stream
    is over; the writer then drains what is queued (except after an
    overflow), writes ``final`` if any, and stops.
    """

    __slots__ = (
        "_backlog",
        "_capacity_waiters",
        "_closed",
        "_final",
        "_high_water",
        "_live",
        "_waiter",
        "end",
        "loop",
        "max_queue",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop, max_queue: int) -> None:
        self.loop = loop
        self.max_queue = max_queue
        self._high_water = max(1, max_queue // 2)
        self._backlog: deque[bytes] = deque()
        self._live: deque[bytes] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._capacity_waiters: list[asyncio.Future[None]] = []
        self._final = b""
        self._closed = False
        self.end: Outcome | None = None

    # producer side (loop thread)

    def preload(self, frames: list[bytes]) -> None:
        self._backlog.extend(frame for frame in frames if frame)
        self._wake()

    def put(self, frame: bytes) -> None:
        if self.end is not None or not frame:
            return
        live = self._live
        if len(live) >= self.max_queue:
            live.clear()
            self._backlog.clear()
            self.end = "overflow"
            self._release_producers()
        else:
            live.append(frame)
        self._wake()

    def finish(self, outcome: Outcome, final: bytes = b"") -> None:
        if self.end is None:
            self.end = outcome
            self._final = final
            self._release_producers()
            self._wake()

    def close(self) -> None:
        self._closed = True
        if self.end is None:
            self.end = "disconnected"
        self._live.clear()
        self._backlog.clear()
        self._release_producers()

    def wait_for_capacity(self) -> Awaitable[None] | None:
        """Cooperative backpressure (see :mod:`rxsse._loop`): wait while half full."""
        if self.end is not None or len(self._live) < self._high_water:
            return None
        loop = running_loop()
        if loop is None:
            return None
        waiter: asyncio.Future[None] = loop.create_future()
        self._capacity_waiters.append(waiter)
        return waiter

    def _release_producers(self) -> None:
        if self._capacity_waiters:
            waiters, self._capacity_waiters = self._capacity_waiters, []
            for waiter in waiters:
                _resolve_threadsafe(waiter)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    # consumer side (the response's writer)

    async def take(self, heartbeat: float | None) -> bytes | None:
        """Next bytes to write: ``b""`` after ``heartbeat`` idle seconds, ``None`` at the end."""
        while True:
            chunk = self._pop()
            if chunk:
                return chunk
            if self.end is not None:
                final, self._final = self._final, b""
                return final or None
            waiter = self._waiter = self.loop.create_future()
            if heartbeat is None:
                await waiter
                continue
            with anyio.move_on_after(heartbeat) as scope:
                await waiter
            if scope.cancelled_caught:
                self._waiter = None
                return b""

    def _pop(self) -> bytes:
        backlog, live = self._backlog, self._live
        if not backlog and not live:
            return b""
        parts: list[bytes] = []
        size = 0
        took_live = False
        while size < _BATCH_BYTES:
            if backlog:
                frame = backlog.popleft()
            elif live:
                frame = live.popleft()
                took_live = True
            else:
                break
            parts.append(frame)
            size += len(frame)
        if took_live and self._capacity_waiters and len(live) < self._high_water:
            self._release_producers()
        return parts[0] if len(parts) == 1 else b"".join(parts)


class _Feed(Protocol):
    """What fills one response's outbox: attach on start, detach with the outcome."""

    def attach(self, outbox: _Outbox) -> Callable[[Outcome], None]: ...


class _ObservableFeed:
    """One private subscription per response."""

    __slots__ = ("backpressure", "encoder", "error_event", "last_event_id", "source")

    def __init__(
        self,
        source: Observable[Any],
        encoder: Encoder,
        error_event: ErrorEvent | None,
        last_event_id: str,
        backpressure: bool,
    ) -> None:
        self.backpressure = backpressure
        self.source = source
        self.encoder = encoder
        self.error_event = error_event
        self.last_event_id = last_event_id

    def attach(self, outbox: _Outbox) -> Callable[[Outcome], None]:
        framer = _Framer(self.encoder, self.last_event_id)
        error_event = self.error_event
        subscription: abc.DisposableBase | None = None
        put = outbox.put

        def fail(exc: BaseException) -> None:
            inbox.close()
            if isinstance(exc, AbortConnection):
                logger.debug("upstream asked to abort the connection: %r", exc)
                outbox.finish("aborted")
                return
            logger.error("upstream of an SSE response failed", exc_info=exc)
            outbox.finish("error", _error_frame(error_event, exc, framer))

        def on_next(item: Any) -> None:
            try:
                event = framer.event_of(item)
                frame = bytes(item) if event is None else framer.frame(event)
            except Exception as exc:
                fail(exc)
                return
            put(frame)

        def on_completed() -> None:
            outbox.finish("completed")

        inbox = _LoopInbox(outbox.loop, on_next, fail, on_completed)
        token = BACKPRESSURE.set(outbox if self.backpressure else None)
        try:
            subscription = self.source.subscribe(inbox.on_next, inbox.on_error, inbox.on_completed)
        except Exception as exc:
            fail(exc)
        finally:
            BACKPRESSURE.reset(token)

        def detach(outcome: Outcome) -> None:
            inbox.close()
            if subscription is not None:
                subscription.dispose()

        return detach


class _NoFeed:
    """Feed of a finished stream (status 204, HEAD)."""

    def attach(self, outbox: _Outbox) -> Callable[[Outcome], None]:
        outbox.finish("completed")
        return lambda outcome: None


# -- the response ----------------------------------------------------------------------


async def _wait_for_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


class EventSourceResponse(Response):
    """A streaming ``text/event-stream`` response fed by an observable.

    ``source`` is subscribed when the response starts (once per request; a
    cold observable starts afresh for every client) and disposed when the
    response ends for any reason.  See the module docstring for the item
    types and for the overflow, send-timeout, heartbeat, disconnect,
    completion, error and abort policies.

    Parameters (times in seconds):

    ``encoder``
        ``item -> ServerSentEvent`` for items that are neither events nor
        bytes; :func:`default_encoder` when ``None``.
    ``heartbeat``
        Idle time before a ``:`` comment line is written; ``None`` disables.
    ``send_timeout``
        Longest wait for the server to accept one write; ``None`` waits
        forever.
    ``max_queue``
        Frames that may wait for this client before it is dropped (>= 1).
    ``last_event_id``
        The last event ID the client already holds (its ``Last-Event-ID``
        header), so that ids are written relative to it; ``""`` for a new
        client.
    ``error_event``
        Called with the upstream error; the event it returns (if any) is
        written as the last event.  Default: nothing is written.
    ``backpressure``
        Pause rxsse's cooperative sources subscribed here while this
        client's queue is at least half full (default).  Pass ``False`` when
        ``source`` is shared with other consumers (e.g. ``ops.share()``):
        its first subscriber would otherwise pace everyone.  To share one
        upstream among SSE clients, use :class:`Broadcaster`.
    ``content_type``
        The ``Content-Type`` sent; change it only to emulate a broken server
        (clients must refuse anything but ``text/event-stream``).
    ``status_code``, ``headers``, ``background``
        As for any Starlette response.  The headers always include
        ``content-type: text/event-stream; charset=utf-8``,
        ``cache-control: no-cache`` (overridable) and
        ``x-accel-buffering: no`` (disables nginx buffering).

    IDs are connection state, as in :class:`~rxsse.ServerSentEvent`: an
    event whose ``id`` is ``""`` after one with an ID resets the client's
    ``Last-Event-ID`` (a bare ``id`` line).  Give every event its ID (the
    decoder's events carry it) if clients should be able to resume.

    After the response ends, :attr:`outcome` tells how (an :data:`Outcome`),
    and :meth:`wait_closed` returns it to whoever awaits it.
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        source: Observable[Any],
        *,
        encoder: Encoder | None = None,
        heartbeat: float | None = 15.0,
        send_timeout: float | None = 30.0,
        max_queue: int = 1024,
        last_event_id: str = "",
        error_event: ErrorEvent | None = None,
        backpressure: bool = True,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
        content_type: str = "text/event-stream; charset=utf-8",
    ) -> None:
        feed = _ObservableFeed(
            source, encoder or default_encoder, error_event, last_event_id, backpressure
        )
        self._configure(
            feed,
            heartbeat=heartbeat,
            send_timeout=send_timeout,
            max_queue=max_queue,
            status_code=status_code,
            headers=headers,
            background=background,
            content_type=content_type,
        )

    @classmethod
    def _from_feed(
        cls,
        feed: _Feed,
        *,
        heartbeat: float | None,
        send_timeout: float | None,
        max_queue: int,
        status_code: int,
        headers: Mapping[str, str] | None,
        background: BackgroundTask | None = None,
    ) -> EventSourceResponse:
        response = cls.__new__(cls)
        response._configure(
            feed,
            heartbeat=heartbeat,
            send_timeout=send_timeout,
            max_queue=max_queue,
            status_code=status_code,
            headers=headers,
            background=background,
        )
        return response

    def _configure(
        self,
        feed: _Feed,
        *,
        heartbeat: float | None,
        send_timeout: float | None,
        max_queue: int,
        status_code: int,
        headers: Mapping[str, str] | None,
        background: BackgroundTask | None,
        content_type: str = "text/event-stream; charset=utf-8",
    ) -> None:
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        if heartbeat is not None and heartbeat <= 0:
            raise ValueError("heartbeat must be positive seconds or None")
        if send_timeout is not None and send_timeout <= 0:
            raise ValueError("send_timeout must be positive seconds or None")
        self._feed = feed
        self.heartbeat = heartbeat
        self.send_timeout = send_timeout
        self.max_queue = max_queue
        self.status_code = status_code
        self.background = background
        merged = {"cache-control": "no-cache", "x-accel-buffering": "no"}
        for key, value in (headers or {}).items():
            merged[key.lower()] = value
        if status_code == 204:
            merged.pop("content-type", None)
        else:
            merged["content-type"] = content_type
        self.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in merged.items()]
        self.outcome: Outcome | None = None
        self._closed_event = asyncio.Event()

    async def wait_closed(self) -> Outcome:
        """Wait until the response has ended; return its :attr:`outcome`."""
        await self._closed_event.wait()
        assert self.outcome is not None
        return self.outcome

    async def _send(self, send: Send, message: Message) -> bool:
        """``send`` within ``send_timeout``; ``False`` when it timed out."""
        if self.send_timeout is None:
            await send(message)
            return True
        with anyio.move_on_after(self.send_timeout) as scope:
            await send(message)
        return not scope.cancelled_caught

    async def _pump(self, send: Send, outbox: _Outbox) -> Outcome:
        heartbeat = self.heartbeat
        try:
            while True:
                chunk = await outbox.take(heartbeat)
                if chunk is None:
                    break
                message: Message = {
                    "type": "http.response.body",
                    "body": chunk or _HEARTBEAT,
                    "more_body": True,
                }
                if not await self._send(send, message):
                    return "send_timeout"
            outcome = outbox.end or "completed"
            final: Message = {"type": "http.response.body", "body": b"", "more_body": False}
            if outcome != "aborted" and not await self._send(send, final):
                return "send_timeout"
            return outcome
        except OSError:  # servers other than uvicorn may raise on a closed connection
            return "disconnected"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        outbox = _Outbox(asyncio.get_running_loop(), self.max_queue)
        outcome: Outcome | None = None
        detach: Callable[[Outcome], None] | None = None
        start: Message = {
            "type": "http.response.start",
            "status": self.status_code,
            "headers": self.raw_headers,
        }
        try:
            if not await self._send(send, start):
                outcome = "send_timeout"
                return
            feed: _Feed = self._feed
            if scope.get("method") == "HEAD" or self.status_code == 204:
                feed = _NoFeed()
            detach = feed.attach(outbox)
            async with anyio.create_task_group() as group:

                async def watch() -> None:
                    try:
                        await _wait_for_disconnect(receive)
                    except Exception:
                        logger.debug("receive() failed; treating it as a disconnect")
                    group.cancel_scope.cancel()

                group.start_soon(watch)
                outcome = await self._pump(send, outbox)
                group.cancel_scope.cancel()
        finally:
            final: Outcome = outcome or "disconnected"
            outbox.close()
            self.outcome = final
            try:
                if detach is not None:
                    detach(final)
            finally:
                self._closed_event.set()
            if final in ("overflow", "send_timeout"):
                logger.warning(
                    "SSE client dropped (%s): max_queue=%d, send_timeout=%s",
                    final,
                    self.max_queue,
                    self.send_timeout,
                )
        if self.background is not None and final not in ("disconnected", "send_timeout"):
            await self.background()


# -- fan-out ---------------------------------------------------------------------------


class _Entry:
    """One upstream item as framed for the shared stream."""

    __slots__ = ("event", "frame", "id", "prev_id", "seq")

    def __init__(
        self, seq: int, event: ServerSentEvent | None, frame: bytes, prev_id: str, id_: str
    ) -> None:
        self.seq = seq
        self.event = event  # None for verbatim bytes
        self.frame = frame  # encoded relative to prev_id
        self.prev_id = prev_id
        self.id = id_  # the stream's last event ID after this item


class _Client:
    """A connected response of a broadcaster."""

    __slots__ = ("outbox", "sent_id", "synced")

    def __init__(self, outbox: _Outbox, sent_id: str) -> None:
        self.outbox = outbox
        self.sent_id = sent_id  # the ID the client holds until its first event
        self.synced = False

    def frame_for(self, entry: _Entry) -> bytes:
        """The shared frame, re-encoded for the client's first event if its ID differs."""
        if self.synced or entry.event is None:
            return entry.frame
        self.synced = True
        if entry.prev_id == self.sent_id:
            return entry.frame
        return encode_event(entry.event, previous_id=self.sent_id)


class _BroadcastFeed:
    __slots__ = ("broadcaster", "last_event_id")

    def __init__(self, broadcaster: Broadcaster, last_event_id: str) -> None:
        self.broadcaster = broadcaster
        self.last_event_id = last_event_id

    def attach(self, outbox: _Outbox) -> Callable[[Outcome], None]:
        return self.broadcaster._attach(outbox, self.last_event_id)


class Broadcaster:
    """One upstream subscription fanned out to many SSE clients, with resume.

    **Upstream lifecycle.**  ``source`` is subscribed once: by :meth:`start`,
    or when the first response starts streaming.  It then stays subscribed
    while clients come and go (so the replay ring keeps filling for clients
    that reconnect) until it completes or fails, or :meth:`close` is called.
    None of these restarts it: a broadcaster runs once.  Items are framed
    once on the loop (ServerSentEvent, bytes, or ``encoder``, as for
    :class:`EventSourceResponse`) and the same bytes are queued for every
    client.  A broadcaster belongs to the event loop it starts on; emissions
    may come from any thread.

    **Isolation.**  Each client has its own queue of ``max_queue`` frames and
    its own writer, so a slow or frozen client never delays the others: it
    is dropped when its queue overflows or a write is not accepted within
    ``send_timeout`` seconds (:attr:`overflow_drops`, :attr:`timeout_drops`).
    The upstream never waits for clients.

    **Replay and resume.**  The last ``replay`` items are kept in a ring.
    ``response(last_event_id)`` first sends the buffered items that follow
    the event carrying that ID, then continues live.  Snapshot and attach
    happen in one step on the loop thread, where every upstream item is
    also published, so nothing falls between them: no gap, no duplicate.
    Details:

    * No ID (``None`` or ``""``): live only, starting with the next item.
    * An ID is found at the event that *set* it (the first of a run of
      events sharing it; the most recent such event if IDs are reused).
      Items without an ID of their own, after it, are replayed too, so a
      client that had seen some of them may see those again.
    * An ID not in the ring (older than the ring, from an earlier server, or
      never sent), with ``unknown_id="replay"`` (default): the whole ring is
      replayed -- the client gets everything still known, and may have
      missed what was evicted; with ``"live"``: nothing is replayed.
      :attr:`unknown_resumes` counts these.
    * After the upstream has ended (or :meth:`close`), a client still gets
      its replay and then a clean end; a client with nothing to replay gets
      ``204 No Content``, which tells ``EventSource`` clients to stop
      reconnecting.

    **Upstream end.**  Completion ends every response cleanly after its
    queue is drained.  An error is logged once (ERROR, ``rxsse.serve``); each
    client gets the ``error_event`` (if given) and a clean end.
    :class:`AbortConnection` drops every connection without the terminating
    chunk instead.  :meth:`close` disposes the upstream and ends every
    response cleanly (outcome ``"closed"``); call it (or :meth:`aclose`) on
    application shutdown, since a live stream otherwise never lets the
    server's graceful shutdown finish.
    """

    def __init__(
        self,
        source: Observable[Any],
        *,
        replay: int = 1000,
        max_queue: int = 1024,
        send_timeout: float | None = 30.0,
        heartbeat: float | None = 15.0,
        encoder: Encoder | None = None,
        error_event: ErrorEvent | None = None,
        unknown_id: UnknownIdPolicy = "replay",
    ) -> None:
        if replay < 0:
            raise ValueError("replay must be >= 0")
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        if unknown_id not in ("replay", "live"):
            raise ValueError(f"unknown_id must be 'replay' or 'live', not {unknown_id!r}")
        self._source = source
        self.replay = replay
        self.max_queue = max_queue
        self.send_timeout = send_timeout
        self.heartbeat = heartbeat
        self.unknown_id: UnknownIdPolicy = unknown_id
        self._error_event = error_event
        self._framer = _Framer(encoder or default_encoder, "")
        self._ring: deque[_Entry] = deque(maxlen=replay)
        self._index: dict[str, int] = {}  # id -> seq of the entry that set it
        self._seq = 0
        self._clients: set[_Client] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inbox: _LoopInbox | None = None
        self._subscription: abc.DisposableBase | None = None
        self._started = False
        self._ended: Outcome | None = None
        self._count_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self.overflow_drops = 0
        """Clients dropped because their queue overflowed."""
        self.timeout_drops = 0
        """Clients dropped because a write was not accepted within ``send_timeout``."""
        self.unknown_resumes = 0
        """Responses whose ``Last-Event-ID`` was not found in the replay ring."""

    # -- public API -------------------------------------------------------------------

    @property
    def client_count(self) -> int:
        """Responses currently attached (streaming live)."""
        return len(self._clients)

    @property
    def finished(self) -> bool:
        """True once the upstream completed or failed, or :meth:`close` was called."""
        return self._ended is not None

    def start(self) -> None:
        """Subscribe to the upstream now (idempotent; no-op once finished).

        Must be called on the thread running the event loop that serves the
        responses; that loop becomes the broadcaster's loop.
        """
        self._bind()
        if self._started or self._ended is not None:
            return
        self._started = True
        loop = self._loop
        assert loop is not None
        self._inbox = inbox = _LoopInbox(loop, self._publish, self._upstream_error, self._complete)
        token = BACKPRESSURE.set(None)  # the upstream never waits for a client
        try:
            subscription = self._source.subscribe(inbox.on_next, inbox.on_error, inbox.on_completed)
        except Exception as exc:
            self._upstream_error(exc)
            return
        finally:
            BACKPRESSURE.reset(token)
        if self._ended is not None:  # ended during subscribe
            subscription.dispose()
        else:
            self._subscription = subscription

    def response(
        self,
        last_event_id: str | HTTPConnection | None = None,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> EventSourceResponse:
        """A response that replays after ``last_event_id``, then streams live.

        ``last_event_id`` may be the ID string or the Starlette ``Request``
        (its ``Last-Event-ID`` header is read).  Attaching happens when the
        response starts streaming, not here.  When the broadcaster has
        finished and nothing would be replayed, the response is
        ``204 No Content``.
        """
        if isinstance(last_event_id, HTTPConnection):
            last_event_id = last_event_id.headers.get("last-event-id")
        resume = last_event_id or ""
        if self._ended is not None and not self._entries_after(
            self._resume_seq(resume, count=False)
        ):
            status_code = 204
        return EventSourceResponse._from_feed(
            _BroadcastFeed(self, resume),
            heartbeat=self.heartbeat,
            send_timeout=self.send_timeout,
            max_queue=self.max_queue,
            status_code=status_code,
            headers=headers,
        )

    def close(self) -> None:
        """Dispose the upstream and end every response cleanly (after its queue).

        Idempotent; safe from any thread (from another thread it is
        scheduled on the broadcaster's loop).
        """
        loop = self._loop
        if loop is not None and running_loop() is not loop and not loop.is_closed():
            loop.call_soon_threadsafe(self.close)
            return
        self._end("closed")

    async def aclose(self) -> None:
        """:meth:`close`, then wait until every response has ended."""
        self.close()
        await self.wait_for_clients(0)

    async def wait_for_clients(self, count: int) -> None:
        """Wait until exactly ``count`` responses are attached (on the broadcaster's loop)."""
        if len(self._clients) == count:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._count_waiters.append((count, waiter))
        try:
            await waiter
        finally:
            self._count_waiters = [(n, w) for n, w in self._count_waiters if w is not waiter]

    # -- internals (loop thread) ------------------------------------------------------

    def _bind(self) -> None:
        loop = running_loop()
        if loop is None:
            raise RuntimeError("a Broadcaster is used from a running event loop")
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:
            raise RuntimeError("this Broadcaster belongs to another event loop")

    def _clients_changed(self) -> None:
        count = len(self._clients)
        for wanted, waiter in self._count_waiters:
            if wanted == count and not waiter.done():
                waiter.set_result(None)

    def _resume_seq(self, resume: str, *, count: bool) -> int:
        """Replay the ring entries with a sequence number above the returned one."""
        if resume:
            seq = self._index.get(resume)
            if seq is not None:
                return seq
            if count:
                self.unknown_resumes += 1
            if self.unknown_id == "replay" and self._ring:
                return self._ring[0].seq - 1
        return self._seq

    def _entries_after(self, seq: int) -> list[_Entry]:
        ring = self._ring
        if not ring or seq >= ring[-1].seq:
            return []
        return list(itertools.islice(ring, max(0, seq + 1 - ring[0].seq), None))

    def _attach(self, outbox: _Outbox, resume: str) -> Callable[[Outcome], None]:
        self._bind()
        # Everything below runs without awaiting, on the loop thread where every
        # upstream item is published: no item can fall between snapshot and attach.
        after = self._resume_seq(resume, count=True)
        self.start()  # a first client also gets the items its subscription emitted at once
        client = _Client(outbox, resume)
        outbox.preload([client.frame_for(entry) for entry in self._entries_after(after)])
        if self._ended is not None:
            outbox.finish(self._ended)
            return lambda outcome: None
        self._clients.add(client)
        self._clients_changed()

        def detach(outcome: Outcome) -> None:
            if client in self._clients:
                self._clients.discard(client)
                if outcome == "overflow":
                    self.overflow_drops += 1
                elif outcome == "send_timeout":
                    self.timeout_drops += 1
                self._clients_changed()

        return detach

    def _publish(self, item: Any) -> None:
        if self._ended is not None:
            return
        framer = self._framer
        prev_id = framer.sent_id
        try:
            event = framer.event_of(item)
            frame = bytes(item) if event is None else framer.frame(event)
        except Exception as exc:
            self._upstream_error(exc)
            return
        self._seq = seq = self._seq + 1
        entry = _Entry(seq, event, frame, prev_id, framer.sent_id)
        ring = self._ring
        if self.replay:
            if len(ring) == self.replay:
                old = ring[0]
                if self._index.get(old.id) == old.seq:
                    del self._index[old.id]
            ring.append(entry)
            if event is not None and event.id and event.id != prev_id:
                self._index[event.id] = seq
        for client in self._clients:
            client.outbox.put(client.frame_for(entry))

    def _upstream_error(self, exc: Exception) -> None:
        if self._ended is not None:
            return
        if isinstance(exc, AbortConnection):
            logger.debug("broadcaster upstream asked to abort every connection: %r", exc)
            self._end("aborted")
            return
        logger.error("upstream of a Broadcaster failed", exc_info=exc)
        self._end("error", exc)

    def _complete(self) -> None:
        self._end("completed")

    def _end(self, outcome: Outcome, exc: Exception | None = None) -> None:
        if self._ended is not None:
            return
        self._ended = outcome
        if self._inbox is not None:
            self._inbox.close()
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            subscription.dispose()
        event = None
        if exc is not None and self._error_event is not None:
            try:
                event = self._error_event(exc)
            except Exception:
                logger.exception("error_event callback failed; nothing written for the error")
        for client in self._clients:
            final = b""
            if event is not None:
                held = self._framer.sent_id if client.synced else client.sent_id
                try:
                    final = encode_event(event, previous_id=held)
                except ValueError:
                    logger.exception("error_event returned an event that cannot be framed")
            client.outbox.finish(outcome, final)
