"""Events from bytes that are already at hand: recordings, files, tests.

:func:`from_bytes` accepts any iterable or async iterable of ``bytes`` and
decodes it with a fresh :class:`~rxsse.SSEDecoder` per subscription.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable
from typing import Any

import reactivex
from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, Disposable
from reactivex.scheduler import CurrentThreadScheduler

from rxsse._async_source import Emit, observable_from_coroutine
from rxsse._event import ServerSentEvent
from rxsse._loop import cooperate
from rxsse.decoder import DEFAULT_MAX_EVENT_SIZE, DEFAULT_MAX_LINE_SIZE, SSEDecoder
from rxsse.errors import SSEProtocolError

__all__ = ["feed_salvaging", "from_bytes"]

ByteChunks = Iterable[bytes] | AsyncIterable[bytes]


def from_bytes(
    chunks: ByteChunks,
    *,
    max_line_size: int = DEFAULT_MAX_LINE_SIZE,
    max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
    scheduler: abc.SchedulerBase | None = None,
) -> Observable[ServerSentEvent]:
    """Decode a byte stream into an ``Observable[ServerSentEvent]``.

    * A plain **iterable** (a list, a file opened in binary mode, a
      generator) is read synchronously on ``scheduler`` (default: the current
      thread's trampoline, so ``subscribe`` emits everything before returning,
      like ``reactivex.from_iterable``).  Disposing stops reading before the
      next chunk.
    * An **async iterable** is read by a task on the running loop (or
      rxsse's background loop in a script, see :mod:`rxsse._loop`);
      ``subscribe`` returns at once.  Disposing cancels the read and closes
      the iterator with ``aclose()``.

    The stream completes when the bytes end (an unterminated final event is
    discarded, as the spec says).  A size limit error is delivered with
    ``on_error`` after the events that preceded it, so no good event is lost.
    Each subscription decodes from the start with its own decoder; a one-shot
    iterable (a generator) can therefore be subscribed once.
    """

    def new_decoder() -> SSEDecoder:
        return SSEDecoder(max_line_size=max_line_size, max_event_size=max_event_size)

    if isinstance(chunks, AsyncIterable):
        async_chunks: AsyncIterable[bytes] = chunks

        async def produce(emit: Emit) -> None:
            decoder = new_decoder()
            iterator = aiter(async_chunks)
            try:
                async for chunk in iterator:
                    for event in feed_salvaging(decoder, chunk, emit):
                        emit(event)
                    await cooperate()
            finally:
                aclose = getattr(iterator, "aclose", None)
                if aclose is not None:
                    await aclose()

        return observable_from_coroutine(produce)

    sync_chunks: Iterable[bytes] = chunks

    def subscribe(
        observer: abc.ObserverBase[ServerSentEvent], scheduler_: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        sched = scheduler or scheduler_ or CurrentThreadScheduler.singleton()
        disposed = False

        def action(_: abc.SchedulerBase, __: Any = None) -> None:
            decoder = new_decoder()
            iterator = iter(sync_chunks)
            try:
                while not disposed:
                    chunk = next(iterator, None)
                    if chunk is None:
                        break
                    for event in feed_salvaging(decoder, chunk, observer.on_next):
                        if disposed:
                            return
                        observer.on_next(event)
            except Exception as exc:  # a decoder limit, a failing reader or on_next
                if not disposed:
                    observer.on_error(exc)
                return
            if not disposed:
                observer.on_completed()

        def dispose() -> None:
            nonlocal disposed
            disposed = True

        return CompositeDisposable(sched.schedule(action), Disposable(dispose))

    return reactivex.create(subscribe)


def feed_salvaging(
    decoder: SSEDecoder, chunk: bytes, emit: Callable[[ServerSentEvent], Any]
) -> list[ServerSentEvent]:
    """Feed one chunk; on a limit error, emit the good events before it, then re-raise."""
    try:
        return decoder.feed(chunk)
    except SSEProtocolError as exc:
        for event in exc.events:
            emit(event)
        raise
