"""Fault injection shared by every emulated endpoint, driven by query parameters.

Every endpoint of the emulator accepts these parameters (all optional):

``status=NNN``
    Answer that HTTP status with a short plain-text body instead of a stream.
``content_type=TYPE``
    Send the stream with this ``Content-Type`` instead of
    ``text/event-stream; charset=utf-8``.
``retry=MS``
    Start the stream with a ``retry: MS`` line.
``drop_after=N``
    Abort the connection (no end-of-body marker, as a crashed proxy would)
    after N events of the connection.
``drop_random=M``
    On each connection, abort after a random number of events in [1, M],
    cutting the next event at a random byte offset first (a drop mid-event).
    The draws are deterministic given ``seed`` and the ``Last-Event-ID``.
``stall=S`` and ``stall_after=N`` (default 0)
    After N events, send nothing at all for S seconds (the connection stays
    open), once per connection.
``partial=1``
    After the last event, send the start of an event without its final
    empty line, then end the body cleanly.
``garbage=1``
    Between events, send lines a client must ignore: unknown fields, a field
    without a colon, comments, a stray ``retry`` with letters.
``invalid_utf8=1``
    Put invalid UTF-8 bytes into every event's data (decoders must replace
    them with U+FFFD, never fail).
``seed=K``
    Seed of every random choice (default: the emulator's seed).
``batch=N``
    Write N events per send (default 1; larger batches make the server cheap
    enough to measure a client's throughput).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

from rxsse._event import ServerSentEvent
from rxsse.serve import AbortConnection

__all__ = ["ConnectionDropped", "Faults", "frame_event"]


class ConnectionDropped(AbortConnection):
    """Raised inside a response body to abort the connection on purpose."""


def frame_event(event: ServerSentEvent) -> bytes:
    """Encode an event for the wire (multi-line data split into data lines)."""
    parts = []
    if event.event != "message":
        parts.append(f"event: {event.event}\n")
    if event.id:
        parts.append(f"id: {event.id}\n")
    if event.retry is not None:
        parts.append(f"retry: {event.retry}\n")
    data = event.data.replace("\r\n", "\n").replace("\r", "\n")
    parts.append("data: " + data.replace("\n", "\ndata: ") + "\n\n")
    return "".join(parts).encode()


_GARBAGE = (
    b"unknown-field: ignored\n",
    b"Data: wrong case, ignored\n",
    b"retry: 12ab\n",
    b": a comment\n",
    b"lonelyfield\n",
)


def _int(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name)
    return int(value) if value not in (None, "") else None


def _float(query: Mapping[str, str], name: str) -> float | None:
    value = query.get(name)
    return float(value) if value not in (None, "") else None


@dataclass(frozen=True)
class Faults:
    """The faults requested for one connection (see the module docstring)."""

    status: int | None = None
    content_type: str | None = None
    retry: int | None = None
    drop_after: int | None = None
    drop_random: int | None = None
    stall: float | None = None
    stall_after: int = 0
    partial: bool = False
    garbage: bool = False
    invalid_utf8: bool = False
    seed: int = 0
    batch: int = 1

    @classmethod
    def from_query(cls, query: Mapping[str, str], *, default_seed: int = 0) -> Faults:
        """Parse the fault parameters; raises ``ValueError`` on malformed ones."""
        return cls(
            status=_int(query, "status"),
            content_type=query.get("content_type") or None,
            retry=_int(query, "retry"),
            drop_after=_int(query, "drop_after"),
            drop_random=_int(query, "drop_random"),
            stall=_float(query, "stall"),
            stall_after=_int(query, "stall_after") or 0,
            partial=query.get("partial", "") not in ("", "0", "false"),
            garbage=query.get("garbage", "") not in ("", "0", "false"),
            invalid_utf8=query.get("invalid_utf8", "") not in ("", "0", "false"),
            seed=_int(query, "seed") or default_seed,
            batch=max(_int(query, "batch") or 1, 1),
        )

    @property
    def media_type(self) -> str:
        """The content type the response is sent with."""
        return self.content_type or "text/event-stream; charset=utf-8"

    async def apply(
        self, events: AsyncIterator[ServerSentEvent], *, last_event_id: str = ""
    ) -> AsyncIterator[bytes]:
        """Frame ``events`` into bytes with the requested faults applied."""
        rng = random.Random(f"{self.seed}/{last_event_id}")
        drop_at = self.drop_after
        if self.drop_random is not None:
            drop_at = rng.randint(1, max(self.drop_random, 1))
        if self.retry is not None:
            yield b"retry: %d\n\n" % self.retry
        sent = 0
        stalled = False
        batch: list[bytes] = []
        async for event in events:
            if self.stall is not None and not stalled and sent >= self.stall_after:
                stalled = True
                await asyncio.sleep(self.stall)
            frame = frame_event(event)
            if self.invalid_utf8:
                frame = frame.replace(b"\ndata: ", b"\ndata: \xff\xfe", 1)
                if frame.startswith(b"data: "):
                    frame = b"data: \xc3(" + frame[6:]
            if drop_at is not None and sent >= drop_at:
                if batch:
                    yield b"".join(batch)
                if self.drop_random is not None:
                    yield frame[: rng.randrange(0, len(frame))]
                raise ConnectionDropped(f"dropped after {sent} events")
            batch.append(frame)
            sent += 1
            if self.garbage:
                batch.append(_GARBAGE[sent % len(_GARBAGE)])
            if len(batch) >= self.batch:
                yield b"".join(batch)
                batch.clear()
        if batch:
            yield b"".join(batch)
        if self.partial:
            yield b"id: never-committed\ndata: an event without its empty line\n"
