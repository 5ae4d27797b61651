"""from_url against real servers on 127.0.0.1: the emulator and small recording apps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import reactivex
from reactivex import operators as ops
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from rxsse import ReconnectPolicy, ServerSentEvent, collect, from_url
from rxsse.emulator.server import serve_app
from rxsse.errors import (
    LineTooLong,
    ReconnectExhausted,
    SSEContentTypeError,
    SSEStatusError,
)
from rxsse.sources.lifecycle import Closed, ConnectionEvent, Open, Reconnecting

FAST = ReconnectPolicy(default_delay=0.001, jitter=0, max_attempts=5)


def take(n: int) -> Callable[[reactivex.Observable[Any]], reactivex.Observable[Any]]:
    return ops.take(n)


@dataclass
class Recorder:
    """A scripted SSE server: connection k gets ``bodies[k]``; requests are recorded."""

    bodies: list[list[bytes]]
    requests: list[Request] = field(default_factory=list)
    streams: int = 0
    open_streams: int = 0
    content_type: str = "text/event-stream"

    def app(self) -> Starlette:
        async def stream(request: Request) -> Response:
            self.requests.append(request)
            index = min(self.streams, len(self.bodies) - 1)
            self.streams += 1
            parts = self.bodies[index]

            async def body() -> AsyncIterator[bytes]:
                self.open_streams += 1
                try:
                    for part in parts:
                        if part == b"<hang>":
                            await asyncio.sleep(3600)
                        yield part
                finally:
                    self.open_streams -= 1

            return StreamingResponse(body(), media_type=self.content_type)

        async def redirect(request: Request) -> Response:
            self.requests.append(request)
            return RedirectResponse("/stream", status_code=307)

        return Starlette(
            routes=[Route("/stream", stream, methods=["GET", "POST"]), Route("/redirect", redirect)]
        )

    def header(self, index: int, name: str) -> str | None:
        return self.requests[index].headers.get(name)


async def _settle(predicate: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not predicate():
            await asyncio.sleep(0.005)


# -- request shaping -------------------------------------------------------------


async def test_sends_event_stream_headers_custom_headers_and_a_json_post() -> None:
    recorder = Recorder([[b"data: ok\n\n"]])
    async with serve_app(recorder.app()) as url:
        events = await collect(
            from_url(
                f"{url}/stream",
                method="POST",
                json={"model": "x", "stream": True},
                headers={"Authorization": "Bearer k"},
                params={"q": "1"},
            )
        )
    assert events == [ServerSentEvent(data="ok")]
    request = recorder.requests[0]
    assert request.headers["accept"] == "text/event-stream"
    assert request.headers["cache-control"] == "no-cache"
    assert request.headers["authorization"] == "Bearer k"
    assert request.headers["content-type"] == "application/json"
    assert request.query_params["q"] == "1"
    assert "last-event-id" not in request.headers


async def test_uses_the_callers_client_and_leaves_it_open() -> None:
    recorder = Recorder([[b"data: ok\n\n"]])
    async with serve_app(recorder.app()) as url, httpx.AsyncClient(headers={"X-App": "1"}) as c:
        events = await collect(from_url(f"{url}/stream", client=c, reconnect=False))
        assert events == [ServerSentEvent(data="ok")]
        assert not c.is_closed
        assert recorder.header(0, "x-app") == "1"


# -- failing without reconnecting ------------------------------------------------


@pytest.mark.parametrize("status", [500, 404, 401, 503])
async def test_an_error_status_fails_with_details_and_no_reconnect(
    emulator: str, status: int
) -> None:
    states: list[ConnectionEvent] = []
    with pytest.raises(SSEStatusError) as info:
        await collect(from_url(f"{emulator}/events?status={status}", lifecycle=states.append))
    error = info.value
    assert error.status_code == status
    assert error.body == f"emulated status {status}\n".encode()
    assert error.headers["content-type"].startswith("text/plain")
    assert not any(isinstance(s, Reconnecting) for s in states)
    assert isinstance(states[-1], Closed)
    assert states[-1].cause is error


async def test_204_means_stop() -> None:
    async with serve_app(
        Starlette(routes=[Route("/s", lambda r: Response(status_code=204))])
    ) as url:
        with pytest.raises(SSEStatusError) as info:
            await collect(from_url(f"{url}/s"))
    assert info.value.status_code == 204


async def test_a_wrong_content_type_fails_without_reconnect(emulator: str) -> None:
    with pytest.raises(SSEContentTypeError) as info:
        await collect(from_url(f"{emulator}/events?content_type=text/plain&count=3"))
    assert info.value.content_type.startswith("text/plain")
    assert info.value.status_code == 200


@pytest.mark.parametrize(
    "content_type",
    ["text/event-stream; charset=utf-8", "Text/Event-Stream", "text/event-stream;charset=latin1"],
)
async def test_content_type_parameters_and_case_are_ignored(content_type: str) -> None:
    recorder = Recorder([[b"data: caf\xc3\xa9\n\n"]], content_type=content_type)
    async with serve_app(recorder.app()) as url:
        events = await collect(from_url(f"{url}/stream", reconnect=False))
    assert events == [ServerSentEvent(data="café")], "always UTF-8, whatever the charset says"


async def test_a_decoder_limit_fails_after_the_good_events() -> None:
    recorder = Recorder([[b"data: ok\n\n", b"data: " + b"x" * 5000 + b"\n\n"]])
    got: list[ServerSentEvent] = []
    async with serve_app(recorder.app()) as url:
        with pytest.raises(LineTooLong):
            await collect(
                from_url(f"{url}/stream", max_line_size=1000).pipe(ops.do_action(got.append))
            )
    assert got == [ServerSentEvent(data="ok")]
    assert len(recorder.requests) == 1


# -- reconnection ----------------------------------------------------------------


async def test_last_event_id_is_sent_on_reconnect() -> None:
    recorder = Recorder([[b"id: 7\ndata: a\n\n"], [b"data: b\n\n", b"<hang>"]])
    async with serve_app(recorder.app()) as url:
        events = await collect(from_url(f"{url}/stream", reconnect=FAST).pipe(take(2)))
    assert events == [ServerSentEvent(data="a", id="7"), ServerSentEvent(data="b", id="7")]
    assert recorder.header(0, "last-event-id") is None
    assert recorder.header(1, "last-event-id") == "7"


@pytest.mark.parametrize(
    "first_body",
    [
        b"data: a\n\n",  # never any id
        b"id: 3\ndata: a\n\nid\ndata: b\n\n",  # id reset to empty
        b"data: a\n\nid: 9\ndata: never dispatched",  # uncommitted id
        b"id: 1\x002\ndata: a\n\n",  # NULL in id: ignored
    ],
    ids=["never-set", "reset-to-empty", "uncommitted", "null"],
)
async def test_last_event_id_is_omitted_when_empty_or_uncommitted(first_body: bytes) -> None:
    recorder = Recorder([[first_body], [b"data: z\n\n", b"<hang>"]])

    def is_z(event: ServerSentEvent) -> bool:
        return event.data == "z"

    async with serve_app(recorder.app()) as url:
        source = from_url(f"{url}/stream", reconnect=FAST)
        events = await collect(source.pipe(ops.filter(is_z), take(1)))
    assert events[0].id == ""
    assert recorder.header(1, "last-event-id") is None


async def test_a_seeded_last_event_id_resumes_the_first_request(emulator: str) -> None:
    events = await collect(
        from_url(f"{emulator}/events?rate=0&count=10", last_event_id="7").pipe(take(3))
    )
    assert [e.id for e in events] == ["8", "9", "10"]


async def test_retry_from_the_server_sets_the_reconnection_delay() -> None:
    recorder = Recorder([[b"retry: 250\ndata: a\n\n"], [b"data: b\n\n", b"<hang>"]])
    states: list[ConnectionEvent] = []
    policy = ReconnectPolicy(default_delay=5.0, jitter=0)
    async with serve_app(recorder.app()) as url:
        await collect(
            from_url(f"{url}/stream", reconnect=policy, lifecycle=states.append).pipe(take(2))
        )
    delays = [s.delay for s in states if isinstance(s, Reconnecting)]
    assert delays == [0.25]


async def test_redirects_are_followed_and_reconnects_use_the_original_url() -> None:
    recorder = Recorder([[b"id: 1\ndata: a\n\n"], [b"id: 2\ndata: b\n\n", b"<hang>"]])
    async with serve_app(recorder.app()) as url:
        events = await collect(from_url(f"{url}/redirect", reconnect=FAST).pipe(take(2)))
    assert [e.data for e in events] == ["a", "b"]
    assert [r.url.path for r in recorder.requests] == ["/redirect", "/stream"] * 2
    assert recorder.header(2, "last-event-id") == "1"


async def test_backoff_grows_on_failures_and_resets_after_an_open() -> None:
    policy = ReconnectPolicy(default_delay=1.0, backoff=2.0, max_delay=5.0, jitter=0)
    assert [policy.delay(n, None) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert policy.delay(1, 250) == 0.25
    assert policy.delay(1, 120_000) == 120.0, "a server retry above max_delay is honoured"
    jittered = ReconnectPolicy(default_delay=1.0, jitter=0.5)
    assert all(0.5 <= jittered.delay(1, None) <= 1.0 for _ in range(100))


async def test_reconnect_exhausted_carries_the_last_cause() -> None:
    states: list[ConnectionEvent] = []
    # A port that was just free: nothing listens there.
    async with serve_app(Starlette()) as url:
        dead = url
    policy = ReconnectPolicy(default_delay=0.001, jitter=0, max_attempts=3)
    with pytest.raises(ReconnectExhausted) as info:
        await collect(from_url(f"{dead}/stream", reconnect=policy, lifecycle=states.append))
    assert info.value.attempts == 3
    assert isinstance(info.value.last_cause, httpx.ConnectError)
    attempts = [s.attempt for s in states if isinstance(s, Reconnecting)]
    assert attempts == [1, 2, 3]


async def test_post_is_not_reconnected_unless_the_caller_opts_in() -> None:
    recorder = Recorder([[b"data: a\n\n"], [b"data: b\n\n"], [b"data: b\n\n", b"<hang>"]])
    async with serve_app(recorder.app()) as url:
        once = await collect(from_url(f"{url}/stream", method="POST", json={}, reconnect=FAST))
        assert [e.data for e in once] == ["a"]
        assert len(recorder.requests) == 1
        opted = ReconnectPolicy(default_delay=0.001, jitter=0, reconnect_non_idempotent=True)
        again = await collect(
            from_url(f"{url}/stream", method="POST", json={}, reconnect=opted).pipe(take(2))
        )
    assert [e.data for e in again] == ["b", "b"]


async def test_reconnect_false_completes_at_the_end_of_the_body(emulator: str) -> None:
    events = await collect(from_url(f"{emulator}/events?rate=0&count=3", reconnect=False))
    assert [e.id for e in events] == ["1", "2", "3"]


# -- faults from the emulator ----------------------------------------------------


async def test_survives_dropped_connections(emulator: str) -> None:
    states: list[ConnectionEvent] = []
    events = await collect(
        from_url(
            f"{emulator}/events?rate=0&count=40&drop_after=7",
            reconnect=FAST,
            lifecycle=states.append,
        ).pipe(take(40))
    )
    assert [e.id for e in events] == [str(n) for n in range(1, 41)]
    reconnects = [s for s in states if isinstance(s, Reconnecting)]
    assert len(reconnects) >= 5
    assert all(isinstance(s.cause, httpx.TransportError) for s in reconnects)


async def test_a_stall_is_detected_by_the_idle_timeout_and_recovered(emulator: str) -> None:
    states: list[ConnectionEvent] = []
    events = await collect(
        from_url(
            f"{emulator}/events?rate=0&count=6&stall=30&stall_after=3",
            reconnect=FAST,
            idle_timeout=0.2,
            lifecycle=states.append,
        ).pipe(take(6))
    )
    assert [e.id for e in events] == ["1", "2", "3", "4", "5", "6"]
    causes = [type(s.cause).__name__ for s in states if isinstance(s, Reconnecting)]
    assert causes[:1] == ["StreamStalled"]


async def test_a_quiet_stream_is_not_killed_by_a_read_timeout(emulator: str) -> None:
    events = await collect(
        from_url(
            f"{emulator}/events?rate=0&count=2&stall=0.6&stall_after=1",
            timeout=0.1,
            reconnect=False,
        )
    )
    assert [e.id for e in events] == ["1", "2"]


async def test_a_partial_final_event_is_discarded_and_its_id_not_committed(emulator: str) -> None:
    events = await collect(from_url(f"{emulator}/events?rate=0&count=2&partial=1", reconnect=False))
    assert [e.id for e in events] == ["1", "2"]


async def test_garbage_lines_and_invalid_utf8_lose_no_event(emulator: str) -> None:
    events = await collect(
        from_url(f"{emulator}/events?rate=0&count=20&garbage=1&invalid_utf8=1", reconnect=False)
    )
    assert [e.id for e in events] == [str(n) for n in range(1, 21)]
    assert all("\ufffd" in e.data for e in events)
    assert all(e.event == "tick" for e in events)


async def test_no_loss_no_duplicates_across_many_random_disconnects(emulator: str) -> None:
    states: list[ConnectionEvent] = []
    policy = ReconnectPolicy(default_delay=0.0005, jitter=0, max_attempts=5)
    events = await collect(
        from_url(
            f"{emulator}/events?rate=0&count=5000&size=40&drop_random=150",
            reconnect=policy,
            lifecycle=states.append,
        ).pipe(take(5000))
    )
    assert [e.id for e in events] == [str(n) for n in range(1, 5001)]
    assert len({e.data for e in events}) == 5000
    drops = [s for s in states if isinstance(s, Reconnecting)]
    assert len(drops) >= 50


# -- disposal ----------------------------------------------------------------------


async def test_dispose_during_the_backoff_wait_cancels_it() -> None:
    recorder = Recorder([[b"data: a\n\n"]])
    states: list[ConnectionEvent] = []
    slow = ReconnectPolicy(default_delay=30, jitter=0)
    before = asyncio.all_tasks()
    async with serve_app(recorder.app()) as url:
        subscription = from_url(
            f"{url}/stream", reconnect=slow, lifecycle=states.append
        ).subscribe()
        await _settle(lambda: any(isinstance(s, Reconnecting) for s in states))
        subscription.dispose()
        await _settle(lambda: isinstance(states[-1], Closed))
        assert states[-1] == Closed(None)
        assert len(recorder.requests) == 1
    await asyncio.sleep(0)
    assert asyncio.all_tasks() - before == set()


async def test_dispose_closes_the_connection_and_leaves_no_task() -> None:
    recorder = Recorder([[b"data: a\n\n", b"<hang>"]])
    states: list[ConnectionEvent] = []
    async with serve_app(recorder.app()) as url:
        before = asyncio.all_tasks()
        got: list[ServerSentEvent] = []
        subscription = from_url(f"{url}/stream", lifecycle=states.append).subscribe(got.append)
        await _settle(lambda: bool(got) and recorder.open_streams == 1)
        assert any(isinstance(s, Open) for s in states)
        subscription.dispose()
        await _settle(lambda: recorder.open_streams == 0)
        await _settle(lambda: isinstance(states[-1], Closed))
        await asyncio.sleep(0)
        leftover = {t for t in asyncio.all_tasks() - before if not t.done()}
        assert not {t for t in leftover if "rxsse" in repr(t.get_coro())}


async def test_emulator_retry_fault_sets_the_delay(emulator: str) -> None:
    states: list[ConnectionEvent] = []
    policy = ReconnectPolicy(default_delay=9.0, jitter=0)
    events = await collect(
        from_url(
            f"{emulator}/events?rate=0&count=6&retry=40&drop_after=3",
            reconnect=policy,
            lifecycle=states.append,
        ).pipe(take(6))
    )
    assert [e.id for e in events] == ["1", "2", "3", "4", "5", "6"]
    assert [s.delay for s in states if isinstance(s, Reconnecting)][:1] == [0.04]


async def test_emulator_index_lists_its_services(emulator: str) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(emulator)
    assert "/events" in response.text
