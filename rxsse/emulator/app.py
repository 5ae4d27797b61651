"""The emulator's ASGI application: one Starlette app, one module per service."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from rxsse._async_source import from_async_iterable
from rxsse._event import ServerSentEvent
from rxsse.emulator.events import numbered_events
from rxsse.emulator.faults import ConnectionDropped, Faults
from rxsse.serve import EventSourceResponse

__all__ = ["create_app", "stream_response"]


class _HideDeliberateDrops(logging.Filter):
    """Keep uvicorn quiet about connections the emulator aborts on purpose.

    The emulator is a deliberately misbehaving server, so uvicorn's report of
    a response that ended without its final chunk is expected, not an error.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("ASGI callable returned without completing"):
            return False  # how an aborted (deliberately dropped) response ends
        exc = record.exc_info[1] if record.exc_info else None
        while exc is not None:
            if isinstance(exc, ConnectionDropped):
                return False
            exc = exc.__cause__ or exc.__context__
        if isinstance(exc, BaseExceptionGroup):  # pragma: no cover - defensive
            return not exc.subgroup(ConnectionDropped)
        return True


logging.getLogger("uvicorn.error").addFilter(_HideDeliberateDrops())


def stream_response(
    request: Request, events: AsyncIterator[ServerSentEvent], faults: Faults
) -> Response:
    """Serve ``events`` with ``faults`` applied, through :mod:`rxsse.serve`.

    The framed (and possibly broken) bytes become an observable that an
    :class:`~rxsse.serve.EventSourceResponse` streams with heartbeats, a send
    timeout and disconnect detection; a deliberate drop aborts the connection.
    """
    if faults.status is not None:
        return PlainTextResponse(f"emulated status {faults.status}\n", status_code=faults.status)
    last_event_id = request.headers.get("last-event-id", "")
    body = faults.apply(events, last_event_id=last_event_id)
    heartbeat = request.query_params.get("heartbeat")
    return EventSourceResponse(
        from_async_iterable(body),
        heartbeat=float(heartbeat) if heartbeat else 15.0,
        send_timeout=10.0,
        content_type=faults.media_type,
    )


def _int_param(request: Request, name: str, default: int | None) -> int | None:
    value = request.query_params.get(name)
    return int(value) if value not in (None, "") else default


def create_app(*, seed: int = 0) -> Starlette:
    """Build the emulator app; ``seed`` makes every stream deterministic."""

    async def events(request: Request) -> Response:
        try:
            faults = Faults.from_query(request.query_params, default_seed=seed)
            count = _int_param(request, "count", None)
            size = _int_param(request, "size", 16) or 0
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

    async def index(request: Request) -> Response:
        return PlainTextResponse("rxsse emulator: /events\n")

    return Starlette(routes=[Route("/", index), Route("/events", events)])
