"""Sales windowing throughput: rxsse ``sales_windows`` against streamz and a plain loop.

Run from the repository root with ``python -m benchmarks.sales`` (add ``--quick`` for
a smoke run).  Every contender computes the same thing from the same pre-built
:class:`~rxsse.domain.sales.Sale` values: event-time 1 s tumbling windows with a
watermark of ``max_seen - 0.5 s``, and per window the number of sales, the revenue
per currency and the top 10 countries.

``rxsse``
    ``reactivex.from_iterable(sales).pipe(sales_windows(1.0, max_delay=0.5))``
    (default ``idle_timeout``, timeout scheduler), reading ``count``, ``revenue`` and
    ``top`` of each window.  The windows also aggregate per-country revenue and
    products, which the others do not compute.
``plain loop``
    A hand-written incremental loop: a dict of open windows, per window a count,
    per-currency revenue and per-country counts updated per sale, the same watermark
    rule, ``heapq.nsmallest`` for the top 10 when a window closes.
``streamz``
    ``Stream().sliding_window(n, return_partial=True)`` followed by an
    ``accumulate`` step that tracks the watermark and, when it passes a window's
    end, aggregates the sales of that window found in the buffer; ``flatten`` and
    ``sink``.  ``n`` is sized to hold every sale that can arrive while a window is
    open (``rate * (size + max_delay + disorder) * 1.25``), so its answers are
    right; a smaller buffer (the seed's 1,000 items) undercounts as soon as the
    rate passes it.  ``sliding_window`` copies its buffer into a tuple for every
    sale, so streamz costs O(n) per sale and its throughput falls as the rate grows;
    it runs on the first ``--streamz-events`` sales only.

The sales arrive at ``--rate`` sales per second of event time (default 2,000), each
delayed by up to 300 ms (out of order, within ``max_delay``), with the emulator's
country and currency mix (:data:`rxsse.emulator.sales.MARKETS`: 30 countries, 20
currencies) and 1-3 of its 35 products.  Before timing, the three results are
checked equal window by window.  Times are the best of ``--repeats`` runs with
garbage collection off.

**Memory.**  ``tracemalloc`` peak while ``sales_windows`` consumes a lazily generated
stream of N and of 10 x N sales (the generator's own allocations are freed at once):
flat in stream length, bounded by open windows and distinct keys.
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
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import reactivex
from streamz import Stream

from benchmarks._common import rate
from benchmarks._common import version as _version
from rxsse.domain.sales import Sale, SalesWindow
from rxsse.emulator.sales import MARKETS, PRODUCTS
from rxsse.operators.sales import sales_windows

__all__ = ["main"]

T0 = 1_732_838_400_000  # 2024-11-29 00:00 UTC, Black Friday
SIZE_MS = 1000
MAX_DELAY_MS = 500
DISORDER_MS = 300
TOP_K = 10
TARGET_RATE = 500_000  # events/s per core
TARGET_VS_STREAMZ = 25.0
TARGET_VS_PLAIN = 0.3

Result = tuple[int, int, dict[str, Decimal], list[tuple[str, int]]]
"""One window: start (ms), count, revenue per currency, top 10 (country, count)."""


def make_sales(count: int, rate: int, seed: int = 1) -> Iterator[Sale]:
    """``count`` sales at ``rate`` per second of event time, each up to 300 ms late."""
    rng = random.Random(seed)
    weights = [market.weight for market in MARKETS]
    step = 1000 / rate
    for n in range(count):
        (market,) = rng.choices(MARKETS, weights)
        minor = rng.randint(500, 25_000) * market.scale
        yield Sale.model_construct(
            id=str(n),
            timestamp=T0 + int(n * step) - rng.randint(0, DISORDER_MS),
            amount=Decimal(minor).scaleb(-2).quantize(Decimal(1).scaleb(-market.decimals)),
            currency=market.currency,
            country=market.country,
            city=market.city,
            lat=market.lat,
            lon=market.lon,
            products=tuple(rng.sample(PRODUCTS, rng.randint(1, 3))),
        )


def _top(countries: dict[str, int]) -> list[tuple[str, int]]:
    return heapq.nsmallest(TOP_K, countries.items(), key=lambda kv: (-kv[1], kv[0]))


# -- the three contenders ------------------------------------------------------------------


def run_rxsse(sales: Sequence[Sale]) -> list[Result]:
    results: list[Result] = []

    def on_window(window: SalesWindow) -> None:
        start = round(window.start.timestamp() * 1000)
        top = [(c.country, c.sales) for c in window.top]
        results.append((start, window.count, window.revenue, top))

    reactivex.from_iterable(sales).pipe(
        sales_windows(SIZE_MS / 1000, max_delay=MAX_DELAY_MS / 1000, top_k=TOP_K)
    ).subscribe(on_window)
    return results


def run_plain(sales: Sequence[Sale]) -> list[Result]:
    """The incremental loop a careful developer would write by hand."""
    results: list[Result] = []
    windows: dict[int, tuple[list[int], dict[str, Decimal], dict[str, int]]] = {}
    max_seen: int | None = None
    next_start: int | None = None

    def close(start: int) -> None:
        count, revenue, countries = windows.pop(start, ([0], {}, {}))
        results.append((start, count[0], dict(sorted(revenue.items())), _top(countries)))

    for sale in sales:
        ts = sale.timestamp
        start = ts - ts % SIZE_MS
        watermark = -(2**62) if max_seen is None else max_seen - MAX_DELAY_MS
        if start + SIZE_MS <= watermark:
            continue  # late (never happens with this data)
        if next_start is None or start < next_start:
            next_start = start
        window = windows.get(start)
        if window is None:
            window = windows[start] = ([0], {}, {})
        counter, revenue, countries = window
        counter[0] += 1
        revenue[sale.currency] = revenue.get(sale.currency, Decimal(0)) + sale.amount
        countries[sale.country] = countries.get(sale.country, 0) + 1
        if max_seen is None or ts > max_seen:
            max_seen = ts
            while next_start + SIZE_MS <= max_seen - MAX_DELAY_MS:
                close(next_start)
                next_start += SIZE_MS
    if next_start is not None and max_seen is not None:
        while next_start <= max_seen:
            close(next_start)
            next_start += SIZE_MS
    return results


def _aggregate(start: int, sales: Sequence[Sale]) -> Result:
    revenue: dict[str, Decimal] = {}
    countries: dict[str, int] = {}
    count = 0
    for sale in sales:
        if start <= sale.timestamp < start + SIZE_MS:
            count += 1
            revenue[sale.currency] = revenue.get(sale.currency, Decimal(0)) + sale.amount
            countries[sale.country] = countries.get(sale.country, 0) + 1
    return start, count, dict(sorted(revenue.items())), _top(countries)


def streamz_buffer(rate: int) -> int:
    """A buffer that holds every sale that can arrive while a window is open."""
    return int(rate * (SIZE_MS + MAX_DELAY_MS + DISORDER_MS) / 1000 * 1.25)


def run_streamz(sales: Sequence[Sale], buffer: int) -> list[Result]:
    results: list[Result] = []
    max_seen: int | None = None
    next_start: int | None = None
    latest: tuple[Sale, ...] = ()

    def close_windows(window: tuple[Sale, ...]) -> list[Result]:
        """Aggregate, from the buffer, every window the watermark has passed."""
        nonlocal max_seen, next_start, latest
        latest = window
        ts = window[-1].timestamp
        start = ts - ts % SIZE_MS
        watermark = -(2**62) if max_seen is None else max_seen - MAX_DELAY_MS
        if next_start is None or (start < next_start and start + SIZE_MS > watermark):
            next_start = start
        closed: list[Result] = []
        if max_seen is None or ts > max_seen:
            max_seen = ts
            while next_start + SIZE_MS <= max_seen - MAX_DELAY_MS:
                closed.append(_aggregate(next_start, window))
                next_start += SIZE_MS
        return closed

    source = Stream()
    source.sliding_window(buffer, return_partial=True).map(close_windows).flatten().sink(
        results.append
    )
    for sale in sales:
        source.emit(sale)
    # completion: streamz has no end of stream; flush the open windows from the buffer
    if next_start is not None and max_seen is not None:
        while next_start <= max_seen:
            results.append(_aggregate(next_start, latest))
            next_start += SIZE_MS
    return results


# -- timing -------------------------------------------------------------------------------


def best_time(run: Callable[[], Any], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        try:
            started = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - started)
        finally:
            gc.enable()
    return best


def check(name: str, got: list[Result], expected: list[Result]) -> None:
    if got != expected:
        first = next(
            (i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b),
            min(len(got), len(expected)),
        )
        raise RuntimeError(f"{name} disagrees with rxsse from window {first} on")


def peak_memory(count: int, rate: int) -> tuple[int, int]:
    """tracemalloc peak (bytes) while ``sales_windows`` eats ``count`` generated sales."""
    windows = 0

    def on_window(window: SalesWindow) -> None:
        nonlocal windows
        windows += 1

    gc.collect()
    tracemalloc.start()
    try:
        reactivex.from_iterable(make_sales(count, rate, seed=2)).pipe(
            sales_windows(SIZE_MS / 1000, max_delay=MAX_DELAY_MS / 1000, top_k=TOP_K)
        ).subscribe(on_window)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, windows


@dataclass(frozen=True)
class Timing:
    name: str
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISS"


def main(argv: list[str] | None = None) -> None:
    """Build the sales, check the three contenders agree, time them, print tables."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.sales", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="fewer sales, one repeat")
    parser.add_argument("--events", type=int, help="sales for rxsse and the plain loop")
    parser.add_argument("--streamz-events", type=int, help="sales for streamz (a prefix)")
    parser.add_argument("--rate", type=int, default=2000, help="sales per second of event time")
    parser.add_argument("--repeats", type=int, help="timed runs per contender (best is kept)")
    parser.add_argument("--memory-events", type=int, help="N of the memory check (and 10 N)")
    args = parser.parse_args(argv)
    events = args.events or (50_000 if args.quick else 1_000_000)
    streamz_events = min(events, args.streamz_events or (5_000 if args.quick else 40_000))
    repeats = args.repeats or (1 if args.quick else 3)
    memory_events = args.memory_events or (5_000 if args.quick else 50_000)
    buffer = streamz_buffer(args.rate)

    started = time.perf_counter()
    sales = list(make_sales(events, args.rate))
    prefix = sales[:streamz_events]
    expected = run_rxsse(sales)
    check("plain loop", run_plain(sales), expected)
    check("streamz", run_streamz(prefix, buffer), run_rxsse(prefix))

    timings = [
        Timing("rxsse sales_windows", events, best_time(lambda: run_rxsse(sales), repeats)),
        Timing("plain loop", events, best_time(lambda: run_plain(sales), repeats)),
        Timing(
            f"streamz sliding_window({buffer:,})",
            streamz_events,
            best_time(lambda: run_streamz(prefix, buffer), repeats),
        ),
        Timing(
            "rxsse sales_windows (streamz's prefix)",
            streamz_events,
            best_time(lambda: run_rxsse(prefix), repeats),
        ),
    ]
    rx, plain, streamz, rx_prefix = timings
    vs_streamz = rx_prefix.rate / streamz.rate
    vs_plain = rx.rate / plain.rate

    print(
        f"## Sales windowing throughput{' (--quick)' if args.quick else ''}\n\n"
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"rxsse {_version('rxsse')}, reactivex {_version('reactivex')}, "
        f"streamz {_version('streamz')}; {args.rate:,} sales/s of event time, up to "
        f"{DISORDER_MS} ms out of order; 1 s tumbling windows, max_delay 0.5 s, top "
        f"{TOP_K} countries; {len(expected):,} windows; best of {repeats}; one core.\n"
    )
    print("| contender | sales | seconds | sales/s |")
    print("|---|--:|--:|--:|")
    for timing in timings:
        print(
            f"| {timing.name} | {timing.events:,} | {timing.seconds:.3f} "
            f"| {rate(timing.rate, k_digits=1)} |"
        )
    print(
        f"\n| target | measured | |\n|---|--:|:-:|\n"
        f"| rxsse ≥ {TARGET_RATE:,} sales/s | {rx.rate:,.0f} | "
        f"{_verdict(rx.rate >= TARGET_RATE)} |\n"
        f"| rxsse / streamz ≥ {TARGET_VS_STREAMZ:g}x | {vs_streamz:.1f}x | "
        f"{_verdict(vs_streamz >= TARGET_VS_STREAMZ)} |\n"
        f"| rxsse / plain loop ≥ {TARGET_VS_PLAIN:g}x | {vs_plain:.2f}x | "
        f"{_verdict(vs_plain >= TARGET_VS_PLAIN)} |"
    )

    print("\n| stream length | tracemalloc peak | windows |\n|--:|--:|--:|")
    peaks = []
    for count in (memory_events, memory_events * 10):
        peak, windows = peak_memory(count, args.rate)
        peaks.append(peak)
        print(f"| {count:,} sales | {peak / 1024:,.0f} KiB | {windows:,} |")
    growth = peaks[1] / peaks[0]
    print(
        f"\nPeak memory for a 10x longer stream: {growth:.2f}x "
        f"({'flat' if growth < 1.5 else 'GROWS'})."
    )
    misses = [
        name
        for name, ok in (
            ("sales/s", rx.rate >= TARGET_RATE),
            ("vs streamz", vs_streamz >= TARGET_VS_STREAMZ),
            ("vs plain loop", vs_plain >= TARGET_VS_PLAIN),
            ("flat memory", growth < 1.5),
        )
        if not ok
    ]
    print(f"Targets missed: {', '.join(misses) if misses else 'none'}.")
    print(f"Total time {time.perf_counter() - started:.1f} s.")


if __name__ == "__main__":
    main()
