"""Conformance tests for :class:`rxsse.SSEDecoder` and :class:`rxsse.ServerSentEvent`.

The table in :mod:`tests.decoder_cases` is run whole, split at every byte offset,
one byte at a time, split three ways (short cases), with empty chunks in
between, as ``bytearray``/``memoryview`` chunks, and in random chunkings: every
way of feeding a stream must give the same events and the same final state.
"""

from __future__ import annotations

import copy
import itertools
import json
import pickle
import random
from collections.abc import Iterable, Sequence

import pytest

from rxsse import ServerSentEvent, SSEDecoder
from rxsse.errors import (
    EventDataNotJSON,
    EventTooLarge,
    LineTooLong,
    RxSSEError,
    SSEProtocolError,
)
from tests.decoder_cases import CASES, DecoderCase, ev
from tests.decoder_impls import each_decoder

decoder_implementation = each_decoder(__name__)

Outcome = tuple[list[ServerSentEvent], str, int | None]

CASE_PARAMS = [pytest.param(case, id=case.name) for case in CASES]
SHORT_CASE_PARAMS = [pytest.param(case, id=case.name) for case in CASES if len(case.stream) <= 48]


def run(
    chunks: Iterable[bytes | bytearray | memoryview], decoder: SSEDecoder | None = None
) -> Outcome:
    """Feed ``chunks`` to a decoder, close it, and return events and final state."""
    decoder = SSEDecoder() if decoder is None else decoder
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    closed = decoder.close()
    assert closed == []
    events.extend(closed)
    return events, decoder.last_event_id, decoder.retry


def expected(case: DecoderCase) -> Outcome:
    return case.events, case.last_event_id, case.retry


def split_at(data: bytes, offsets: Sequence[int]) -> list[bytes]:
    bounds = [0, *sorted(offsets), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


# -- the table, fed in every way ------------------------------------------------


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_whole_stream(case: DecoderCase) -> None:
    assert run([case.stream]) == expected(case)


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_split_in_two_at_every_offset(case: DecoderCase) -> None:
    want = expected(case)
    for offset in range(len(case.stream) + 1):
        got = run(split_at(case.stream, [offset]))
        assert got == want, f"split at byte {offset}"


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_one_byte_at_a_time(case: DecoderCase) -> None:
    stream = case.stream
    assert run(stream[i : i + 1] for i in range(len(stream))) == expected(case)


@pytest.mark.parametrize("case", SHORT_CASE_PARAMS)
def test_split_in_three_at_every_pair_of_offsets(case: DecoderCase) -> None:
    want = expected(case)
    size = len(case.stream)
    for first in range(size + 1):
        for second in range(first, size + 1):
            got = run(split_at(case.stream, [first, second]))
            assert got == want, f"split at bytes {first} and {second}"


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_empty_chunks_in_between_change_nothing(case: DecoderCase) -> None:
    stream = case.stream
    chunks: list[bytes] = [b""]
    for i in range(len(stream)):
        chunks += [stream[i : i + 1], b""]
    assert run(chunks) == expected(case)


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_random_chunkings(case: DecoderCase) -> None:
    rng = random.Random(f"chunkings:{case.name}")
    want = expected(case)
    size = len(case.stream)
    for _ in range(25):
        count = rng.randint(0, min(size, 12))
        offsets = [rng.randint(0, size) for _ in range(count)]
        got = run(split_at(case.stream, offsets))
        assert got == want, f"split at bytes {sorted(offsets)}"


@pytest.mark.parametrize("case", CASE_PARAMS)
@pytest.mark.parametrize(
    "kind", ["bytearray", "memoryview", "memoryview-slice", "memoryview-strided"]
)
def test_bytes_like_chunks(case: DecoderCase, kind: str) -> None:
    rng = random.Random(f"bytes-like:{case.name}")
    size = len(case.stream)
    offsets = [rng.randint(0, size) for _ in range(min(size, 6))]
    chunks: list[bytearray | memoryview] = []
    for piece in split_at(case.stream, offsets):
        if kind == "bytearray":
            chunks.append(bytearray(piece))
        elif kind == "memoryview":
            chunks.append(memoryview(piece))
        elif kind == "memoryview-strided":  # not contiguous: every other byte of a buffer
            chunks.append(memoryview(bytes(b for byte in piece for b in (byte, 0)))[::2])
        else:
            chunks.append(memoryview(b"<<" + piece + b">>")[2:-2])
    assert run(chunks) == expected(case)


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_byte_by_byte_events_arrive_in_order(case: DecoderCase) -> None:
    """Byte by byte, the events so far are always a prefix of the expected ones."""
    decoder = SSEDecoder()
    seen: list[ServerSentEvent] = []
    for i in range(len(case.stream)):
        seen += decoder.feed(case.stream[i : i + 1])
        assert seen == case.events[: len(seen)]
    assert seen == case.events


def test_case_table_is_large_and_named() -> None:
    assert len(CASES) >= 80
    assert all(case.name for case in CASES)


# -- dispatch timing ----------------------------------------------------------------


def test_cr_at_chunk_end_dispatches_at_once() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: x\r") == []
    assert decoder.feed(b"\r") == [ev("x")]
    # The LF that completes a CRLF in the next chunk is not another line end.
    assert decoder.feed(b"\ndata: y\r\n") == []
    assert decoder.feed(b"\r\n") == [ev("y")]


def test_retry_takes_effect_when_its_line_ends() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"retry: 7") == []
    assert decoder.retry is None  # the line may still grow: "retry: 70"
    assert decoder.feed(b"0\n") == []
    assert decoder.retry == 70  # set before the block is dispatched
    decoder.close()
    assert decoder.retry == 70


