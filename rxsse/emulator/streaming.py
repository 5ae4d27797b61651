"""How every emulated endpoint streams: faults applied, served by rxsse.serve."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from rxsse._async_source import from_async_iterable
from rxsse._event import ServerSentEvent
from rxsse.emulator.faults import ConnectionDropped, Faults
from rxsse.serve import EventSourceResponse

__all__ = ["int_param", "stream_response"]


class _HideDeliberateDrops(logging.Filter):
    """Keep uvicorn quiet about connections the emulator aborts on purpose.

    The emulator is a deliberately misbehaving server, so uvicorn's report of
    a response that ended without its final chunk is expected, not an error;
    so is the cancellation of a response still running when it shuts down.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("ASGI callable returned without completing"):
            return False  # how an aborted (deliberately dropped) response ends
        if record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError):
            return False  # a response cancelled because the emulator is shutting down
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
    request: Request,
    events: AsyncIterator[ServerSentEvent],
    faults: Faults,
    rechunk: Callable[[AsyncIterator[bytes]], AsyncIterator[bytes]] | None = None,
) -> Response:
    """Serve ``events`` with ``faults`` applied, through :mod:`rxsse.serve`.

    The framed (and possibly broken) bytes become an observable that an
    :class:`~rxsse.serve.EventSourceResponse` streams with heartbeats, a send
    timeout and disconnect detection; a deliberate drop aborts the connection.
    ``rechunk``, if given, regroups the bytes into network writes (after the
    faults, so it may cut anywhere, e.g. inside UTF-8 sequences).
    """
    if faults.status is not None:
        return PlainTextResponse(f"emulated status {faults.status}\n", status_code=faults.status)
    last_event_id = request.headers.get("last-event-id", "")
    body = faults.apply(events, last_event_id=last_event_id)
    if rechunk is not None:
        body = rechunk(body)
    heartbeat = request.query_params.get("heartbeat")
    return EventSourceResponse(
        from_async_iterable(body),
        heartbeat=float(heartbeat) if heartbeat else 15.0,
        send_timeout=10.0,
        content_type=faults.media_type,
    )


def int_param(request: Request, name: str, default: int | None) -> int | None:
    """Query parameter ``name`` as an int; ``default`` when absent or empty."""
    value = request.query_params.get(name)
    return int(value) if value not in (None, "") else default
