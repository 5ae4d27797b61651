"""Property-based tests for :class:`rxsse.SSEDecoder`.

(a) any bytes, in any chunking, with any limits: the decoder raises nothing
    but :class:`LineTooLong`/:class:`EventTooLarge`, and is failed afterwards;
(b) generated well-formed streams give the same events and final state
    however they are split, and limit errors happen at the same place;
(c) the decoder agrees with :func:`reference_decode`, a deliberately simple
    line-by-line transcription of the WHATWG rules, on generated streams,
    on "SSE-ish" byte soup and on arbitrary bytes.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rxsse import ServerSentEvent, SSEDecoder
from rxsse.decoder import DEFAULT_MAX_EVENT_SIZE, DEFAULT_MAX_LINE_SIZE
from rxsse.errors import EventTooLarge, LineTooLong, SSEProtocolError
from tests.decoder_impls import each_decoder

decoder_implementation = each_decoder(__name__)

SETTINGS = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

MAX_RETRY = 10**18  # the decoder's documented clamp


# -- the reference model ------------------------------------------------------------


@dataclass
class Outcome:
    """What decoding one whole connection produced."""

    events: list[ServerSentEvent]
    error: type[SSEProtocolError] | None
    last_event_id: str
    retry: int | None


def reference_decode(
    stream: bytes,
    *,
    max_line_size: int | None = None,
    max_event_size: int | None = None,
    last_event_id: str = "",
    retry: int | None = None,
) -> Outcome:
    """Decode a whole stream by following the spec text one step at a time.

    UTF-8 with U+FFFD for invalid bytes (an incomplete sequence at the very
    end is left undecoded, as for a connection that is still open), one
    leading BOM stripped, lines split at CRLF, LF or CR; the text after the
    last line end is an unterminated line, never processed.
    """
    # Limits count bytes as received, so lines are split on bytes (every line
    # end is ASCII) and each line is decoded on its own, which is the same as
    # decoding the whole stream first.
    raw = stream[3:] if stream.startswith(b"\xef\xbb\xbf") else stream
    if len(stream) < 3 and b"\xef\xbb\xbf".startswith(stream):
        raw = b""  # still possibly a BOM: nothing of a line has arrived yet
    *raw_lines, unterminated = re.split(rb"\r\n|\r|\n", raw)

    events: list[ServerSentEvent] = []
    data = ""
    data_bytes = -1
    event_type = ""
    id_buffer = last_event_id
    block_retry: int | None = None

    def outcome(error: type[SSEProtocolError] | None) -> Outcome:
        return Outcome(events, error, last_event_id, retry)

    for raw_line in raw_lines:
        line = raw_line.decode("utf-8", "replace")
        if max_line_size is not None and len(raw_line) > max_line_size:
            return outcome(LineTooLong)
        if line == "":
            # Dispatch the event.
            last_event_id = id_buffer
            if data != "":
                if data.endswith("\n"):
                    data = data[:-1]
                events.append(
                    ServerSentEvent(event_type or "message", data, id_buffer, block_retry)
                )
            data = ""
            data_bytes = -1
            event_type = ""
            block_retry = None
            continue
        if line.startswith(":"):
            continue
        if ":" in line:
            name, value = line.split(":", 1)
            raw_value = raw_line.split(b":", 1)[1]
            if value.startswith(" "):
                value = value[1:]
                raw_value = raw_value[1:]
        else:
            name, value, raw_value = line, "", b""
        if name == "event":
            event_type = value
        elif name == "data":
            data = data + value + "\n"
            data_bytes += len(raw_value) + 1
            if max_event_size is not None and data_bytes > max_event_size:
                return outcome(EventTooLarge)
        elif name == "id":
            if "\x00" not in value:
                id_buffer = value
        elif name == "retry" and value != "" and all(c in "0123456789" for c in value):
            significant = value.lstrip("0") or "0"
            number = MAX_RETRY if len(significant) > 19 else min(int(significant), MAX_RETRY)
            retry = block_retry = number
    if max_line_size is not None and len(unterminated) > max_line_size:
        return outcome(LineTooLong)
    return outcome(None)


def real_decode(
    chunks: Sequence[bytes],
    *,
    max_line_size: int | None = None,
    max_event_size: int | None = None,
    last_event_id: str = "",
    retry: int | None = None,
) -> Outcome:
    """Feed ``chunks`` to an :class:`SSEDecoder`, then close it."""
    decoder = SSEDecoder(
        max_line_size=DEFAULT_MAX_LINE_SIZE if max_line_size is None else max_line_size,
        max_event_size=DEFAULT_MAX_EVENT_SIZE if max_event_size is None else max_event_size,
        last_event_id=last_event_id,
        retry=retry,
    )
    events: list[ServerSentEvent] = []
    error: SSEProtocolError | None = None
    try:
        for chunk in chunks:
            events += decoder.feed(chunk)
        events += decoder.close()
    except SSEProtocolError as exc:
        events += exc.events
        error = exc
    if error is None:
        return Outcome(events, None, decoder.last_event_id, decoder.retry)
    assert type(error) in (LineTooLong, EventTooLarge)
    # The decoder is failed: everything re-raises the same error.
    with pytest.raises(SSEProtocolError) as again:
        decoder.feed(b"data: x\n\n")
    assert again.value is error
    with pytest.raises(SSEProtocolError) as closing:
        decoder.close()
    assert closing.value is error
    return Outcome(events, type(error), decoder.last_event_id, decoder.retry)


def _comparable(outcome: Outcome) -> tuple[object, ...]:
    # After a limit error the decoder is failed and its state is not
    # specified; compare only what was delivered and which error it was.
    if outcome.error is not None:
        return (outcome.events, outcome.error)
    return (outcome.events, outcome.error, outcome.last_event_id, outcome.retry)


def test_reference_model_on_spec_examples() -> None:
    """The reference itself is right on a few hand-checked streams."""
    got = reference_decode(b"data\n\ndata\ndata\n\ndata:")
    assert got.events == [ServerSentEvent(data=""), ServerSentEvent(data="\n")]
    got = reference_decode(b"\xef\xbb\xbfid: 1\ndata: a\r\n\r\nretry: 05\rid\n\n")
    assert got.events == [ServerSentEvent(data="a", id="1")]
    assert (got.last_event_id, got.retry, got.error) == ("", 5, None)
    assert reference_decode(b"data: 12345\n\n", max_line_size=10).error is LineTooLong
    assert reference_decode(b"data: 12345\ndata\n\n", max_event_size=5).error is EventTooLarge
    assert reference_decode(b"retry: 0000000000000000001\n").retry == 1


# -- strategies ------------------------------------------------------------------------

LINE_ENDINGS = ("\n", "\r", "\r\n")

FIELD_NAMES = ("data", "data", "data", "event", "id", "retry", "Data", "dat", "foo", " data")

# Text without CR or LF (no line ends), with the interesting characters likely.
value_chars = st.one_of(
    st.characters(codec="utf-8", exclude_characters="\r\n"),
    st.sampled_from(
        [" ", ":", "\x00", "\ufeff", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\ufffd"]
    ),
)
values = st.one_of(
    st.text(value_chars, max_size=12),
    st.sampled_from(["", " ", "  x", "a:b", "x ", "\x00", "1", "\ufeff"]),
)
retry_values = st.one_of(
    st.integers(0, 10**6).map(str),
    st.from_regex(r"[0-9]{1,25}", fullmatch=True),
    st.tuples(st.integers(0, 24), st.integers(0, 10**6)).map(lambda t: "0" * t[0] + str(t[1])),
    st.sampled_from(
        ["", " 10", "10 ", "1a", "-1", "+1", "1.5", "1_0", "\u0661\u0662", "\uff11", "0x10"]
    ),
)
field_names = st.one_of(
    st.sampled_from(FIELD_NAMES),
    st.text(st.characters(codec="utf-8", exclude_characters="\r\n:"), min_size=1, max_size=6),
)


@st.composite
def field_lines(draw: st.DrawFn) -> str:
    """One non-empty line: a field (with or without colon) or a comment."""
    kind = draw(st.sampled_from(["field", "field", "field", "retry", "bare", "comment"]))
    if kind == "comment":
        return ":" + draw(values)
    if kind == "retry":
        return "retry:" + draw(st.sampled_from(["", " "])) + draw(retry_values)
    name = draw(field_names)
    if kind == "bare":
        return name
    return name + ":" + draw(st.sampled_from(["", " "])) + draw(values)


@st.composite
def sse_texts(draw: st.DrawFn) -> str:
    """A well-formed event stream: blocks of lines, any line endings."""
    parts: list[str] = []
    if draw(st.booleans()):
        parts.append("\ufeff")
    previous_ending = ""
    blocks = draw(st.lists(st.lists(field_lines(), max_size=5), max_size=6))
    for index, block in enumerate(blocks):
        lines = [*block, ""]  # each block is closed by a blank line...
        if index == len(blocks) - 1 and draw(st.booleans()):
            lines.pop()  # ...except, maybe, the last one
        for line in lines:
            ending = draw(st.sampled_from(LINE_ENDINGS))
            if line == "" and previous_ending == "\r" and ending == "\n":
                ending = "\r\n"  # "\r" + "\n" would be one CRLF, not a blank line
            parts += [line, ending]
            previous_ending = ending
    if draw(st.booleans()):
        parts.append(draw(field_lines()))  # an unterminated final line
    return "".join(parts)


sse_streams = sse_texts().map(lambda text: text.encode("utf-8"))

# Byte soup made of pieces that matter to the decoder.
PIECES = [
    b"data",
    b"event",
    b"id",
    b"retry",
    b":",
    b" ",
    b"\r",
    b"\n",
    b"\r\n",
    b"\n\n",
    b"data: ",
    b"x",
    b"1",
    b"07",
    b"\x00",
    b"\xef\xbb\xbf",
    b"\xef\xbb",
    b"\xe2\x80\xa6",
    b"\xe2\x80",
    b"\xe2\x80\xa8",
    b"\xc2\x85",
    b"\xf0\x9f\x98\x80",
    b"\xff",
    b"\x80",
    b"\xed\xa0\x80",
]
byte_soup = st.lists(st.sampled_from(PIECES), max_size=60).map(b"".join)

any_stream = st.one_of(sse_streams, byte_soup, st.binary(max_size=200))

limits = st.one_of(
    st.just((None, None)),
    st.tuples(st.integers(1, 40), st.integers(1, 40)),
    st.tuples(st.none(), st.integers(1, 20)),
    st.tuples(st.integers(1, 20), st.none()),
)


@st.composite
def chunkings(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """``data`` cut at arbitrary offsets (empty chunks included)."""
    offsets = sorted(draw(st.lists(st.integers(0, len(data)), max_size=12)))
    bounds = [0, *offsets, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def _one_byte_chunks(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


# -- (a) nothing but the documented errors ------------------------------------------------


@SETTINGS
@given(stream=any_stream, data=st.data(), lims=limits)
def test_arbitrary_bytes_raise_only_size_errors(
    stream: bytes, data: st.DataObject, lims: tuple[int | None, int | None]
) -> None:
    chunks = data.draw(chunkings(stream))
    max_line_size, max_event_size = lims
    outcome = real_decode(chunks, max_line_size=max_line_size, max_event_size=max_event_size)
    for event in outcome.events:
        assert type(event) is ServerSentEvent
        assert isinstance(event.event, str)
        assert event.event != ""
        assert isinstance(event.data, str)
        assert isinstance(event.id, str)
        assert "\x00" not in event.id
        assert event.retry is None or 0 <= event.retry <= MAX_RETRY
        for text in (event.event, event.data, event.id):
            assert "\r" not in text
        assert "\n" not in event.event
        assert "\n" not in event.id
        if max_event_size is not None:
            assert len(event.data) <= max_event_size
    assert outcome.retry is None or 0 <= outcome.retry <= MAX_RETRY


@settings(max_examples=60, deadline=None)
@given(
    stream=st.binary(min_size=1, max_size=300),
    lims=st.tuples(st.integers(1, 8), st.integers(1, 8)),
)
def test_arbitrary_bytes_one_byte_at_a_time_with_tiny_limits(
    stream: bytes, lims: tuple[int, int]
) -> None:
    max_line_size, max_event_size = lims
    outcome = real_decode(
        _one_byte_chunks(stream), max_line_size=max_line_size, max_event_size=max_event_size
    )
    assert outcome.error in (None, LineTooLong, EventTooLarge)


# -- (b) splitting never matters ------------------------------------------------------------


@SETTINGS
@given(stream=sse_streams, data=st.data())
def test_any_split_gives_the_same_events(stream: bytes, data: st.DataObject) -> None:
    whole = real_decode([stream])
    assert whole.error is None
    split = real_decode(data.draw(chunkings(stream)))
    assert split == whole


@SETTINGS
@given(stream=sse_streams)
def test_one_byte_at_a_time_gives_the_same_events(stream: bytes) -> None:
    assert real_decode(_one_byte_chunks(stream)) == real_decode([stream])


@SETTINGS
@given(stream=sse_streams, data=st.data())
def test_every_two_way_split_gives_the_same_events(stream: bytes, data: st.DataObject) -> None:
    whole = real_decode([stream])
    offset = data.draw(st.integers(0, len(stream)))
    assert real_decode([stream[:offset], stream[offset:]]) == whole


@SETTINGS
@given(stream=any_stream, data=st.data(), lims=limits)
def test_any_split_gives_the_same_outcome_with_limits(
    stream: bytes, data: st.DataObject, lims: tuple[int | None, int | None]
) -> None:
    max_line_size, max_event_size = lims
    whole = real_decode([stream], max_line_size=max_line_size, max_event_size=max_event_size)
    split = real_decode(
        data.draw(chunkings(stream)), max_line_size=max_line_size, max_event_size=max_event_size
    )
    assert _comparable(split) == _comparable(whole)


# -- (c) agreement with the reference model ---------------------------------------------------


@SETTINGS
@given(stream=sse_streams, data=st.data())
def test_matches_reference_on_generated_streams(stream: bytes, data: st.DataObject) -> None:
    want = reference_decode(stream)
    assert real_decode([stream]) == want
    assert real_decode(data.draw(chunkings(stream))) == want


@SETTINGS
@given(stream=st.one_of(byte_soup, st.binary(max_size=200)), data=st.data())
def test_matches_reference_on_random_bytes(stream: bytes, data: st.DataObject) -> None:
    want = reference_decode(stream)
    assert real_decode([stream]) == want
    assert real_decode(data.draw(chunkings(stream))) == want


@SETTINGS
@given(stream=any_stream, data=st.data(), lims=limits)
def test_matches_reference_with_limits(
    stream: bytes, data: st.DataObject, lims: tuple[int | None, int | None]
) -> None:
    max_line_size, max_event_size = lims
    want = reference_decode(stream, max_line_size=max_line_size, max_event_size=max_event_size)
    for chunks in ([stream], data.draw(chunkings(stream))):
        got = real_decode(chunks, max_line_size=max_line_size, max_event_size=max_event_size)
        assert _comparable(got) == _comparable(want)


@SETTINGS
@given(
    stream=any_stream,
    seed_id=st.text(st.characters(codec="utf-8", exclude_characters="\r\n\x00"), max_size=5),
    seed_retry=st.one_of(st.none(), st.integers(0, 10**9)),
)
def test_matches_reference_with_seeded_state(
    stream: bytes, seed_id: str, seed_retry: int | None
) -> None:
    want = reference_decode(stream, last_event_id=seed_id, retry=seed_retry)
    assert real_decode([stream], last_event_id=seed_id, retry=seed_retry) == want


@SETTINGS
@given(connections=st.lists(any_stream, min_size=1, max_size=4))
def test_reconnections_match_reference(connections: list[bytes]) -> None:
    """One decoder across several connections (close between) equals the
    reference run per connection with the previous connection's state."""
    decoder = SSEDecoder()
    last_event_id, retry = "", None
    for stream in connections:
        want = reference_decode(stream, last_event_id=last_event_id, retry=retry)
        got = decoder.feed(stream) + decoder.close()
        assert got == want.events
        assert (decoder.last_event_id, decoder.retry) == (want.last_event_id, want.retry)
        last_event_id, retry = want.last_event_id, want.retry