def test_id_is_committed_at_dispatch_only() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"id: 1\n")
    assert decoder.last_event_id == ""
    decoder.feed(b"\n")
    assert decoder.last_event_id == "1"


def test_bom_split_across_chunks_is_stripped() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"\xef") == []
    assert decoder.feed(b"\xbb") == []
    assert decoder.feed(b"\xbfdata: x\n\n") == [ev("x")]


def test_utf8_sequence_split_across_chunks() -> None:
    decoder = SSEDecoder()
    out = decoder.feed(b"data: \xf0")
    out += decoder.feed(b"\x9f")
    out += decoder.feed(b"\x98")
    out += decoder.feed(b"\x80\n\n")
    assert out == [ev("\U0001f600")]


# -- close() ------------------------------------------------------------------------


def test_close_on_fresh_decoder_returns_empty_list() -> None:
    decoder = SSEDecoder()
    assert decoder.close() == []
    assert decoder.close() == []


def test_close_discards_unterminated_event() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\ndata: b\n") == [ev("a")]
    assert decoder.close() == []


def test_close_discards_partial_line() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: a")
    assert decoder.close() == []
    assert decoder.feed(b"\n\n") == []


def test_close_discards_partial_block() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"event: e\ndata: a\n")
    decoder.close()
    assert decoder.feed(b"\n") == []
    assert decoder.feed(b"data: b\n\n") == [ev("b")]


def test_close_discards_incomplete_utf8_bytes() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"\xe2")
    decoder.close()
    assert decoder.feed(b"data: x\n\n") == [ev("x")]


def test_close_discards_uncommitted_id_but_keeps_committed_one() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"id: 1\n\nid: 2\ndata: x\n")
    decoder.close()
    assert decoder.last_event_id == "1"
    assert decoder.feed(b"data: y\n\n") == [ev("y", id="1")]


def test_reuse_after_close_keeps_last_event_id_and_retry() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 5\nretry: 100\ndata: a\n\ndata: partial") == [
        ev("a", id="5", retry=100)
    ]
    assert decoder.close() == []
    assert (decoder.last_event_id, decoder.retry) == ("5", 100)
    # The next connection: a fresh parser (a BOM is stripped again) that
    # remembers the last event ID; events carry no retry of their own.
    assert decoder.feed(b"\xef\xbb\xbfdata: b\n\n") == [ev("b", id="5")]
    assert decoder.feed(b"id\n\ndata: c\n\n") == [ev("c")]
    assert (decoder.last_event_id, decoder.retry) == ("", 100)


