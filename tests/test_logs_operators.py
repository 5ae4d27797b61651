"""log_lines(), detect_levels(), ansi_to_html(): virtual time, one test per edge case."""

from __future__ import annotations

import json
from typing import Any

import reactivex
from reactivex import Observable
from reactivex.testing import ReactiveTest, TestScheduler
from reactivex.testing.subscription import Subscription

from rxsse import ServerSentEvent
from rxsse.domain.logs import Level, LevelledText, LogLine
from rxsse.operators.logs import ansi_to_html, detect_levels, log_lines

on_next = ReactiveTest.on_next
on_completed = ReactiveTest.on_completed
on_error = ReactiveTest.on_error
TS = "2024-05-01T12:34:56Z "


def error_of(message: Any) -> Any:
    return message.value.exception


def values(messages: list[Any]) -> list[Any]:
    return [m.value.value for m in messages if m.value.kind == "N"]


def kinds(messages: list[Any]) -> list[tuple[int, str]]:
    return [(m.time, m.value.kind) for m in messages]


def event(kind: str, data: object) -> ServerSentEvent:
    return ServerSentEvent(kind, data if isinstance(data, str) else json.dumps(data))


RUN = [
    on_next(210, event("step-start", {"step": 1, "name": "Build"})),
    on_next(220, event("log", {"lines": [TS + "##[group]g", TS + "\x1b[31mERROR: x\x1b[0m"]})),
    on_next(230, event("log", {"lines": [TS + "##[endgroup]", TS + "done"]})),
    on_next(240, event("step-complete", {"step": 1, "conclusion": "failure"})),
    on_completed(250),
]


def test_log_lines_emits_each_line_when_its_event_arrives() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(*RUN)
    results = scheduler.start(lambda: source.pipe(log_lines()))
    assert kinds(results.messages) == [(220, "N"), (220, "N"), (230, "N"), (250, "C")]
    lines: list[LogLine] = values(results.messages)
    assert [(x.number, x.group, x.level, x.text) for x in lines] == [
        (1, "g", Level.INFO, "g"),
        (2, "g", Level.ERROR, "ERROR: x"),
        (3, None, Level.INFO, "done"),
    ]
    assert lines[1].html == '<span class="ansi-fg-1">ERROR: x</span>'
    assert source.subscriptions == [Subscription(200, 250)]


def test_log_lines_inline_styles_and_custom_rules() -> None:
    from rxsse.domain.logs import LEVEL_RULES, level_rule

    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(
        on_next(210, event("log", "\x1b[32mDEPLOYED v2")), on_completed(220)
    )
    rule = level_rule("deploys", r"DEPLOYED", Level.NOTICE)
    results = scheduler.start(
        lambda: source.pipe(log_lines(inline_styles=True, rules=(rule, *LEVEL_RULES)))
    )
    (line,) = values(results.messages)
    assert line.level is Level.NOTICE
    assert line.html == '<span style="color:#00cd00">DEPLOYED v2</span>'


def test_log_lines_empty_error_and_never() -> None:
    scheduler = TestScheduler()
    empty = scheduler.start(lambda: reactivex.empty().pipe(log_lines()))
    assert kinds(empty.messages) == [(200, "C")]

    scheduler = TestScheduler()
    failure = ValueError("stream broke")
    source = scheduler.create_hot_observable(
        on_next(210, event("log", "a")), on_error(220, failure)
    )
    results = scheduler.start(lambda: source.pipe(log_lines()))
    assert kinds(results.messages) == [(210, "N"), (220, "E")]
    assert error_of(results.messages[-1]) is failure

    scheduler = TestScheduler()
    never = scheduler.start(lambda: reactivex.never().pipe(log_lines()))
    assert never.messages == []


def test_each_subscription_has_its_own_parser() -> None:
    scheduler = TestScheduler()
    cold = scheduler.create_cold_observable(
        on_next(10, event("log", "a")), on_next(20, event("log", "b")), on_completed(30)
    )
    pipeline = cold.pipe(log_lines())
    first: list[LogLine] = []
    second: list[LogLine] = []
    scheduler.schedule_absolute(100, lambda *_: pipeline.subscribe(first.append))
    scheduler.schedule_absolute(115, lambda *_: pipeline.subscribe(second.append))
    scheduler.start()
    assert [x.number for x in first] == [1, 2]
    assert [x.number for x in second] == [1, 2]


