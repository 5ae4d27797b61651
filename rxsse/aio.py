"""Bridges between Rx observables and async/sync iteration.

Rx pushes and has no backpressure; ``async for`` and ``for`` pull.  Where
they meet, a **bounded buffer** with a named overflow policy decides what
happens when the producer is faster than the consumer:

``"block"`` (default)
    The producer waits for room.  rxsse's own async sources (``from_url``,
    ``from_bytes`` over an async iterable, ``from_async_iterable``) pause at
    their next ``await`` until the consumer has taken items, whichever loop
    they run on; a producer on a plain thread (no event loop) blocks that
    thread.  A producer that emits synchronously on a thread running an
    event loop (a ``Subject``, ``reactivex.from_iterable``, ``from_bytes``
    over a list) cannot be paused without deadlocking that loop, so for it
    the buffer grows past ``maxsize`` instead of losing data.  Likewise a
    cooperative source may overshoot by the events of one network chunk.
``"drop_oldest"``
    A full buffer discards its oldest item to make room; ``dropped`` counts.
``"latest"``
    A full buffer replaces its newest item with the incoming one, so the
    consumer gets the first ``maxsize - 1`` items in order and then always the
    most recent value (``maxsize=1`` is classic conflation); ``dropped``
    counts the replaced items.
``"error"``
    A full buffer disposes the subscription; the consumer receives the items
    already buffered, then :class:`~rxsse.errors.BufferOverflowError`.

Errors from the observable are raised by the iterator after the items that
preceded them; completion ends the iteration after the buffer is drained.
Leaving the loop early (``break``, an exception, ``aclose()``/``close()``,
or garbage collection of the iterator) disposes the subscription, which
cancels rxsse sources and closes their connections.

Everything here runs on the event loop that is running where it is used
(the Jupyter kernel's loop included) and never calls ``asyncio.run()``.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Iterator
from types import TracebackType
from typing import Generic, Literal, TypeVar, get_args

from reactivex import Observable, abc

from rxsse._async_source import from_async_iterable
from rxsse._loop import BACKPRESSURE, running_loop
from rxsse.errors import BufferOverflowError

__all__ = [
    "DEFAULT_MAXSIZE",
    "AsyncObservableIterator",
    "ObservableIterator",
    "Overflow",
    "collect",
    "from_async_iterable",
    "to_async_iterable",
    "to_iterator",
]

T = TypeVar("T")

Overflow = Literal["block", "drop_oldest", "latest", "error"]
DEFAULT_MAXSIZE = 1024
"""Default capacity of a bridge buffer, in items."""


class _BoundedBuffer(Generic[T]):
    """The buffer, its policy and the producer side, shared by both iterators."""

    def __init__(self, observable: Observable[T], maxsize: int, overflow: Overflow) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        if overflow not in get_args(Overflow):
            raise ValueError(f"overflow must be one of {get_args(Overflow)}, not {overflow!r}")
        self._observable = observable
        self.maxsize = maxsize
        self.overflow: Overflow = overflow
        self._items: deque[T] = deque()
        self._lock = threading.Lock()
        self._space = threading.Condition(self._lock)
        self._space_waiters: list[asyncio.Future[None]] = []
        self._dropped = 0
        self._error: BaseException | None = None
        self._done = False
        self._closed = False
        self._subscription: abc.DisposableBase | None = None
        self._consumer_thread: int | None = None
        self._blocked_producers = 0  # plain threads waiting in _on_next
        self._consumer_waiting = False  # set by the consumer, under the lock, while it sleeps

    @property
    def dropped(self) -> int:
        """How many items the overflow policy discarded so far."""
        return self._dropped

    @property
    def buffered(self) -> int:
        """How many items wait in the buffer right now."""
        return len(self._items)

    def _wake_consumer(self) -> None:
        """Tell the consumer that an item, an error or completion arrived."""
        raise NotImplementedError

    # -- subscription -------------------------------------------------------------

    def _subscribe(self) -> None:
        self._consumer_thread = threading.get_ident()
        token = BACKPRESSURE.set(self)
        try:
            subscription = self._observable.subscribe(
                on_next=self._on_next, on_error=self._on_error, on_completed=self._on_completed
            )
        finally:
            BACKPRESSURE.reset(token)
        with self._lock:
            closed = self._closed
            if not closed:
                self._subscription = subscription
        if closed:  # overflowed (policy "error") or closed during subscribe
            subscription.dispose()

    def _close(self) -> None:
        """Stop for good: dispose the subscription, free waiting producers."""
        with self._lock:
            self._closed = True
            self._done = True
            subscription, self._subscription = self._subscription, None
        self._release_producers()
        if subscription is not None:
            subscription.dispose()

    # -- producer side (any thread) -------------------------------------------------

    def _on_next(self, item: T) -> None:
        if self._closed:
            return
        if (
            self.overflow == "block"
            and threading.get_ident() != self._consumer_thread
            and running_loop() is None
        ):
            with self._space:  # a plain producer thread: real blocking
                while len(self._items) >= self.maxsize and not self._closed:
                    self._blocked_producers += 1
                    try:
                        self._space.wait()
                    finally:
                        self._blocked_producers -= 1
        overflow_error = False
        with self._lock:
            if self._closed:
                return
            items = self._items
            if len(items) < self.maxsize or self.overflow == "block":
                items.append(item)
            elif self.overflow == "drop_oldest":
                items.popleft()
                items.append(item)
                self._dropped += 1
            elif self.overflow == "latest":
                items[-1] = item
                self._dropped += 1
            else:
                overflow_error = True
                self._error = BufferOverflowError(
                    f"buffer full ({self.maxsize} items) with overflow='error'",
                    maxsize=self.maxsize,
                )
                self._done = True
            waiting = self._consumer_waiting
        if waiting or overflow_error:
            self._wake_consumer()
        if overflow_error:
            self._close()

    def _on_error(self, error: Exception) -> None:
        with self._lock:
            if self._done:
                return
            self._error = error
            self._done = True
        self._wake_consumer()

    def _on_completed(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
        self._wake_consumer()

    def wait_for_capacity(self) -> Awaitable[None] | None:
        """Backpressure hook for cooperative async producers (see ``_loop``)."""
        loop = running_loop()
        if loop is None or self.overflow != "block":
            return None
        with self._lock:
            if len(self._items) < self.maxsize or self._closed:
                return None
            waiter: asyncio.Future[None] = loop.create_future()
            self._space_waiters.append(waiter)
        return waiter

    # -- consumer side ----------------------------------------------------------------

    def _took_item(self) -> None:
        """Called by the consumer after removing an item, with the lock held."""
        if len(self._items) < self.maxsize:
            if self._blocked_producers:
                self._space.notify_all()
            if self._space_waiters:
                waiters, self._space_waiters = self._space_waiters, []
                for waiter in waiters:
                    _resolve_threadsafe(waiter)

    def _release_producers(self) -> None:
        with self._lock:
            self._space.notify_all()
            waiters, self._space_waiters = self._space_waiters, []
        for waiter in waiters:
            _resolve_threadsafe(waiter)


def _resolve_threadsafe(waiter: asyncio.Future[None]) -> None:
    loop = waiter.get_loop()
    if running_loop() is loop:
        if not waiter.done():
            waiter.set_result(None)
    elif not loop.is_closed():
        loop.call_soon_threadsafe(_resolve, waiter)


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class _AsyncBuffer(_BoundedBuffer[T]):
    """Consumer side for ``async for``: waits on a future of the consumer's loop."""

    def __init__(self, observable: Observable[T], maxsize: int, overflow: Overflow) -> None:
        super().__init__(observable, maxsize, overflow)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiter: asyncio.Future[None] | None = None

    async def next(self) -> T:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._subscribe()
        while True:
            with self._lock:
                if self._items:
                    item = self._items.popleft()
                    self._took_item()
                    return item
                if self._done:
                    error, self._error = self._error, None
                    finished = True
                else:
                    finished = False
                    self._waiter = waiter = self._loop.create_future()
                    self._consumer_waiting = True
            if finished:
                self._close()
                if error is not None:
                    raise error
                raise StopAsyncIteration
            try:
                await waiter
            except asyncio.CancelledError:
                self._close()
                raise

    def _wake_consumer(self) -> None:
        loop = self._loop
        with self._lock:
            waiter, self._waiter = self._waiter, None
            self._consumer_waiting = False
        if waiter is None or loop is None:
            return
        if running_loop() is loop:
            if not waiter.done():
                waiter.set_result(None)
        elif not loop.is_closed():
            loop.call_soon_threadsafe(_resolve, waiter)