def test_reuse_after_close_resets_pending_cr() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r\r") == [ev("a")]
    decoder.close()
    assert decoder.feed(b"data: b\n\n") == [ev("b")]


def test_many_connections_through_one_decoder() -> None:
    decoder = SSEDecoder()
    seen: list[ServerSentEvent] = []
    for n in range(5):
        seen += decoder.feed(f"data: {n}\nid: {n}\n\ndata: lost{n}".encode())
        seen += decoder.close()
    assert seen == [ev(str(n), id=str(n)) for n in range(5)]
    assert decoder.last_event_id == "4"


# -- constructor ----------------------------------------------------------------------


def test_last_event_id_seeds_event_ids() -> None:
    decoder = SSEDecoder(last_event_id="42")
    assert decoder.last_event_id == "42"
    assert decoder.feed(b"data: a\n\nid: 43\ndata: b\n\ndata: c\n\n") == [
        ev("a", id="42"),
        ev("b", id="43"),
        ev("c", id="43"),
    ]


def test_last_event_id_seed_can_be_reset_by_stream() -> None:
    decoder = SSEDecoder(last_event_id="42")
    assert decoder.feed(b"id\ndata: a\n\n") == [ev("a")]
    assert decoder.last_event_id == ""


def test_last_event_id_seed_survives_close_without_events() -> None:
    decoder = SSEDecoder(last_event_id="42")
    decoder.feed(b"id: 43\ndata: x")
    decoder.close()
    assert decoder.last_event_id == "42"
    assert decoder.feed(b"data: y\n\n") == [ev("y", id="42")]


def test_retry_seed() -> None:
    decoder = SSEDecoder(retry=3000)
    assert decoder.retry == 3000
    assert decoder.feed(b"data: a\n\n") == [ev("a")]
    assert decoder.feed(b"retry: bogus\n\n") == []
    assert decoder.retry == 3000
    assert decoder.feed(b"retry: 10\n\n") == []
    assert decoder.retry == 10


def test_defaults() -> None:
    decoder = SSEDecoder()
    assert decoder.last_event_id == ""
    assert decoder.retry is None


