"""The emulated ``/sales`` feed over real HTTP, the sales operators on it, the demo panel."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
from reactivex import Observable
from reactivex import operators as ops
from reactivex.scheduler.eventloop import AsyncIOScheduler
from rich.console import Console

from rxsse import collect, from_url
from rxsse.demo.sales_panel import SalesPanel, bar, sparkline
from rxsse.domain.sales import Milestone, Sale, SalesWindow, StatsUpdate
from rxsse.emulator.sales import MARKETS, SalesFeed
from rxsse.operators.sales import LateSales, parse_sales, sales_events, sales_windows
from rxsse.sources.lifecycle import ReconnectPolicy


def until_sale(n: int) -> Callable[[Observable[Any]], Observable[Any]]:
    """Up to and including sale ``n`` (``from_url`` itself never completes)."""
    return ops.take_while(lambda e: not (isinstance(e, Sale) and e.id == f"order-{n}"), True)


async def test_feed_carries_sales_stats_and_milestones(emulator: str) -> None:
    source = from_url(
        f"{emulator}/sales", params={"rate": 0, "count": 300, "milestone": 100, "late": 0}
    )
    events = await asyncio.wait_for(collect(source.pipe(sales_events(), until_sale(300))), 10)
    sales = [e for e in events if isinstance(e, Sale)]
    assert [s.id for s in sales] == [f"order-{n}" for n in range(1, 301)]
    assert [m.sales for m in events if isinstance(m, Milestone)] == [100, 200]
    markets = {(m.country, m.currency) for m in MARKETS}
    assert {(s.country, s.currency) for s in sales} <= markets
    assert all(isinstance(s.amount, Decimal) and s.amount > 0 and s.products for s in sales)
    assert len({s.country for s in sales}) > 10
    assert Counter(s.country for s in sales).most_common(1)[0][0] == "US"
    # out of order: timestamps go back now and then, by at most the disorder
    steps = [b.timestamp - a.timestamp for a, b in itertools.pairwise(sales)]
    assert min(steps) < 0
    assert min(steps) >= -SalesFeed.disorder


async def test_stats_updates_total_the_connection_and_late_sales_are_late(emulator: str) -> None:
    source = from_url(
        f"{emulator}/sales",
        params={"rate": 400, "count": 600, "stats": 0.5, "late": 0.05, "late_delay": 4000},
    )
    events = await asyncio.wait_for(collect(source.pipe(sales_events(), until_sale(600))), 15)
    stats = [e for e in events if isinstance(e, StatsUpdate)]
    assert len(stats) >= 2
    before = [e for e in events[: events.index(stats[-1])] if isinstance(e, Sale)]
    revenue: dict[str, Decimal] = {}
    for sale in before:
        revenue[sale.currency] = revenue.get(sale.currency, Decimal(0)) + sale.amount
    assert (stats[-1].sales, stats[-1].revenue) == (len(before), revenue)
    sales = [e for e in events if isinstance(e, Sale)]
    running_max, late = 0, 0
    for sale in sales:
        late += sale.timestamp < running_max - 3000
        running_max = max(running_max, sale.timestamp)
    assert 5 <= late <= 80  # about 5 % of 600


async def test_windows_over_the_live_feed_with_a_late_output(emulator: str) -> None:
    scheduler = AsyncIOScheduler(asyncio.get_running_loop())
    late = LateSales()
    source = from_url(f"{emulator}/sales", params={"rate": 2000, "count": 5000, "late": 0.01})
    windows: list[SalesWindow] = await asyncio.wait_for(
        collect(
            source.pipe(
                parse_sales(),
                ops.take(5000),  # from_url never completes: the feed's end answers 204
                sales_windows(1.0, max_delay=0.5, scheduler=scheduler, late=late),
            )
        ),
        timeout=20,
    )
    counted = sum(w.count for w in windows)
    assert counted + late.total == 5000  # every sale is in a window or in the late output
    assert 20 <= late.total <= 90  # about 1 % of 5000 arrive 5 s late
    full = [w.per_second for w in windows[1:-1]]
    assert full
    assert all(1500 <= rate <= 2500 for rate in full)


async def test_the_server_keeps_up_with_twenty_thousand_sales_per_second(emulator: str) -> None:
    sales = 0
    tail = b""
    started = time.perf_counter()
    async with (
        httpx.AsyncClient() as client,
        client.stream(
            "GET",
            f"{emulator}/sales",
            params={"rate": 20_000, "count": 20_000, "burst": 0, "stats": 0},
        ) as response,
    ):
        async for chunk in response.aiter_bytes():
            sales += (tail + chunk).count(b"event: sale\n")
            tail = chunk[-11:]
    elapsed = time.perf_counter() - started
    assert sales == 20_000
    assert elapsed < 1.4, f"20,000 sales took {elapsed:.2f} s"  # paced: about one second


async def test_resumes_after_last_event_id_and_reconnects_without_gaps(emulator: str) -> None:
    url = f"{emulator}/sales"
    resumed = await collect(
        from_url(url, params={"rate": 0, "count": 8}, last_event_id="5").pipe(
            parse_sales(), ops.take(3)
        )
    )
    assert [s.id for s in resumed] == ["order-6", "order-7", "order-8"]
    async with httpx.AsyncClient() as client:
        done = await client.get(url, params={"count": 8}, headers={"Last-Event-ID": "8"})
        assert done.status_code == 204
        bad = await client.get(url, params={"rate": "fast"})
        assert bad.status_code == 400
    dropped = from_url(
        url,
        params={"rate": 0, "count": 120, "drop_after": 50},
        reconnect=ReconnectPolicy(default_delay=0.01, max_attempts=10),
    )
    sales = await asyncio.wait_for(collect(dropped.pipe(parse_sales(), ops.take(120))), 10)
    assert [s.id for s in sales] == [f"order-{n}" for n in range(1, 121)]


def test_feed_rate_includes_bursts() -> None:
    feed = SalesFeed(rate=100, burst=10, burst_for=2, burst_factor=3)
    assert [feed.rate_at(t) for t in (0, 7.9, 8.0, 9.9, 10.0)] == [100, 100, 300, 300, 100]
    assert SalesFeed(rate=100, burst=0).rate_at(9) == 100


# -- the demo panel --------------------------------------------------------------------


def test_sparkline_and_bar() -> None:
    assert sparkline([0, 0]) == "▁▁"
    assert sparkline([0, 5, 10]) == "▁▅█"
    assert bar(5, 10, width=10) == "█████"
    assert bar(0, 0) == ""


async def test_panel_shows_rate_revenue_and_top_countries(emulator: str) -> None:
    panel = SalesPanel()
    panel.start(emulator, faults=False)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while panel.rates[-1] == 0 or panel.top is None:
            assert loop.time() < deadline, panel.summary()
            await asyncio.sleep(0.05)
    finally:
        panel.stop()
    console = Console(width=100, record=True)
    console.print(panel.render())
    text = console.export_text()
    for label in ("sales/s", "revenue", "USD", "US ", "█", "reconnects"):
        assert label in text, text
    summary = panel.summary()
    assert "rate=" in summary
    assert "top=US:" in summary


def _values(items: list[Any], kind: type) -> list[Any]:
    return [item for item in items if isinstance(item, kind)]


def country_and_amount(sale: Sale) -> tuple[str, Decimal]:
    return sale.country, sale.amount


async def test_stream_is_deterministic_per_seed_and_first_id(emulator: str) -> None:
    def first_40(seed: int) -> Observable[tuple[str, Decimal]]:
        source = from_url(f"{emulator}/sales", params={"rate": 0, "seed": seed})
        return source.pipe(parse_sales(), ops.take(40), ops.map(country_and_amount))

    first = await collect(first_40(7))
    assert await collect(first_40(7)) == first
    assert await collect(first_40(99)) != first
