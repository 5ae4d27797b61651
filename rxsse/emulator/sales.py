"""``/sales``: a live sales feed, like a Black Friday live map.

Events (``sale`` ones carry ``id: n``, numbered from 1):

``sale``
    ``{"id": "order-n", "timestamp": ms, "amount": "49.90", "currency": "EUR",
    "country": "DE", "city": "Berlin", "lat": 52.52, "lon": 13.405, "products":
    ["Hoodie", ...]}``: money as a decimal string, the event time in milliseconds
    since the epoch (the sale's scheduled time on the wall clock, shifted back by
    ``disorder`` or ``late_delay``, so arrival order is not timestamp order).
``stats-update``
    ``{"timestamp": ms, "sales": n, "revenue": {"USD": "123.45", ...}}``: the
    server's totals over the sales of this connection, every ``stats`` seconds.
``milestone``
    ``{"timestamp": ms, "sales": n, "message": "10,000 sales"}`` after every
    ``milestone`` sales (by id).

Query parameters (besides the faults of :mod:`rxsse.emulator.faults`):

``rate=R``          sales per second (default 200; ``0`` = as fast as possible); the
                    server keeps up with at least 20,000/s
``count=N``         sales in the whole stream (default: endless)
``disorder=MS``     each sale's timestamp is up to MS earlier than scheduled (default 250)
``late=P``          fraction of sales that arrive ``late_delay`` ms late (default 0.005)
``late_delay=MS``   how late those are (default 5000, plus up to one more second)
``burst=S``         every S seconds a burst (default 10; ``0`` = never) of
``burst_for=S``     seconds (default 2) at ``burst_factor`` (default 3) times the rate
``stats=S``         seconds between ``stats-update`` events (default 1; ``0`` = none)
``milestone=N``     sales between ``milestone`` events (default 1000; ``0`` = none)

The country mix (:data:`MARKETS`), amounts and products of a connection are a
deterministic function of the seed and the first sale's number; a request with
``Last-Event-ID: k`` resumes at sale k + 1 (``204`` once ``count`` were sent).
Unless ``batch`` is given, sales are written in batches of about 10 ms of traffic.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from rxsse._event import ServerSentEvent
from rxsse.emulator.faults import Faults
from rxsse.emulator.streaming import int_param, stream_response

__all__ = ["MARKETS", "PRODUCTS", "Market", "SalesFeed", "routes", "sale_events"]


@dataclass(frozen=True)
class Market:
    """Where sales come from: a country, its currency, a city, and a share of sales."""

    country: str
    currency: str
    city: str
    lat: float
    lon: float
    weight: int
    scale: int = 1  # prices in this currency are about ``scale`` times dollar prices
    decimals: int = 2


MARKETS: tuple[Market, ...] = (
    Market("US", "USD", "New York", 40.71, -74.01, 40),
    Market("CA", "CAD", "Toronto", 43.65, -79.38, 6),
    Market("CA", "USD", "Vancouver", 49.28, -123.12, 1),
    Market("GB", "GBP", "London", 51.51, -0.13, 8),
    Market("AU", "AUD", "Sydney", -33.87, 151.21, 5),
    Market("DE", "EUR", "Berlin", 52.52, 13.40, 5),
    Market("FR", "EUR", "Paris", 48.86, 2.35, 4),
    Market("NL", "EUR", "Amsterdam", 52.37, 4.90, 2),
    Market("ES", "EUR", "Madrid", 40.42, -3.70, 2),
    Market("IT", "EUR", "Milan", 45.46, 9.19, 2),
    Market("IE", "EUR", "Dublin", 53.35, -6.26, 1),
    Market("BE", "EUR", "Brussels", 50.85, 4.35, 1),
    Market("JP", "JPY", "Tokyo", 35.68, 139.69, 3, scale=150, decimals=0),
    Market("NZ", "NZD", "Auckland", -36.85, 174.76, 1),
    Market("SE", "SEK", "Stockholm", 59.33, 18.07, 1, scale=10),
    Market("DK", "DKK", "Copenhagen", 55.68, 12.57, 1, scale=7),
    Market("NO", "NOK", "Oslo", 59.91, 10.75, 1, scale=10),
    Market("CH", "CHF", "Zurich", 47.37, 8.54, 1),
    Market("MX", "MXN", "Mexico City", 19.43, -99.13, 1, scale=17),
    Market("BR", "BRL", "São Paulo", -23.55, -46.63, 1, scale=5),
    Market("IN", "INR", "Mumbai", 19.08, 72.88, 1, scale=80),
    Market("SG", "SGD", "Singapore", 1.35, 103.82, 1),
    Market("ZA", "ZAR", "Cape Town", -33.92, 18.42, 1, scale=18),
    Market("AT", "EUR", "Vienna", 48.21, 16.37, 1),
    Market("PT", "EUR", "Lisbon", 38.72, -9.14, 1),
    Market("FI", "EUR", "Helsinki", 60.17, 24.94, 1),
    Market("PL", "PLN", "Warsaw", 52.23, 21.01, 1, scale=4),
    Market("AE", "AED", "Dubai", 25.20, 55.27, 1, scale=4),
    Market("HK", "HKD", "Hong Kong", 22.32, 114.17, 1, scale=8),
    Market("KR", "KRW", "Seoul", 37.57, 126.98, 1, scale=1300, decimals=0),
)
"""A rough Black Friday mix: 30 countries, some selling in two currencies."""

PRODUCTS: tuple[str, ...] = tuple(
    f"{colour} {item}"
    for item in ("Hoodie", "Sneakers", "Tote Bag", "Candle", "Coffee Beans", "Beanie", "Mug")
    for colour in ("Black", "Oat", "Forest", "Coral", "Navy")
)
"""The catalogue: 35 products."""

_CUMULATIVE = tuple(itertools.accumulate(m.weight for m in MARKETS))
_PRODUCT_JSON = tuple(f'"{p}"' for p in PRODUCTS)


@dataclass(frozen=True)
class SalesFeed:
    """The shape of one connection's feed (see the module docstring)."""

    rate: float = 200.0
    count: int | None = None
    disorder: int = 250
    late: float = 0.005
    late_delay: int = 5000
    burst: float = 10.0
    burst_for: float = 2.0
    burst_factor: float = 3.0
    stats: float = 1.0
    milestone: int = 1000

    @classmethod
    def from_request(cls, request: Request) -> SalesFeed:
        """Parse the query; raises ``ValueError`` on malformed or out-of-range values."""
        query = request.query_params
        feed = cls(
            rate=float(query.get("rate", cls.rate)),
            count=int_param(request, "count", None),
            disorder=int(query.get("disorder", cls.disorder)),
            late=float(query.get("late", cls.late)),
            late_delay=int(query.get("late_delay", cls.late_delay)),
            burst=float(query.get("burst", cls.burst)),
            burst_for=float(query.get("burst_for", cls.burst_for)),
            burst_factor=float(query.get("burst_factor", cls.burst_factor)),
            stats=float(query.get("stats", cls.stats)),
            milestone=int(query.get("milestone", cls.milestone)),
        )
        if feed.rate < 0 or feed.disorder < 0 or feed.late_delay < 0 or feed.milestone < 0:
            raise ValueError("rate, disorder, late_delay and milestone must not be negative")
        if not 0 <= feed.late <= 1 or feed.burst_factor <= 0:
            raise ValueError("late must be in [0, 1] and burst_factor positive")
        return feed

    def rate_at(self, elapsed: float) -> float:
        """Sales per second ``elapsed`` seconds into the connection (bursts included)."""
        if self.burst > 0 and elapsed % self.burst >= self.burst - self.burst_for:
            return self.rate * self.burst_factor
        return self.rate


