"""Live sales: exact money, event-time windows and mergeable aggregates.

Pure domain code (stdlib + pydantic + :mod:`rxsse._event`).  The Rx wrappers live in
:mod:`rxsse.operators.sales`; :class:`SalesWindower` runs the same windowing without
Rx (in a worker, a script, a test).

**Money** is :class:`~decimal.Decimal` with an explicit ISO 4217 currency, never a
float: :class:`Sale` refuses a float amount, and sums stay per currency (revenue in
EUR and in USD is never added up).

**Time** is integer milliseconds since the Unix epoch (UTC), as in Flink and Beam, so
window arithmetic is exact.  :attr:`Sale.timestamp` is the event time; ``Sale.time``
gives it as an aware :class:`~datetime.datetime`.

**Windows** follow Flink/Beam semantics:

* Tumbling (``slide == size``) and hopping (``slide < size``) windows are aligned to
  the epoch and half-open, ``[start, end)``: a sale exactly at ``end`` belongs to the
  next window.  With hopping windows each sale is in ``size / slide`` windows; it is
  aggregated once, into a *pane* of ``gcd(size, slide)``, and a window's result is the
  merge of its panes (Flink's window slicing).
* The **watermark** is ``W = max_seen - max_delay`` (bounded out-of-orderness):
  every sale with a timestamp below ``W`` is assumed to have arrived.  A window is
  complete, and its result emitted, when ``W >= end``.  :meth:`SalesWindower.advance`
  raises ``max_seen`` without a sale: the operators call it when the stream is idle
  (the watermark then follows the scheduler's clock) or, for processing time, with
  the clock itself.  The watermark never goes back.
* A sale is checked against the watermark **before** its own timestamp raises it.
  For each of its windows: ``W < end`` → the window is open, the sale counts;
  ``end <= W < end + allowed_lateness`` → the window was emitted but is within its
  allowed lateness: the sale counts and the window's result is emitted again with
  ``update`` incremented (an update, Flink's late firing); ``W >= end +
  allowed_lateness`` → the window has expired: the sale is *too late* for it.  A sale
  too late for at least one of its windows goes to the late output (a
  :class:`LateSale` saying how many of its windows missed it); nothing is dropped
  silently.
* Windows form a contiguous series from the first sale's first window on: a window
  with no sales is emitted with zero counts, so a rate falls to zero when sales stop.
* :meth:`SalesWindower.flush` (at completion) emits every window not yet emitted whose
  start is at or before ``max_seen``.

**Aggregates** (:class:`SalesAggregate`: count, revenue per currency, per-country
counts and revenue, products) form a commutative monoid: :meth:`SalesAggregate.merge`
of partial results from several sources or workers equals the result over all their
sales, exactly; the top countries are derived from the merged counts, never merged
themselves.  Memory is bounded by the open panes times the distinct keys (countries,
currencies, products), not by the number of sales: sales are buffered at most
:data:`FOLD_EVERY` at a time per pane, then folded into counters.
"""

from __future__ import annotations

import heapq
import html
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import chain
from operator import attrgetter
from typing import Any, NamedTuple, Self

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from rxsse._event import ServerSentEvent
from rxsse.domain._html import HTMLReprMixin

__all__ = [
    "FOLD_EVERY",
    "CountryCount",
    "LateSale",
    "Milestone",
    "Sale",
    "SalesAccumulator",
    "SalesAggregate",
    "SalesRate",
    "SalesWindow",
    "SalesWindower",
    "StatsUpdate",
    "TopCountries",
    "TopCountriesTracker",
    "parse_sales_event",
    "to_millis",
    "window_starts",
]

FOLD_EVERY = 1024
"""Sales buffered per pane before they are folded into its counters."""

_FROZEN = ConfigDict(frozen=True)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NEVER = -(2**62)  # "no sale yet": below every real timestamp
_ZERO = Decimal(0)


def to_millis(value: float | timedelta) -> int:
    """Seconds (or a ``timedelta``) as whole milliseconds."""
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return round(seconds * 1000)


def _datetime(millis: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=millis)


# -- input ------------------------------------------------------------------------------


