"""The ``/sales`` panel: sales per second as a sparkline, revenue, top countries."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from typing import Any

from reactivex import Observable, abc
from reactivex import operators as ops
from reactivex.scheduler.eventloop import AsyncIOScheduler
from rich.console import RenderableType
from rich.table import Table

from rxsse.domain.sales import Milestone, Sale, SalesAggregate, SalesRate, TopCountries
from rxsse.operators.sales import (
    LateSales,
    sales_events,
    sales_per_second,
    sales_totals,
    top_countries,
)
from rxsse.sources.http import from_url
from rxsse.sources.lifecycle import ConnectionEvent, Open, Reconnecting, ReconnectPolicy

__all__ = ["SalesPanel", "bar", "sparkline"]

RATE = 2000  # sales per second the emulator sends (bursts triple it)
FAULTS = "&drop_random=20000&stall=3&stall_after=6000"
HISTORY = 30  # windows in the sparkline
TOP = 5
MAJOR_CURRENCIES = ("USD", "EUR", "GBP")
_BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float]) -> str:
    """``values`` as block characters, scaled to their maximum (all-zero: the lowest)."""
    peak = max(values, default=0.0)
    if peak <= 0:
        return _BLOCKS[0] * len(values)
    top = len(_BLOCKS) - 1
    return "".join(_BLOCKS[round(value / peak * top)] for value in values)


def bar(value: int, peak: int, width: int = 20) -> str:
    """A horizontal bar of ``value`` out of ``peak`` in ``width`` cells."""
    return "█" * (round(value / peak * width) if peak > 0 else 0)


class SalesPanel:
    """Subscribes ``/sales`` with ``from_url`` and windows it with the sales operators.

    One connection (shared): ``sales_per_second`` (1 s event-time windows, 0.5 s
    max delay, 2 s allowed lateness) feeds the sparkline; ``sales_totals`` and
    ``top_countries`` (sampled four times a second) the revenue and the bars; the
    emulator's late sales are counted by the late output.
    """

    title = "sales · live map"

    def __init__(self) -> None:
        self._subscriptions: list[abc.DisposableBase] = []
        self.late = LateSales()
        self.rates: deque[float] = deque([0.0] * HISTORY, maxlen=HISTORY)
        self.totals = SalesAggregate()
        self.top: TopCountries | None = None
        self.milestone = ""
        self.reconnects = 0
        self.state = "idle"
        self.error = ""

    def start(self, base_url: str, *, faults: bool) -> None:
        scheduler = AsyncIOScheduler(asyncio.get_running_loop())
        url = f"{base_url}/sales?rate={RATE}" + (FAULTS if faults else "")
        source = from_url(
            url,
            reconnect=ReconnectPolicy(default_delay=0.25, max_delay=2.0, max_attempts=None),
            idle_timeout=1.0,
            lifecycle=self._on_lifecycle,
        )
        events = source.pipe(sales_events(), ops.share())
        sales: Observable[Any] = events.pipe(ops.filter(lambda item: isinstance(item, Sale)))
        rates = sales.pipe(
            sales_per_second(
                1.0, max_delay=0.5, allowed_lateness=2.0, scheduler=scheduler, late=self.late
            )
        )
        totals = sales.pipe(sales_totals(every=0.25, scheduler=scheduler))
        top = sales.pipe(top_countries(TOP, every=0.25, scheduler=scheduler))
        milestones: Observable[Any] = events.pipe(
            ops.filter(lambda item: isinstance(item, Milestone))
        )
        self._subscriptions += [
            rates.subscribe(self._on_rate, self._on_error),
            totals.subscribe(self._on_totals, self._on_error),
            top.subscribe(self._on_top, self._on_error),
            milestones.subscribe(self._on_milestone, self._on_error),
        ]

    def stop(self) -> None:
        for subscription in self._subscriptions:
            subscription.dispose()
        self._subscriptions.clear()

    def _on_rate(self, rate: SalesRate) -> None:
        self.rates.append(rate.per_second)

    def _on_totals(self, totals: SalesAggregate) -> None:
        self.totals = totals

    def _on_top(self, top: TopCountries) -> None:
        self.top = top

    def _on_milestone(self, milestone: Milestone) -> None:
        self.milestone = milestone.message or f"{milestone.sales:,} sales"

    def _on_error(self, error: Exception) -> None:
        self.state = "failed"
        self.error = str(error)

    def _on_lifecycle(self, change: ConnectionEvent) -> None:
        if isinstance(change, Open):
            self.state = "open"
        elif isinstance(change, Reconnecting):
            self.state = f"reconnecting in {change.delay:.2f} s"
            self.reconnects += 1

    def revenue(self) -> str:
        """Revenue in the major currencies, and how many other currencies there are."""
        per_currency = self.totals.revenue
        shown = [f"{per_currency[c]:,.2f} {c}" for c in MAJOR_CURRENCIES if c in per_currency]
        others = len(per_currency.keys() - set(MAJOR_CURRENCIES))
        return "  ".join(shown) + (f"  +{others} more" if others else "")

    def render(self) -> RenderableType:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim")
        table.add_column()
        table.add_row("state", self.state)
        table.add_row(
            "sales/s", f"[bold]{self.rates[-1]:,.0f}[/]  [cyan]{sparkline(self.rates)}[/]"
        )
        table.add_row("sales", f"{self.totals.count:,}  (late {self.late.total:,})")
        table.add_row("revenue", self.revenue() or "-")
        if self.top is not None and self.top.ranking:
            peak = self.top.ranking[0].sales
            for country, count in self.top.ranking:
                table.add_row(country, f"[green]{bar(count, peak)}[/] {count:,}")
        table.add_row("milestone", self.milestone or "-")
        table.add_row("reconnects", str(self.reconnects))
        if self.error:
            table.add_row("error", f"[red]{self.error}[/]")
        return table

    def summary(self) -> str:
        top = ",".join(f"{c}:{n}" for c, n in self.top.ranking) if self.top else "-"
        return (
            f"rate={self.rates[-1]:.0f}/s sales={self.totals.count} late={self.late.total} "
            f"top={top} reconnects={self.reconnects} state={self.state}"
        )