class _SyncBuffer(_BoundedBuffer[T]):
    """Consumer side for a plain ``for``: waits on a condition variable."""

    def __init__(
        self, observable: Observable[T], maxsize: int, overflow: Overflow, timeout: float | None
    ) -> None:
        super().__init__(observable, maxsize, overflow)
        self._ready = threading.Condition(self._lock)
        self._started = False
        self._timeout = timeout

    def next(self) -> T:
        if not self._started:
            if running_loop() is not None:
                raise RuntimeError(
                    "to_iterator() would block the event loop running in this thread; "
                    "use `async for` over rxsse.to_async_iterable() instead"
                )
            self._started = True
            self._subscribe()
        with self._ready:
            arrived = bool(self._items) or self._done
            if not arrived:
                self._consumer_waiting = True
                try:
                    arrived = self._ready.wait_for(
                        lambda: bool(self._items) or self._done, timeout=self._timeout
                    )
                finally:
                    self._consumer_waiting = False
            if not arrived:
                raise TimeoutError(f"no item within {self._timeout} s")
            if self._items:
                item = self._items.popleft()
                self._took_item()
                return item
            error, self._error = self._error, None
        self._close()
        if error is not None:
            raise error
        raise StopIteration

    def _wake_consumer(self) -> None:
        with self._ready:
            self._ready.notify_all()


