"""A sans-IO, incremental Server-Sent Events decoder.

:class:`SSEDecoder` turns the bytes of one ``text/event-stream`` connection
into :class:`~rxsse.ServerSentEvent` values, following the WHATWG HTML
standard, section "9.2.6 Interpreting an event stream":

* bytes are decoded as UTF-8 with every invalid sequence replaced by
  U+FFFD (decoding never raises); one U+FEFF byte order mark is skipped at
  the very start of the stream only (also when split across chunks);
* lines end at CRLF, LF or CR.  A CR at the end of a chunk ends its line at
  once (an event is dispatched without waiting for the next chunk); a LF
  that then starts the next chunk is swallowed.  No other character
  (VT, FF, U+0085, U+2028, U+2029) ends a line;
* a line starting with ``:`` is a comment; otherwise the field name runs
  to the first ``:`` and one leading space is removed from the value (a
  line without ``:`` is a field with an empty value).  Field names are
  case-sensitive; unknown fields are ignored;
* ``data`` appends the value and a LF to the data buffer; ``event`` sets the
  event type; ``id`` sets the last-event-ID buffer unless the value contains
  U+0000; ``retry`` sets :attr:`SSEDecoder.retry` at once when the value is
  all ASCII digits, and is ignored otherwise;
* an empty line dispatches: the last-event-ID buffer is committed to
  :attr:`SSEDecoder.last_event_id` (so an id-only block updates it without an
  event); if the data buffer is empty nothing is emitted (so event-only and
  retry-only blocks emit nothing); otherwise one trailing LF is removed and
  an event is emitted with the event type (``"message"`` if empty); the data
  buffer and the event type are reset, the last-event-ID buffer is not;
* at :meth:`SSEDecoder.close` a final event without its empty line is
  discarded.

Deliberate divergences, each outside what a browser could observe:

* **Bounded memory.**  A line longer than ``max_line_size`` characters raises
  :class:`~rxsse.errors.LineTooLong`; a data buffer longer than
  ``max_event_size`` characters raises :class:`~rxsse.errors.EventTooLarge`.
  Sizes are counted in decoded characters, line terminators excluded.  The
  error carries the events completed earlier in the same ``feed`` call
  (``exc.events``) and leaves the decoder failed.
* ``retry`` values above 10**18 milliseconds are clamped to 10**18 (Python
  refuses to parse integers of more than 4,300 digits).

Speed: complete blocks that consist of ``data: `` lines only, the common
shape of real streams, are decoded with a handful of C-level ``str``
operations per event; every other block goes through the line-by-line
state machine, which implements all the rules above.

This module imports only the standard library and rxsse's event and errors.
"""

from __future__ import annotations

import codecs

from rxsse._event import ServerSentEvent
from rxsse.errors import EventTooLarge, LineTooLong, SSEProtocolError

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "DEFAULT_MAX_LINE_SIZE", "SSEDecoder"]

DEFAULT_MAX_LINE_SIZE = 16 * 1024 * 1024
"""Default longest accepted line, in characters (16 Mi)."""

DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024
"""Default longest accepted event data, in characters (16 Mi)."""

_MAX_RETRY_MS = 10**18
_new_event = tuple.__new__
_utf8_decode = codecs.utf_8_decode