class Sale(HTMLReprMixin, BaseModel):
    """One sale: when, how much in which currency, where, and what.

    ``timestamp`` is the event time in milliseconds since the epoch (an aware
    ``datetime`` is accepted and converted).  ``amount`` is a ``Decimal``: a
    string, an int or a ``Decimal`` are accepted, a float is refused.
    """

    model_config = _FROZEN

    id: str = ""
    timestamp: int
    amount: Decimal = Field(allow_inf_nan=False)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    country: str = Field(pattern=r"^[A-Z]{2}$")
    city: str = ""
    lat: float | None = None
    lon: float | None = None
    products: tuple[str, ...] = ()

    @field_validator("timestamp", mode="before")
    @classmethod
    def _timestamp_millis(cls, value: Any) -> Any:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError("a sale's time must be timezone-aware")
            return (value - _EPOCH) // timedelta(milliseconds=1)
        if isinstance(value, float):
            raise ValueError("timestamp is integer milliseconds, not a float")
        return value

    @field_validator("amount", mode="before")
    @classmethod
    def _no_float_money(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError("money is never a float: give the amount as a string or Decimal")
        return value

    @property
    def time(self) -> datetime:
        """The event time as an aware UTC ``datetime``."""
        return _datetime(self.timestamp)


class StatsUpdate(HTMLReprMixin, BaseModel):
    """The server's own running totals (``stats-update`` events)."""

    model_config = _FROZEN

    timestamp: int
    sales: int
    revenue: dict[str, Decimal] = {}

    @field_validator("revenue", mode="before")
    @classmethod
    def _no_float_revenue(cls, value: Any) -> Any:
        if isinstance(value, Mapping) and any(isinstance(v, float) for v in value.values()):
            raise ValueError("money is never a float: give amounts as strings")
        return value


class Milestone(HTMLReprMixin, BaseModel):
    """A round number of sales reached (``milestone`` events)."""

    model_config = _FROZEN

    timestamp: int
    sales: int
    message: str = ""


def parse_sales_event(event: ServerSentEvent) -> Sale | StatsUpdate | Milestone | None:
    """The model of a ``sale``, ``stats-update`` or ``milestone`` event; ``None`` for others.

    Raises :class:`pydantic.ValidationError` when the data does not fit the model.
    """
    if event.event == "sale":
        return Sale.model_validate_json(event.data)
    if event.event == "stats-update":
        return StatsUpdate.model_validate_json(event.data)
    if event.event == "milestone":
        return Milestone.model_validate_json(event.data)
    return None


# -- aggregates --------------------------------------------------------------------------


class CountryCount(NamedTuple):
    """A country and its number of sales."""

    country: str
    sales: int


def _rank_key(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


def _top(countries: Mapping[str, int], k: int) -> list[CountryCount]:
    """The ``k`` countries with most sales, ties broken by country code."""
    return [CountryCount(c, n) for c, n in heapq.nsmallest(k, countries.items(), key=_rank_key)]


def _add_counts(into: dict[str, int], other: Mapping[str, int]) -> None:
    for key, value in other.items():
        into[key] = into.get(key, 0) + value


def _add_money(into: dict[str, Decimal], other: Mapping[str, Decimal]) -> None:
    for key, value in other.items():
        into[key] = into.get(key, _ZERO) + value


class SalesAggregate(HTMLReprMixin, BaseModel):
    """Exact totals over a set of sales; a commutative monoid under :meth:`merge`.

    ``country_revenue[country][currency]`` is the revenue of that country in that
    currency; ``revenue`` (per currency) is derived from it.  ``products`` counts
    units sold per product.
    """

    model_config = _FROZEN

    count: int = 0
    countries: dict[str, int] = {}
    country_revenue: dict[str, dict[str, Decimal]] = {}
    products: dict[str, int] = {}

    @computed_field  # type: ignore[prop-decorator]
    @property
    def revenue(self) -> dict[str, Decimal]:
        """Revenue per currency."""
        total: dict[str, Decimal] = {}
        for per_currency in self.country_revenue.values():
            _add_money(total, per_currency)
        return dict(sorted(total.items()))

    def top_countries(self, k: int = 10) -> list[CountryCount]:
        """The ``k`` countries with most sales (ties: by country code)."""
        return _top(self.countries, k)

    def _merged_fields(self, other: SalesAggregate) -> dict[str, Any]:
        countries = dict(self.countries)
        _add_counts(countries, other.countries)
        products = dict(self.products)
        _add_counts(products, other.products)
        country_revenue = {c: dict(r) for c, r in self.country_revenue.items()}
        for country, per_currency in other.country_revenue.items():
            _add_money(country_revenue.setdefault(country, {}), per_currency)
        return {
            "count": self.count + other.count,
            "countries": countries,
            "country_revenue": country_revenue,
            "products": products,
        }

    def merge(self, other: SalesAggregate) -> Self:
        """The aggregate over the sales of both (exact; order does not matter)."""
        return self.model_copy(update=self._merged_fields(other))

    @classmethod
    def of(cls, sales: Iterable[Sale]) -> SalesAggregate:
        """The aggregate of ``sales``."""
        accumulator = SalesAccumulator()
        for sale in sales:
            accumulator.add(sale)
        return accumulator.snapshot()


class SalesWindow(SalesAggregate):
    """The sales of the window ``[start, end)``.

    ``update`` is 0 for the window's first result and *n* for its *n*-th updated
    result (a sale within the allowed lateness arrived after the window was
    emitted); ``is_update`` says which.  ``top`` is the ``top_k`` countries with most
    sales.
    """

    start: datetime
    end: datetime
    update: int = 0
    top_k: int = 10

    @computed_field  # type: ignore[prop-decorator]
    @property
    def is_update(self) -> bool:
        """Whether this result replaces an earlier result of the same window."""
        return self.update > 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def top(self) -> list[CountryCount]:
        """The ``top_k`` countries with most sales."""
        return _top(self.countries, self.top_k)

    @property
    def seconds(self) -> float:
        """The window's length in seconds."""
        return (self.end - self.start).total_seconds()

    @property
    def per_second(self) -> float:
        """Sales per second over the window."""
        return self.count / self.seconds

    def merge(self, other: SalesAggregate) -> Self:
        """Combine partial results of the same window (from several sources or workers)."""
        if isinstance(other, SalesWindow):
            if (other.start, other.end) != (self.start, self.end):
                raise ValueError("can only merge results of the same window")
            fields = self._merged_fields(other)
            fields.update(update=max(self.update, other.update), top_k=max(self.top_k, other.top_k))
            return self.model_copy(update=fields)
        return super().merge(other)


class SalesRate(HTMLReprMixin, BaseModel):
    """Sales per second over one window (the count divided by the window's length)."""

    model_config = _FROZEN

    start: datetime
    end: datetime
    count: int
    per_second: float

    @classmethod
    def of(cls, window: SalesWindow) -> SalesRate:
        return cls.model_construct(
            start=window.start, end=window.end, count=window.count, per_second=window.per_second
        )


class TopCountries(BaseModel):
    """The running top ``k`` countries by number of sales, over every sale so far.

    In a notebook it shows as a horizontal bar chart.
    """

    model_config = _FROZEN

    k: int
    sales: int
    ranking: tuple[CountryCount, ...]

    def _repr_html_(self) -> str:
        peak = max((count for _, count in self.ranking), default=0) or 1
        rows = "".join(
            f'<div style="display:flex;align-items:center;gap:6px;margin:2px 0">'
            f'<span style="width:2.5em;font-family:monospace">{html.escape(country)}</span>'
            f'<span style="display:inline-block;height:14px;width:{240 * count / peak:.0f}px;'
            f'background:#59a14f"></span><span>{count:,}</span></div>'
            for country, count in self.ranking
        )
        return (
            f'<div style="font-size:0.9em"><b>Top {self.k} countries</b> of '
            f"{self.sales:,} sales{rows}</div>"
        )


class LateSale(HTMLReprMixin, BaseModel):
    """A sale that arrived after some of its windows had expired.

    ``missed`` of its ``windows`` no longer counted it (all of them for tumbling
    windows); ``watermark`` is the watermark (ms) it was checked against.
    """

    model_config = _FROZEN

    sale: Sale
    watermark: int
    missed: int
    windows: int


# -- the running top k ---------------------------------------------------------------------


class TopCountriesTracker:
    """The exact top ``k`` countries by sales count, maintained in O(k) per sale.

    Counts only grow by one, so a country outside the top can only enter by
    displacing the last one; the ranking order is (count descending, country code).
    """

    __slots__ = ("_counts", "_ranking", "k", "sales")

    def __init__(self, k: int) -> None:
        if k < 1:
            raise ValueError("k must be at least 1")
        self.k = k
        self.sales = 0
        self._counts: dict[str, int] = {}
        self._ranking: list[str] = []  # top countries, best first

    def add(self, country: str) -> bool:
        """Count one sale of ``country``; return whether the top ``k`` changed."""
        counts = self._counts
        count = counts.get(country, 0) + 1
        counts[country] = count
        self.sales += 1
        ranking = self._ranking
        if country in ranking:
            index = ranking.index(country)
        elif len(ranking) < self.k:
            ranking.append(country)
            index = len(ranking) - 1
        elif (-count, country) < (-counts[ranking[-1]], ranking[-1]):
            ranking[-1] = country
            index = len(ranking) - 1
        else:
            return False
        while index > 0:  # bubble up past the countries it now beats
            ahead = ranking[index - 1]
            if (-counts[ahead], ahead) < (-count, country):
                break
            ranking[index - 1], ranking[index] = country, ahead
            index -= 1
        return True

    def snapshot(self) -> TopCountries:
        counts = self._counts
        ranking = tuple(CountryCount(c, counts[c]) for c in self._ranking)
        return TopCountries.model_construct(k=self.k, sales=self.sales, ranking=ranking)


# -- windowing ---------------------------------------------------------------------------

_COUNTRY = attrgetter("country")
_PRODUCTS = attrgetter("products")


class SalesAccumulator:
    """Mutable exact totals: sales are buffered, then folded into counters in batches.

    The fold does its counting with C-level ``Counter.update`` over up to
    :data:`FOLD_EVERY` sales at a time; :meth:`snapshot` gives the immutable
    :class:`SalesAggregate`.  Used per pane by :class:`SalesWindower` and for running
    totals.
    """

    __slots__ = ("count", "countries", "pending", "products", "revenue")

    def __init__(self) -> None:
        self.pending: list[Sale] = []
        self.count = 0
        self.countries: Counter[str] = Counter()
        self.products: Counter[str] = Counter()
        self.revenue: dict[tuple[str, str], Decimal] = {}  # (country, currency) -> sum

    def add(self, sale: Sale) -> None:
        pending = self.pending
        pending.append(sale)
        if len(pending) >= FOLD_EVERY:
            self.fold()

    def snapshot(self) -> SalesAggregate:
        return SalesAggregate.model_construct(**self.fields())

    def fold(self) -> None:
        pending = self.pending
        if not pending:
            return
        self.count += len(pending)
        self.countries.update(map(_COUNTRY, pending))
        self.products.update(chain.from_iterable(map(_PRODUCTS, pending)))
        revenue = self.revenue
        get = revenue.get
        for sale in pending:
            key = (sale.country, sale.currency)
            revenue[key] = get(key, _ZERO) + sale.amount
        pending.clear()

    def fields(self, *more: SalesAccumulator) -> dict[str, Any]:
        """The aggregate's fields over this accumulator and ``more`` (fresh dicts)."""
        self.fold()
        count = self.count
        countries = dict(self.countries)
        products = dict(self.products)
        country_revenue: dict[str, dict[str, Decimal]] = {}
        for (country, currency), amount in self.revenue.items():
            country_revenue.setdefault(country, {})[currency] = amount
        for other in more:
            other.fold()
            count += other.count
            _add_counts(countries, other.countries)
            _add_counts(products, other.products)
            for (country, currency), amount in other.revenue.items():
                per_currency = country_revenue.setdefault(country, {})
                per_currency[currency] = per_currency.get(currency, _ZERO) + amount
        return {
            "count": count,
            "countries": countries,
            "country_revenue": country_revenue,
            "products": products,
        }


def window_starts(timestamp: int, size: int, slide: int) -> range:
    """Starts of the epoch-aligned windows ``[s, s + size)`` that contain ``timestamp`` (ms)."""
    last = timestamp - timestamp % slide
    first = last - (size - 1) // slide * slide
    while first + size <= timestamp:
        first += slide
    return range(first, last + 1, slide)


class SalesWindower:
    """Event-time windows over sales, without Rx (see the module docstring).

    ``size``, ``slide``, ``max_delay`` and ``allowed_lateness`` are milliseconds.
    Results go to ``emit`` (a :class:`SalesWindow`) in window order, then updates as
    late sales arrive; sales too late for a window go to ``late`` (a
    :class:`LateSale`).  Feed sales with :meth:`add` (event time) or :meth:`add_at`
    (an explicit time, e.g. the arrival time); raise the watermark without a sale
    with :meth:`advance`; end with :meth:`flush`.  Exceptions raised by ``emit`` or
    ``late`` propagate to the caller.
    """

    def __init__(
        self,
        size: int,
        slide: int | None = None,
        *,
        max_delay: int = 0,
        allowed_lateness: int = 0,
        top_k: int = 10,
        emit: Callable[[SalesWindow], None],
        late: Callable[[LateSale], None] | None = None,
    ) -> None:
        slide = self.check(size, slide, max_delay, allowed_lateness, top_k)
        self.size = size
        self.slide = slide
        self.pane = math.gcd(size, slide)
        self.max_delay = max_delay
        self.allowed_lateness = allowed_lateness
        self.top_k = top_k
        self.late_count = 0
        self.emitted = 0
        self._emit = emit
        self._late = late
        self._panes: dict[int, SalesAccumulator] = {}
        self._results: dict[int, int] = {}  # window start -> results emitted, once updated
        self._first: int | None = None  # start of the series' first window
        self._next: int | None = None  # start of the next window to emit
        self._fire_at = -_NEVER  # max_seen at which that window completes
        self._max_seen = _NEVER
        # The fast path: a pane all of whose windows are still open.
        self._lo = self._hi = 0
        self._pending: list[Sale] = []

    @staticmethod
    def check(
        size: int, slide: int | None, max_delay: int, allowed_lateness: int, top_k: int
    ) -> int:
        """Validate the arguments (ms); return the slide (``size`` when ``None``)."""
        slide = size if slide is None else slide
        if size <= 0 or slide <= 0 or slide > size:
            raise ValueError("need 0 < slide <= size")
        if max_delay < 0 or allowed_lateness < 0:
            raise ValueError("max_delay and allowed_lateness must not be negative")
        if top_k < 1:
            raise ValueError("top_k must be at least 1")
        return slide

    # -- state, for callers and tests

    @property
    def completes_at(self) -> int | None:
        """The ``max_seen`` (ms) at which the next window completes, once windows exist."""
        return None if self._next is None else self._fire_at

    @property
    def max_seen(self) -> int | None:
        """The watermark's base (ms): the largest timestamp seen or advanced to."""
        return None if self._max_seen == _NEVER else self._max_seen

    @property
    def watermark(self) -> int | None:
        """``max_seen - max_delay`` (ms), or ``None`` before the first sale."""
        return None if self._max_seen == _NEVER else self._max_seen - self.max_delay

    @property
    def open_panes(self) -> int:
        """Panes held in memory (bounded by the open windows, not by the stream)."""
        return len(self._panes)

    # -- feeding

    def add(self, sale: Sale) -> None:
        """Add a sale at its own timestamp (event time)."""
        ts = sale.timestamp
        if self._lo <= ts < self._hi:  # the fast path: no lateness to check
            pending = self._pending
            pending.append(sale)
            if len(pending) >= FOLD_EVERY:
                self._panes[self._lo].fold()
        else:
            self._place(sale, ts)
        if ts > self._max_seen:
            self._max_seen = ts
            if ts >= self._fire_at:
                self._fire()

    def add_at(self, sale: Sale, timestamp: int) -> None:
        """Add a sale as if it happened at ``timestamp`` (ms; processing time)."""
        self._place(sale, timestamp)
        if timestamp > self._max_seen:
            self._max_seen = timestamp
            if timestamp >= self._fire_at:
                self._fire()

    def advance(self, max_seen: int) -> None:
        """Raise the watermark's base to ``max_seen`` (ms) without a sale.

        Completes the windows the new watermark passes; a lower value is ignored.
        Before the first sale there are no windows and this only moves the base.
        """
        if max_seen > self._max_seen:
            self._max_seen = max_seen
            if max_seen >= self._fire_at:
                self._fire()

    def start_at(self, timestamp: int) -> None:
        """Start the series of windows at the first window containing ``timestamp``.

        For processing time, where windows are emitted from the subscription on;
        ignored once the series has started.
        """
        if self._next is None:
            self._start_series(window_starts(timestamp, self.size, self.slide)[0])

    def flush(self) -> None:
        """Emit every window not emitted yet that starts at or before ``max_seen``."""
        if self._next is None:
            return
        last = self._max_seen
        while self._next <= last:
            self._emit_window(self._next, 0)
            self._next += self.slide
        self._panes.clear()
        self._results.clear()
        self._lo = self._hi = 0
        self._fire_at = -_NEVER

    # -- internals

    def _start_series(self, start: int) -> None:
        self._first = start if self._first is None else min(self._first, start)
        self._next = start
        self._fire_at = start + self.size + self.max_delay

    def _place(self, sale: Sale, ts: int) -> None:
        """The slow path: lateness per window, pane creation, late updates."""
        size, slide = self.size, self.slide
        watermark = self._max_seen - self.max_delay
        starts = window_starts(ts, size, slide)
        missed = 0
        updates: list[int] = []
        for start in starts:
            end = start + size
            if watermark < end:
                if self._next is None or start < self._next:
                    self._start_series(start)
            elif watermark < end + self.allowed_lateness:
                updates.append(start)
            else:
                missed += 1
        if missed:
            self.late_count += 1
            if self._late is not None:
                late = LateSale.model_construct(
                    sale=sale, watermark=watermark, missed=missed, windows=len(starts)
                )
                self._late(late)
            if missed == len(starts):
                return
        pane_start = ts - ts % self.pane
        accumulator = self._panes.get(pane_start)
        if accumulator is None:
            accumulator = self._panes[pane_start] = SalesAccumulator()
        accumulator.add(sale)
        for start in updates:
            # A closed window of the series was emitted once already; one before the
            # series (it had no sale when it closed) gets its first result now.
            in_series = self._first is not None and start >= self._first
            results = self._results.get(start, 1 if in_series else 0)
            self._results[start] = results + 1
            self._emit_window(start, results)
        assert self._next is not None  # an accepted sale has started the series
        if not updates and starts[0] >= self._next:
            # every window of this pane is still open: take the fast path from now on
            self._lo, self._hi = pane_start, pane_start + self.pane
            self._pending = accumulator.pending

    def _fire(self) -> None:
        """Emit the windows the watermark has passed; forget what expired."""
        assert self._next is not None
        watermark = self._max_seen - self.max_delay
        size, slide = self.size, self.slide
        while self._next + size <= watermark:
            self._emit_window(self._next, 0)
            self._next += slide
        self._fire_at = self._next + size + self.max_delay
        if self._lo < self._next:  # the fast-path pane now has a completed window
            self._lo = self._hi = 0
        # A pane is needed until the last window containing it has expired.
        horizon = watermark - size - self.allowed_lateness
        expired = [p for p in self._panes if p - p % slide <= horizon]
        for pane_start in expired:
            del self._panes[pane_start]
        if self._results:
            for start in [s for s in self._results if s <= horizon]:
                del self._results[start]

    def _emit_window(self, start: int, update: int) -> None:
        panes = self._panes
        parts = [panes[p] for p in range(start, start + self.size, self.pane) if p in panes]
        fields = parts[0].fields(*parts[1:]) if parts else {}
        window = SalesWindow.model_construct(
            **fields,
            start=_datetime(start),
            end=_datetime(start + self.size),
            update=update,
            top_k=self.top_k,
        )
        self.emitted += 1
        self._emit(window)
