"""Where asynchronous sources run, and how they yield to slow consumers.

Concurrency rules (see ``design.md`` section 4):

* An async source runs as a task on the asyncio loop that is running in the
  thread that subscribes (a Jupyter kernel's loop, a service's loop).
* With no running loop (a plain script), it runs on **one background loop**
  in a daemon thread named ``rxsse-loop``, started on first use and shared
  by every such subscription of the process.  Its emissions then happen on
  that thread.
* Nothing here ever calls ``asyncio.run()`` or starts a second loop in a
  thread that already runs one.  Crossing threads goes through
  ``loop.call_soon_threadsafe`` (or ``run_coroutine_threadsafe``).

Cooperative backpressure: a bounded consumer (see :mod:`rxsse.aio`) sets
:data:`BACKPRESSURE` while it subscribes; the async tasks started by that
subscription inherit the context and call :func:`cooperate` after each
batch of emissions, which waits while the consumer's buffer is full.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from typing import Any, Protocol

__all__ = [
    "BACKPRESSURE",
    "Backpressure",
    "TaskHandle",
    "background_loop",
    "cooperate",
    "running_loop",
    "spawn",
]


class Backpressure(Protocol):
    """What a bounded consumer offers to the producers feeding it."""

    def wait_for_capacity(self) -> Awaitable[None] | None:
        """Return an awaitable that resolves once there is room, or ``None``."""


BACKPRESSURE: ContextVar[Backpressure | None] = ContextVar("rxsse_backpressure", default=None)


async def cooperate() -> None:
    """Wait while the consumer this task feeds is full (no-op without one)."""
    consumer = BACKPRESSURE.get()
    if consumer is not None:
        waiter = consumer.wait_for_capacity()
        if waiter is not None:
            await waiter


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The loop running in this thread, or ``None``."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


_background_lock = threading.Lock()
_background: asyncio.AbstractEventLoop | None = None


def background_loop() -> asyncio.AbstractEventLoop:
    """The process-wide loop for subscriptions made outside any running loop."""
    global _background
    with _background_lock:
        if _background is None or _background.is_closed():
            loop = asyncio.new_event_loop()
            started = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(started.set)
                loop.run_forever()

            thread = threading.Thread(target=run, name="rxsse-loop", daemon=True)
            thread.start()
            started.wait()
            _background = loop
        return _background


class TaskHandle:
    """A task started by :func:`spawn`; ``cancel()`` is safe from any thread."""

    __slots__ = ("_future", "loop")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        future: asyncio.Future[Any] | Any,
    ) -> None:
        self.loop = loop
        self._future = future

    def cancel(self) -> None:
        """Request cancellation; returns at once, the task unwinds on its loop."""
        future = self._future
        if isinstance(future, asyncio.Future):
            if running_loop() is self.loop:
                future.cancel()
            elif not self.loop.is_closed():
                self.loop.call_soon_threadsafe(future.cancel)
        else:  # concurrent.futures.Future from run_coroutine_threadsafe
            future.cancel()

    def done(self) -> bool:
        """Whether the task has finished (or was cancelled)."""
        return bool(self._future.done())


def spawn(factory: Callable[[], Coroutine[Any, Any, None]]) -> TaskHandle:
    """Run ``factory()`` as a task on the running loop, else the background loop.

    Returns immediately; the coroutine starts on the loop's next iteration.
    The task inherits the caller's context variables.
    """
    loop = running_loop()
    if loop is not None:
        return TaskHandle(loop, loop.create_task(factory()))
    loop = background_loop()
    return TaskHandle(loop, asyncio.run_coroutine_threadsafe(factory(), loop))
