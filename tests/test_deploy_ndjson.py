"""from_ndjson_url against real servers on 127.0.0.1, and the sans-IO line splitter."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reactivex import operators as ops
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from rxsse import ReconnectPolicy, ServerSentEvent, collect
from rxsse.emulator.server import serve_app
from rxsse.errors import SSEContentTypeError, SSEStatusError
from rxsse.sources.lifecycle import Connecting, ConnectionEvent
from rxsse.sources.ndjson import NDJSONLineSplitter, SkippedLine, from_ndjson_url

FAST = ReconnectPolicy(default_delay=0.001, jitter=0, max_attempts=5)


@dataclass
class Script:
    """Connection k gets ``bodies[k]`` (the last one repeats); requests are recorded."""

    bodies: list[list[bytes]]
    content_type: str = "application/x-ndjson"
    status: int = 200
    requests: list[Request] = field(default_factory=list)

    def app(self) -> Starlette:
        async def stream(request: Request) -> Response:
            index = min(len(self.requests), len(self.bodies) - 1)
            self.requests.append(request)
            parts = self.bodies[index]

            async def body() -> AsyncIterator[bytes]:
                for part in parts:
                    if part == b"<hang>":
                        await asyncio.sleep(3600)
                    yield part
                    await asyncio.sleep(0)

            return StreamingResponse(body(), status_code=self.status, media_type=self.content_type)

        return Starlette(routes=[Route("/events", stream)])


def line(**fields: Any) -> bytes:
    return json.dumps(fields).encode() + b"\n"


async def test_lines_split_across_chunks_blank_lines_and_crlf() -> None:
    text = "héllo wörld"
    whole = (
        line(n=1, text=text) + b"\r\n\n" + line(n=2) + b"   \n" + line(n=3).replace(b"\n", b"\r\n")
    )
    cut = [whole[:5], whole[5:17], whole[17:18], whole[18:40], whole[40:]]  # mid-UTF-8 too
    script = Script([cut])
    async with serve_app(script.app()) as url:
        events = await collect(from_ndjson_url(f"{url}/events", reconnect=False))
    assert [e.json()["n"] for e in events] == [1, 2, 3]
    assert events[0].json()["text"] == text
    assert all(e.event == "message" and e.id == "" for e in events)
    assert script.requests[0].headers["accept"] == "application/x-ndjson"
    assert "last-event-id" not in script.requests[0].headers


async def test_invalid_json_lines_are_reported_and_skipped_not_fatal() -> None:
    skipped: list[SkippedLine] = []
    body = [line(n=1), b"{not json\n", b"\xff\xfe\n", line(n=2), b'{"n": 3}']  # no final \n
    async with serve_app(Script([body]).app()) as url:
        events = await collect(
            from_ndjson_url(f"{url}/events", reconnect=False, on_skip=skipped.append)
        )
    assert [e.json()["n"] for e in events] == [1, 2, 3]  # a clean end keeps the last line
    assert [s.reason for s in skipped] == ["invalid-json", "invalid-json"]
    assert skipped[0].line == "{not json"
    assert "JSONDecodeError" in skipped[0].detail
    assert "UnicodeDecodeError" in skipped[1].detail


async def test_invalid_lines_are_logged_without_a_callback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with serve_app(Script([[b"oops\n", line(n=1)]]).app()) as url:
        events = await collect(from_ndjson_url(f"{url}/events", reconnect=False))
    assert len(events) == 1
    assert "skipped an NDJSON line" in caplog.text
    assert "'oops'" in caplog.text


async def test_too_long_lines_are_skipped_with_bounded_memory() -> None:
    skipped: list[SkippedLine] = []
    long_line = b'{"pad": "' + b"x" * 5000 + b'"}\n'
    body = [line(n=1), long_line[:3000], long_line[3000:], line(n=2)]
    async with serve_app(Script([body]).app()) as url:
        events = await collect(
            from_ndjson_url(
                f"{url}/events", reconnect=False, max_line_size=1024, on_skip=skipped.append
            )
        )
    assert [e.json()["n"] for e in events] == [1, 2]
    assert [s.reason for s in skipped] == ["too-long"]


async def test_reconnect_resumes_with_since_and_skips_replayed_ids() -> None:
    first = [line(id="a", created=1), line(id="b", created=2), line(id="c", created=3)]
    second = [line(id="c", created=3), line(id="d", created=4), b"<hang>"]
    script = Script([first, second])
    skipped: list[SkippedLine] = []
    lifecycle: list[ConnectionEvent] = []
    async with serve_app(script.app()) as url:
        source = from_ndjson_url(
            f"{url}/events",
            params={"follow": "1"},
            reconnect=FAST,
            event_id=lambda value: value.get("id"),
            resume=lambda value: {"since": value["created"]},
            on_skip=skipped.append,
            lifecycle=lifecycle.append,
        )
        events = await collect(source.pipe(ops.take(4)))
    assert [e.json()["id"] for e in events] == ["a", "b", "c", "d"]
    assert [e.id for e in events] == ["a", "b", "c", "d"]
    assert [(s.reason, s.id) for s in skipped] == [("duplicate", "c")]
    assert dict(script.requests[0].query_params) == {"follow": "1"}
    assert dict(script.requests[1].query_params) == {"follow": "1", "since": "3"}
    connecting = [c for c in lifecycle if isinstance(c, Connecting)]
    assert [c.last_event_id for c in connecting] == ["", "c"]


async def test_dedupe_window_bounds_memory() -> None:
    body = [line(id="a"), line(id="b"), line(id="a"), line(id="b"), line(id="b")]
    async with serve_app(Script([body]).app()) as url:
        events = await collect(
            from_ndjson_url(
                f"{url}/events",
                reconnect=False,
                event_id=lambda value: value["id"],
                dedupe_window=1,
                on_skip=lambda _: None,
            )
        )
    # a window of one id remembers only the last id emitted
    assert [e.id for e in events] == ["a", "b", "a", "b"]


@pytest.mark.parametrize(
    ("script", "error"),
    [
        (Script([[line(n=1)]], content_type="text/html"), SSEContentTypeError),
        (Script([[b"no"]], status=500), SSEStatusError),
    ],
    ids=["wrong-content-type", "status-500"],
)
async def test_typed_failures_without_reconnecting(script: Script, error: type[Exception]) -> None:
    async with serve_app(script.app()) as url:
        with pytest.raises(error):
            await collect(from_ndjson_url(f"{url}/events", reconnect=FAST))
    assert len(script.requests) == 1


async def test_any_media_type_when_asked_and_argument_checks() -> None:
    async with serve_app(Script([[line(n=1)]], content_type="text/html").app()) as url:
        events = await collect(from_ndjson_url(f"{url}/events", reconnect=False, media_types=None))
    assert events == [ServerSentEvent("message", '{"n": 1}')]
    with pytest.raises(ValueError, match="dedupe_window"):
        from_ndjson_url("http://127.0.0.1:1/", dedupe_window=-1)
    with pytest.raises(ValueError, match="max_line_size"):
        from_ndjson_url("http://127.0.0.1:1/", max_line_size=0)


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(st.text(min_size=1, max_size=20).filter(lambda t: t.strip()), max_size=8),
    cuts=st.lists(st.integers(0, 400), max_size=12),
    crlf=st.booleans(),
)
def test_splitter_yields_the_same_lines_for_any_chunking(
    lines: list[str], cuts: list[int], crlf: bool
) -> None:
    texts = [json.dumps(text) for text in lines]
    ending = b"\r\n" if crlf else b"\n"
    data = b"".join(t.encode() + ending + b"\n" for t in texts)  # with blank lines between
    points = sorted({c for c in cuts if c <= len(data)} | {0, len(data)})
    splitter = NDJSONLineSplitter(max_line_size=1 << 20)
    out: list[bytes] = []
    for start, end in itertools.pairwise(points):
        out.extend(splitter.feed(data[start:end]))
    out.extend(splitter.close())
    assert [raw.decode() for raw in out] == texts