class SSEDecoder:
    """Incremental ``text/event-stream`` decoder for one connection.

    ``feed(chunk)`` returns the events completed by ``chunk``; chunks may be
    split anywhere (inside a UTF-8 sequence, between CR and LF, inside a
    field name) and the events are always the same as for the whole stream.
    ``close()`` ends the stream; it returns ``[]`` because an unterminated
    final event is discarded, and it resets the parser so the decoder can
    read the next connection of the same source: :attr:`last_event_id` and
    :attr:`retry` are kept, nothing else is.

    ``last_event_id`` is the last committed event ID (start a reconnection
    with the previous connection's value); ``retry`` is the reconnection time
    in milliseconds most recently set by the stream, or ``None``.
    """

    __slots__ = (
        "_block_retry",
        "_bom_pending",
        "_bytes",
        "_data",
        "_data_size",
        "_error",
        "_event",
        "_fast_limit",
        "_id_buffer",
        "_max_event_size",
        "_max_line_size",
        "_mid_block",
        "_skip_lf",
        "_tail",
        "last_event_id",
        "retry",
    )

    def __init__(
        self,
        *,
        max_line_size: int = DEFAULT_MAX_LINE_SIZE,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        last_event_id: str = "",
        retry: int | None = None,
    ) -> None:
        if max_line_size < 1 or max_event_size < 1:
            raise ValueError("max_line_size and max_event_size must be positive")
        self._max_line_size = max_line_size
        self._max_event_size = max_event_size
        # A complete block no longer than this cannot break either limit.
        self._fast_limit = min(max_line_size, max_event_size)
        self.last_event_id = last_event_id
        self.retry = retry
        self._error: SSEProtocolError | None = None
        self._reset_stream()

    def _reset_stream(self) -> None:
        self._bytes = b""  # an incomplete UTF-8 sequence from the last chunk
        self._bom_pending = True
        self._skip_lf = False
        # Unprocessed text; never contains "\n" between calls: it is the
        # partial current line.
        self._tail = ""
        # True once some line of the current block has been processed.
        self._mid_block = False
        self._data: list[str] = []
        self._data_size = 0
        self._event = ""
        self._id_buffer = self.last_event_id
        self._block_retry: int | None = None

    # -- public API ---------------------------------------------------------

    def feed(self, chunk: bytes | bytearray | memoryview) -> list[ServerSentEvent]:
        """Decode ``chunk`` and return the events it completed, in order."""
        if self._error is not None:
            raise self._error
        text = self._decode_text(chunk)
        if not text:
            return []
        out: list[ServerSentEvent] = []
        try:
            self._feed_text(self._tail + text if self._tail else text, out)
        except SSEProtocolError as exc:
            exc.events = out
            self._error = exc
            raise
        return out

    def close(self) -> list[ServerSentEvent]:
        """End the stream: discard any unterminated event and reset the parser.

        Always returns ``[]`` (the list keeps the ``decode``/``flush`` shape
        of streaming transforms).  ``last_event_id`` and ``retry`` survive.
        """
        if self._error is not None:
            raise self._error
        self._reset_stream()
        return []

    # -- decoding bytes to normalised text ------------------------------------

    def _decode_text(self, chunk: bytes | bytearray | memoryview) -> str:
        """UTF-8 decode, drop the BOM once, and turn CRLF and CR into LF."""
        data = self._bytes + chunk if self._bytes else chunk
        text, consumed = _utf8_decode(data, "replace", False)
        self._bytes = bytes(data[consumed:]) if consumed < len(data) else b""
        if not text:
            return ""
        if self._bom_pending:
            self._bom_pending = False
            if text[0] == "\ufeff":
                text = text[1:]
                if not text:
                    return ""
        if self._skip_lf:
            self._skip_lf = False
            if text[0] == "\n":
                text = text[1:]
        if "\r" in text:
            self._skip_lf = text[-1] == "\r"
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        return text

    # -- parsing normalised text ----------------------------------------------

    def _feed_text(self, buf: str, out: list[ServerSentEvent]) -> None:
        pos = 0
        if self._mid_block:
            # Finish the block whose first lines were processed earlier.
            if buf[0] == "\n":
                end = 0
            else:
                end = buf.find("\n\n")
                if end == -1:
                    self._keep_partial(buf, 0, out)
                    return
                self._process_lines(buf[:end].split("\n"), out)
                end += 1
            self._dispatch(out)
            self._mid_block = False
            pos = end + 1

        last = buf.rfind("\n\n", pos)
        if last != -1:
            self._process_blocks(buf[pos:last].split("\n\n"), out)
            pos = last + 2
        self._keep_partial(buf, pos, out)

    def _process_blocks(self, blocks: list[str], out: list[ServerSentEvent]) -> None:
        """Decode complete blocks that start in a fresh parser state."""
        limit = self._fast_limit
        append = out.append
        last_id = self._id_buffer  # equal to last_event_id between blocks
        for block in blocks:
            if block[:6] == "data: " and len(block) < limit:
                newlines = block.count("\n")
                if newlines == 0:
                    append(_new_event(ServerSentEvent, ("message", block[6:], last_id, None)))
                    continue
                if block.count("\ndata: ") == newlines:
                    data = block[6:].replace("\ndata: ", "\n")
                    append(_new_event(ServerSentEvent, ("message", data, last_id, None)))
                    continue
            if block:
                self._process_lines(block.split("\n"), out)
                self._dispatch(out)
                last_id = self._id_buffer

    def _keep_partial(self, buf: str, pos: int, out: list[ServerSentEvent]) -> None:
        """Process the complete lines of an unfinished block; keep the rest."""
        newline = buf.rfind("\n", pos)
        if newline != -1:
            self._process_lines(buf[pos:newline].split("\n"), out)
            self._mid_block = True
            pos = newline + 1
        tail = buf[pos:]
        if len(tail) > self._max_line_size:
            raise LineTooLong(
                f"line longer than max_line_size={self._max_line_size} characters",
                limit=self._max_line_size,
                size=len(tail),
            )
        self._tail = tail

    def _process_lines(self, lines: list[str], out: list[ServerSentEvent]) -> None:
        """The WHATWG line-by-line state machine (the general, slow path)."""
        max_line = self._max_line_size
        for line in lines:
            if not line:
                self._dispatch(out)
                continue
            if len(line) > max_line:
                raise LineTooLong(
                    f"line longer than max_line_size={max_line} characters",
                    limit=max_line,
                    size=len(line),
                )
            if line[0] == ":":
                continue
            name, _, value = line.partition(":")
            if value[:1] == " ":
                value = value[1:]
            if name == "data":
                size = self._data_size + len(value) + 1
                if size - 1 > self._max_event_size:
                    raise EventTooLarge(
                        f"event data longer than max_event_size={self._max_event_size} characters",
                        limit=self._max_event_size,
                        size=size - 1,
                    )
                self._data.append(value)
                self._data_size = size
            elif name == "event":
                self._event = value
            elif name == "id":
                if "\0" not in value:
                    self._id_buffer = value
            elif name == "retry" and value.isdigit() and value.isascii():
                digits = value.lstrip("0") or "0"
                retry = int(digits) if len(digits) <= 18 else _MAX_RETRY_MS
                self.retry = self._block_retry = retry

    def _dispatch(self, out: list[ServerSentEvent]) -> None:
        self.last_event_id = self._id_buffer
        if self._data:
            event = _new_event(
                ServerSentEvent,
                (
                    self._event or "message",
                    "\n".join(self._data),
                    self._id_buffer,
                    self._block_retry,
                ),
            )
            out.append(event)
            self._data = []
            self._data_size = 0
        self._event = ""
        self._block_retry = None