def test_dispose_unsubscribes_upstream() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(*RUN)
    results = scheduler.start(lambda: source.pipe(log_lines()), disposed=225)
    assert kinds(results.messages) == [(220, "N"), (220, "N")]
    assert source.subscriptions == [Subscription(200, 225)]


def test_a_burst_of_events_keeps_order_and_numbering() -> None:
    scheduler = TestScheduler()
    burst = [on_next(210, event("log", f"{TS}line {i}")) for i in range(500)]
    source = scheduler.create_hot_observable(*burst, on_completed(211))
    results = scheduler.start(lambda: source.pipe(log_lines()))
    lines = values(results.messages)
    assert [x.number for x in lines] == list(range(1, 501))
    assert lines[-1].text == "line 499"


def test_a_parser_failure_ends_the_stream_through_on_error() -> None:
    class Exploding(str):
        def split(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("boom")

    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(
        on_next(210, ServerSentEvent("log", Exploding("x"))), on_next(220, event("log", "y"))
    )
    results = scheduler.start(lambda: source.pipe(log_lines()))
    assert kinds(results.messages) == [(210, "E")]
    assert isinstance(error_of(results.messages[0]), RuntimeError)


def test_detect_levels_maps_each_line() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(
        on_next(210, "ERROR: x"),
        on_next(220, "Found 0 errors"),
        on_next(230, "\x1b[33mwarning\x1b[0m: y"),
        on_completed(240),
    )
    results = scheduler.start(lambda: source.pipe(detect_levels()))
    assert values(results.messages) == [
        LevelledText(Level.ERROR, "ERROR: x"),
        LevelledText(Level.INFO, "Found 0 errors"),
        LevelledText(Level.WARNING, "\x1b[33mwarning\x1b[0m: y"),
    ]
    assert kinds(results.messages)[-1] == (240, "C")
    no_rules: list[LevelledText] = []
    reactivex.of("ERROR: x").pipe(detect_levels(())).subscribe(no_rules.append)
    assert no_rules == [LevelledText(Level.INFO, "ERROR: x")]


def test_ansi_to_html_joins_chunks_into_lines_and_flushes_at_completion() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(
        on_next(210, "\x1b[3"),
        on_next(220, "1mre"),
        on_next(230, "d\nok\n<tail>"),
        on_completed(240),
    )
    results = scheduler.start(lambda: source.pipe(ansi_to_html()))
    assert kinds(results.messages) == [
        (230, "N"),
        (230, "N"),
        (240, "N"),
        (240, "C"),
    ]
    assert values(results.messages) == [
        '<span class="ansi-fg-1">red</span>',
        '<span class="ansi-fg-1">ok</span>',
        '<span class="ansi-fg-1">&lt;tail&gt;</span>',
    ]


def test_ansi_to_html_does_not_flush_on_error_and_empty_is_empty() -> None:
    scheduler = TestScheduler()
    source: Observable[str] = scheduler.create_hot_observable(
        on_next(210, "partial"), on_error(220, OSError("cut"))
    )
    results = scheduler.start(lambda: source.pipe(ansi_to_html(inline_styles=True)))
    assert kinds(results.messages) == [(220, "E")]
    scheduler = TestScheduler()
    assert kinds(scheduler.start(lambda: reactivex.empty().pipe(ansi_to_html())).messages) == [
        (200, "C")
    ]


def test_log_lines_completes_at_the_end_of_the_run_and_disposes_upstream() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(
        on_next(210, event("log", "a")),
        on_next(220, event("run-complete", {"conclusion": "success"})),
        on_next(230, event("log", "never seen")),
    )
    results = scheduler.start(lambda: source.pipe(log_lines()))
    assert kinds(results.messages) == [(210, "N"), (220, "C")]
    assert source.subscriptions == [Subscription(200, 220)]

    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(
        on_next(210, event("run-complete", {})), on_next(230, event("log", "seen"))
    )
    results = scheduler.start(lambda: source.pipe(log_lines(until=None)))
    assert kinds(results.messages) == [(230, "N")]
    assert source.subscriptions == [Subscription(200, 1000)]
