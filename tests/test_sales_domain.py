"""rxsse.domain.sales: money, models, aggregates, the top-k tracker and the windower."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import ValidationError

from rxsse import ServerSentEvent
from rxsse.domain.sales import (
    FOLD_EVERY,
    CountryCount,
    LateSale,
    Milestone,
    Sale,
    SalesAggregate,
    SalesWindow,
    SalesWindower,
    StatsUpdate,
    TopCountriesTracker,
    parse_sales_event,
    to_millis,
    window_starts,
)

T0 = 1_700_000_000_000  # a multiple of every window size used here


def sale(
    ts: int,
    country: str = "US",
    amount: str = "10.00",
    currency: str = "USD",
    products: tuple[str, ...] = ("mug",),
) -> Sale:
    return Sale(
        timestamp=ts, amount=Decimal(amount), currency=currency, country=country, products=products
    )


# -- models ----------------------------------------------------------------------------


def test_sale_money_is_decimal_and_never_float() -> None:
    base = {"timestamp": T0, "currency": "EUR", "country": "DE"}
    s = Sale.model_validate({**base, "amount": "19.99"})
    assert s.amount == Decimal("19.99")
    assert isinstance(s.amount, Decimal)
    with pytest.raises(ValidationError, match="never a float"):
        Sale.model_validate({**base, "amount": 19.99})
    with pytest.raises(ValidationError):
        Sale.model_validate({**base, "amount": "NaN"})
    with pytest.raises(ValidationError):
        Sale.model_validate({**base, "amount": "1", "currency": "euro"})  # ISO 4217 code
    with pytest.raises(ValidationError):
        Sale.model_validate({**base, "amount": "1", "country": "Germany"})  # ISO 3166 code
    with pytest.raises(ValidationError):  # frozen
        s.amount = Decimal(1)


def test_sale_time_is_integer_milliseconds_from_an_aware_datetime() -> None:
    when = datetime(2024, 11, 29, 12, 0, 0, 250_000, tzinfo=UTC)
    s = Sale(timestamp=when, amount="1", currency="USD", country="US")  # type: ignore[arg-type]
    assert s.timestamp == 1_732_881_600_250
    assert s.time == when
    east = when.astimezone(timezone(timedelta(hours=9)))
    assert Sale(timestamp=east, amount="1", currency="USD", country="US").timestamp == s.timestamp  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="timezone-aware"):
        Sale(timestamp=datetime(2024, 1, 1), amount="1", currency="USD", country="US")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="not a float"):
        Sale(timestamp=1.5, amount="1", currency="USD", country="US")  # type: ignore[arg-type]


def test_parse_sales_event_reads_the_three_event_types() -> None:
    data = {"id": "o-1", "timestamp": T0, "amount": "5.50", "currency": "GBP", "country": "GB"}
    parsed = parse_sales_event(ServerSentEvent("sale", json.dumps(data), "1"))
    assert parsed == Sale(**data)  # type: ignore[arg-type]
    stats = parse_sales_event(
        ServerSentEvent("stats-update", '{"timestamp": 1, "sales": 3, "revenue": {"EUR": "1.10"}}')
    )
    assert stats == StatsUpdate(timestamp=1, sales=3, revenue={"EUR": Decimal("1.10")})
    milestone = parse_sales_event(ServerSentEvent("milestone", '{"timestamp": 1, "sales": 1000}'))
    assert milestone == Milestone(timestamp=1, sales=1000)
    assert parse_sales_event(ServerSentEvent("ping", "")) is None
    with pytest.raises(ValidationError):  # a JSON number is a float: refused
        parse_sales_event(ServerSentEvent("sale", json.dumps({**data, "amount": 5.5})))


def test_to_millis() -> None:
    assert to_millis(1.5) == 1500
    assert to_millis(timedelta(milliseconds=250)) == 250


# -- aggregates ------------------------------------------------------------------------


SALES = [
    sale(T0, "US", "10.00", "USD", ("mug", "mug")),
    sale(T0 + 1, "DE", "5.50", "EUR", ("tee",)),
    sale(T0 + 2, "US", "0.10", "USD", ()),
    sale(T0 + 3, "CA", "7.00", "USD", ("mug",)),  # a Canadian sale priced in USD
    sale(T0 + 4, "CA", "3.00", "CAD", ("cap",)),
    sale(T0 + 5, "DE", "0.20", "EUR", ("tee",)),
]


def test_aggregate_counts_revenue_per_currency_and_country_products() -> None:
    agg = SalesAggregate.of(SALES)
    assert agg.count == 6
    assert agg.revenue == {"CAD": Decimal("3.00"), "EUR": Decimal("5.70"), "USD": Decimal("17.10")}
    assert agg.countries == {"US": 2, "DE": 2, "CA": 2}
    assert agg.country_revenue["CA"] == {"USD": Decimal("7.00"), "CAD": Decimal("3.00")}
    assert agg.products == {"mug": 3, "tee": 2, "cap": 1}
    assert agg.top_countries(2) == [CountryCount("CA", 2), CountryCount("DE", 2)]  # ties by code


def test_aggregate_merge_is_exact_commutative_and_associative() -> None:
    a, b, c = (SalesAggregate.of(SALES[i : i + 2]) for i in (0, 2, 4))
    whole = SalesAggregate.of(SALES)
    assert a.merge(b).merge(c) == whole
    assert c.merge(a.merge(b)) == whole
    assert a.merge(SalesAggregate()) == a
    assert a.count == 2  # merging never mutates its inputs


def test_aggregate_folds_in_batches_with_the_same_result() -> None:
    many = [sale(T0 + i, "US" if i % 3 else "FR", "0.01") for i in range(FOLD_EVERY * 2 + 7)]
    agg = SalesAggregate.of(many)
    assert agg.count == len(many)
    assert agg.revenue == {"USD": Decimal("0.01") * len(many)}
    assert sum(agg.countries.values()) == len(many)


def test_window_merge_needs_the_same_window() -> None:
    start, end = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, 0, 0, 1, tzinfo=UTC)
    one = SalesWindow(start=start, end=end, count=1, countries={"US": 1})
    two = SalesWindow(start=start, end=end, count=2, countries={"US": 1, "DE": 1}, update=1)
    merged = one.merge(two)
    assert (merged.count, merged.countries, merged.update) == (3, {"US": 2, "DE": 1}, 1)
    assert merged.per_second == 3.0
    with pytest.raises(ValueError, match="same window"):
        one.merge(two.model_copy(update={"end": end + timedelta(seconds=1)}))


def test_window_html_repr_shows_its_fields() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    window = SalesWindow(start=start, end=start + timedelta(seconds=1), countries={"US": 2})
    fragment = window._repr_html_()
    assert "SalesWindow" in fragment
    assert "US" in fragment


# -- the running top k -----------------------------------------------------------------


def test_top_tracker_is_exact_and_reports_changes() -> None:
    tracker = TopCountriesTracker(2)
    assert tracker.add("US") is True
    assert tracker.add("DE") is True  # DE 1 ties US 1 and goes first: "DE" < "US"
    assert tracker.add("FR") is True  # FR 1 displaces US 1 for the same reason
    assert tracker.add("US") is True  # US 2 is back, first
    assert tracker.add("ZA") is False  # ZA 1 loses the tie with DE 1
    assert tracker.snapshot().ranking == (CountryCount("US", 2), CountryCount("DE", 1))
    assert tracker.snapshot().sales == 5
    with pytest.raises(ValueError, match="at least 1"):
        TopCountriesTracker(0)


# -- windows ---------------------------------------------------------------------------


def test_window_starts_are_epoch_aligned_and_half_open() -> None:
    assert list(window_starts(T0 + 999, 1000, 1000)) == [T0]
    assert list(window_starts(T0 + 1000, 1000, 1000)) == [T0 + 1000]  # at end: next window
    assert list(window_starts(T0 + 2500, 3000, 1000)) == [T0, T0 + 1000, T0 + 2000]
    assert list(window_starts(T0 + 3000, 3000, 1000)) == [T0 + 1000, T0 + 2000, T0 + 3000]
    # a size that is not a multiple of the slide: 2 or 3 windows per sale
    assert list(window_starts(T0 + 1200, 2500, 1000)) == [T0 - 1000, T0, T0 + 1000]
    assert list(window_starts(T0 + 1700, 2500, 1000)) == [T0, T0 + 1000]
    assert list(window_starts(-1, 1000, 1000)) == [-1000]


def run(
    sales: list[Sale], **kwargs: int
) -> tuple[list[SalesWindow], list[LateSale], SalesWindower]:
    windows: list[SalesWindow] = []
    late: list[LateSale] = []
    windower = SalesWindower(emit=windows.append, late=late.append, **kwargs)
    for s in sales:
        windower.add(s)
    return windows, late, windower


def test_windower_emits_when_the_watermark_passes_the_end() -> None:
    windows, _, windower = run(
        [sale(T0 + 100), sale(T0 + 1200), sale(T0 + 1499)], size=1000, max_delay=500
    )
    assert windows == []  # watermark 999 < end 1000
    assert windower.watermark == T0 + 999
    windower.add(sale(T0 + 1500))
    assert [(w.start, w.count) for w in windows] == [(datetime.fromtimestamp(T0 / 1000, UTC), 1)]
    windower.flush()
    assert [w.count for w in windows] == [1, 3]


def test_windower_memory_is_bounded_by_open_panes() -> None:
    windower = SalesWindower(1000, 500, max_delay=1000, allowed_lateness=2000, emit=lambda w: None)
    for i in range(20_000):
        windower.add(sale(T0 + i * 5))
        assert windower.open_panes <= (1000 + 1000 + 2000) // 500 + 2


def test_windower_late_sale_counts_missed_windows_when_hopping() -> None:
    # windows of 3 s sliding by 1 s; the watermark has passed the end of one of them
    windows, late, windower = run(
        [sale(T0 + 5000), sale(T0 + 6500), sale(T0 + 4500)], size=3000, slide=1000
    )
    assert windower.watermark == T0 + 6500
    # T0+4500 is in [2000,5000), [3000,6000), [4000,7000): expired, expired, open
    assert len(late) == 1
    assert (late[0].missed, late[0].windows, late[0].watermark) == (2, 3, T0 + 6500)
    assert windower.late_count == 1
    windower.flush()
    by_start = {round(w.start.timestamp() * 1000) - T0: w.count for w in windows}
    assert by_start[4000] == 3  # the late sale still counts where its window was open
    assert by_start[3000] == 1


def test_windower_checks_arguments() -> None:
    with pytest.raises(ValueError, match="slide"):
        SalesWindower(1000, 2000, emit=print)
    with pytest.raises(ValueError, match="negative"):
        SalesWindower(1000, max_delay=-1, emit=print)
    with pytest.raises(ValueError, match="top_k"):
        SalesWindower(1000, top_k=0, emit=print)
