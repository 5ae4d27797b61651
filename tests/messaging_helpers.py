"""Virtual-time helpers shared by the messaging tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from reactivex import Observable, abc
from reactivex.subject import Subject
from reactivex.testing import TestScheduler

_T = TypeVar("_T")


def live_timers(scheduler: TestScheduler) -> int:
    """Actions scheduled on ``scheduler`` that are neither run nor cancelled.

    Reads the virtual-time scheduler's queue (disposed actions stay queued
    there, flagged cancelled, until their time comes).
    """
    return sum(not item.is_cancelled() for item, _ in scheduler._queue.items)


class Harness:
    """Push items into an operator at chosen virtual times and record what it emits.

    The subscription is made at time 0, before any item; ``at(t, item)``
    schedules ``item`` at absolute time ``t``; ``run(until)`` advances the
    clock.  ``out`` holds ``(time, value)`` pairs, ``completed`` and
    ``error`` the terminal notification.
    """

    def __init__(
        self,
        operator: Callable[[Observable[Any]], Observable[_T]],
        scheduler: TestScheduler | None = None,
    ) -> None:
        self.scheduler = scheduler or TestScheduler()
        self.subject: Subject[Any] = Subject()
        self.out: list[tuple[float, Any]] = []
        self.completed: float | None = None
        self.error: Exception | None = None
        self._inputs: set[int] = set()  # ids of the actions that push inputs
        self.subscription: abc.DisposableBase = self.subject.pipe(operator).subscribe(
            on_next=lambda value: self.out.append((self.now, value)),
            on_error=self._on_error,
            on_completed=self._on_completed,
        )

    @property
    def now(self) -> float:
        return float(self.scheduler.clock)

    def _on_error(self, error: Exception) -> None:
        self.error = error

    def _on_completed(self) -> None:
        self.completed = self.now

    def timers(self) -> int:
        """Live scheduled actions of the operator (the harness's own input pushes excluded)."""
        return sum(
            not item.is_cancelled() and id(item.action) not in self._inputs
            for item, _ in self.scheduler._queue.items
        )

    def _schedule(self, time: float, action: Callable[..., None]) -> None:
        self._inputs.add(id(action))
        self.scheduler.schedule_absolute(time, action)

    def at(self, time: float, item: Any) -> Harness:
        self._schedule(time, lambda *_: self.subject.on_next(item))
        return self

    def all_at(self, items: Sequence[tuple[float, Any]]) -> Harness:
        for time, item in items:
            self.at(time, item)
        return self

    def complete_at(self, time: float) -> Harness:
        self._schedule(time, lambda *_: self.subject.on_completed())
        return self

    def error_at(self, time: float, error: Exception) -> Harness:
        self._schedule(time, lambda *_: self.subject.on_error(error))
        return self

    def dispose_at(self, time: float) -> Harness:
        self._schedule(time, lambda *_: self.subscription.dispose())
        return self

    def run(self, until: float) -> Harness:
        self.scheduler.advance_to(until)
        return self