def _amount(rng: random.Random, market: Market) -> tuple[str, int]:
    """A price as a decimal string and in minor units."""
    minor = rng.randint(500, 25_000) * market.scale  # 5.00 to 250.00 dollars' worth
    if market.decimals == 0:
        minor //= 100
        return str(minor), minor
    return f"{minor // 100}.{minor % 100:02d}", minor


def _money(minor: int, decimals: int) -> str:
    return str(minor) if decimals == 0 else f"{minor // 100}.{minor % 100:02d}"


async def sale_events(
    feed: SalesFeed, *, first: int = 1, seed: int = 0
) -> AsyncIterator[ServerSentEvent]:
    """The events of one connection: sales ``first``, ``first + 1``, … and the others."""
    loop = asyncio.get_running_loop()
    rng = random.Random(f"sales/{seed}/{first}")
    started = loop.time()
    wall_started = time.time()
    decimals = {m.currency: m.decimals for m in MARKETS}
    revenue: dict[str, int] = {}  # minor units per currency, this connection
    due = started  # loop time at which the next sale is scheduled
    next_stats = started + feed.stats
    sent = 0
    n = first
    while feed.count is None or n <= feed.count:
        now = loop.time()
        if feed.rate > 0 and due > now:
            await asyncio.sleep(due - now)
            now = loop.time()
        elif sent % 256 == 0:
            await asyncio.sleep(0)
        if feed.stats > 0 and now >= next_stats:
            next_stats = max(next_stats + feed.stats, now)
            totals = ",".join(
                f'"{c}":"{_money(m, decimals[c])}"' for c, m in sorted(revenue.items())
            )
            yield ServerSentEvent(
                "stats-update",
                f'{{"timestamp":{round(time.time() * 1000)},"sales":{sent},'
                f'"revenue":{{{totals}}}}}',
            )
        scheduled = wall_started + ((due if feed.rate > 0 else now) - started)
        if rng.random() < feed.late:
            shift = feed.late_delay + rng.randint(0, 1000)
        else:
            shift = rng.randint(0, feed.disorder)
        (market,) = rng.choices(MARKETS, cum_weights=_CUMULATIVE)
        amount, minor = _amount(rng, market)
        revenue[market.currency] = revenue.get(market.currency, 0) + minor
        products = ",".join(rng.sample(_PRODUCT_JSON, rng.randint(1, 3)))
        yield ServerSentEvent(
            "sale",
            f'{{"id":"order-{n}","timestamp":{round(scheduled * 1000) - shift},'
            f'"amount":"{amount}","currency":"{market.currency}","country":"{market.country}",'
            f'"city":"{market.city}","lat":{market.lat},"lon":{market.lon},'
            f'"products":[{products}]}}',
            str(n),
        )
        if feed.milestone and n % feed.milestone == 0:
            yield ServerSentEvent(
                "milestone",
                f'{{"timestamp":{round(scheduled * 1000)},"sales":{n},"message":"{n:,} sales"}}',
            )
        sent += 1
        n += 1
        if feed.rate > 0:
            due += 1 / feed.rate_at(due - started)


def routes(seed: int) -> list[BaseRoute]:
    """The ``/sales`` route of an emulator seeded with ``seed``."""

    async def sales(request: Request) -> Response:
        try:
            faults = Faults.from_query(request.query_params, default_seed=seed)
            feed = SalesFeed.from_request(request)
        except ValueError as exc:
            return PlainTextResponse(f"bad query parameter: {exc}\n", status_code=400)
        if "batch" not in request.query_params:  # about 10 ms of traffic per write
            batch = max(1, int(feed.rate // 100)) if feed.rate > 0 else 256
            faults = dataclasses.replace(faults, batch=batch)
        last = request.headers.get("last-event-id", "")
        first = int(last) + 1 if last.isdigit() else 1
        if feed.count is not None and first > feed.count and last:
            return Response(status_code=204)
        return stream_response(request, sale_events(feed, first=first, seed=faults.seed), faults)

    return [Route("/sales", sales)]
