"""rxsse.serve: framing, EventSourceResponse and Broadcaster against a real uvicorn server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import reactivex
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from reactivex import abc
from reactivex import operators as ops
from reactivex.disposable import Disposable
from reactivex.subject import Subject
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rxsse import (
    ReconnectPolicy,
    ServerSentEvent,
    SSEDecoder,
    collect,
    from_async_iterable,
    from_url,
    to_iterator,
)
from rxsse.emulator.server import serve_app
from rxsse.serve import (
    AbortConnection,
    Broadcaster,
    EventSourceResponse,
    default_encoder,
    encode_comment,
    encode_event,
)

E = ServerSentEvent

# -- helpers ---------------------------------------------------------------------------


def decode(raw: bytes) -> list[ServerSentEvent]:
    return SSEDecoder().feed(raw)


def encode_stream(events: list[ServerSentEvent], previous_id: str | None = "") -> bytes:
    out = []
    for event in events:
        out.append(encode_event(event, previous_id=previous_id))
        previous_id = event.id
    return b"".join(out)


def app_for(endpoint: Callable[[Request], Response]) -> Starlette:
    async def route(request: Request) -> Response:
        return endpoint(request)

    return Starlette(routes=[Route("/sse", route)])


@contextlib.asynccontextmanager
async def served(app: Starlette) -> AsyncIterator[str]:
    """``serve_app`` plus a check that no task it started outlives it."""
    before = asyncio.all_tasks()
    async with serve_app(app) as url:
        yield url + "/sse"
    leftover = asyncio.all_tasks() - before
    if leftover:  # cancelled tasks get a moment to unwind
        await asyncio.wait(leftover, timeout=2)
    assert all(task.done() for task in leftover), leftover


async def read_sse(
    client: httpx.AsyncClient,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    stop_after: int | None = None,
    on_events: Callable[[list[ServerSentEvent]], None] | None = None,
) -> tuple[int, list[ServerSentEvent]]:
    """GET an event stream; return the status and the events (stop early if asked).

    Like ``EventSource``, the decoder starts from the ``Last-Event-ID`` it sends.
    """
    decoder = SSEDecoder(last_event_id=(headers or {}).get("Last-Event-ID", ""))
    events: list[ServerSentEvent] = []
    async with client.stream("GET", url, headers=headers) as response:
        if response.status_code != 200:
            return response.status_code, events
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        async for chunk in response.aiter_bytes():
            new = decoder.feed(chunk)
            events.extend(new)
            if on_events is not None and new:
                on_events(new)
            if stop_after is not None and len(events) >= stop_after:
                break
    return response.status_code, events


def ids(events: list[ServerSentEvent]) -> list[str]:
    return [event.id for event in events]


def max_send_buffer() -> int:
    """The largest TCP send buffer the kernel may grow a socket to, in bytes."""
    wmem = Path("/proc/sys/net/ipv4/tcp_wmem")
    return int(wmem.read_text().split()[2]) if wmem.exists() else 4 * 2**20


def numbered(first: int, last: int, *, size: int = 0) -> list[ServerSentEvent]:
    pad = "x" * size
    return [E(data=f"{i}{pad}", id=str(i)) for i in range(first, last + 1)]


# -- framing ---------------------------------------------------------------------------


def test_encode_plain_message() -> None:
    assert encode_event(E(data="hello")) == b"data: hello\n\n"


def test_encode_multiline_data() -> None:
    raw = encode_event(E(data="a\nb\n\nc"))
    assert raw == b"data: a\ndata: b\ndata: \ndata: c\n\n"
    assert decode(raw) == [E(data="a\nb\n\nc")]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("a\r\nb", "a\nb"),
        ("a\rb", "a\nb"),
        ("a\r\rb\r\n\nc\r", "a\n\nb\n\nc\n"),
        ("\r\n", "\n"),
        ("trailing\n", "trailing\n"),
    ],
)
def test_encode_normalises_cr_and_crlf(data: str, expected: str) -> None:
    raw = encode_event(E(data=data))
    assert b"\r" not in raw
    assert decode(raw) == [E(data=expected)]


def test_encode_empty_data_still_dispatches() -> None:
    raw = encode_event(E(data=""))
    assert raw == b"data: \n\n"
    assert decode(raw) == [E(data="")]


def test_encode_event_type_only_when_not_message() -> None:
    assert encode_event(E(event="message", data="x")) == b"data: x\n\n"
    assert encode_event(E(event="", data="x")) == b"data: x\n\n"
    assert encode_event(E(event="update", data="x")) == b"event: update\ndata: x\n\n"
    assert decode(encode_event(E(event=" spaced", data=" x"))) == [E(event=" spaced", data=" x")]


def test_encode_id_written_on_change_and_reset() -> None:
    events = [E(data="a", id="1"), E(data="b", id="1"), E(data="c", id="2"), E(data="d")]
    raw = encode_stream(events)
    assert raw == b"id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\nid\ndata: d\n\n"
    decoder = SSEDecoder()
    assert decoder.feed(raw) == events
    assert decoder.last_event_id == ""


def test_encode_id_relative_to_client_state() -> None:
    # A client that resumed with Last-Event-ID "7" already holds "7".
    assert encode_event(E(data="a", id="7"), previous_id="7") == b"data: a\n\n"
    assert encode_event(E(data="a"), previous_id="7") == b"id\ndata: a\n\n"
    # previous_id=None: no state, non-empty ids always written, empty never.
    assert encode_event(E(data="a", id="7")) == b"id: 7\ndata: a\n\n"
    assert encode_event(E(data="a")) == b"data: a\n\n"


def test_encode_retry() -> None:
    raw = encode_event(E(data="x", retry=2500))
    assert raw == b"retry: 2500\ndata: x\n\n"
    decoder = SSEDecoder()
    assert decoder.feed(raw) == [E(data="x", retry=2500)]
    assert decoder.retry == 2500


@pytest.mark.parametrize("retry", [-1, True, 1.5])
def test_encode_rejects_bad_retry(retry: Any) -> None:
    with pytest.raises(ValueError, match="retry"):
        encode_event(E(data="x", retry=retry))


@pytest.mark.parametrize(
    "event",
    [
        E(data="x", id="a\nb"),
        E(data="x", id="a\rb"),
        E(data="x", id="a\r\n"),
        E(data="x", id="nul\0"),
        E(event="a\nb", data="x"),
        E(event="a\rb", data="x"),
    ],
)
def test_encode_rejects_line_breaks_in_id_and_event(event: ServerSentEvent) -> None:
    with pytest.raises(ValueError, match="must not contain"):
        encode_event(event, previous_id="")


def test_encode_comment() -> None:
    assert encode_comment() == b":\n"
    assert encode_comment("ping") == b": ping\n"
    assert encode_comment("a\r\nb\rc") == b": a\n: b\n: c\n"
    assert decode(encode_comment("x\ny") + encode_event(E(data="after"))) == [E(data="after")]


class Point(BaseModel):
    x: int
    label: str


def test_default_encoder() -> None:
    assert default_encoder("plain text") == E(data="plain text")
    assert default_encoder({"a": [1, 2], "é": None}) == E(data='{"a":[1,2],"é":null}')
    assert default_encoder([1, "two"]) == E(data='[1,"two"]')
    assert default_encoder(Point(x=1, label="p")) == E(data='{"x":1,"label":"p"}')
    with pytest.raises(TypeError):
        default_encoder(object())


_event_names = st.text(st.characters(blacklist_characters="\r\n", codec="utf-8"), max_size=8)
_ids = st.text(st.characters(blacklist_characters="\r\n\0", codec="utf-8"), max_size=8)
_events = st.builds(
    ServerSentEvent,
    event=st.one_of(st.just("message"), _event_names),
    data=st.text(st.characters(codec="utf-8")),
    id=st.one_of(st.just(""), _ids),
    retry=st.one_of(st.none(), st.integers(0, 10**15)),
)


def expected_after_decoding(events: list[ServerSentEvent]) -> list[ServerSentEvent]:
    return [
        E(
            event=e.event or "message",
            data=e.data.replace("\r\n", "\n").replace("\r", "\n"),
            id=e.id,
            retry=e.retry,
        )
        for e in events
    ]


@settings(max_examples=400, deadline=None)
@given(events=st.lists(_events, max_size=12), cut=st.integers(0, 10_000))
def test_roundtrip_through_decoder(events: list[ServerSentEvent], cut: int) -> None:
    raw = encode_stream(events)
    decoder = SSEDecoder()
    cut = min(cut, len(raw))
    decoded = decoder.feed(raw[:cut]) + decoder.feed(raw[cut:])
    assert decoded == expected_after_decoding(events)


# -- a server on its own thread, for property tests over real HTTP ----------------------


@pytest.fixture(scope="module")
def threaded_server() -> Iterator[tuple[str, dict[str, list[ServerSentEvent]]]]:
    """A uvicorn server on a background loop; ``GET /h/{key}`` streams ``streams[key]``."""
    streams: dict[str, list[ServerSentEvent]] = {}

    async def route(request: Request) -> Response:
        events = streams.pop(request.path_params["key"])
        return EventSourceResponse(reactivex.from_iterable(events), heartbeat=None)

    app = Starlette(routes=[Route("/h/{key}", route)])
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        stop = asyncio.Event()
        async with serve_app(app) as url:
            box.update(url=url, loop=asyncio.get_running_loop(), stop=stop)
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="test-serve-server")
    thread.start()
    assert ready.wait(10)
    try:
        yield box["url"], streams
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(10)
        assert not thread.is_alive()


_counter = iter(range(10**9))


@settings(max_examples=40, deadline=None)
@given(events=st.lists(_events, max_size=6))
def test_roundtrip_through_real_server(
    threaded_server: tuple[str, dict[str, list[ServerSentEvent]]], events: list[ServerSentEvent]
) -> None:
    url, streams = threaded_server
    key = str(next(_counter))
    streams[key] = events
    decoder = SSEDecoder()
    received: list[ServerSentEvent] = []
    with httpx.Client(timeout=5) as client, client.stream("GET", f"{url}/h/{key}") as response:
        assert response.status_code == 200
        for chunk in response.iter_bytes():
            received.extend(decoder.feed(chunk))
    assert received == expected_after_decoding(events)


@settings(max_examples=40, deadline=None)
@given(events=st.lists(_events, max_size=6))
def test_roundtrip_through_from_url(
    threaded_server: tuple[str, dict[str, list[ServerSentEvent]]], events: list[ServerSentEvent]
) -> None:
    """Arbitrary events, served by EventSourceResponse, come back through from_url."""
    url, streams = threaded_server
    key = str(next(_counter))
    streams[key] = events
    received = list(to_iterator(from_url(f"{url}/h/{key}", reconnect=False), timeout=10))
    assert received == expected_after_decoding(events)


# -- EventSourceResponse ---------------------------------------------------------------


async def test_items_of_every_kind_and_completion() -> None:
    items: list[Any] = [
        E(event="greeting", data="hi\nthere", id="1"),
        E(data="same id", id="1"),
        b": injected verbatim\ndata: raw\n\n",
        {"k": [1, 2]},
        Point(x=3, label="p"),
        "text",
    ]
    responses: list[EventSourceResponse] = []

    def endpoint(request: Request) -> Response:
        response = EventSourceResponse(reactivex.from_iterable(items), heartbeat=None)
        responses.append(response)
        return response

    async with served(app_for(endpoint)) as url, httpx.AsyncClient() as client:
        async with client.stream("GET", url) as response:
            assert response.status_code == 200
            assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
            assert response.headers["cache-control"] == "no-cache"
            assert response.headers["x-accel-buffering"] == "no"
            raw = await response.aread()  # returns only once the response has ended
        assert await responses[0].wait_closed() == "completed"
    assert decode(raw) == [
        E(event="greeting", data="hi\nthere", id="1"),
        E(data="same id", id="1"),
        E(data="raw", id="1"),
        E(data='{"k":[1,2]}'),  # encoded items have no id: the client's ID is reset
        E(data='{"x":3,"label":"p"}'),
        E(data="text"),
    ]


async def test_custom_encoder_and_headers() -> None:
    def encoder(item: Any) -> ServerSentEvent:
        return E(event="num", data=str(item * 2), id=str(item))

    def endpoint(request: Request) -> Response:
        return EventSourceResponse(
            reactivex.of(1, 2, 3),
            encoder=encoder,
            heartbeat=None,
            headers={"Cache-Control": "no-store", "X-Extra": "1"},
        )

    async with (
        served(app_for(endpoint)) as url,
        httpx.AsyncClient() as client,
        client.stream("GET", url) as response,
    ):
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-extra"] == "1"
        events = decode(await response.aread())
    assert events == [E(event="num", data=str(2 * i), id=str(i)) for i in (1, 2, 3)]


async def test_heartbeats_on_a_quiet_stream() -> None:
    def endpoint(request: Request) -> Response:
        return EventSourceResponse(reactivex.never(), heartbeat=0.05)

    async with served(app_for(endpoint)) as url, httpx.AsyncClient() as client:
        started = time.monotonic()
        async with client.stream("GET", url) as response:
            raw = b""
            async for chunk in response.aiter_raw():
                raw += chunk
                if raw.count(b":\n") >= 3:
                    break
        assert time.monotonic() - started < 2
    assert raw == b":\n:\n:\n"
    assert decode(raw) == []


async def test_client_disconnect_disposes_upstream() -> None:
    disposed = asyncio.Event()
    responses: list[EventSourceResponse] = []

    def subscribe(observer: abc.ObserverBase[Any], scheduler: Any = None) -> abc.DisposableBase:
        observer.on_next(E(data="first"))
        return Disposable(disposed.set)

    def endpoint(request: Request) -> Response:
        response = EventSourceResponse(reactivex.create(subscribe), heartbeat=None)
        responses.append(response)
        return response

    async with served(app_for(endpoint)) as url, httpx.AsyncClient() as client:
        status, events = await read_sse(client, url, stop_after=1)
        assert (status, events) == (200, [E(data="first")])
        await asyncio.wait_for(disposed.wait(), 2)
        assert await asyncio.wait_for(responses[0].wait_closed(), 2) == "disconnected"


async def test_upstream_error_is_logged_and_ends_cleanly(caplog: pytest.LogCaptureFixture) -> None:
    source = reactivex.concat(reactivex.of(E(data="a")), reactivex.throw(RuntimeError("boom")))
    responses: list[EventSourceResponse] = []

    def endpoint(request: Request) -> Response:
        response = EventSourceResponse(source, heartbeat=None)
        responses.append(response)
        return response

    with caplog.at_level(logging.ERROR, logger="rxsse.serve"):
        async with served(app_for(endpoint)) as url, httpx.AsyncClient() as client:
            status, events = await read_sse(client, url)  # no exception: clean end
            assert await responses[0].wait_closed() == "error"
    assert (status, events) == (200, [E(data="a")])
    [record] = [r for r in caplog.records if r.name == "rxsse.serve"]
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "boom"


async def test_error_event_is_opt_in() -> None:
    source = reactivex.concat(
        reactivex.of(E(data="a", id="1")), reactivex.throw(RuntimeError("boom"))
    )

    def endpoint(request: Request) -> Response:
        return EventSourceResponse(
            source,
            heartbeat=None,
            error_event=lambda exc: E(event="error", data=type(exc).__name__),
        )

    async with served(app_for(endpoint)) as url, httpx.AsyncClient() as client:
        _, events = await read_sse(client, url)
    assert events == [E(data="a", id="1"), E(event="error", data="RuntimeError")]


async def test_bad_event_from_upstream_ends_the_stream() -> None:
    source = reactivex.of(E(data="ok"), E(data="bad", id="a\nb"), E(data="never"))

    def endpoint(request: Request) -> Response:
        return EventSourceResponse(source, heartbeat=None)

    async with served(app_for(endpoint)) as url, httpx.AsyncClient() as client:
        _, events = await read_sse(client, url)
    assert events == [E(data="ok")]


async def test_abort_connection_drops_without_terminator() -> None:
    source = reactivex.concat(
        reactivex.from_iterable(numbered(1, 3)), reactivex.throw(AbortConnection())
    )
    responses: list[EventSourceResponse] = []

    def endpoint(request: Request) -> Response:
        response = EventSourceResponse(source, heartbeat=None)
        responses.append(response)
        return response

    received: list[ServerSentEvent] = []
    async with served(app_for(endpoint)) as url, httpx.AsyncClient() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await read_sse(client, url, on_events=received.extend)
        assert await responses[0].wait_closed() == "aborted"
    assert received == numbered(1, 3)


async def test_overflow_drops_the_client() -> None:
    responses: list[EventSourceResponse] = []

    def endpoint(request: Request) -> Response:
        # A synchronous burst larger than the queue, before the writer can run.
        source = reactivex.from_iterable(numbered(1, 10))
        response = EventSourceResponse(source, heartbeat=None, max_queue=4)
        responses.append(response)
        return response

    async with served(app_for(endpoint)) as url, httpx.AsyncClient() as client:
        status, events = await read_sse(client, url)
        assert await responses[0].wait_closed() == "overflow"
    assert (status, events) == (200, [])  # queue discarded, response ended cleanly


async def test_cooperative_source_is_paused_instead_of_overflowing() -> None:
    count = 3000

    async def numbers() -> AsyncIterator[ServerSentEvent]:
        for i in range(1, count + 1):
            yield E(data=str(i), id=str(i))

    responses: list[EventSourceResponse] = []

    def endpoint(request: Request) -> Response:
        source = from_async_iterable(numbers)
        response = EventSourceResponse(source, heartbeat=None, max_queue=8)
        responses.append(response)
        return response

    async with served(app_for(endpoint)) as url, httpx.AsyncClient() as client:
        _, events = await read_sse(client, url)
        assert await responses[0].wait_closed() == "completed"
    assert events == numbered(1, count)


async def test_emissions_from_another_thread_keep_their_order() -> None:
    count = 5000
    threads: list[threading.Thread] = []

    def subscribe(observer: abc.ObserverBase[Any], scheduler: Any = None) -> abc.DisposableBase:
        def produce() -> None:
            for event in numbered(1, count):
                observer.on_next(event)
            observer.on_completed()

        thread = threading.Thread(target=produce)
        threads.append(thread)
        thread.start()
        return Disposable()

    def endpoint(request: Request) -> Response:
        return EventSourceResponse(reactivex.create(subscribe), heartbeat=None, max_queue=count)

    async with served(app_for(endpoint)) as url, httpx.AsyncClient() as client:
        _, events = await read_sse(client, url)
    threads[0].join(5)
    assert events == numbered(1, count)


async def test_last_event_id_and_head_requests() -> None:
    responses: list[EventSourceResponse] = []

    def endpoint(request: Request) -> Response:
        source = reactivex.of(E(data="a", id="5"), E(data="b"))
        response = EventSourceResponse(source, heartbeat=None, last_event_id="5")
        responses.append(response)
        return response

    async with served(app_for(endpoint)) as url, httpx.AsyncClient() as client:
        async with client.stream("GET", url) as response:
            raw = await response.aread()
        head = await client.head(url)
        assert await responses[1].wait_closed() == "completed"
    # The client already holds "5": no id line for the first event, a reset for the second.
    assert raw == b"data: a\n\nid\ndata: b\n\n"
    assert head.status_code == 200
    assert head.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert head.content == b""


async def test_server_shutdown_ends_streams_and_disposes() -> None:
    disposed = asyncio.Event()
    first = asyncio.Event()

    def subscribe(observer: abc.ObserverBase[Any], scheduler: Any = None) -> abc.DisposableBase:
        observer.on_next(E(data="open"))
        return Disposable(disposed.set)

    def endpoint(request: Request) -> Response:
        return EventSourceResponse(reactivex.create(subscribe), heartbeat=0.05)

    async with httpx.AsyncClient() as client:
        async with served(app_for(endpoint)) as url:
            reader = asyncio.create_task(read_sse(client, url, on_events=lambda _: first.set()))
            await asyncio.wait_for(first.wait(), 2)
        # ``served`` checked that every server task is done; the stream is gone too.
        await asyncio.wait_for(disposed.wait(), 2)
        with contextlib.suppress(httpx.HTTPError):
            await asyncio.wait_for(reader, 2)


# -- Broadcaster -----------------------------------------------------------------------


def broadcaster_app(
    broadcaster: Broadcaster, responses: list[EventSourceResponse] | None = None
) -> Starlette:
    def endpoint(request: Request) -> Response:
        response = broadcaster.response(request)
        if responses is not None:
            responses.append(response)
        return response

    return app_for(endpoint)


async def test_broadcaster_shares_one_subscription() -> None:
    subscriptions = 0
    subject: Subject[ServerSentEvent] = Subject()

    def subscribe(observer: abc.ObserverBase[Any], scheduler: Any = None) -> abc.DisposableBase:
        nonlocal subscriptions
        subscriptions += 1
        return subject.subscribe(observer)

    broadcaster = Broadcaster(reactivex.create(subscribe), heartbeat=None)
    async with served(broadcaster_app(broadcaster)) as url, httpx.AsyncClient() as client:
        readers = [asyncio.create_task(read_sse(client, url)) for _ in range(3)]
        await asyncio.wait_for(broadcaster.wait_for_clients(3), 2)
        for event in numbered(1, 20):
            subject.on_next(event)
        subject.on_completed()
        results = await asyncio.wait_for(asyncio.gather(*readers), 2)
        await broadcaster.wait_for_clients(0)
    assert subscriptions == 1
    assert results == [(200, numbered(1, 20))] * 3


async def test_broadcaster_resume_after_last_event_id() -> None:
    subject: Subject[ServerSentEvent] = Subject()
    broadcaster = Broadcaster(subject, replay=100, heartbeat=None)
    broadcaster.start()
    for event in numbered(1, 5):
        subject.on_next(event)

    async with served(broadcaster_app(broadcaster)) as url, httpx.AsyncClient() as client:
        resumed = asyncio.create_task(read_sse(client, url, headers={"Last-Event-ID": "3"}))
        fresh = asyncio.create_task(read_sse(client, url))
        await asyncio.wait_for(broadcaster.wait_for_clients(2), 2)
        for event in numbered(6, 8):
            subject.on_next(event)
        subject.on_completed()
        assert await asyncio.wait_for(resumed, 2) == (200, numbered(4, 8))
        assert await asyncio.wait_for(fresh, 2) == (200, numbered(6, 8))
        # After the end: what is still buffered is replayed, then the stream ends ...
        assert await read_sse(client, url, headers={"Last-Event-ID": "6"}) == (200, numbered(7, 8))
        # ... and a client with nothing left to receive is told to stop (204).
        assert await read_sse(client, url, headers={"Last-Event-ID": "8"}) == (204, [])
        assert await read_sse(client, url) == (204, [])


async def test_broadcaster_resume_reencodes_the_first_id() -> None:
    # Events 2 and 3 share id "1"; a client resuming from "x" (unknown) must get the
    # id line although the shared frame of event 2 omits it.
    subject: Subject[ServerSentEvent] = Subject()
    broadcaster = Broadcaster(subject, replay=10, heartbeat=None)
    broadcaster.start()
    events = [E(data="a", id="1"), E(data="b", id="1"), E(data="c", id="1")]
    for event in events:
        subject.on_next(event)
    subject.on_completed()
    async with served(broadcaster_app(broadcaster)) as url, httpx.AsyncClient() as client:
        assert await read_sse(client, url, headers={"Last-Event-ID": "x"}) == (200, events)
        # Resuming from "1" replays after the event that set it (at least once).
        assert await read_sse(client, url, headers={"Last-Event-ID": "1"}) == (200, events[1:])
    assert broadcaster.unknown_resumes == 1


async def test_broadcaster_unknown_id_policies() -> None:
    for policy, expected in (("replay", numbered(3, 5)), ("live", [])):
        subject: Subject[ServerSentEvent] = Subject()
        broadcaster = Broadcaster(subject, replay=3, heartbeat=None, unknown_id=policy)  # type: ignore[arg-type]
        broadcaster.start()
        for event in numbered(1, 5):
            subject.on_next(event)
        async with served(broadcaster_app(broadcaster)) as url, httpx.AsyncClient() as client:
            # "1" was evicted from the ring of 3: it is unknown now.
            reader = asyncio.create_task(read_sse(client, url, headers={"Last-Event-ID": "1"}))
            await asyncio.wait_for(broadcaster.wait_for_clients(1), 2)
            subject.on_next(E(data="6", id="6"))
            subject.on_completed()
            assert await asyncio.wait_for(reader, 2) == (200, [*expected, E(data="6", id="6")])
        assert broadcaster.unknown_resumes == 1


async def test_broadcaster_resume_has_no_gap_and_no_duplicate_under_load() -> None:
    """A client reconnecting often while another thread publishes gets 1..N exactly."""
    count = 3000
    subject: Subject[ServerSentEvent] = Subject()
    broadcaster = Broadcaster(subject, replay=count, max_queue=count, heartbeat=None)
    broadcaster.start()

    go = threading.Event()

    def produce() -> None:
        assert go.wait(5)
        for i, event in enumerate(numbered(1, count)):
            subject.on_next(event)
            if i % 50 == 0:
                time.sleep(0.001)  # pace the producer so reconnections overlap it
        subject.on_completed()

    producer = threading.Thread(target=produce)
    received: list[ServerSentEvent] = []
    connections = 0
    while_producing = 0
    async with served(broadcaster_app(broadcaster)) as url, httpx.AsyncClient() as client:
        producer.start()

        async def start_producer_once_attached() -> None:
            await broadcaster.wait_for_clients(1)
            go.set()

        starter = asyncio.create_task(start_producer_once_attached())
        while True:
            headers = {"Last-Event-ID": received[-1].id} if received else None
            status, events = await asyncio.wait_for(
                read_sse(client, url, headers=headers, stop_after=137), 5
            )
            connections += 1
            while_producing += producer.is_alive()
            if status == 204:
                break
            received.extend(events)
        await broadcaster.wait_for_clients(0)
        await starter
    producer.join(5)
    assert connections > 10
    assert while_producing >= 2  # resumes really raced the publisher
    assert received == numbered(1, count)


async def test_frozen_client_is_dropped_while_a_fast_client_gets_everything() -> None:
    subject: Subject[ServerSentEvent] = Subject()
    broadcaster = Broadcaster(subject, replay=0, max_queue=10_000, send_timeout=1.0, heartbeat=None)
    responses: list[EventSourceResponse] = []
    # Enough data to fill the kernel's send buffer (up to tcp_wmem max) several times.
    send_buffer = max_send_buffer()
    size = 256 * 1024
    count = min(400, math.ceil(3 * send_buffer / size) + 8)
    fast_got_all = asyncio.Event()
    fast_events: list[ServerSentEvent] = []

    def on_fast(events: list[ServerSentEvent]) -> None:
        fast_events.extend(events)
        if len(fast_events) >= count:
            fast_got_all.set()

    async with served(broadcaster_app(broadcaster, responses)) as url:
        parts = urlsplit(url)
        frozen = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        frozen.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        frozen.setblocking(False)
        loop = asyncio.get_running_loop()
        try:
            await loop.sock_connect(frozen, (parts.hostname, parts.port))
            request = f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n"
            await loop.sock_sendall(frozen, request.encode())
            await asyncio.wait_for(broadcaster.wait_for_clients(1), 2)  # and never reads
            async with httpx.AsyncClient() as client:
                fast = asyncio.create_task(read_sse(client, url, on_events=on_fast))
                await asyncio.wait_for(broadcaster.wait_for_clients(2), 2)
                started = time.monotonic()
                for event in numbered(1, count, size=size):
                    subject.on_next(event)
                # The fast client is not held back by the frozen one ...
                await asyncio.wait_for(fast_got_all.wait(), 5)
                assert responses[0].outcome is None, "frozen client still attached"
                # ... which is dropped once a write has waited send_timeout.
                assert await asyncio.wait_for(responses[0].wait_closed(), 5) == "send_timeout"
                assert time.monotonic() - started >= 1.0
                assert broadcaster.timeout_drops == 1
                assert broadcaster.client_count == 1
                subject.on_next(E(data="end", id="end"))
                subject.on_completed()
                status, events = await asyncio.wait_for(fast, 5)
        finally:
            frozen.close()
    assert status == 200
    assert [e.id for e in events] == [*ids(numbered(1, count)), "end"]
    assert all(len(e.data) == len(str(i + 1)) + size for i, e in enumerate(events[:-1]))
    assert responses[1].outcome == "completed"


async def test_broadcaster_overflow_drops_only_the_slow_client() -> None:
    subject: Subject[ServerSentEvent] = Subject()
    broadcaster = Broadcaster(subject, replay=0, max_queue=4, heartbeat=None)
    responses: list[EventSourceResponse] = []
    async with (
        served(broadcaster_app(broadcaster, responses)) as url,
        httpx.AsyncClient() as client,
    ):
        reader = asyncio.create_task(read_sse(client, url))
        await asyncio.wait_for(broadcaster.wait_for_clients(1), 2)
        for event in numbered(1, 10):  # one synchronous burst: no write in between
            subject.on_next(event)
        assert await asyncio.wait_for(reader, 2) == (200, [])
        assert await responses[0].wait_closed() == "overflow"
        await broadcaster.wait_for_clients(0)
    assert broadcaster.overflow_drops == 1
    assert not broadcaster.finished  # the upstream keeps running for other clients


async def test_broadcaster_close_ends_every_client() -> None:
    disposed = asyncio.Event()
    subject: Subject[ServerSentEvent] = Subject()

    def subscribe(observer: abc.ObserverBase[Any], scheduler: Any = None) -> abc.DisposableBase:
        inner = subject.subscribe(observer)

        def dispose() -> None:
            inner.dispose()
            disposed.set()

        return Disposable(dispose)

    broadcaster = Broadcaster(reactivex.create(subscribe), heartbeat=None)
    responses: list[EventSourceResponse] = []
    async with (
        served(broadcaster_app(broadcaster, responses)) as url,
        httpx.AsyncClient() as client,
    ):
        readers = [asyncio.create_task(read_sse(client, url)) for _ in range(2)]
        await asyncio.wait_for(broadcaster.wait_for_clients(2), 2)
        subject.on_next(E(data="last", id="1"))
        await asyncio.wait_for(broadcaster.aclose(), 2)
        assert disposed.is_set()
        for reader in readers:
            assert await reader == (200, [E(data="last", id="1")])
        assert [r.outcome for r in responses] == ["closed", "closed"]
        assert broadcaster.finished
        assert await read_sse(client, url) == (204, [])


async def test_broadcaster_upstream_error_and_abort() -> None:
    for error, outcome in ((RuntimeError("boom"), "error"), (AbortConnection(), "aborted")):
        subject: Subject[ServerSentEvent] = Subject()
        broadcaster = Broadcaster(
            subject, heartbeat=None, error_event=lambda exc: E(event="error", data="sorry")
        )
        responses: list[EventSourceResponse] = []
        app = broadcaster_app(broadcaster, responses)
        received: list[ServerSentEvent] = []
        async with served(app) as url, httpx.AsyncClient() as client:
            reader = asyncio.create_task(read_sse(client, url, on_events=received.extend))
            await asyncio.wait_for(broadcaster.wait_for_clients(1), 2)
            subject.on_next(E(data="a", id="1"))
            subject.on_error(error)
            if outcome == "aborted":
                with pytest.raises(httpx.RemoteProtocolError):
                    await reader
                assert received == [E(data="a", id="1")]
            else:
                assert await reader == (200, [E(data="a", id="1"), E(event="error", data="sorry")])
            assert await responses[0].wait_closed() == outcome


async def test_broadcaster_accepts_cross_thread_emissions_before_any_client() -> None:
    subject: Subject[ServerSentEvent] = Subject()
    broadcaster = Broadcaster(subject, replay=50, heartbeat=None)
    broadcaster.start()

    def produce() -> None:
        for event in numbered(1, 30):
            subject.on_next(event)

    thread = threading.Thread(target=produce)
    thread.start()
    await asyncio.to_thread(thread.join)
    async with served(broadcaster_app(broadcaster)) as url, httpx.AsyncClient() as client:
        reader = asyncio.create_task(read_sse(client, url, headers={"Last-Event-ID": "10"}))
        await asyncio.wait_for(broadcaster.wait_for_clients(1), 2)
        subject.on_completed()
        assert await asyncio.wait_for(reader, 2) == (200, numbered(11, 30))


def test_broadcaster_needs_a_running_loop() -> None:
    with pytest.raises(RuntimeError, match="running event loop"):
        Broadcaster(reactivex.never()).start()


async def test_from_url_resumes_through_a_broadcaster() -> None:
    """rxsse's own client: a broken connection, then a resume from the replay ring."""
    events = [E(data="1", id="1", retry=5), *numbered(2, 10)]
    subject: Subject[ServerSentEvent] = Subject()
    broadcaster = Broadcaster(subject, replay=100, heartbeat=None)
    broadcaster.start()
    for event in events:
        subject.on_next(event)
    requests: list[str | None] = []

    def endpoint(request: Request) -> Response:
        requests.append(request.headers.get("last-event-id"))
        if len(requests) == 1:  # the first connection breaks after four events
            broken = reactivex.concat(
                reactivex.from_iterable(events[:4]), reactivex.throw(AbortConnection())
            )
            return EventSourceResponse(broken, heartbeat=None)
        return broadcaster.response(request)

    async with served(app_for(endpoint)) as url:
        source = from_url(url, reconnect=ReconnectPolicy(default_delay=0.01, jitter=0))
        received = await asyncio.wait_for(collect(source.pipe(ops.take(10))), 5)
    assert received == events
    assert requests == [None, "4"]
