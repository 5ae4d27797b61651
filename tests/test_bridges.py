"""Bridges: bounded buffers, overflow policies, disposal, loops and threads."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import pytest
import reactivex
from reactivex import operators as ops
from reactivex.subject import Subject

from rxsse import collect, from_async_iterable, from_bytes, to_async_iterable, to_iterator
from rxsse.errors import BufferOverflowError


async def _numbers(n: int, closed: list[str] | None = None) -> AsyncIterator[int]:
    try:
        for i in range(n):
            yield i
            await asyncio.sleep(0)
    finally:
        if closed is not None:
            closed.append("closed")


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_sync_producer_on_the_loop_overshoots_under_block_instead_of_losing() -> None:
    subject: Subject[int] = Subject()
    it = to_async_iterable(subject, maxsize=3)
    first = asyncio.ensure_future(it.__anext__())
    await _settle()
    for i in range(10):
        subject.on_next(i)
    subject.on_completed()
    got = [await first] + [x async for x in it]
    assert got == list(range(10))
    assert it.dropped == 0


async def test_drop_oldest_keeps_the_newest_and_counts() -> None:
    subject: Subject[int] = Subject()
    it = to_async_iterable(subject, maxsize=3, overflow="drop_oldest")
    first = asyncio.ensure_future(it.__anext__())
    await _settle()
    subject.on_next(0)  # taken by the waiting consumer once it runs
    for i in range(1, 10):
        subject.on_next(i)
    subject.on_completed()
    got = [await first] + [x async for x in it]
    assert got[-3:] == [7, 8, 9]
    assert len(got) == 3
    assert it.dropped == 7


async def test_latest_keeps_a_prefix_then_the_most_recent() -> None:
    subject: Subject[int] = Subject()
    it = to_async_iterable(subject, maxsize=3, overflow="latest")
    first = asyncio.ensure_future(it.__anext__())
    await _settle()
    for i in range(10):
        subject.on_next(i)
    subject.on_completed()
    got = [await first] + [x async for x in it]
    assert got == [0, 1, 9]
    assert it.dropped == 7


async def test_error_policy_delivers_buffered_items_then_raises_and_disposes() -> None:
    subject: Subject[int] = Subject()
    it = to_async_iterable(subject, maxsize=3, overflow="error")
    first = asyncio.ensure_future(it.__anext__())
    await _settle()
    for i in range(5):
        subject.on_next(i)
    got = [await first]
    with pytest.raises(BufferOverflowError) as info:
        async for x in it:
            got.append(x)
    assert got == [0, 1, 2]
    assert info.value.maxsize == 3
    assert not subject.observers, "the subscription must be disposed"


async def test_block_pauses_a_cooperative_async_source() -> None:
    seen_buffered: list[int] = []
    it = to_async_iterable(from_async_iterable(_numbers(500)), maxsize=4)
    got = []
    async for x in it:
        got.append(x)
        seen_buffered.append(it.buffered)
        await asyncio.sleep(0)
    assert got == list(range(500))
    assert max(seen_buffered) <= 4
    assert it.dropped == 0


def test_block_pauses_a_plain_producer_thread() -> None:
    subject: Subject[int] = Subject()
    it = to_iterator(subject, maxsize=2, timeout=10)
    peak = 0

    def produce() -> None:
        nonlocal peak
        for i in range(200):
            subject.on_next(i)
            peak = max(peak, it.buffered)
        subject.on_completed()

    # The first __next__ subscribes; the producer starts once it has.
    def start_when_subscribed() -> None:
        while not subject.observers:
            threading.Event().wait(0.001)
        produce()

    producer = threading.Thread(target=start_when_subscribed)
    producer.start()
    got = list(it)
    producer.join(10)
    assert got == list(range(200))
    assert peak <= 2


async def test_break_disposes_and_closes_the_async_iterator() -> None:
    closed: list[str] = []
    async for x in to_async_iterable(from_async_iterable(_numbers(10_000, closed))):
        if x == 3:
            break
    await _settle()
    assert closed == ["closed"]


async def test_aclose_and_context_manager_dispose() -> None:
    closed: list[str] = []
    async with to_async_iterable(from_async_iterable(_numbers(10_000, closed))) as it:
        assert await it.__anext__() == 0
    await _settle()
    assert closed == ["closed"]


async def test_errors_propagate_after_the_items_before_them() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"data: one\n\n"
        yield b"data: two\n\n"
        raise RuntimeError("network gone")

    got = []
    with pytest.raises(RuntimeError, match="network gone"):
        async for event in to_async_iterable(from_bytes(chunks())):
            got.append(event.data)
    assert got == ["one", "two"]


async def test_collect_runs_on_the_running_loop_and_returns_everything() -> None:
    loop_thread = threading.get_ident()
    threads: set[int] = set()
    source = from_async_iterable(_numbers(50)).pipe(
        ops.do_action(lambda _: threads.add(threading.get_ident()))
    )
    assert await collect(source) == list(range(50))
    assert threads == {loop_thread}


async def test_collect_raises_the_observable_error() -> None:
    with pytest.raises(ValueError, match="boom"):
        await collect(reactivex.throw(ValueError("boom")))


async def test_cancelling_collect_disposes_the_source() -> None:
    closed: list[str] = []
    task = asyncio.ensure_future(collect(from_async_iterable(_numbers(10**9, closed))))
    await _settle()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _settle()
    assert closed == ["closed"]


async def test_to_iterator_refuses_to_block_a_running_loop() -> None:
    with pytest.raises(RuntimeError, match="async for"):
        next(to_iterator(reactivex.of(1)))


def test_to_iterator_in_a_script_uses_the_background_loop_thread() -> None:
    threads: set[str] = set()
    source = from_async_iterable(_numbers(100)).pipe(
        ops.do_action(lambda _: threads.add(threading.current_thread().name))
    )
    assert list(to_iterator(source, maxsize=8, timeout=10)) == list(range(100))
    assert threads == {"rxsse-loop"}


def test_to_iterator_close_disposes_a_background_source() -> None:
    closed: list[str] = []
    done = threading.Event()

    async def endless() -> AsyncIterator[int]:
        try:
            i = 0
            while True:
                yield i
                i += 1
                await asyncio.sleep(0)
        finally:
            closed.append("closed")
            done.set()

    with to_iterator(from_async_iterable(endless()), maxsize=4, timeout=10) as it:
        assert next(it) == 0
    assert done.wait(5)
    assert closed == ["closed"]


def test_to_iterator_with_a_synchronous_source_on_the_same_thread() -> None:
    assert list(to_iterator(reactivex.from_iterable(range(5000)), maxsize=2)) == list(range(5000))


def test_from_async_iterable_with_a_factory_can_be_subscribed_twice() -> None:
    source = from_async_iterable(lambda: _numbers(3))
    assert list(to_iterator(source, timeout=10)) == [0, 1, 2]
    assert list(to_iterator(source, timeout=10)) == [0, 1, 2]


async def test_a_raising_subscriber_ends_the_stream_with_on_error() -> None:
    errors: list[Exception] = []
    closed: list[str] = []

    def on_next(x: int) -> None:
        if x == 2:
            raise KeyError("bad callback")

    from_async_iterable(_numbers(100, closed)).subscribe(on_next=on_next, on_error=errors.append)
    for _ in range(20):
        await asyncio.sleep(0)
    assert len(errors) == 1
    assert isinstance(errors[0], KeyError)
    assert closed == ["closed"]


def test_invalid_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="maxsize"):
        to_async_iterable(reactivex.empty(), maxsize=0)
    with pytest.raises(ValueError, match="overflow"):
        to_async_iterable(reactivex.empty(), overflow="explode")  # type: ignore[arg-type]
