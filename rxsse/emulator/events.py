"""``/events``: a generic numbered event stream.

Query parameters (besides the faults of :mod:`rxsse.emulator.faults`):

``count=N``    events in the whole stream (default: endless)
``rate=R``     events per second (default 10; ``0`` = as fast as possible)
``size=B``     payload characters per event (default 16)
``ids=0|1``    send ``id:`` lines (default 1)
``event=NAME`` event type (default ``tick``)

Events are numbered from 1; event *n* has ``id: n`` and data
``{"n": n, "payload": "..."}`` with a payload that is a deterministic
function of ``n`` and the seed.  A request with ``Last-Event-ID: k`` resumes
at event k + 1; once every event was sent, a resuming request is answered
``204 No Content`` (the spec's "stop reconnecting").
"""

from __future__ import annotations

import asyncio
import json
import string
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from rxsse._event import ServerSentEvent
from rxsse.emulator.faults import Faults
from rxsse.emulator.streaming import int_param, stream_response

__all__ = ["numbered_events", "payload_for", "routes"]

_ALPHABET = string.ascii_letters + string.digits


def payload_for(n: int, size: int, seed: int) -> str:
    """The deterministic payload of event ``n``."""
    start = (n * 7919 + seed * 104729) % len(_ALPHABET)
    text = (_ALPHABET[start:] + _ALPHABET[:start]) * (size // len(_ALPHABET) + 1)
    return text[:size]


async def numbered_events(
    *,
    first: int,
    count: int | None,
    rate: float,
    size: int,
    ids: bool,
    event: str,
    seed: int,
) -> AsyncIterator[ServerSentEvent]:
    """Events ``first``, ``first + 1``, … paced at ``rate`` per second."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    n = first
    sent = 0
    while count is None or n <= count:
        if rate > 0:
            due = started + sent / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif sent % 256 == 0:
                await asyncio.sleep(0)
        elif sent % 256 == 0:
            await asyncio.sleep(0)
        data = json.dumps({"n": n, "payload": payload_for(n, size, seed)})
        yield ServerSentEvent(event, data, str(n) if ids else "")
        n += 1
        sent += 1


def routes(seed: int) -> list[BaseRoute]:
    """The ``/events`` route of an emulator seeded with ``seed``."""

    async def events(request: Request) -> Response:
        try:
            faults = Faults.from_query(request.query_params, default_seed=seed)
            count = int_param(request, "count", None)
            size = int_param(request, "size", 16) or 0
            rate = float(request.query_params.get("rate", "10"))
        except ValueError as exc:
            return PlainTextResponse(f"bad query parameter: {exc}\n", status_code=400)
        last = request.headers.get("last-event-id", "")
        first = int(last) + 1 if last.isdigit() else 1
        if count is not None and first > count and last:
            return Response(status_code=204)
        stream = numbered_events(
            first=first,
            count=count,
            rate=rate,
            size=size,
            ids=request.query_params.get("ids", "1") != "0",
            event=request.query_params.get("event", "tick"),
            seed=faults.seed,
        )
        return stream_response(request, stream, faults)

    return [Route("/events", events)]
