"""sales_windows, sales_per_second, sales_totals, top_countries in virtual time.

TestScheduler ticks are seconds; sales carry millisecond timestamps.  Where the idle
watermark matters, a sale sent at virtual time ``t`` has the timestamp ``t * 1000``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, cast

import pytest
import reactivex
from reactivex import Observable
from reactivex import operators as ops
from reactivex.notification import Notification, OnError, OnNext
from reactivex.testing import ReactiveTest, TestScheduler
from reactivex.testing.recorded import Recorded

from rxsse import ServerSentEvent
from rxsse.domain.sales import (
    CountryCount,
    LateSale,
    Milestone,
    Sale,
    SalesAggregate,
    SalesRate,
    SalesWindow,
    StatsUpdate,
    TopCountries,
)
from rxsse.operators.sales import (
    LateSales,
    parse_sales,
    sales_events,
    sales_per_second,
    sales_totals,
    sales_windows,
    top_countries,
)


# TestScheduler takes float ticks (seconds); reactivex annotates them as int.
def on_next(ticks: float, value: Any) -> Recorded[Any]:
    return ReactiveTest.on_next(cast(int, ticks), value)


def on_completed(ticks: float) -> Recorded[Any]:
    return ReactiveTest.on_completed(cast(int, ticks))


def on_error(ticks: float, error: Exception) -> Recorded[Any]:
    return ReactiveTest.on_error(cast(int, ticks), error)


T0 = 1_700_000_000_000


def sale(ts: int, country: str = "US", amount: str = "10.00", currency: str = "USD") -> Sale:
    return Sale(timestamp=ts, amount=Decimal(amount), currency=currency, country=country)


def values(messages: list[Recorded[Any]]) -> list[Any]:
    return [m.value.value for m in messages if isinstance(m.value, OnNext)]


def kinds(messages: list[Recorded[Any]]) -> list[tuple[float, str]]:
    return [(round(m.time, 6), m.value.kind) for m in messages if isinstance(m.value, Notification)]


def error_of(message: Recorded[Any]) -> Exception:
    assert isinstance(message.value, OnError)
    return message.value.exception


def rel(window: SalesWindow) -> tuple[int, int]:
    """The window's bounds in ms relative to T0."""
    return (
        round(window.start.timestamp() * 1000) - T0,
        round(window.end.timestamp() * 1000) - T0,
    )


def windows_of(messages: list[Recorded[Any]]) -> list[tuple[float, tuple[int, int], int, int]]:
    """(time, bounds, count, update) per emitted window."""
    return [
        (round(m.time, 6), rel(m.value.value), m.value.value.count, m.value.value.update)
        for m in messages
        if isinstance(m.value, OnNext)
    ]


# -- sales_windows ---------------------------------------------------------------------


def test_windows_are_epoch_aligned_and_an_event_at_end_belongs_to_the_next() -> None:
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(
        on_next(210, sale(T0 + 999)),
        on_next(220, sale(T0 + 1000)),  # exactly at the end of [0, 1000): next window
        on_next(230, sale(T0 + 1999)),
        on_next(240, sale(T0 + 2000)),
        on_completed(300),
    )
    results = scheduler.start(
        lambda: xs.pipe(sales_windows(1.0, max_delay=0, idle_timeout=None, scheduler=scheduler))
    )
    assert windows_of(results.messages) == [
        (220, (0, 1000), 1, 0),  # the watermark reached 1000 = end: complete
        (240, (1000, 2000), 2, 0),
        (300, (2000, 3000), 1, 0),  # flushed at completion
    ]
    assert kinds(results.messages)[-1] == (300, "C")


def test_out_of_order_within_max_delay_is_counted_in_its_window() -> None:
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(
        on_next(210, sale(T0 + 900)),
        on_next(220, sale(T0 + 1400)),  # watermark 900: [0, 1000) still open
        on_next(230, sale(T0 + 950)),  # out of order, within max_delay
        on_next(240, sale(T0 + 100)),  # far out of order, still before the watermark passes
        on_next(250, sale(T0 + 1500)),  # watermark 1000: complete
        on_completed(300),
    )
    late = LateSales()
    results = scheduler.start(
        lambda: xs.pipe(
            sales_windows(1.0, max_delay=0.5, idle_timeout=None, late=late, scheduler=scheduler)
        )
    )
    assert windows_of(results.messages) == [(250, (0, 1000), 3, 0), (300, (1000, 2000), 2, 0)]
    assert late.total == 0


