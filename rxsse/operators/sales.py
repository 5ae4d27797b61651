"""Rx operators for live sales (thin wrappers over :mod:`rxsse.domain.sales`).

::

    events ──s──s──u──s──m──s─────────|     (ServerSentEvent: sale, stats-update, milestone)
    parse_sales()
           ──S──S─────S─────S─────────|     (Sale)
    sales_windows(1.0)
           ────────W0───────W1──W2─W3─|     (SalesWindow per window, as the watermark passes
                                              its end; idle: zero-count windows; flush at |)
    sales_per_second(1.0)
           ────────r0───────r1──r2─r3─|     (SalesRate: count / window length)
    sales_totals()
           ──T──T─────T─────T─────────|     (SalesAggregate: exact running totals)
    top_countries(3)
           ──K──K─────K───────────────|     (TopCountries, when the top 3 changed)

Window semantics (alignment, watermark, lateness, updates, the late output, flushing)
are those of :class:`~rxsse.domain.sales.SalesWindower`, described in
:mod:`rxsse.domain.sales`.  Times are given in seconds (or ``timedelta``).

**Scheduler.**  Timers use ``scheduler``, else the subscription's scheduler, else the
timeout scheduler (whose timers run on other threads; a lock serialises them with the
stream).  Under an asyncio loop pass ``AsyncIOScheduler(loop)`` so every emission
happens on the loop's thread.  Under ``TestScheduler`` everything is deterministic.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Literal, TypeVar

from reactivex import Observable, abc
from reactivex import operators as ops
from reactivex.disposable import CompositeDisposable, Disposable, SerialDisposable
from reactivex.scheduler import TimeoutScheduler, VirtualTimeScheduler
from reactivex.subject import Subject

from rxsse._event import ServerSentEvent
from rxsse.domain.sales import (
    LateSale,
    Milestone,
    Sale,
    SalesAccumulator,
    SalesAggregate,
    SalesRate,
    SalesWindow,
    SalesWindower,
    StatsUpdate,
    TopCountries,
    TopCountriesTracker,
    parse_sales_event,
    to_millis,
)

__all__ = [
    "LateSales",
    "parse_sales",
    "sales_events",
    "sales_per_second",
    "sales_totals",
    "sales_windows",
    "top_countries",
]

_T = TypeVar("_T")
_R = TypeVar("_R")
Seconds = float | timedelta
TimeDomain = Literal["event", "processing"]


def _clock_ms(scheduler: abc.SchedulerBase) -> Callable[[], int]:
    """The scheduler's clock in whole milliseconds."""
    if isinstance(scheduler, VirtualTimeScheduler):
        return lambda: round(scheduler.to_seconds(scheduler.clock) * 1000)
    return lambda: round(scheduler.to_seconds(scheduler.now) * 1000)


def _schedule(
    timer: SerialDisposable, scheduler: abc.SchedulerBase, delay_ms: int, action: Callable[[], None]
) -> None:
    def run(_: abc.SchedulerBase, __: Any = None) -> None:
        action()

    timer.disposable = scheduler.schedule_relative(max(delay_ms, 1) / 1000, run)


def sales_events() -> Callable[
    [Observable[ServerSentEvent]], Observable[Sale | StatsUpdate | Milestone]
]:
    """``sale``, ``stats-update`` and ``milestone`` events as their models; others skipped.

    Data that does not fit its model ends the stream with the
    :class:`pydantic.ValidationError`.
    """

    def operator(
        source: Observable[ServerSentEvent],
    ) -> Observable[Sale | StatsUpdate | Milestone]:
        return source.pipe(ops.filter(_is_sales_event), ops.map(_parse_sales_event))

    return operator


def parse_sales() -> Callable[[Observable[ServerSentEvent]], Observable[Sale]]:
    """The ``sale`` events as :class:`~rxsse.domain.sales.Sale` values; other events skipped."""

    def operator(source: Observable[ServerSentEvent]) -> Observable[Sale]:
        return source.pipe(ops.filter(_is_sale), ops.map(_parse_sale))

    return operator


