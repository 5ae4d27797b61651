"""Typing indicators at scale: ``typing_users`` against a one-timer-per-event implementation.

Run from the repository root with ``python -m benchmarks.messaging`` (add
``--quick`` for a smoke run on 50,000 events).

Workload (generated with a fixed seed): 100,000 (conversation, user) pairs,
20,000 conversations of 5 typers each.  Every pair types in two bursts of
five ``typing: true`` events one second apart, starting at random times in a
200 s window; 30 % of the bursts end with ``typing: false``, the rest expire
after 3 s.  That is 1,000,000 events in virtual time, ~5,000 per virtual
second, ~7,000 typers present at any moment, and ~400,000 set changes.

Both implementations are Rx operators subscribed to the same source, on the
same virtual-time scheduler (:class:`CountingScheduler`: a float clock and a
heap, which counts the actions that are scheduled and neither run nor
cancelled).  The source is cold, as ``from_url(...)`` is: when subscribed, it
advances the clock to each event's time (running the timers due by then) and
calls ``on_next`` with the event, then advances past the last expiry and
completes.  (A hot ``Subject`` in between would add a lock and a copy of its
observer list to every event: about 0.5-0.8 µs here, which is harness, not
operator.)

``rxsse``
    ``typing_users(expiry=3.0)``: a deadline heap in the domain machine and
    one scheduled wake-up for its earliest deadline.
``naive``
    what a client does without it: every event schedules its own expiry
    timer at ``now + 3`` (nothing is cancelled; a timer that finds the user
    refreshed since does nothing, so the output is still correct).

Before timing, both run on a 50,000-event workload and must emit the same
updates (conversation, users, time) in the same order.  Reported per
implementation: events/s of the whole loop (scheduling, timers and
emissions included; best of ``--repeats`` runs, implementations taking
turns, garbage collection off while timed), the peak number of live
scheduled timers, and timers scheduled in total.
"""

from __future__ import annotations

if not __package__:  # run as a file, `python benchmarks/NAME.py`: import from the repository
    # root instead of benchmarks/, where http.py would shadow the standard library's http
    import sys as _sys
    from pathlib import Path as _Path

    _sys.path[0] = str(_Path(__file__).resolve().parent.parent)

import argparse
import gc
import heapq
import platform
import random
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from reactivex import Observable, abc, typing
from reactivex.disposable import CompositeDisposable, Disposable
from reactivex.scheduler import VirtualTimeScheduler

from benchmarks._common import positive_int as _positive_int
from rxsse.domain.messaging import TypingEvent, TypingUpdate
from rxsse.operators.messaging import typing_users

__all__ = ["CountingScheduler", "main", "naive_typing_users"]

EXPIRY = 3.0
FULL_PAIRS = 100_000
QUICK_PAIRS = 5_000
USERS_PER_CONVERSATION = 5
BURSTS_PER_PAIR = 2
EVENTS_PER_BURST = 5
WINDOW = 200.0  # virtual seconds over which bursts start
FULL_REPEATS = 5
QUICK_REPEATS = 1
TARGET_EVENTS_PER_S = 300_000
TARGET_PEAK_TIMERS = 1


class _Timer(abc.DisposableBase):
    __slots__ = ("action", "done", "scheduler", "state")

    def __init__(self, scheduler: CountingScheduler, action: Any, state: Any) -> None:
        self.scheduler = scheduler
        self.action = action
        self.state = state
        self.done = False

    def dispose(self) -> None:
        if not self.done:
            self.done = True
            self.scheduler.live -= 1


class CountingScheduler(VirtualTimeScheduler):
    """A lean virtual-time scheduler (float seconds) that counts its live timers.

    ``live`` is the number of actions scheduled and neither run nor disposed,
    ``peak`` its maximum so far, ``scheduled`` the total ever scheduled.
    """

    def __init__(self) -> None:
        super().__init__(0.0)
        self._heap: list[tuple[float, int, _Timer]] = []
        self._count = 0
        self.live = 0
        self.peak = 0
        self.scheduled = 0

    @property
    def clock(self) -> float:
        return float(self._clock)  # type: ignore[arg-type]

    def schedule(self, action: abc.ScheduledAction[Any], state: Any = None) -> abc.DisposableBase:
        return self.schedule_absolute(self.clock, action, state)

    def schedule_relative(
        self, duetime: typing.RelativeTime, action: abc.ScheduledAction[Any], state: Any = None
    ) -> abc.DisposableBase:
        return self.schedule_absolute(self.clock + self.to_seconds(duetime), action, state)

    def schedule_absolute(
        self, duetime: typing.AbsoluteTime, action: abc.ScheduledAction[Any], state: Any = None
    ) -> abc.DisposableBase:
        due = duetime if isinstance(duetime, float) else self.to_seconds(duetime)
        timer = _Timer(self, action, state)
        self._count += 1
        heapq.heappush(self._heap, (due, self._count, timer))
        self.scheduled += 1
        self.live += 1
        if self.live > self.peak:
            self.peak = self.live
        return timer

    def advance_to(self, time: typing.AbsoluteTime) -> None:
        until = time if isinstance(time, float) else self.to_seconds(time)
        heap = self._heap
        while heap and heap[0][0] <= until:
            due, _, timer = heapq.heappop(heap)
            if due > self._clock:  # type: ignore[operator]
                self._clock = due
            if not timer.done:
                timer.done = True
                self.live -= 1
                timer.action(self, timer.state)
        self._clock = until


