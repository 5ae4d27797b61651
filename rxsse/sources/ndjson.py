"""Newline-delimited JSON over HTTP as an observable, with ``from_url``'s reconnection.

:func:`from_ndjson_url` runs the request/reconnect loop of
:func:`rxsse.sources.http.streaming_source` with an NDJSON body format:
:class:`NDJSONLineSplitter` (sans-IO) cuts the body into lines wherever the chunks
split, each valid JSON line becomes one :class:`~rxsse.ServerSentEvent`, and
reconnects resume with a caller-provided query parameter (``since=``) and skip
the replayed lines by id.
"""

from __future__ import annotations

import json as jsonlib
import logging
from collections import deque
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from reactivex import Observable

from rxsse._async_source import Emit
from rxsse._event import ServerSentEvent
from rxsse.decoder import DEFAULT_MAX_LINE_SIZE
from rxsse.sources.http import DEFAULT_TIMEOUT, streaming_source
from rxsse.sources.lifecycle import ConnectionEvent, ReconnectPolicy

__all__ = [
    "NDJSON_MEDIA_TYPES",
    "NDJSONLineSplitter",
    "SkippedLine",
    "from_ndjson_url",
]

NDJSON_MEDIA_TYPES: frozenset[str] = frozenset(
    {
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "application/x-jsonlines",
        "application/jsonlines",
        "application/stream+json",
        "application/json",
        "text/plain",
    }
)
"""MIME essences accepted as NDJSON by default (servers label it many ways)."""

_PREVIEW = 200
_log = logging.getLogger("rxsse.sources.ndjson")


@dataclass(frozen=True, slots=True)
class SkippedLine:
    """A line that was not emitted, and why.

    ``reason`` is ``"invalid-json"`` (not UTF-8 or not JSON), ``"too-long"``
    (longer than ``max_line_size``; its bytes were discarded without being kept
    in memory) or ``"duplicate"`` (its id was already emitted, e.g. replayed
    after a reconnect).  ``line`` holds at most the first 200 characters.
    """

    reason: Literal["invalid-json", "too-long", "duplicate"]
    line: str
    detail: str = ""
    id: str = ""


class NDJSONLineSplitter:
    """Sans-IO: bytes in, complete lines out, whatever the chunk boundaries.

    ``feed(chunk)`` returns the complete lines (without ``\\n`` or ``\\r\\n``) that
    the chunk finished; blank lines are dropped.  ``close()`` returns the
    unterminated tail, if any.  A line longer than ``max_line_size`` bytes is
    discarded up to its newline and reported once by ``on_too_long(size_so_far)``.
    The buffer is searched only from where the previous search stopped.
    """

    __slots__ = ("_buffer", "_max", "_on_too_long", "_scanned", "_skipping")

    def __init__(
        self, max_line_size: int, on_too_long: Callable[[bytes], None] | None = None
    ) -> None:
        self._buffer = bytearray()
        self._scanned = 0
        self._max = max_line_size
        self._skipping = False
        self._on_too_long = on_too_long

    def feed(self, chunk: bytes) -> list[bytes]:
        buffer = self._buffer
        buffer += chunk
        lines: list[bytes] = []
        start = 0
        while True:
            end = buffer.find(b"\n", max(self._scanned, start))
            if end < 0:
                break
            if self._skipping:
                self._skipping = False
            else:
                line = bytes(buffer[start:end]).rstrip(b"\r")
                if line.strip():
                    lines.append(line)
            start = end + 1
            self._scanned = start
        del buffer[:start]
        self._scanned = len(buffer)
        if len(buffer) > self._max:
            if not self._skipping and self._on_too_long is not None:
                self._on_too_long(bytes(buffer[:_PREVIEW]))
            self._skipping = True
            buffer.clear()
            self._scanned = 0
        return lines

    def close(self) -> list[bytes]:
        tail = b"" if self._skipping else bytes(self._buffer).rstrip(b"\r")
        self._buffer.clear()
        self._scanned = 0
        self._skipping = False
        return [tail] if tail.strip() else []


def _preview(raw: bytes) -> str:
    return raw[:_PREVIEW].decode("utf-8", "replace")