def test_late_within_allowed_lateness_emits_an_update() -> None:
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(
        on_next(210, sale(T0 + 500, "US", "1.00")),
        on_next(220, sale(T0 + 1600)),  # watermark 1100: [0, 1000) emitted
        on_next(230, sale(T0 + 700, "DE", "2.50", "EUR")),  # late, within 1 s of lateness
        on_next(240, sale(T0 + 800, "DE", "2.50", "EUR")),  # another: a second update
        on_completed(300),
    )
    results = scheduler.start(
        lambda: xs.pipe(
            sales_windows(
                1.0, max_delay=0.5, allowed_lateness=1.0, idle_timeout=None, scheduler=scheduler
            )
        )
    )
    assert windows_of(results.messages) == [
        (220, (0, 1000), 1, 0),
        (230, (0, 1000), 2, 1),
        (240, (0, 1000), 3, 2),
        (300, (1000, 2000), 1, 0),
    ]
    first, update, *_ = values(results.messages)
    assert (first.is_update, update.is_update) == (False, True)
    assert update.revenue == {"EUR": Decimal("2.50"), "USD": Decimal("1.00")}
    assert update.top == [CountryCount("DE", 1), CountryCount("US", 1)]


def test_too_late_goes_to_the_late_output_and_is_counted() -> None:
    scheduler = TestScheduler()
    too_late = sale(T0 + 400, "FR", "9.99", "EUR")
    xs = scheduler.create_hot_observable(
        on_next(210, sale(T0 + 500)),
        on_next(220, sale(T0 + 2600)),  # watermark 2100 >= 1000 + 1000 lateness: expired
        on_next(230, too_late),
        on_next(240, sale(T0 + 300)),
        on_completed(300),
    )
    late = LateSales()
    seen: list[LateSale] = []
    late.subscribe(seen.append)
    results = scheduler.start(
        lambda: xs.pipe(
            sales_windows(
                1.0,
                max_delay=0.5,
                allowed_lateness=1.0,
                idle_timeout=None,
                late=late,
                scheduler=scheduler,
            )
        )
    )
    assert windows_of(results.messages) == [
        (220, (0, 1000), 1, 0),
        (220, (1000, 2000), 0, 0),
        (300, (2000, 3000), 1, 0),
    ]
    assert late.total == 2
    assert [(x.sale, x.watermark, x.missed, x.windows) for x in seen[:1]] == [
        (too_late, T0 + 2100, 1, 1)
    ]


