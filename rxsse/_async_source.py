"""Observables whose producer is a coroutine running on an asyncio loop.

:func:`observable_from_coroutine` is the one place where rxsse turns an
``async`` producer into an ``Observable``; sources and bridges build on it.

Semantics of every such observable:

* Each subscription starts one task (see :func:`rxsse._loop.spawn` for which
  loop); ``subscribe`` returns at once and emissions happen on that loop's
  thread.
* Disposing cancels the task: the producer stops at its next ``await`` and
  its ``finally`` blocks run (closing iterators and connections); nothing is
  emitted after ``dispose`` returns on the loop thread, and at most what is
  already in flight when disposing from another thread.
* A producer exception terminates the stream with ``on_error``; normal return
  completes it.  If the observer's ``on_next`` raises, the stream is ended
  with ``on_error(that exception)`` and the producer is stopped, so a faulty
  callback is never swallowed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar

import reactivex
from reactivex import Observable, abc
from reactivex.disposable import Disposable

from rxsse._loop import cooperate, spawn

__all__ = ["Emit", "ObserverFailed", "from_async_iterable", "observable_from_coroutine"]

T = TypeVar("T")


class ObserverFailed(Exception):
    """Raised out of ``emit`` when the subscriber's ``on_next`` raised.

    Producers must let it propagate (never catch ``Exception`` around ``emit``
    without re-raising this); the runner reports ``cause`` through ``on_error``.
    """

    def __init__(self, cause: Exception) -> None:
        super().__init__(repr(cause))
        self.cause = cause


class Emit:
    """The callable a producer coroutine uses to send values downstream."""

    __slots__ = ("_closed", "_on_next")

    def __init__(self, observer: abc.ObserverBase[Any]) -> None:
        self._on_next = observer.on_next
        self._closed = False

    def __call__(self, value: Any) -> None:
        if self._closed:
            raise asyncio.CancelledError()
        try:
            self._on_next(value)
        except Exception as exc:
            raise ObserverFailed(exc) from exc

    @property
    def closed(self) -> bool:
        """True once the subscription was disposed or terminated."""
        return self._closed


def observable_from_coroutine(
    producer: Callable[[Emit], Coroutine[Any, Any, None]],
) -> Observable[Any]:
    """An observable that runs ``producer(emit)`` as a task per subscription."""

    def subscribe(
        observer: abc.ObserverBase[Any], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        emit = Emit(observer)

        async def run() -> None:
            try:
                await producer(emit)
            except ObserverFailed as failed:
                if not emit._closed:
                    emit._closed = True
                    observer.on_error(failed.cause)
            except asyncio.CancelledError:
                emit._closed = True
                raise
            except Exception as exc:
                if not emit._closed:
                    emit._closed = True
                    observer.on_error(exc)
            else:
                if not emit._closed:
                    emit._closed = True
                    observer.on_completed()

        handle = spawn(run)

        def dispose() -> None:
            emit._closed = True
            handle.cancel()

        return Disposable(dispose)

    return reactivex.create(subscribe)


def from_async_iterable(
    source: AsyncIterable[T] | Callable[[], AsyncIterable[T]],
) -> Observable[T]:
    """Emit the items of an async iterable; dispose closes it (``aclose``).

    ``source`` may be an async iterable or a zero-argument factory returning
    one; with a factory every subscription iterates afresh, otherwise a
    one-shot iterable (an async generator) can be subscribed only once.
    Items are emitted one by one, yielding to a full bounded consumer between
    them (see :mod:`rxsse.aio`).
    """

    async def produce(emit: Emit) -> None:
        iterable = source() if callable(source) else source
        iterator: AsyncIterator[T] = aiter(iterable)
        try:
            async for item in iterator:
                emit(item)
                await cooperate()
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()

    return observable_from_coroutine(produce)