_SALES_EVENTS = frozenset({"sale", "stats-update", "milestone"})


def _is_sales_event(event: ServerSentEvent) -> bool:
    return event.event in _SALES_EVENTS


def _parse_sales_event(event: ServerSentEvent) -> Sale | StatsUpdate | Milestone:
    model = parse_sales_event(event)
    assert model is not None  # _is_sales_event let only known types through
    return model


def _is_sale(event: ServerSentEvent) -> bool:
    return event.event == "sale"


def _parse_sale(event: ServerSentEvent) -> Sale:
    return Sale.model_validate_json(event.data)


def _first_result(window: SalesWindow) -> bool:
    return not window.is_update


class LateSales(Subject[LateSale]):
    """The late output of :func:`sales_windows`: sales too late for their windows.

    Pass one as ``late=`` and subscribe to it; ``total`` is the number of late sales
    it has received (whether or not anybody subscribed).  Every subscription of the
    windowed stream reports here; it is never completed by them.
    """

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def on_next(self, value: LateSale) -> None:
        self.total += 1
        super().on_next(value)


def sales_windows(
    size: Seconds = 1.0,
    slide: Seconds | None = None,
    time: TimeDomain = "event",
    max_delay: Seconds = 1.0,
    allowed_lateness: Seconds = 0.0,
    scheduler: abc.SchedulerBase | None = None,
    *,
    idle_timeout: Seconds | None = 0.5,
    top_k: int = 10,
    late: abc.ObserverBase[LateSale] | None = None,
) -> Callable[[Observable[Sale]], Observable[SalesWindow]]:
    """Window sales into :class:`~rxsse.domain.sales.SalesWindow` results.

    Tumbling windows of ``size`` seconds, or hopping ones sliding by ``slide``,
    aligned to the epoch, half-open.  ``time="event"`` windows by each sale's
    timestamp with the watermark ``max_seen - max_delay``; a window is emitted when
    the watermark passes its end, and again (``update`` incremented) for each sale
    arriving within ``allowed_lateness`` after that.  Sales later than that go to
    ``late`` (e.g. a :class:`LateSales`) as :class:`~rxsse.domain.sales.LateSale`.

    **Idle streams.**  Every ``idle_timeout`` seconds of the scheduler's clock the
    operator checks whether a sale raised ``max_seen``; when none did, event time is
    taken to move on with the clock from the last check that saw one, so windows keep
    completing (with zero counts) and a rate falls to zero when sales stop.  Since the
    last active check may come up to ``idle_timeout`` after the last sale, a window
    then completes up to ``idle_timeout`` later than it would have had sales continued.
    ``idle_timeout=None`` turns this off (the watermark then moves only with sales).

    ``time="processing"`` windows sales by their arrival time on the scheduler's clock,
    from the subscription on; windows are emitted at their ends by a timer, and no
    sale is ever late.

    On completion every window not yet emitted that has started is flushed, then the
    stream completes.  An error is passed on at once (nothing is flushed); an
    exception while windowing (an item that is not a sale) ends the stream with it.
    """
    size_ms = to_millis(size)
    slide_ms = size_ms if slide is None else to_millis(slide)
    delay_ms = to_millis(max_delay)
    lateness_ms = to_millis(allowed_lateness)
    idle_ms = None if idle_timeout is None else to_millis(idle_timeout)
    if time not in ("event", "processing"):
        raise ValueError(f"time must be 'event' or 'processing', not {time!r}")
    if idle_ms is not None and idle_ms <= 0:
        raise ValueError("idle_timeout must be positive (or None)")
    SalesWindower.check(size_ms, slide_ms, delay_ms, lateness_ms, top_k)
    processing = time == "processing"

    def operator(source: Observable[Sale]) -> Observable[SalesWindow]:
        def subscribe(
            observer: abc.ObserverBase[SalesWindow], scheduler_: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            sched = scheduler or scheduler_ or TimeoutScheduler.singleton()
            clock = _clock_ms(sched)
            lock = threading.RLock()
            timer = SerialDisposable()
            upstream = SerialDisposable()
            windower = SalesWindower(
                size_ms,
                slide_ms,
                max_delay=0 if processing else delay_ms,
                allowed_lateness=0 if processing else lateness_ms,
                top_k=top_k,
                emit=observer.on_next,
                late=None if late is None else late.on_next,
            )
            stopped = False

            def fail(error: Exception) -> None:
                nonlocal stopped
                if not stopped:
                    stopped = True
                    timer.dispose()
                    upstream.dispose()
                    observer.on_error(error)

            # -- event time: watermark from sales, and from the clock when idle
            add = windower.add
            anchor_base = anchor_clock = 0  # max_seen and clock at the last active check
            checked: int | None = None  # max_seen at the last check

            def idle_check() -> None:
                nonlocal anchor_base, anchor_clock, checked
                with lock:
                    if stopped:
                        return
                    assert idle_ms is not None
                    now = clock()
                    base = windower.max_seen
                    delay = idle_ms
                    try:
                        if base is not None and base == checked:  # idle for a whole period
                            windower.advance(anchor_base + now - anchor_clock)
                            checked = windower.max_seen
                            due = windower.completes_at
                            if due is not None:  # wake when the next window completes
                                delay = anchor_clock + due - anchor_base - now
                        elif base is not None:
                            anchor_base, anchor_clock, checked = base, now, base
                    except Exception as error:
                        fail(error)
                        return
                    _schedule(timer, sched, delay, idle_check)

            def on_next_event(sale: Sale) -> None:
                with lock:
                    try:
                        add(sale)
                    except Exception as error:
                        fail(error)

            # -- processing time: arrival on the clock, windows closed by a timer
            def tick() -> None:
                with lock:
                    if stopped:
                        return
                    now = clock()
                    try:
                        windower.advance(now)
                    except Exception as error:
                        fail(error)
                        return
                    due = windower.completes_at
                    _schedule(timer, sched, (due if due is not None else now) - now, tick)

            def on_next_processing(sale: Sale) -> None:
                with lock:
                    try:
                        windower.add_at(sale, clock())
                    except Exception as error:
                        fail(error)

            def on_error(error: Exception) -> None:
                with lock:
                    fail(error)

            def on_completed() -> None:
                nonlocal stopped
                with lock:
                    if stopped:
                        return
                    try:
                        if processing:
                            windower.advance(clock())
                        windower.flush()
                    except Exception as error:
                        fail(error)
                        return
                    stopped = True
                    timer.dispose()
                    observer.on_completed()

            if processing:
                now = clock()
                windower.start_at(now)
                windower.advance(now)
                _schedule(timer, sched, (windower.completes_at or now) - now, tick)
            elif idle_ms is not None:
                _schedule(timer, sched, idle_ms, idle_check)
            on_next = on_next_processing if processing else on_next_event
            upstream.disposable = source.subscribe(
                on_next, on_error, on_completed, scheduler=scheduler_
            )

            def dispose() -> None:
                nonlocal stopped
                with lock:
                    stopped = True
                timer.dispose()
                upstream.dispose()

            return Disposable(dispose)

        return Observable(subscribe)

    return operator


def sales_per_second(
    size: Seconds = 1.0,
    slide: Seconds | None = None,
    time: TimeDomain = "event",
    max_delay: Seconds = 1.0,
    allowed_lateness: Seconds = 0.0,
    scheduler: abc.SchedulerBase | None = None,
    *,
    idle_timeout: Seconds | None = 0.5,
    late: abc.ObserverBase[LateSale] | None = None,
) -> Callable[[Observable[Sale]], Observable[SalesRate]]:
    """The live rate: each window's count divided by its length, as it completes.

    The windows are those of :func:`sales_windows` with the same arguments; updates
    of windows already reported (late sales) are not emitted: the live rate is about
    the latest completed window.  Idle streams report zero.
    """
    windows = sales_windows(
        size,
        slide,
        time,
        max_delay,
        allowed_lateness,
        scheduler,
        idle_timeout=idle_timeout,
        late=late,
    )

    def operator(source: Observable[Sale]) -> Observable[SalesRate]:
        return source.pipe(
            windows,
            ops.filter(_first_result),
            ops.map(SalesRate.of),
        )

    return operator


def _snapshots(
    make: Callable[[], tuple[Callable[[_T], bool], Callable[[], _R]]],
    every: Seconds | None,
    scheduler: abc.SchedulerBase | None,
) -> Callable[[Observable[_T]], Observable[_R]]:
    """Per subscription ``update, snapshot = make()``; emit a snapshot after each item that
    changed the state, or at most every ``every`` seconds (and once more at completion)."""
    every_ms = None if every is None else to_millis(every)
    if every_ms is not None and every_ms <= 0:
        raise ValueError("every must be positive (or None)")

    def operator(source: Observable[_T]) -> Observable[_R]:
        def subscribe(
            observer: abc.ObserverBase[_R], scheduler_: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            update, snapshot = make()
            if every_ms is None:

                def on_next(item: _T) -> None:
                    try:
                        if not update(item):
                            return
                        value = snapshot()
                    except Exception as error:
                        observer.on_error(error)
                        return
                    observer.on_next(value)

                return source.subscribe(
                    on_next, observer.on_error, observer.on_completed, scheduler=scheduler_
                )

            sched = scheduler or scheduler_ or TimeoutScheduler.singleton()
            lock = threading.RLock()
            dirty = False

            def on_next_sampled(item: _T) -> None:
                nonlocal dirty
                with lock:
                    try:
                        dirty = update(item) or dirty
                    except Exception as error:
                        timer.dispose()
                        observer.on_error(error)

            def emit_if_dirty() -> None:
                nonlocal dirty
                if dirty:
                    dirty = False
                    observer.on_next(snapshot())

            def sample() -> None:
                with lock:
                    emit_if_dirty()
                    _schedule(timer, sched, every_ms, sample)

            def on_error(error: Exception) -> None:
                with lock:
                    timer.dispose()
                    observer.on_error(error)

            def on_completed() -> None:
                with lock:
                    timer.dispose()
                    emit_if_dirty()
                    observer.on_completed()

            timer = SerialDisposable()
            _schedule(timer, sched, every_ms, sample)
            subscription = source.subscribe(
                on_next_sampled, on_error, on_completed, scheduler=scheduler_
            )
            return CompositeDisposable(timer, subscription)

        return Observable(subscribe)

    return operator


def sales_totals(
    every: Seconds | None = None, scheduler: abc.SchedulerBase | None = None
) -> Callable[[Observable[Sale]], Observable[SalesAggregate]]:
    """Exact running totals over every sale so far, independent of any window.

    Emits a :class:`~rxsse.domain.sales.SalesAggregate` after each sale, or with
    ``every`` at most once per ``every`` seconds (the latest totals, only when they
    changed) and once more at completion.  Late sales count here too.  A snapshot
    copies the per-key counters, so with many distinct products prefer ``every``.
    """

    def make() -> tuple[Callable[[Sale], bool], Callable[[], SalesAggregate]]:
        accumulator = SalesAccumulator()

        def update(sale: Sale) -> bool:
            accumulator.add(sale)
            return True

        return update, accumulator.snapshot

    return _snapshots(make, every, scheduler)


def top_countries(
    k: int = 10, every: Seconds | None = None, scheduler: abc.SchedulerBase | None = None
) -> Callable[[Observable[Sale]], Observable[TopCountries]]:
    """The running top ``k`` countries by number of sales, over every sale so far.

    Emits a :class:`~rxsse.domain.sales.TopCountries` whenever the ranking changed
    (a member's count, the order or the membership), or with ``every`` at most once
    per ``every`` seconds.  Ties are broken by country code.  O(k) per sale.
    """
    TopCountriesTracker(k)  # validate k when the operator is made

    def make() -> tuple[Callable[[Sale], bool], Callable[[], TopCountries]]:
        tracker = TopCountriesTracker(k)
        return (lambda sale: tracker.add(sale.country)), tracker.snapshot

    return _snapshots(make, every, scheduler)