def test_idle_stream_closes_windows_with_zero_counts() -> None:
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(
        on_next(200.1, sale(200_100)),
        on_next(200.2, sale(200_200)),
        on_next(200.9, sale(200_900)),
    )  # then silence, never completes
    results = scheduler.start(
        lambda: xs.pipe(sales_windows(1.0, max_delay=0.5, idle_timeout=0.5, scheduler=scheduler)),
        disposed=204,
    )
    # The check at 201.0 saw the last sale; at 201.5 the stream is idle and event time
    # follows the clock from (200.9 s, 201.0): windows complete one second apart.
    assert [(t, (s + T0) // 1000, n) for t, (s, _), n, _ in windows_of(results.messages)] == [
        (201.6, 200, 3),
        (202.6, 201, 0),
        (203.6, 202, 0),
    ]


def test_sales_resuming_after_idleness_are_windowed_again() -> None:
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(
        on_next(200.1, sale(200_100)),
        on_next(203.2, sale(203_200)),  # after three idle seconds
        on_next(203.3, sale(203_300)),
        on_completed(204.0),
    )
    results = scheduler.start(
        lambda: xs.pipe(sales_windows(1.0, max_delay=0.2, idle_timeout=0.5, scheduler=scheduler))
    )
    counts = [((s + T0) // 1000, n) for _, (s, _), n, _ in windows_of(results.messages)]
    assert counts == [(200, 1), (201, 0), (202, 0), (203, 2)]


def test_completion_flushes_every_open_window() -> None:
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(
        on_next(210, sale(T0 + 100)),
        on_next(220, sale(T0 + 1100)),
        on_next(230, sale(T0 + 2100)),
        on_completed(250),
    )
    results = scheduler.start(
        lambda: xs.pipe(sales_windows(1.0, max_delay=5, idle_timeout=None, scheduler=scheduler))
    )
    assert windows_of(results.messages) == [
        (250, (0, 1000), 1, 0),
        (250, (1000, 2000), 1, 0),
        (250, (2000, 3000), 1, 0),
    ]
    assert kinds(results.messages)[-1] == (250, "C")


def test_hopping_windows_count_each_sale_size_over_slide_times() -> None:
    scheduler = TestScheduler()
    timestamps = [T0 + 100, T0 + 1500, T0 + 2999, T0 + 3000, T0 + 4200, T0 + 8000]
    xs = scheduler.create_hot_observable(
        *[on_next(210 + i, sale(ts)) for i, ts in enumerate(timestamps)],
        on_completed(300),
    )
    results = scheduler.start(
        lambda: xs.pipe(
            sales_windows(3.0, slide=1.0, max_delay=0, idle_timeout=None, scheduler=scheduler)
        )
    )
    windows: list[SalesWindow] = values(results.messages)
    assert sum(w.count for w in windows) == 3 * len(timestamps)
    for w in windows:
        start, end = rel(w)
        assert w.count == sum(start <= ts - T0 < end for ts in timestamps)
        assert end - start == 3000
        assert start % 1000 == 0
    assert rel(windows[0]) == (-2000, 1000)  # the first window containing the first sale
    assert [rel(w)[0] for w in windows] == list(range(-2000, 8001, 1000))


def test_processing_time_windows_by_arrival_on_the_clock() -> None:
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(
        on_next(200.5, sale(1)),  # timestamps are ignored in processing time
        on_next(201.2, sale(1)),
        on_next(201.7, sale(1)),
        on_completed(203.5),
    )
    results = scheduler.start(
        lambda: xs.pipe(sales_windows(1.0, time="processing", scheduler=scheduler))
    )
    assert [(t, (s + T0) // 1000, n) for t, (s, _), n, _ in windows_of(results.messages)] == [
        (201, 200, 1),
        (202, 201, 2),
        (203, 202, 0),
        (203.5, 203, 0),  # flushed at completion
    ]


def test_error_is_passed_on_without_flushing_and_disposal_stops_the_timer() -> None:
    scheduler = TestScheduler()
    boom = RuntimeError("boom")
    xs = scheduler.create_hot_observable(on_next(210, sale(210_000)), on_error(210.3, boom))
    results = scheduler.start(
        lambda: xs.pipe(sales_windows(1.0, idle_timeout=0.5, scheduler=scheduler))
    )
    assert kinds(results.messages) == [(210.3, "E")]  # the open window is not flushed
    assert error_of(results.messages[0]) is boom
    assert xs.subscriptions[0].unsubscribe == 210.3

    ys = scheduler.create_hot_observable(on_next(1010, sale(1_010_000)))
    results = scheduler.start(
        lambda: ys.pipe(sales_windows(1.0, scheduler=scheduler)),
        created=1000,
        subscribed=1000,
        disposed=1012,
    )
    assert results.messages == []
    scheduler.advance_by(100)
    assert results.messages == []  # no timer outlived the subscription


def test_a_non_sale_ends_the_stream_with_the_error() -> None:
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(on_next(210, "not a sale"))
    not_sales = cast(Observable[Sale], xs)
    results = scheduler.start(lambda: not_sales.pipe(sales_windows(1.0, scheduler=scheduler)))
    assert kinds(results.messages) == [(210, "E")]
    assert isinstance(error_of(results.messages[0]), AttributeError)
    assert xs.subscriptions[0].unsubscribe == 210


def test_empty_and_never() -> None:
    scheduler = TestScheduler()
    empty = scheduler.create_hot_observable(on_completed(250))
    results = scheduler.start(lambda: empty.pipe(sales_windows(1.0, scheduler=scheduler)))
    assert kinds(results.messages) == [(250, "C")]
    never: Observable[Sale] = scheduler.create_hot_observable()
    results = scheduler.start(
        lambda: never.pipe(sales_windows(1.0, scheduler=scheduler)), created=300, subscribed=300
    )
    assert results.messages == []  # no sale: no windows, however long


def test_arguments_are_checked_when_the_operator_is_made() -> None:
    with pytest.raises(ValueError, match="slide"):
        sales_windows(1.0, slide=2.0)
    with pytest.raises(ValueError, match="time"):
        sales_windows(1.0, time="wall")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="idle_timeout"):
        sales_windows(1.0, idle_timeout=0)
    with pytest.raises(ValueError, match="every"):
        sales_totals(every=0)
    with pytest.raises(ValueError, match="k must"):
        top_countries(0)


# -- sales_per_second ------------------------------------------------------------------


def test_sales_per_second_is_count_over_length_and_falls_to_zero() -> None:
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(
        *[on_next(200 + i / 10, sale(200_000 + i * 100)) for i in range(1, 10)],
        on_next(200.95, sale(199_500)),  # late within lateness: an update, not a new rate
    )
    results = scheduler.start(
        lambda: xs.pipe(
            sales_per_second(
                2.0, max_delay=0.2, allowed_lateness=5, idle_timeout=0.5, scheduler=scheduler
            )
        ),
        disposed=206,
    )
    rates: list[SalesRate] = values(results.messages)
    assert [(round(r.start.timestamp()), r.count, r.per_second) for r in rates] == [
        (198, 1, 0.5),
        (200, 9, 4.5),
        (202, 0, 0.0),
    ]


# -- totals and top countries ----------------------------------------------------------


def test_sales_totals_are_exact_running_totals() -> None:
    sales = [sale(1, "US", "0.10"), sale(2, "DE", "0.20", "EUR"), sale(0, "US", "0.20")]
    totals: list[SalesAggregate] = []
    reactivex.from_iterable(sales).pipe(sales_totals()).subscribe(totals.append)
    assert [t.count for t in totals] == [1, 2, 3]
    assert totals[-1].revenue == {"EUR": Decimal("0.20"), "USD": Decimal("0.30")}
    assert totals[0].revenue == {"USD": Decimal("0.10")}  # snapshots are not shared
    assert totals[-1] == SalesAggregate.of(sales)


def test_sales_totals_every_samples_the_latest_and_flushes_at_completion() -> None:
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(
        on_next(200.1, sale(1)),
        on_next(200.2, sale(2)),
        on_next(201.6, sale(3)),
        on_next(203.2, sale(4)),
        on_completed(203.3),
    )
    results = scheduler.start(
        lambda: xs.pipe(sales_totals(every=1.0, scheduler=scheduler)), disposed=210
    )
    assert kinds(results.messages) == [
        (201, "N"),
        (202, "N"),
        (203.3, "N"),
        (203.3, "C"),
    ]
    assert [t.count for t in values(results.messages)] == [2, 3, 4]


def test_top_countries_emits_when_the_ranking_changes() -> None:
    sales = [sale(0, c) for c in ["US", "DE", "US", "FR", "FR", "FR", "GB"]]
    tops: list[TopCountries] = []
    reactivex.from_iterable(sales).pipe(top_countries(2)).subscribe(tops.append)
    assert [t.ranking for t in tops] == [
        (CountryCount("US", 1),),
        (CountryCount("DE", 1), CountryCount("US", 1)),
        (CountryCount("US", 2), CountryCount("DE", 1)),
        # FR 1 loses the tie with DE 1: no change
        (CountryCount("FR", 2), CountryCount("US", 2)),
        (CountryCount("FR", 3), CountryCount("US", 2)),
    ]  # GB 1 changed nothing either
    assert tops[-1].sales == 6


# -- parsing ---------------------------------------------------------------------------


def test_parse_sales_and_sales_events() -> None:
    data = json.dumps({"timestamp": T0, "amount": "1.00", "currency": "USD", "country": "US"})
    events = [
        ServerSentEvent("sale", data, "1"),
        ServerSentEvent("stats-update", '{"timestamp": 1, "sales": 1, "revenue": {}}'),
        ServerSentEvent("milestone", '{"timestamp": 1, "sales": 1}'),
        ServerSentEvent("ping", ""),
    ]
    sales: list[Sale] = []
    reactivex.from_iterable(events).pipe(parse_sales()).subscribe(sales.append)
    assert sales == [Sale.model_validate_json(data)]
    everything: list[Any] = []
    reactivex.from_iterable(events).pipe(sales_events()).subscribe(everything.append)
    assert [type(x) for x in everything] == [Sale, StatsUpdate, Milestone]


def test_a_pipeline_from_events_to_rates() -> None:
    events = [
        ServerSentEvent(
            "sale",
            json.dumps(
                {"timestamp": T0 + i * 250, "amount": "1", "currency": "USD", "country": "US"}
            ),
        )
        for i in range(8)
    ]
    rates: list[SalesRate] = []
    reactivex.from_iterable(events).pipe(
        parse_sales(), sales_per_second(1.0, max_delay=0, idle_timeout=None), ops.take(2)
    ).subscribe(rates.append)
    assert [r.per_second for r in rates] == [4.0, 4.0]
