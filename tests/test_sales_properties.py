"""sales_windows against a brute-force recomputation, and merging partial results.

The brute force knows nothing of panes, fast paths or flushing: it replays the
arrival order, computes the watermark before each sale from all earlier ones, keeps a
sale in every window that had not expired (``watermark < end + allowed_lateness``),
and groups what it kept by window in plain Python.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import reactivex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rxsse.domain.sales import CountryCount, Sale, SalesWindow, TopCountriesTracker
from rxsse.operators.sales import LateSales, sales_windows

T0 = 1_700_000_000_000
COUNTRIES = [
    ("US", "USD"),
    ("CA", "CAD"),
    ("CA", "USD"),
    ("DE", "EUR"),
    ("FR", "EUR"),
    ("JP", "JPY"),
]
PRODUCTS = ["mug", "tee", "cap"]


@st.composite
def disordered_sales(draw: st.DrawFn, max_jitter: int = 3000) -> list[Sale]:
    """Sales whose timestamps advance by random gaps, each shifted back by up to ``max_jitter``."""
    n = draw(st.integers(0, 60))
    clock = T0 + draw(st.integers(0, 2000))
    sales = []
    for i in range(n):
        clock += draw(st.integers(0, 400))
        country, currency = draw(st.sampled_from(COUNTRIES))
        cents = draw(st.integers(1, 100_000))
        products = tuple(draw(st.lists(st.sampled_from(PRODUCTS), max_size=3)))
        sales.append(
            Sale(
                id=str(i),
                timestamp=clock - draw(st.integers(0, max_jitter)),
                amount=Decimal(cents).scaleb(-2),
                currency=currency,
                country=country,
                products=products,
            )
        )
    return sales


WINDOWINGS = st.sampled_from(
    [(1000, 1000), (1500, 1500), (2000, 1000), (3000, 1000), (2500, 1000), (3000, 1500)]
)
DELAYS = st.sampled_from([0, 300, 1000, 2500])
LATENESS = st.sampled_from([0, 500, 2000])


def windowed(
    sales: list[Sale], size: int, slide: int, delay: int, lateness: int, top_k: int = 3
) -> tuple[dict[int, SalesWindow], list[SalesWindow], int]:
    """The last result per window start (ms), every result in order, and the late count."""
    late = LateSales()
    results: list[SalesWindow] = []
    reactivex.from_iterable(sales).pipe(
        sales_windows(
            size / 1000,
            slide / 1000,
            max_delay=delay / 1000,
            allowed_lateness=lateness / 1000,
            idle_timeout=None,
            top_k=top_k,
            late=late,
        )
    ).subscribe(results.append)
    last = {round(w.start.timestamp() * 1000): w for w in results}
    return last, results, late.total


def brute_force(
    sales: list[Sale], size: int, slide: int, delay: int, lateness: int
) -> tuple[dict[int, list[Sale]], int, int | None]:
    """Sales kept per window start, the number of late sales, and where the series starts
    (the first window that received a sale while it was still open)."""
    kept: dict[int, list[Sale]] = defaultdict(list)
    late = 0
    series: int | None = None
    max_seen: int | None = None
    for sale in sales:
        watermark = None if max_seen is None else max_seen - delay
        missed = False
        # from an aligned start below every window that can contain the sale
        start = sale.timestamp - sale.timestamp % slide - (size // slide + 1) * slide
        while start <= sale.timestamp:
            if start <= sale.timestamp < start + size:
                if watermark is None or watermark < start + size:
                    kept[start].append(sale)
                    series = start if series is None else min(series, start)
                elif watermark < start + size + lateness:
                    kept[start].append(sale)
                else:
                    missed = True
            start += slide
        late += missed
        max_seen = sale.timestamp if max_seen is None else max(max_seen, sale.timestamp)
    return kept, late, series


def summary(sales: list[Sale], top_k: int) -> tuple[int, dict[str, Decimal], list[CountryCount]]:
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    countries: dict[str, int] = defaultdict(int)
    for sale in sales:
        revenue[sale.currency] += sale.amount
        countries[sale.country] += 1
    ranked = sorted(countries.items(), key=lambda item: (-item[1], item[0]))[:top_k]
    return len(sales), dict(revenue), [CountryCount(c, n) for c, n in ranked]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(disordered_sales(), WINDOWINGS, DELAYS, LATENESS)
def test_windows_equal_a_brute_force_recomputation(
    sales: list[Sale], windowing: tuple[int, int], delay: int, lateness: int
) -> None:
    size, slide = windowing
    last, results, late_total = windowed(sales, size, slide, delay, lateness)
    kept, expected_late, series = brute_force(sales, size, slide, delay, lateness)
    assert late_total == expected_late
    assert set(kept) <= set(last)
    for start, window in last.items():
        count, revenue, top = summary(kept.get(start, []), 3)
        assert (window.count, window.revenue, window.top) == (count, revenue, top), start
        assert round(window.end.timestamp() * 1000) - start == size
        assert start % slide == 0
    # the series is contiguous, one window per slide, from its first open window on;
    # before it, only windows that received sales late (within the lateness) appear
    assert (series is None) == (not results)
    if series is not None:
        in_series = sorted(start for start in last if start >= series)
        assert in_series == list(range(series, in_series[-1] + 1, slide))
        assert {start for start in last if start < series} == {s for s in kept if s < series}
    for window in results:
        assert window.count == sum(window.countries.values())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(disordered_sales(max_jitter=900), WINDOWINGS, st.data())
def test_four_sources_merged_equal_the_single_stream(
    sales: list[Sale], windowing: tuple[int, int], data: st.DataObject
) -> None:
    """Partial results of 4 workers, merged per window, equal the single-stream result.

    The disorder (900 ms) stays within max_delay (1 s), so no sale is late anywhere.
    """
    size, slide = windowing
    parts: list[list[Sale]] = [[], [], [], []]
    for sale in sales:
        parts[data.draw(st.integers(0, 3))].append(sale)
    whole, _, late = windowed(sales, size, slide, 1000, 0)
    assert late == 0
    merged: dict[int, SalesWindow] = {}
    for part in parts:
        last, _, part_late = windowed(part, size, slide, 1000, 0)
        assert part_late == 0
        for start, window in last.items():
            merged[start] = merged[start].merge(window) if start in merged else window
    for start, window in whole.items():
        if start in merged:
            assert merged[start] == window
        else:
            assert window.count == 0
    assert set(merged) <= set(whole)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["US", "CA", "DE", "FR", "GB", "JP", "AU"]), max_size=80))
def test_running_top_countries_equal_a_sort_of_all_counts(countries: list[str]) -> None:
    tracker = TopCountriesTracker(3)
    counts: dict[str, int] = defaultdict(int)
    for country in countries:
        before = tracker.snapshot().ranking
        changed = tracker.add(country)
        counts[country] += 1
        expected = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:3]
        after = tracker.snapshot().ranking
        assert after == tuple(CountryCount(c, n) for c, n in expected)
        assert changed == (after != before)
