"""deployment_state() and deployment_progress() in virtual time."""

from __future__ import annotations

import json
from typing import Any

import pytest
import reactivex
from reactivex.notification import Notification, OnError, OnNext
from reactivex.testing import ReactiveTest, TestScheduler
from reactivex.testing.recorded import Recorded

from rxsse import ServerSentEvent
from rxsse.domain.deploy import DeploymentProgress, DeploymentState
from rxsse.operators.deploy import deployment_progress, deployment_state

on_next = ReactiveTest.on_next
on_completed = ReactiveTest.on_completed
on_error = ReactiveTest.on_error


def ev(name: str, data: Any, id: str) -> ServerSentEvent:
    return ServerSentEvent(name, json.dumps(data), id)


def values(messages: list[Recorded[Any]]) -> list[Any]:
    return [m.value.value for m in messages if isinstance(m.value, OnNext)]


def kinds(messages: list[Recorded[Any]]) -> list[tuple[float, str]]:
    return [(m.time, m.value.kind) for m in messages if isinstance(m.value, Notification)]


def test_emits_only_changed_states_and_completes_after_terminal() -> None:
    scheduler = TestScheduler()
    building = ev("build-state", {"state": "BUILDING", "progress": 40}, "2")
    xs = scheduler.create_hot_observable(
        on_next(210, ev("build-state", {"state": "QUEUED"}, "1")),
        on_next(220, building),
        on_next(230, building),  # replayed after a reconnect: nothing new
        on_next(235, ServerSentEvent("ping", "")),  # keep-alive: nothing
        on_next(240, ev("ready", {"url": "https://app"}, "3")),
        on_next(250, ev("log", {"text": "after"}, "4")),
        on_completed(300),
    )
    results = scheduler.start(lambda: xs.pipe(deployment_state()))
    assert kinds(results.messages) == [(210, "N"), (220, "N"), (240, "N"), (240, "C")]
    states: list[DeploymentState] = values(results.messages)
    assert [s.status for s in states] == ["QUEUED", "BUILDING", "READY"]
    assert states[-1].duplicates == 1
    assert states[0].started_at == 210.0  # stamped with the scheduler's clock
    assert xs.subscriptions[0].unsubscribe == 240  # upstream released at the terminal state


def test_source_completing_before_terminal_emits_disconnected_then_completes() -> None:
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(
        on_next(210, ev("build-state", {"state": "BUILDING"}, "1")),
        on_completed(260),
    )
    results = scheduler.start(lambda: xs.pipe(deployment_state()))
    assert kinds(results.messages) == [(210, "N"), (260, "N"), (260, "C")]
    last: DeploymentState = values(results.messages)[-1]
    assert last.outcome == "disconnected"
    assert last.status == "BUILDING"
    assert last.error is None


def test_source_error_emits_disconnected_then_passes_the_error_on() -> None:
    scheduler = TestScheduler()
    boom = ConnectionError("gone")
    xs = scheduler.create_hot_observable(
        on_next(210, ev("build-state", {"state": "BUILDING"}, "1")),
        on_error(250, boom),
    )
    results = scheduler.start(lambda: xs.pipe(deployment_state()))
    assert kinds(results.messages) == [(210, "N"), (250, "N"), (250, "E")]
    assert values(results.messages)[-1].outcome == "disconnected"
    last_message = results.messages[-1].value
    assert isinstance(last_message, OnError)
    assert last_message.exception is boom


def test_empty_source_is_disconnected_and_never_source_emits_nothing() -> None:
    scheduler = TestScheduler()
    empty = scheduler.start(lambda: reactivex.empty().pipe(deployment_state()))
    assert [s.outcome for s in values(empty.messages)] == ["disconnected"]
    scheduler = TestScheduler()
    never = scheduler.start(lambda: reactivex.never().pipe(deployment_state()))
    assert never.messages == []


def test_error_state_completes_at_once() -> None:
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(
        on_next(210, ev("error", {"code": "E", "message": "m"}, "1")),
        on_next(220, ev("build-state", {"state": "BUILDING"}, "2")),
    )
    results = scheduler.start(lambda: xs.pipe(deployment_state(alias_grace=30)))
    assert kinds(results.messages) == [(210, "N"), (210, "C")]


def test_alias_grace_keeps_listening_after_ready_then_completes() -> None:
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(
        on_next(210, ev("ready", {"url": "https://app"}, "1")),
        on_next(215, ev("alias-assigned", {"alias": "app.com"}, "2")),
        on_next(220, ev("error", {"code": "ALIAS_TAKEN", "message": "taken"}, "3")),
        on_next(260, ev("alias-assigned", {"alias": "late.com"}, "4")),
    )
    results = scheduler.start(
        lambda: xs.pipe(deployment_state(alias_grace=20, scheduler=scheduler))
    )
    assert kinds(results.messages) == [(210, "N"), (215, "N"), (220, "N"), (230, "C")]
    last: DeploymentState = values(results.messages)[-1]
    assert last.aliases == ("app.com",)
    assert last.alias_errors[0].code == "ALIAS_TAKEN"
    assert last.status == "READY"
    with pytest.raises(ValueError, match="alias_grace"):
        deployment_state(alias_grace=-1)


def test_each_subscription_starts_from_a_fresh_state() -> None:
    source = reactivex.from_iterable(
        [ev("build-state", {"state": "BUILDING"}, "1"), ev("log", {"text": "x"}, "2")]
    )
    pipeline = source.pipe(deployment_state())
    first: list[DeploymentState] = []
    second: list[DeploymentState] = []
    pipeline.subscribe(first.append)
    pipeline.subscribe(second.append)
    assert [s.events for s in first] == [s.events for s in second] == [1, 2, 2]
    assert second[0].duplicates == 0


def test_progress_stream_is_monotonic_and_skips_log_only_changes() -> None:
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(
        on_next(210, ev("build-state", {"state": "BUILDING", "progress": 30}, "1")),
        on_next(220, ev("log", {"text": "x"}, "2")),
        on_next(230, ev("build-state", {"state": "BUILDING", "progress": 20}, "3")),
        on_next(240, ev("build-state", {"state": "DEPLOYING", "step": "upload"}, "4")),
        on_next(250, ev("ready", {"url": "https://app"}, "5")),
    )
    results = scheduler.start(lambda: xs.pipe(deployment_progress()))
    bars: list[DeploymentProgress] = values(results.messages)
    assert [(b.percent, b.status) for b in bars] == [
        (30, "BUILDING"),
        (85, "DEPLOYING"),
        (100, "READY"),
    ]
    assert bars[1].label == "DEPLOYING · upload"
    assert bars[-1].label == "READY · https://app"
    assert kinds(results.messages)[-1] == (250, "C")