@pytest.mark.parametrize(
    ("max_line_size", "max_event_size"), [(0, 10), (10, 0), (-1, 10), (10, -5)]
)
def test_limits_must_be_positive(max_line_size: int, max_event_size: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        SSEDecoder(max_line_size=max_line_size, max_event_size=max_event_size)


# -- size limits ---------------------------------------------------------------------


def test_line_too_long_growing_across_many_chunks() -> None:
    decoder = SSEDecoder(max_line_size=100)
    assert decoder.feed(b"data: ") == []
    for _ in range(94 // 2):
        assert decoder.feed(b"xx") == []  # up to exactly 100 bytes: fine
    with pytest.raises(LineTooLong) as info:
        decoder.feed(b"x")
    exc = info.value
    assert exc.limit == 100
    assert exc.size > 100
    assert exc.events == []
    assert isinstance(exc, SSEProtocolError)
    assert isinstance(exc, ValueError)
    assert isinstance(exc, RxSSEError)


def test_line_too_long_without_any_newline_in_many_small_chunks() -> None:
    decoder = SSEDecoder(max_line_size=1000)
    with pytest.raises(LineTooLong):
        for _ in range(10_000):
            decoder.feed(b"abc")


def test_line_exactly_at_limit_is_accepted() -> None:
    line = b"data: " + b"x" * 94  # 100 bytes
    for ending in (b"\n", b"\r", b"\r\n"):
        decoder = SSEDecoder(max_line_size=100)
        assert decoder.feed(line + ending + ending) == [ev("x" * 94)]


def test_line_limit_counts_bytes_not_characters() -> None:
    line = "data: " + "\u00e9" * 47  # 53 characters, 100 bytes
    assert SSEDecoder(max_line_size=100).feed(line.encode() + b"\n\n") == [ev("\u00e9" * 47)]
    with pytest.raises(LineTooLong):
        SSEDecoder(max_line_size=99).feed(line.encode() + b"\n\n")


def test_line_too_long_applies_to_complete_lines_in_one_feed() -> None:
    decoder = SSEDecoder(max_line_size=50)
    stream = b"data: a\n\ndata: b\n\ndata: " + b"x" * 100 + b"\n\ndata: never\n\n"
    with pytest.raises(LineTooLong) as info:
        decoder.feed(stream)
    assert info.value.events == [ev("a"), ev("b")]


def test_line_too_long_applies_to_comments_and_unknown_fields() -> None:
    for line in (b":" + b"c" * 60, b"foo:" + b"c" * 60, b"c" * 60):
        decoder = SSEDecoder(max_line_size=50)
        with pytest.raises(LineTooLong):
            decoder.feed(line + b"\n\n")


def test_line_too_long_for_a_fast_path_shaped_block() -> None:
    decoder = SSEDecoder(max_line_size=10)
    with pytest.raises(LineTooLong):
        decoder.feed(b"data: 12345\n\n")  # 11 bytes


def test_line_too_long_events_carry_only_this_feed() -> None:
    decoder = SSEDecoder(max_line_size=20)
    assert decoder.feed(b"data: 1\n\n") == [ev("1")]
    with pytest.raises(LineTooLong) as info:
        decoder.feed(b"data: 2\n\ndata: 3\n\n" + b"z" * 30)
    assert info.value.events == [ev("2"), ev("3")]


def test_event_too_large_many_data_lines() -> None:
    decoder = SSEDecoder(max_event_size=50)
    # Four lines: 4 * 10 bytes + 3 joining LFs = 43; five would be 54.
    with pytest.raises(EventTooLarge) as info:
        decoder.feed(b"data: 0123456789\n" * 10 + b"\n")
    exc = info.value
    assert exc.limit == 50
    assert exc.size > 50
    assert exc.events == []
    assert isinstance(exc, SSEProtocolError)
    assert isinstance(exc, ValueError)


def test_event_too_large_boundary() -> None:
    decoder = SSEDecoder(max_event_size=43)
    assert decoder.feed(b"data: 0123456789\n" * 4 + b"\n") == [ev("\n".join(["0123456789"] * 4))]
    decoder = SSEDecoder(max_event_size=42)
    with pytest.raises(EventTooLarge):
        decoder.feed(b"data: 0123456789\n" * 4 + b"\n")


def test_event_too_large_data_exactly_at_limit() -> None:
    decoder = SSEDecoder(max_event_size=5)
    assert decoder.feed(b"data: 12345\n\n") == [ev("12345")]
    with pytest.raises(EventTooLarge):
        decoder.feed(b"data: 123456\n\n")


def test_event_too_large_across_chunks_one_line_each() -> None:
    decoder = SSEDecoder(max_event_size=100)
    assert decoder.feed(b"data: first\n\n") == [ev("first")]
    with pytest.raises(EventTooLarge) as info:
        for _ in range(100):
            assert decoder.feed(b"data: 0123456789\n") == []
    assert info.value.events == []


def test_event_too_large_for_a_fast_path_shaped_block() -> None:
    decoder = SSEDecoder(max_event_size=3)
    with pytest.raises(EventTooLarge):
        decoder.feed(b"data: abcd\n\n")


def test_event_too_large_events_carry_earlier_events_of_same_feed() -> None:
    decoder = SSEDecoder(max_event_size=10)
    assert decoder.feed(b"data: 0\n\n") == [ev("0")]
    with pytest.raises(EventTooLarge) as info:
        decoder.feed(b"id: 1\ndata: a\n\nevent: e\ndata: b\n\ndata: 0123456789\ndata: x\n\n")
    assert info.value.events == [ev("a", id="1"), ev("b", event="e", id="1")]


def test_data_limit_does_not_count_other_fields() -> None:
    decoder = SSEDecoder(max_event_size=3)
    stream = (
        b"event: " + b"e" * 50 + b"\nid: " + b"i" * 50 + b"\n: " + b"c" * 50 + b"\ndata: abc\n\n"
    )
    assert decoder.feed(stream) == [ev("abc", event="e" * 50, id="i" * 50)]


@pytest.mark.parametrize(
    ("max_line_size", "max_event_size", "stream", "error"),
    [
        (10, 1000, b"data: 0123456789\n\n", LineTooLong),
        (10, 1000, b"data: 0123456789", LineTooLong),
        (1000, 10, b"data: 0123456789\ndata: x\n\n", EventTooLarge),
    ],
    ids=["line-terminated", "line-unterminated", "event"],
)
def test_failed_decoder_reraises(
    max_line_size: int, max_event_size: int, stream: bytes, error: type[SSEProtocolError]
) -> None:
    decoder = SSEDecoder(max_line_size=max_line_size, max_event_size=max_event_size)
    with pytest.raises(error) as info:
        decoder.feed(stream)
    first = info.value
    with pytest.raises(error) as again:
        decoder.feed(b"data: fine\n\n")
    assert again.value is first
    with pytest.raises(error) as empty:
        decoder.feed(b"")
    assert empty.value is first
    with pytest.raises(error) as closing:
        decoder.close()
    assert closing.value is first


def test_limits_are_per_decoder() -> None:
    small = SSEDecoder(max_line_size=5)
    big = SSEDecoder()
    assert big.feed(b"data: long enough\n\n") == [ev("long enough")]
    with pytest.raises(LineTooLong):
        small.feed(b"data: long enough\n\n")
    assert big.feed(b"data: still fine\n\n") == [ev("still fine")]


# -- bytes-like input -----------------------------------------------------------------


def test_memoryview_input() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(memoryview(b"data: x\n\n")) == [ev("x")]


def test_bytearray_input() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(bytearray(b"data: x\n\n")) == [ev("x")]


def test_memoryview_after_incomplete_utf8() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(memoryview(b"data: \xe2\x80")) == []
    assert decoder.feed(memoryview(b"\xa6\n\n")) == [ev("\u2026")]


def test_bytearray_mutated_after_feed_does_not_change_result() -> None:
    decoder = SSEDecoder()
    buffer = bytearray(b"data: ab\xe2")
    assert decoder.feed(buffer) == []
    buffer[:] = b"XXXXXXXXX"
    view_source = bytearray(b"\x80\xa6\n\n")
    view = memoryview(view_source)
    assert decoder.feed(view) == [ev("ab\u2026")]
    view.release()
    view_source[:] = b"zzzz"
    assert decoder.feed(b"data: c\n\n") == [ev("c")]


def test_mixed_chunk_types() -> None:
    decoder = SSEDecoder()
    out = decoder.feed(b"data: ")
    out += decoder.feed(bytearray(b"\xe2"))
    out += decoder.feed(memoryview(b"\x80\xa6"))
    out += decoder.feed(b"\r")
    out += decoder.feed(memoryview(b"\n\r\n"))
    assert out == [ev("\u2026")]


# -- ServerSentEvent value semantics --------------------------------------------------


def test_event_defaults() -> None:
    event = ServerSentEvent()
    assert event == ServerSentEvent("message", "", "", None)
    assert (event.event, event.data, event.id, event.retry) == ("message", "", "", None)


def test_event_is_immutable() -> None:
    event = ServerSentEvent(data="x")
    for field in ("event", "data", "id", "retry"):
        with pytest.raises(AttributeError):
            setattr(event, field, "y")
    with pytest.raises(AttributeError):
        event.extra = 1  # type: ignore[attr-defined]
    assert not hasattr(event, "__dict__")
    with pytest.raises(TypeError):
        event[0] = "y"  # type: ignore[index]
    changed = event._replace(data="y")
    assert changed == ServerSentEvent(data="y")
    assert event.data == "x"


def test_event_equality_by_value() -> None:
    a = ServerSentEvent("update", "x", "1", 5)
    b = ServerSentEvent(event="update", data="x", id="1", retry=5)
    assert a == b
    assert (a != b) is False
    assert a is not b
    assert a != ServerSentEvent("update", "x", "1", None)
    assert a != ServerSentEvent("update", "x", "2", 5)
    assert a != ServerSentEvent("other", "x", "1", 5)
    assert a != ServerSentEvent("update", "y", "1", 5)


def test_event_not_equal_to_plain_tuple() -> None:
    event = ServerSentEvent("message", "x", "", None)
    plain = ("message", "x", "", None)
    assert tuple(event) == plain
    assert event != plain
    assert (event == plain) is False
    assert plain != event
    assert event != list(plain)
    assert event != "x"
    assert event != None  # noqa: E711


def test_event_hashable() -> None:
    a = ServerSentEvent("message", "x", "1", None)
    b = ServerSentEvent(data="x", id="1")
    assert hash(a) == hash(b)
    assert len({a, b, ServerSentEvent(data="y")}) == 2
    assert {a: 1}[b] == 1


def test_event_repr_is_readable() -> None:
    assert repr(ServerSentEvent(data="x")) == "ServerSentEvent(event='message', data='x')"
    assert (
        repr(ServerSentEvent("tick", "a\nb", "7", 100))
        == "ServerSentEvent(event='tick', data='a\\nb', id='7', retry=100)"
    )
    assert repr(ServerSentEvent(retry=0)) == "ServerSentEvent(event='message', data='', retry=0)"
    for event in (ServerSentEvent(data="x"), ServerSentEvent("e", "d", "i", 3)):
        assert eval(repr(event), {"ServerSentEvent": ServerSentEvent}) == event


def test_event_copy_and_pickle() -> None:
    event = ServerSentEvent("e", "d\x00\u2028", "i", 3)
    assert copy.copy(event) == event
    assert copy.deepcopy(event) == event
    restored = pickle.loads(pickle.dumps(event))
    assert restored == event
    assert type(restored) is ServerSentEvent


def test_event_is_a_tuple_with_named_fields() -> None:
    event = ServerSentEvent("e", "d", "i", 3)
    assert isinstance(event, tuple)
    assert ServerSentEvent._fields == ("event", "data", "id", "retry")
    name, data, id_, retry = event
    assert (name, data, id_, retry) == ("e", "d", "i", 3)
    assert event._asdict() == {"event": "e", "data": "d", "id": "i", "retry": 3}


@pytest.mark.parametrize(
    ("data", "value"),
    [
        ('{"a": [1, 2.5, null, true]}', {"a": [1, 2.5, None, True]}),
        ("[]", []),
        ('"text"', "text"),
        ("42", 42),
        ("  null  ", None),
    ],
)
def test_event_json_good(data: str, value: object) -> None:
    assert ServerSentEvent(data=data).json() == value


@pytest.mark.parametrize("data", ["", "not json", "{", "{'a': 1}", "[1,]", "1 2"])
def test_event_json_bad(data: str) -> None:
    event = ServerSentEvent("tick", data, "9")
    with pytest.raises(EventDataNotJSON) as info:
        event.json()
    exc = info.value
    assert exc.event is event
    assert isinstance(exc, ValueError)
    assert isinstance(exc, RxSSEError)
    assert isinstance(exc.__cause__, json.JSONDecodeError)
    assert "tick" in str(exc)


def test_event_json_bad_long_data_is_abbreviated_in_message() -> None:
    event = ServerSentEvent(data="x" * 1000)
    with pytest.raises(EventDataNotJSON) as info:
        event.json()
    assert len(str(info.value)) < 300


def test_decoded_event_json() -> None:
    decoder = SSEDecoder()
    (event,) = decoder.feed(b'data: {"a":\ndata: 1}\n\n')
    assert event.json() == {"a": 1}


def test_the_decoder_can_be_subclassed() -> None:
    class Counting(SSEDecoder):
        def __init__(self) -> None:
            super().__init__(max_line_size=64)
            self.chunks = 0

        def feed(self, chunk: bytes | bytearray | memoryview) -> list[ServerSentEvent]:
            self.chunks += 1
            return super().feed(chunk)

    decoder = Counting()
    assert decoder.feed(b"id: 1\ndata: a\n\n") + decoder.feed(b"data: b\n\n") == [
        ServerSentEvent(data="a", id="1"),
        ServerSentEvent(data="b", id="1"),
    ]
    assert (decoder.chunks, decoder.last_event_id) == (2, "1")
    with pytest.raises(LineTooLong):
        decoder.feed(b"x" * 65)