class AsyncObservableIterator(AsyncIterator[T]):
    """``async for`` over an observable; see :func:`to_async_iterable`.

    The subscription references only the inner buffer, never this object, so
    dropping the iterator (as leaving an ``async for`` early does) frees it at
    once and its finaliser disposes the subscription.
    """

    def __init__(self, observable: Observable[T], maxsize: int, overflow: Overflow) -> None:
        self._buffer = _AsyncBuffer(observable, maxsize, overflow)

    @property
    def dropped(self) -> int:
        """How many items the overflow policy discarded so far."""
        return self._buffer.dropped

    @property
    def buffered(self) -> int:
        """How many items wait in the buffer right now."""
        return self._buffer.buffered

    def __aiter__(self) -> AsyncObservableIterator[T]:
        return self

    async def __anext__(self) -> T:
        buffer = self._buffer
        if buffer._items:  # fast path: an item is ready, no extra coroutine
            with buffer._lock:
                if buffer._items:
                    item = buffer._items.popleft()
                    buffer._took_item()
                    return item
        return await buffer.next()

    async def aclose(self) -> None:
        """Dispose the subscription and drop buffered items."""
        self._buffer._close()
        self._buffer._items.clear()

    async def __aenter__(self) -> AsyncObservableIterator[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __del__(self) -> None:
        buffer = getattr(self, "_buffer", None)
        if buffer is not None and not buffer._closed:
            buffer._close()


class ObservableIterator(Iterator[T]):
    """``for`` over an observable in a plain script; see :func:`to_iterator`."""

    def __init__(
        self, observable: Observable[T], maxsize: int, overflow: Overflow, timeout: float | None
    ) -> None:
        self._buffer = _SyncBuffer(observable, maxsize, overflow, timeout)

    @property
    def dropped(self) -> int:
        """How many items the overflow policy discarded so far."""
        return self._buffer.dropped

    @property
    def buffered(self) -> int:
        """How many items wait in the buffer right now."""
        return self._buffer.buffered

    def __iter__(self) -> ObservableIterator[T]:
        return self

    def __next__(self) -> T:
        return self._buffer.next()

    def close(self) -> None:
        """Dispose the subscription and drop buffered items."""
        self._buffer._close()
        self._buffer._items.clear()

    def __enter__(self) -> ObservableIterator[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        buffer = getattr(self, "_buffer", None)
        if buffer is not None and not buffer._closed:
            buffer._close()


def to_async_iterable(
    observable: Observable[T],
    *,
    maxsize: int = DEFAULT_MAXSIZE,
    overflow: Overflow = "block",
) -> AsyncObservableIterator[T]:
    """Iterate an observable with ``async for`` through a bounded buffer.

    The subscription starts at the first ``__anext__`` on the running loop.
    ``maxsize`` is the buffer capacity in items; ``overflow`` picks the policy
    (module docstring).  The returned iterator has ``dropped`` (items lost to
    the policy) and ``buffered``; it is also an async context manager, and
    leaving the ``async for`` early disposes the subscription.
    """
    return AsyncObservableIterator(observable, maxsize, overflow)


def to_iterator(
    observable: Observable[T],
    *,
    maxsize: int = DEFAULT_MAXSIZE,
    overflow: Overflow = "block",
    timeout: float | None = None,
) -> ObservableIterator[T]:
    """Iterate an observable with a plain ``for`` in a script (no running loop).

    rxsse's async sources then run on the background loop thread while this
    thread waits for items.  ``timeout`` (seconds, ``None`` = forever) bounds
    each wait and raises ``TimeoutError``.  Calling it from a thread that runs
    an event loop raises ``RuntimeError`` rather than deadlocking the loop.
    """
    return ObservableIterator(observable, maxsize, overflow, timeout)


async def collect(observable: Observable[T]) -> list[T]:
    """Subscribe, wait for completion on the running loop, return every item.

    The list is unbounded (use ``take(n)`` for endless streams).  An error
    from the observable is raised; cancelling the awaiting task disposes the
    subscription.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    items: list[T] = []

    def settle(error: Exception | None) -> None:
        if done.done():
            return
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)

    def finish(error: Exception | None) -> None:
        if running_loop() is loop:
            settle(error)
        elif not loop.is_closed():
            loop.call_soon_threadsafe(settle, error)

    subscription = observable.subscribe(
        on_next=items.append,
        on_error=finish,
        on_completed=lambda: finish(None),
    )
    try:
        await done
    finally:
        subscription.dispose()
    return items