# Regions that look like blocks of several data lines but are not all of them:
# the whole-region fast path must notice and leave them to the general rules.
MULTI_DATA_TRAPS = [
    b"data: a\ndata: b\n\ndata: c\ndata: d\n\n",
    b"data: a\ndata: \ndata: b\n\ndata: c\ndata: d\n\n",  # an empty value inside
    b"data: a\ndata: b\ndata: \n\ndata: c\n\n",  # an empty value last
    b"data: \ndata: a\n\ndata: b\ndata: c\n\n",  # an empty value first
    b"data: a\ndata: b\n\n\ndata: c\ndata: d\n\n",  # two blank lines
    b"data: a\ndata: b\n\n:note\ndata: c\n\n",  # a comment
    b"data: a\ndata: b\n\nid: 5\ndata: c\ndata: d\n\n",  # an id in a later block
    b"data: a\ndata:b\n\ndata: c\ndata: d\n\n",  # no space after the colon
    b"data: a\ndata: b\n\ndata: c\nevent: e\n\n",  # an event type
    b"data: a\ndata: data: b\n\ndata: c\ndata: \xff\xfe\n\n",  # a prefix in a value, bad UTF-8
    b"data: a\ndata: b\n\ndata: c\ndatum: x\n\n",  # an unknown field
    b"data: a\ndata: b\n\n\n",  # ends with an extra blank line
]


@pytest.mark.parametrize("stream", MULTI_DATA_TRAPS)
def test_multi_line_data_traps_match_the_reference(stream: bytes) -> None:
    want = reference_decode(stream)
    assert real_decode([stream]) == want
    assert real_decode([stream, b"data: tail\n\n"]).events[: len(want.events)] == want.events
