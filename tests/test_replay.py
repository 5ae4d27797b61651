"""from_bytes: recorded streams, files and async byte iterables."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import reactivex
from reactivex import operators as ops
from reactivex.testing import ReactiveTest, TestScheduler

from rxsse import ServerSentEvent, collect, from_bytes, to_iterator
from rxsse.errors import LineTooLong

STREAM = b"id: 1\ndata: a\n\nevent: x\ndata: b\ndata: c\n\n: comment\ndata: unterminated"
EXPECTED = [
    ServerSentEvent("message", "a", "1"),
    ServerSentEvent("x", "b\nc", "1"),
]


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_a_list_of_chunks_emits_synchronously_and_completes() -> None:
    got: list[ServerSentEvent] = []
    completed: list[bool] = []
    from_bytes(_chunks(STREAM, 3)).subscribe(
        on_next=got.append, on_completed=lambda: completed.append(True)
    )
    assert got == EXPECTED
    assert completed == [True]


def test_each_subscription_decodes_afresh() -> None:
    source = from_bytes([STREAM])
    assert list(to_iterator(source)) == EXPECTED
    assert list(to_iterator(source)) == EXPECTED


def test_a_binary_file_is_a_source(tmp_path: Path) -> None:
    path = tmp_path / "stream.sse"
    path.write_bytes(STREAM * 3)
    with path.open("rb") as handle:
        events = list(to_iterator(from_bytes(iter(lambda: handle.read(7), b""))))
    assert len(events) == 6


def test_dispose_stops_reading_a_sync_iterable() -> None:
    read: list[int] = []

    def endless() -> Iterator[bytes]:
        i = 0
        while True:
            read.append(i)
            yield b"data: %d\n\n" % i
            i += 1

    got = list(to_iterator(from_bytes(endless()).pipe(ops.take(5))))
    assert [e.data for e in got] == ["0", "1", "2", "3", "4"]
    assert len(read) == 5


def test_a_scheduler_decides_when_a_sync_source_runs() -> None:
    scheduler = TestScheduler()
    results = scheduler.start(lambda: from_bytes([b"data: 1\n\ndata: 2\n\n"], scheduler=scheduler))
    assert results.messages == [
        ReactiveTest.on_next(200, ServerSentEvent(data="1")),
        ReactiveTest.on_next(200, ServerSentEvent(data="2")),
        ReactiveTest.on_completed(200),
    ]


def test_a_size_error_arrives_after_the_good_events() -> None:
    got: list[ServerSentEvent] = []
    errors: list[Exception] = []
    big = b"data: ok\n\ndata: " + b"x" * 100
    from_bytes([big], max_line_size=50).subscribe(on_next=got.append, on_error=errors.append)
    assert got == [ServerSentEvent(data="ok")]
    assert isinstance(errors[0], LineTooLong)


def test_a_failing_reader_is_an_error_not_a_completion() -> None:
    def broken() -> Iterator[bytes]:
        yield b"data: one\n\n"
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        list(to_iterator(from_bytes(broken())))


async def test_an_async_iterable_is_read_on_the_running_loop() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for chunk in _chunks(STREAM, 2):
            await asyncio.sleep(0)
            yield chunk

    assert await collect(from_bytes(chunks())) == EXPECTED


async def test_dispose_closes_the_async_iterator() -> None:
    closed = asyncio.Event()

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"data: tick\n\n"
                await asyncio.sleep(0)
        finally:
            closed.set()

    got = await collect(from_bytes(endless()).pipe(ops.take(3)))
    assert [e.data for e in got] == ["tick"] * 3
    await asyncio.wait_for(closed.wait(), 5)


async def test_a_size_error_from_an_async_source_keeps_good_events() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"data: ok\n\ndata: " + b"y" * 100

    got: list[ServerSentEvent] = []
    with pytest.raises(LineTooLong):
        await collect(
            from_bytes(chunks(), max_line_size=10).pipe(ops.do_action(on_next=got.append))
        )
    assert got == [ServerSentEvent(data="ok")]


def test_operators_compose_on_a_replayed_stream() -> None:
    source = from_bytes([b'data: {"n": 1}\n\ndata: {"n": 2}\n\n'])

    def number(event: ServerSentEvent) -> int:
        return int(event.json()["n"])

    total = source.pipe(ops.map(number), ops.sum())
    assert list(to_iterator(total)) == [3]
    assert list(to_iterator(reactivex.empty())) == []