class _NDJSONBody:
    """The NDJSON body format for :func:`~rxsse.sources.http.streaming_source`."""

    media_type = "application/x-ndjson"

    def __init__(
        self,
        url: httpx.URL,
        *,
        media_types: Collection[str] | None,
        max_line_size: int,
        event_id: Callable[[Any], object] | None,
        resume: Callable[[Any], Mapping[str, Any] | None] | None,
        dedupe_window: int,
        on_skip: Callable[[SkippedLine], Any] | None,
    ) -> None:
        self._url = url
        self._media_types = media_types
        self._max_line_size = max_line_size
        self._event_id = event_id
        self._resume = resume
        self._on_skip = on_skip
        self._resume_params: Mapping[str, Any] | None = None
        self._last_id = ""
        self._window = dedupe_window
        self._seen: set[str] = set()
        self._order: deque[str] = deque()
        self._splitter: NDJSONLineSplitter | None = None

    def accepts(self, essence: str) -> bool:
        return self._media_types is None or essence in self._media_types

    def prepare(
        self, headers: dict[str, str], params: Mapping[str, Any] | None
    ) -> tuple[dict[str, str], Mapping[str, Any] | None]:
        if not params and not self._resume_params:
            return headers, None
        # httpx replaces the URL's query with ``params``: merge all three instead.
        merged = self._url.params.merge(params or {}).merge(self._resume_params or {})
        return headers, merged

    @property
    def resume_token(self) -> str:
        return self._last_id

    @property
    def retry_ms(self) -> int | None:
        return None

    def start(self) -> None:
        self._splitter = NDJSONLineSplitter(self._max_line_size, self._too_long)

    def feed(self, chunk: bytes, emit: Emit) -> None:
        assert self._splitter is not None
        for line in self._splitter.feed(chunk):
            self._line(line, emit)

    def finish(self, emit: Emit) -> None:
        assert self._splitter is not None
        for line in self._splitter.close():
            self._line(line, emit)

    def stop(self) -> None:
        self._splitter = None

    def _too_long(self, head: bytes) -> None:
        self._skip(
            SkippedLine(
                "too-long", _preview(head), f"longer than {self._max_line_size} bytes: skipped"
            )
        )

    def _skip(self, skipped: SkippedLine) -> None:
        if self._on_skip is not None:
            self._on_skip(skipped)
        elif skipped.reason == "duplicate":
            _log.debug("skipped a duplicate NDJSON line (id %r)", skipped.id)
        else:
            _log.warning("skipped an NDJSON line (%s): %r", skipped.detail, skipped.line)

    def _line(self, raw: bytes, emit: Emit) -> None:
        try:
            text = raw.decode("utf-8")
            value = jsonlib.loads(text)
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError
            self._skip(SkippedLine("invalid-json", _preview(raw), f"{type(exc).__name__}: {exc}"))
            return
        ident = ""
        if self._event_id is not None:
            found = self._event_id(value)
            ident = "" if found is None else str(found)
        if ident:
            if ident in self._seen:
                self._skip(SkippedLine("duplicate", text[:_PREVIEW], "id seen before", ident))
                return
            self._remember(ident)
            self._last_id = ident
        emit(ServerSentEvent("message", text, ident))
        if self._resume is not None:
            params = self._resume(value)
            if params:
                self._resume_params = dict(params)

    def _remember(self, ident: str) -> None:
        if self._window <= 0:
            return
        self._seen.add(ident)
        self._order.append(ident)
        if len(self._order) > self._window:
            self._seen.discard(self._order.popleft())


def from_ndjson_url(
    url: str | httpx.URL,
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
    event_id: Callable[[Any], object] | None = None,
    resume: Callable[[Any], Mapping[str, Any] | None] | None = None,
    dedupe_window: int = 10_000,
    on_skip: Callable[[SkippedLine], Any] | None = None,
    media_types: Collection[str] | None = NDJSON_MEDIA_TYPES,
    max_line_size: int = DEFAULT_MAX_LINE_SIZE,
) -> Observable[ServerSentEvent]:
    """Subscribe to a newline-delimited JSON endpoint (e.g. Vercel's deployment events).

    Every argument up to ``lifecycle`` means exactly what it means for
    :func:`rxsse.from_url` (same request shaping, typed failures without
    reconnecting, reconnect policy, stall detection, lifecycle reports), except
    that ``Accept`` is ``application/x-ndjson``, no ``Last-Event-ID`` is sent,
    and a response is accepted when its MIME essence is in ``media_types``
    (``None`` accepts any; otherwise :class:`~rxsse.errors.SSEContentTypeError`).

    **Items.**  Each line holding valid JSON becomes one
    ``ServerSentEvent(event="message", data=<the line>, id=<its id or "">)``, so
    ``.json()`` parses it and every SSE operator applies.  Lines may be split across
    chunks anywhere; ``\\r\\n`` endings are accepted; blank (keep-alive) lines are
    dropped; a final line without a newline is kept when the body ends cleanly.
    Lines that are not UTF-8 JSON, or longer than ``max_line_size`` bytes, are
    **reported and skipped**: never fatal, and the lines around them are emitted.

    **Resuming.**  ``resume(value)`` is called with each emitted JSON value; its
    last non-empty result (e.g. ``{"since": value["created"]}``) is merged into the
    query of every later connection (``params`` and resume parameters are merged
    into the URL's own query, later ones winning, rather than replacing it).
    Because such a parameter is usually inclusive, the first lines after a
    reconnect may repeat: with
    ``event_id(value)`` (returning ``None`` for lines without one), a line whose id
    was among the last ``dedupe_window`` ids emitted by this subscription is
    skipped as a duplicate.

    **Reporting.**  ``on_skip(SkippedLine)`` is called (on the loop thread) for
    every skipped line; without it, invalid and too-long lines are logged as
    warnings and duplicates at debug level on the ``rxsse.sources.ndjson`` logger.
    Like ``on_next``, an exception raised by ``on_skip`` ends the stream with it.
    """
    if dedupe_window < 0:
        raise ValueError("dedupe_window must not be negative")
    if max_line_size <= 0:
        raise ValueError("max_line_size must be positive")
    accepted = None if media_types is None else frozenset(m.lower() for m in media_types)
    target = httpx.URL(str(url))

    def body() -> _NDJSONBody:
        return _NDJSONBody(
            target,
            media_types=accepted,
            max_line_size=max_line_size,
            event_id=event_id,
            resume=resume,
            dedupe_window=dedupe_window,
            on_skip=on_skip,
        )

    return streaming_source(
        url,
        body,
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