def naive_typing_users(
    expiry: float, scheduler: abc.SchedulerBase
) -> Callable[[Observable[TypingEvent]], Observable[TypingUpdate]]:
    """The same output as ``typing_users`` for typing events, one timer per event."""

    def operator(source: Observable[TypingEvent]) -> Observable[TypingUpdate]:
        def subscribe(
            observer: abc.ObserverBase[TypingUpdate], _: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            present: dict[str, dict[str, int]] = {}  # conversation -> user -> token
            tokens = [0]
            timers: list[abc.DisposableBase] = []
            clock = scheduler.to_seconds

            def emit(conversation: str, at: float) -> None:
                users = tuple(present.get(conversation, ()))
                observer.on_next(
                    TypingUpdate.model_construct(conversation=conversation, users=users, at=at)
                )

            def on_next(event: TypingEvent) -> None:
                now = clock(scheduler.clock)  # type: ignore[attr-defined]
                users = present.setdefault(event.conversation, {})
                if not event.typing:
                    if users.pop(event.user, None) is not None:
                        emit(event.conversation, now)
                    return
                tokens[0] += 1
                token = tokens[0]
                added = event.user not in users
                users[event.user] = token
                if added:
                    emit(event.conversation, now)
                deadline = now + expiry

                def expire(_: abc.SchedulerBase, __: Any = None) -> None:
                    if users.get(event.user) == token:
                        del users[event.user]
                        emit(event.conversation, deadline)

                timers.append(scheduler.schedule_absolute(deadline, expire))

            subscription = source.subscribe(on_next, observer.on_error, observer.on_completed)

            def cancel_all() -> None:
                for timer in timers:
                    timer.dispose()

            return CompositeDisposable(subscription, Disposable(cancel_all))

        return Observable(subscribe)

    return operator


# -- workload -------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """Events as parallel arrays: time (s) and index into ``events``."""

    pairs: int
    times: array[float]
    which: array[int]
    events: list[TypingEvent]

    def __len__(self) -> int:
        return len(self.times)


def make_workload(pairs: int, seed: int = 9) -> Workload:
    rng = random.Random(seed)
    events: list[TypingEvent] = []
    rows: list[tuple[float, int]] = []
    for pair in range(pairs):
        conversation = f"c{pair // USERS_PER_CONVERSATION}"
        user = f"u{pair % USERS_PER_CONVERSATION}"
        on = len(events)
        events.append(TypingEvent(conversation=conversation, user=user, typing=True))
        events.append(TypingEvent(conversation=conversation, user=user, typing=False))
        for _ in range(BURSTS_PER_PAIR):
            start = rng.uniform(0.0, WINDOW)
            for k in range(EVENTS_PER_BURST - 1):
                rows.append((start + k * rng.uniform(0.8, 1.2), on))
            last = start + (EVENTS_PER_BURST - 1) * 1.0 + rng.uniform(0.0, 0.5)
            rows.append((last, on + 1 if rng.random() < 0.3 else on))
    rows.sort()
    return Workload(
        pairs, array("d", (t for t, _ in rows)), array("l", (i for _, i in rows)), events
    )


Operator = Callable[[CountingScheduler], Callable[[Observable[Any]], Observable[TypingUpdate]]]

IMPLEMENTATIONS: tuple[tuple[str, Operator], ...] = (
    ("rxsse", lambda s: typing_users(expiry=EXPIRY, scheduler=s)),
    ("naive", lambda s: naive_typing_users(EXPIRY, s)),
)


@dataclass
class Run:
    seconds: float
    emitted: int
    peak_timers: int
    scheduled: int
    live_after_dispose: int


def drive(
    workload: Workload, make: Operator, record: list[tuple[str, tuple[str, ...], float]] | None
) -> Run:
    """Push every event at its time; flush the expiries; complete; dispose."""
    scheduler = CountingScheduler()
    emitted = [0]

    def count(_: TypingUpdate) -> None:
        emitted[0] += 1

    def keep(update: TypingUpdate) -> None:
        emitted[0] += 1
        assert record is not None
        record.append((update.conversation, update.users, update.at))

    def replay(
        observer: abc.ObserverBase[TypingEvent], _: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        on_next = observer.on_next
        advance = scheduler.advance_to
        events = workload.events
        for at, index in zip(workload.times, workload.which, strict=True):
            advance(at)
            on_next(events[index])
        advance(workload.times[-1] + EXPIRY + 1.0)
        observer.on_completed()
        return Disposable()

    sink = count if record is None else keep
    start = time.perf_counter()
    subscription = Observable(replay).pipe(make(scheduler)).subscribe(sink)
    elapsed = time.perf_counter() - start
    subscription.dispose()
    return Run(elapsed, emitted[0], scheduler.peak, scheduler.scheduled, scheduler.live)


def check(pairs: int) -> None:
    """Both implementations emit the same updates, in the same order."""
    workload = make_workload(pairs, seed=3)
    outputs = []
    for name, make in IMPLEMENTATIONS:
        record: list[tuple[str, tuple[str, ...], float]] = []
        run = drive(workload, make, record)
        if run.live_after_dispose:
            raise RuntimeError(f"{name}: {run.live_after_dispose} timers left after dispose")
        outputs.append(record)
    if outputs[0] != outputs[1]:
        raise RuntimeError("rxsse and naive disagree on the check workload")
    if not outputs[0]:
        raise RuntimeError("the check workload produced no updates")


def time_best(workload: Workload, repeats: int) -> list[Run]:
    best: list[Run | None] = [None] * len(IMPLEMENTATIONS)
    gc_was_enabled = gc.isenabled()
    try:
        for _ in range(repeats):
            for index, (_, make) in enumerate(IMPLEMENTATIONS):
                gc.collect()
                gc.disable()
                run = drive(workload, make, None)
                if gc_was_enabled:
                    gc.enable()
                current = best[index]
                if current is None or run.seconds < current.seconds:
                    best[index] = run
    finally:
        if gc_was_enabled:
            gc.enable()
    return [run for run in best if run is not None]


def format_table(workload: Workload, runs: Sequence[Run]) -> str:
    rxsse, naive = runs
    lines = [
        "| implementation | events | events/s | peak live timers | timers scheduled "
        "| updates | target |",
        "|---|--:|--:|--:|--:|--:|:-:|",
    ]
    for (name, _), run in zip(IMPLEMENTATIONS, runs, strict=True):
        rate = len(workload) / run.seconds
        if name == "rxsse":
            ok = rate >= TARGET_EVENTS_PER_S and run.peak_timers <= TARGET_PEAK_TIMERS
            target = f"≥{TARGET_EVENTS_PER_S:,} ev/s, ≤{TARGET_PEAK_TIMERS} timer " + (
                "ok" if ok else "MISS"
            )
        else:
            target = "-"
        lines.append(
            f"| {name} | {len(workload):,} | {rate:,.0f} | {run.peak_timers:,} | "
            f"{run.scheduled:,} | {run.emitted:,} | {target} |"
        )
    speedup = naive.seconds / rxsse.seconds
    lines.append("")
    lines.append(
        f"rxsse/naive speed: {speedup:.2f}x; peak timers {rxsse.peak_timers} vs "
        f"{naive.peak_timers:,} ({workload.pairs:,} pairs)."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Generate the workload, check both implementations agree, time them, print a table."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.messaging", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="50,000 events, one run")
    parser.add_argument(
        "--repeats", type=_positive_int, default=None, help="runs per implementation"
    )
    args = parser.parse_args(argv)
    pairs = QUICK_PAIRS if args.quick else FULL_PAIRS
    repeats = args.repeats or (QUICK_REPEATS if args.quick else FULL_REPEATS)
    check(QUICK_PAIRS)
    workload = make_workload(pairs)
    runs = time_best(workload, repeats)
    print(
        f"## typing_users: {len(workload):,} typing events, {pairs:,} pairs "
        f"(CPython {platform.python_version()}, best of {repeats})\n"
    )
    print(format_table(workload, runs))


if __name__ == "__main__":
    main()
