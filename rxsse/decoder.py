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

* **Bounded memory.**  A line longer than ``max_line_size`` bytes raises
  :class:`~rxsse.errors.LineTooLong`; a data buffer longer than
  ``max_event_size`` bytes raises :class:`~rxsse.errors.EventTooLarge`.
  Sizes are counted in bytes of UTF-8 as received, line terminators
  excluded (and the LFs joining data lines included).  The error carries
  the events completed earlier in the same ``feed`` call (``exc.events``)
  and leaves the decoder failed.
* ``retry`` values above 10**18 milliseconds are clamped to 10**18 (Python
  refuses to parse integers of more than 4,300 digits).

Two implementations, one behaviour: :class:`SSEDecoder` is the C decoder
of ``rxsse._speedups`` when that extension was built at install time (it
needs a C compiler; see the README), else :class:`PySSEDecoder`, the pure
Python one below.  Setting the environment variable ``RXSSE_NO_EXTENSIONS``
(to anything but ``""`` or ``"0"``) before importing rxsse forces the pure
Python one.  :data:`IMPLEMENTATION` says which is in use.  The conformance and
property tests run against both, and compare them with each other.

The C decoder scans lines with ``memchr``, gathers data values in a byte
buffer and decodes each event's data once, at dispatch.

How the pure Python decoder is fast: it works on **bytes** and decodes
UTF-8 per field value, which gives exactly the result of decoding the whole
stream first (every delimiter is ASCII, and UTF-8 replacement never swallows
an ASCII byte) while keeping text that is mostly ASCII in compact one-byte
strings.
All complete blocks of a chunk are examined at once: when they share one
regular shape (only ``data: `` lines, or the same sequence of ``id: ``,
``event: `` and ``data: `` lines in every block), the events are cut out
with a few whole-buffer C-level ``bytes`` operations and built with
``map``/``zip``, so no Python bytecode runs per event.  Any other block goes
through the line-by-line state machine, which implements all the rules
above.  An unfinished block is kept as raw bytes until it completes (unless
it is large or holds a ``retry`` line, which must take effect at once).
Line ends are normalised to LF on bytes before any of this, except for
CRLF-only streams: there the same whole-buffer cuts are made at CRLF
directly, and accepted only when every CR and LF of the complete blocks
is part of an expected CRLF (checked with two ``count`` calls), which is
exactly when normalising would have changed nothing but those pairs.

This module imports only the standard library, rxsse's event and errors, and
(when built) ``rxsse._speedups``, which imports only those two, through
``rxsse._native``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Literal, NamedTuple, cast

from rxsse._event import ServerSentEvent
from rxsse._native import speedups
from rxsse.errors import EventTooLarge, LineTooLong, SSEProtocolError

__all__ = [
    "DEFAULT_MAX_EVENT_SIZE",
    "DEFAULT_MAX_LINE_SIZE",
    "IMPLEMENTATION",
    "PySSEDecoder",
    "SSEDecoder",
]

DEFAULT_MAX_LINE_SIZE = 16 * 1024 * 1024
"""Default longest accepted line, in bytes (16 MiB)."""

DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024
"""Default longest accepted event data, in bytes (16 MiB)."""

RAW_TAIL_LIMIT = 64 * 1024
"""An unfinished block up to this many bytes waits unparsed for its end."""

_REPEAT_ID = repeat("id: ")
_REPEAT_DATA = repeat("data: ")
# Endless and stateless, so shared: zip and map stop at their shortest input.
_NONES = repeat(None)
_REPEAT_MESSAGE = repeat("message")
_REPEAT_EVENT = repeat(ServerSentEvent)


class _Newline(NamedTuple):
    """The line end of a region and the separators the fast paths cut at."""

    end: str
    separator: str  # end of a block, then the start of a "data: " line
    join: str  # end of a line, then the start of a "data: " line
    crlf: bool


_LF = _Newline("\n", "\n\ndata: ", "\ndata: ", crlf=False)
_CRLF = _Newline("\r\n", "\r\n\r\ndata: ", "\r\ndata: ", crlf=True)

# Below this size, normalising CRLF costs less than trying to avoid it.
_CRLF_MIN = 512

_MAX_RETRY_MS = 10**18
_BOM = b"\xef\xbb\xbf"
_new = tuple.__new__
_EVENT = ServerSentEvent
_decode = bytes.decode
_UTF8 = "utf-8"
_REPLACE = "replace"
_after_data = itemgetter(slice(6, None))
# A LF then "data: " and a value: the prefix of a data line that is not a block's first.
_INNER_DATA_PREFIX = re.compile(rb"\ndata: (?!\n)")
_after_id = itemgetter(slice(4, None))
_after_event = itemgetter(slice(7, None))


def _text(value: bytes) -> str:
    return value.decode(_UTF8, _REPLACE)


class PySSEDecoder:
    """Incremental ``text/event-stream`` decoder for one connection (pure Python).

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
        "_bom_bytes",
        "_bom_pending",
        "_data",
        "_data_size",
        "_error",
        "_event",
        "_fast_limit",
        "_id_buffer",
        "_max_event_size",
        "_max_line_size",
        "_mid_block",
        "_raw_limit",
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
        # Complete text no longer than this cannot break either limit.
        self._fast_limit = min(max_line_size, max_event_size)
        self._raw_limit = min(RAW_TAIL_LIMIT, self._fast_limit)
        self.last_event_id = last_event_id
        self.retry = retry
        self._error: SSEProtocolError | None = None
        self._reset_stream()

    def _reset_stream(self) -> None:
        self._bom_pending = True
        self._bom_bytes = b""  # a possible BOM prefix at the stream start
        self._skip_lf = False  # the last chunk ended with CR
        # Unparsed bytes.  Between calls: when _mid_block is false, the start
        # of an unfinished block (complete lines possibly included); when it
        # is true, only the partial current line.
        self._tail = b""
        self._mid_block = False
        self._data: list[bytes] = []
        self._data_size = -1  # bytes in the data buffer minus its final LF
        self._event = b""
        self._id_buffer = self.last_event_id
        self._block_retry: int | None = None

    # -- public API ---------------------------------------------------------

    def feed(self, chunk: bytes | bytearray | memoryview) -> list[ServerSentEvent]:
        """Decode ``chunk`` and return the events it completed, in order."""
        if self._error is not None:
            raise self._error
        buf = chunk if type(chunk) is bytes else bytes(chunk)
        if self._bom_pending or self._skip_lf:
            buf = self._stream_start(buf)
        if not buf:
            return []
        # The tail never holds a CR, so normalising line ends after joining it
        # gives the same bytes as normalising the chunk alone.  CRLF streams
        # try _crlf first: worth it for chunks that are not tiny and follow a
        # tail without LF (a tail with LF would make the CRLF check fail).
        tail = self._tail
        if tail:
            buf = tail + buf
        out: list[ServerSentEvent] = []
        try:
            if b"\r" in buf:
                self._skip_lf = buf[-1] == 13
                if (
                    self._skip_lf
                    or self._mid_block
                    or len(buf) < _CRLF_MIN
                    or b"\n" in tail
                    or not self._crlf(buf, out)
                ):
                    buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
                else:
                    return out
            if self._mid_block:
                self._parse(buf, out)
                return out
            # The common case, inlined: a fresh state, complete blocks, then an
            # unfinished block kept raw while it is small and has no retry.
            last = buf.rfind(b"\n\n")
            if last == -1:
                rest = buf
            else:
                if last:
                    region = buf[:last]
                    if last > self._fast_limit or not self._fast_lf(region, out):
                        self._process_blocks(region.split(b"\n\n"), out)
                rest = buf[last + 2 :]
            if len(rest) <= self._raw_limit and b"retry" not in rest:
                self._tail = rest
            else:
                self._keep(rest, 0, out)
        except SSEProtocolError as exc:
            exc.events = out
            self._error = exc
            raise
        return out

    def _crlf(self, buf: bytes, out: list[ServerSentEvent]) -> bool:
        """Decode CRLF-terminated blocks without normalising them, if possible.

        ``buf`` is the unparsed tail joined to the chunk, in a fresh state,
        with no CR at its end (a final CR must end its line at once, so it
        goes the normalising way).  This succeeds (and decodes everything)
        only when the text after the last CRLF CRLF holds no CR or LF at all
        and is small enough to be kept raw, and the complete blocks before it
        have one regular shape using CRLF only: then normalising would have
        turned each CRLF into one LF and changed nothing else, and the kept
        tail is the same either way.  Returns ``False``, having done
        nothing, otherwise.
        """
        last = buf.rfind(b"\r\n\r\n")
        if last <= 0:
            return False
        rest = buf[last + 4 :]
        if b"\n" in rest or b"\r" in rest or len(rest) > self._raw_limit or b"retry" in rest:
            return False
        region = buf[:last]
        if len(region) > self._fast_limit or not self._fast_region(region, out, _CRLF):
            return False
        self._tail = rest
        return True

    def _stream_start(self, buf: bytes) -> bytes:
        """Drop a BOM at the very start, or an LF that follows a chunk-final CR."""
        if self._bom_pending:
            buf = self._bom_bytes + buf
            if len(buf) < 3 and _BOM.startswith(buf):
                self._bom_bytes = buf
                return b""
            self._bom_pending = False
            self._bom_bytes = b""
            if buf[:3] == _BOM:
                buf = buf[3:]
        if self._skip_lf and buf:
            self._skip_lf = False
            if buf[0] == 10:
                buf = buf[1:]
        return buf

    def close(self) -> list[ServerSentEvent]:
        """End the stream: discard any unterminated event and reset the parser.

        Always returns ``[]`` (the list keeps the ``decode``/``flush`` shape
        of streaming transforms).  ``last_event_id`` and ``retry`` survive.
        """
        if self._error is not None:
            raise self._error
        self._reset_stream()
        return []

    # -- parsing LF-normalised bytes ------------------------------------------

    def _parse(self, buf: bytes, out: list[ServerSentEvent]) -> None:
        pos = 0
        if self._mid_block:
            # Finish the block whose first lines were processed earlier.
            if buf[0] == 10:
                end = 0
            else:
                end = buf.find(b"\n\n")
                if end == -1:
                    self._keep(buf, 0, out)
                    return
                self._process_lines(buf[:end].split(b"\n"), out)
                end += 1
            self._dispatch(out)
            self._mid_block = False
            pos = end + 1
        last = buf.rfind(b"\n\n", pos)
        if last != -1:
            region = buf[pos:last] if pos or last + 2 != len(buf) else buf[:last]
            if not region or len(region) > self._fast_limit or not self._fast_region(region, out):
                self._process_blocks(region.split(b"\n\n"), out)
            pos = last + 2
        self._keep(buf, pos, out)

    def _fast_region(self, region: bytes, out: list[ServerSentEvent], nl: _Newline = _LF) -> bool:
        """Decode complete blocks that all share one regular shape, if they do.

        Returns ``False`` (having done nothing) when they do not.  Only
        called in a fresh state, with ``region`` no longer than the limits.
        Lines end with ``nl.end``: LF once the region is normalised, or CRLF
        (see :meth:`_crlf`), in which case the shape is only accepted when
        every CR and every LF of the region is part of an expected CRLF.
        The region is decoded once; cutting the text at ASCII delimiters gives
        the same strings as decoding each field.  :meth:`_fast_lf` is this
        method for LF, inlined.
        """
        text = region.decode(_UTF8, _REPLACE)
        if text[:6] != "data: ":
            return self._fast_fields(text, region, out, nl)
        datas = text.split(nl.separator)
        newlines = region.count(b"\n")
        if nl.crlf and region.count(b"\r") != newlines:
            return False  # a CR that is not followed by LF, or a lone LF
        # Each separator holds two line ends: any more belong inside blocks.
        if newlines != 2 * len(datas) - 2:
            return self._data_lines(text, region, datas, newlines, out, nl)
        datas[0] = datas[0][6:]
        out += map(
            _new, _REPEAT_EVENT, zip(_REPEAT_MESSAGE, datas, repeat(self._id_buffer), _NONES)
        )
        return True

    def _fast_lf(self, region: bytes, out: list[ServerSentEvent]) -> bool:
        """:meth:`_fast_region` for LF line ends (the hot path of small chunks)."""
        first = region.find(b"\n")
        if first != -1 and region[first + 1 : first + 2] != b"\n" and self._multi_data(region, out):
            return True  # the first block has several lines, and so had all
        text = region.decode(_UTF8, _REPLACE)
        if text[:6] != "data: ":
            return self._fast_fields(text, region, out, _LF)
        datas = text.split("\n\ndata: ")
        newlines = region.count(b"\n")
        if newlines != 2 * len(datas) - 2:
            return self._data_lines(text, region, datas, newlines, out, _LF)
        if len(datas) == 1:  # one event per chunk, as LLM streams often arrive
            out.append(_new(_EVENT, ("message", text[6:], self._id_buffer, None)))
            return True
        datas[0] = datas[0][6:]
        out += map(
            _new, _REPEAT_EVENT, zip(_REPEAT_MESSAGE, datas, repeat(self._id_buffer), _NONES)
        )
        return True

    def _multi_data(self, region: bytes, out: list[ServerSentEvent]) -> bool:
        """LF-ended blocks of ``data: `` lines only (several per block), on bytes.

        One C-level pass strips the prefix of every data line but the
        first of the region, counting them (``inner``); the prefix is only
        stripped when a value follows it, so no two LFs become adjacent.
        After the cut at LF LF into ``blocks``, every LF of the region is
        accounted for iff ``LFs == inner + separators``: each LF is then
        either followed by a data line or is the first of exactly one
        blank line between two blocks.  Any other region (comments, other
        fields, empty data values, several blank lines) returns ``False``,
        having done nothing.  Each block is decoded on its own: on bytes the
        cuts are cheap, whereas text with one wide character is wide all
        through and slow to cut.
        """
        if region[:6] != b"data: ":
            return False
        stripped, inner = _INNER_DATA_PREFIX.subn(b"\n", region)
        blocks = stripped[6:].split(b"\n\n")
        if stripped.count(b"\n") != inner + len(blocks) - 1:
            return False
        out += map(
            _new,
            _REPEAT_EVENT,
            zip(
                _REPEAT_MESSAGE,
                map(_decode, blocks, repeat(_UTF8), repeat(_REPLACE)),
                repeat(self._id_buffer),
                _NONES,
            ),
        )
        return True

    def _data_lines(
        self,
        text: str,
        region: bytes,
        datas: list[str],
        newlines: int,
        out: list[ServerSentEvent],
        nl: _Newline,
    ) -> bool:
        """Blocks of several ``data: `` lines, ``text`` already cut into blocks.

        Strips the data prefix of each inner line, counting the prefixes
        stripped by the length lost: the blocks hold data lines only iff
        every line end inside them was in a stripped prefix.
        """
        separators = len(datas) - 1
        size = len(text) - 6 - len(nl.separator) * separators
        datas[0] = datas[0][6:]
        datas = [data.replace(nl.join, "\n") for data in datas]
        inner = (size - sum(map(len, datas))) // (len(nl.join) - 1)
        if newlines != 2 * separators + inner:
            return self._fast_fields(text, region, out, nl)
        out += map(
            _new, _REPEAT_EVENT, zip(_REPEAT_MESSAGE, datas, repeat(self._id_buffer), _NONES)
        )
        return True

    @staticmethod
    def _emit(
        out: list[ServerSentEvent],
        types: Iterable[str],
        datas: list[str],
        ids: Iterable[str],
    ) -> None:
        if len(datas) < 32:
            out += [_new(_EVENT, fields) for fields in zip(types, datas, ids, _NONES, strict=False)]
            return
        else:
            out.extend(map(_new, repeat(_EVENT), zip(types, datas, ids, _NONES, strict=False)))

    def _fast_fields(
        self, text: str, region: bytes, out: list[ServerSentEvent], nl: _Newline
    ) -> bool:
        """Blocks that all have the same sequence of ``id``/``event``/``data`` lines."""
        lines = text.split(nl.end)
        if nl.crlf:
            breaks = len(lines) - 1  # every line end must be one whole CRLF
            if region.count(b"\n") != breaks or region.count(b"\r") != breaks:
                return False
        if lines[0][:4] == "id: " and (len(lines) + 1) % 3 == 0 and lines[1][:6] == "data: ":
            # The commonest shape after bare data: "id: N" then one data line.
            if len(lines) == 2:  # one block (checked above), e.g. one per chunk
                if "\0" in text:
                    return False
                event_id = lines[0][4:]
                out.append(_new(_EVENT, ("message", lines[1][6:], event_id, None)))
                self._id_buffer = self.last_event_id = event_id
                return True
            id_lines, data_lines = lines[0::3], lines[1::3]
            if (
                all(map(str.startswith, id_lines, _REPEAT_ID))
                and all(map(str.startswith, data_lines, _REPEAT_DATA))
                and not any(lines[2::3])
                and "\0" not in text
            ):
                out += map(
                    _new,
                    _REPEAT_EVENT,
                    zip(
                        _REPEAT_MESSAGE,
                        map(_after_data, data_lines),
                        map(_after_id, id_lines),
                        _NONES,
                        strict=False,
                    ),
                )
                self._id_buffer = self.last_event_id = id_lines[-1][4:]
                return True
        try:
            width = lines.index("", 0, 6)
        except ValueError:
            width = len(lines)
            if width > 5:
                return False
        stride = width + 1
        if (len(lines) + 1) % stride or not width:
            return False
        columns: dict[str, list[list[str]]] = {"data": [], "id": [], "event": []}
        for j in range(width):
            name, _, value = lines[j].partition(":")
            if name not in columns or value[:1] != " ":
                return False
            column = lines[j::stride]
            if not all(map(str.startswith, column, repeat(name + ": "))):
                return False
            columns[name].append(column)
        data_columns, id_columns, event_columns = columns["data"], columns["id"], columns["event"]
        if not data_columns or len(id_columns) > 1 or len(event_columns) > 1:
            return False
        if width < len(lines) and any(lines[width::stride]):
            return False  # a separator line is not empty
        if len(data_columns) == 1:
            datas = list(map(_after_data, data_columns[0]))
        else:
            cut = [map(_after_data, column) for column in data_columns]
            datas = list(map("\n".join, zip(*cut, strict=True)))
        types: Iterable[str] = repeat("message")
        if event_columns:
            types = list(map(_after_event, event_columns[0]))
            if not all(types):
                return False  # an empty event type means "message": general path
        ids: Iterable[str] = repeat(self._id_buffer)
        if id_columns:
            if "\0" in text:
                return False
            ids = list(map(_after_id, id_columns[0]))
            self._id_buffer = self.last_event_id = ids[-1]
        self._emit(out, types, datas, ids)
        return True

    def _process_blocks(self, blocks: list[bytes], out: list[ServerSentEvent]) -> None:
        """Decode complete blocks one by one, starting in a fresh state."""
        limit = self._fast_limit
        append = out.append
        for block in blocks:
            if block[:6] == b"data: " and len(block) < limit and b"\n" not in block:
                append(_new(_EVENT, ("message", _text(block[6:]), self._id_buffer, None)))
            elif block:
                self._process_lines(block.split(b"\n"), out)
                self._dispatch(out)

    def _keep(self, buf: bytes, pos: int, out: list[ServerSentEvent]) -> None:
        """Deal with the unfinished block ``buf[pos:]``: keep it for later."""
        rest = buf[pos:] if pos else buf
        newline = rest.rfind(b"\n")
        if newline != -1 and (self._mid_block or len(rest) > self._raw_limit or b"retry" in rest):
            # Parse the complete lines now: they must take effect at once
            # (retry), or would otherwise pile up unparsed.  (Complete lines
            # kept raw fit in _raw_limit, so they cannot break the line limit.)
            self._process_lines(rest[:newline].split(b"\n"), out)
            self._mid_block = True
            rest = rest[newline + 1 :]
            newline = -1
        partial = len(rest) - newline - 1  # the unfinished last line, checked after the others
        if partial > self._max_line_size:
            raise LineTooLong(
                f"line longer than max_line_size={self._max_line_size} bytes",
                limit=self._max_line_size,
                size=partial,
            )
        self._tail = rest

    def _process_lines(self, lines: list[bytes], out: list[ServerSentEvent]) -> None:
        """The WHATWG line-by-line state machine (the general, slow path)."""
        max_line = self._max_line_size
        for line in lines:
            if not line:
                self._dispatch(out)
                continue
            if len(line) > max_line:
                raise LineTooLong(
                    f"line longer than max_line_size={max_line} bytes",
                    limit=max_line,
                    size=len(line),
                )
            if line[0] == 58:  # ":" starts a comment
                continue
            name, _, value = line.partition(b":")
            if value[:1] == b" ":
                value = value[1:]
            if name == b"data":
                size = self._data_size + len(value) + 1
                if size > self._max_event_size:
                    raise EventTooLarge(
                        f"event data longer than max_event_size={self._max_event_size} bytes",
                        limit=self._max_event_size,
                        size=size,
                    )
                self._data.append(value)
                self._data_size = size
            elif name == b"event":
                self._event = value
            elif name == b"id":
                if b"\0" not in value:
                    self._id_buffer = _text(value)
            elif name == b"retry" and value.isdigit():
                digits = value.lstrip(b"0") or b"0"
                retry = int(digits) if len(digits) <= 18 else _MAX_RETRY_MS
                self.retry = self._block_retry = retry

    def _dispatch(self, out: list[ServerSentEvent]) -> None:
        self.last_event_id = self._id_buffer
        if self._data:
            data = _text(b"\n".join(self._data))
            event = _text(self._event) if self._event else "message"
            out.append(_new(_EVENT, (event, data, self._id_buffer, self._block_retry)))
            self._data = []
            self._data_size = -1
        self._event = b""
        self._block_retry = None


def _c_decoder() -> type[PySSEDecoder] | None:
    """The C decoder class, unless it is not built or ``RXSSE_NO_EXTENSIONS`` is set."""
    module = speedups()
    return None if module is None else cast("type[PySSEDecoder]", module.SSEDecoder)


if TYPE_CHECKING:
    SSEDecoder = PySSEDecoder
else:
    SSEDecoder = _c_decoder() or PySSEDecoder
    """The decoder in use: the C one when built, else :class:`PySSEDecoder` (same behaviour)."""

IMPLEMENTATION: Literal["c", "python"] = "python" if SSEDecoder is PySSEDecoder else "c"
"""Which :class:`SSEDecoder` is in use: ``"c"`` (``rxsse._speedups``) or ``"python"``."""
