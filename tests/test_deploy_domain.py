"""rxsse.domain.deploy: the state machine, the adapters and the views (pure, no Rx)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pytest

from rxsse import ServerSentEvent
from rxsse.domain._deploy_html import deployment_html, timeline_svg
from rxsse.domain.deploy import (
    MAX_ANOMALIES,
    DeploymentEvent,
    DeploymentState,
    end_of_stream,
    from_sse_event,
    from_vercel_event,
    progress_of,
    step,
    to_deployment_event,
)

_ids = iter(range(1, 1_000_000))


def sse(name: str, data: Any, id: str | None = None) -> ServerSentEvent:
    text = data if isinstance(data, str) else json.dumps(data)
    return ServerSentEvent(name, text, str(next(_ids)) if id is None else id)


def state_event(state: str, **data: Any) -> ServerSentEvent:
    return sse("build-state", {"state": state, **data})


def reduce(items: Iterable[object], start: DeploymentState | None = None) -> DeploymentState:
    state = start or DeploymentState()
    for item in items:
        event = to_deployment_event(item)
        if event is not None:
            state = step(state, event)
    return state


def vercel(kind: str, created: int | None = 1_700_000_000_000, **payload: Any) -> dict[str, Any]:
    line: dict[str, Any] = {"type": kind, "payload": payload}
    if created is not None:
        line["created"] = created
    return line


# -- the state machine ---------------------------------------------------------------------------


def test_queued_to_ready_with_no_building_is_a_legal_forward_skip() -> None:
    state = reduce(
        [
            state_event("QUEUED", at=100),
            sse("ready", {"url": "https://app.example", "aliases": ["app.com"], "at": 104}),
        ]
    )
    assert state.status == "READY"
    assert state.outcome == "ready"
    assert state.url == "https://app.example"
    assert state.aliases == ("app.com",)
    assert state.progress == 100
    assert state.anomalies == ()
    assert state.phases == {"QUEUED": 100.0, "READY": 104.0}
    assert (state.started_at, state.finished_at) == (100.0, 104.0)


def test_building_deploying_building_ignores_the_regression_and_records_it() -> None:
    state = reduce(
        [
            state_event("BUILDING", progress=40, step="compile"),
            state_event("DEPLOYING", progress=90, step="upload"),
            state_event("BUILDING", progress=60, step="compile again"),
        ]
    )
    assert state.status == "DEPLOYING"
    assert state.step == "upload"
    assert state.progress == 90
    (anomaly,) = state.anomalies
    assert anomaly.state == "BUILDING"
    assert "regression" in anomaly.reason
    assert list(state.phases) == ["BUILDING", "DEPLOYING"]


def test_ready_twice_keeps_the_first_and_records_the_second() -> None:
    state = reduce(
        [
            state_event("BUILDING"),
            sse("ready", {"url": "https://first", "at": 10}),
            sse("ready", {"url": "https://second", "at": 20}),
        ]
    )
    assert state.status == "READY"
    assert state.url == "https://first"
    assert state.phases["READY"] == 10.0
    assert [a.reason for a in state.anomalies] == ["READY again: ignored"]


def test_error_after_ready_is_ignored_as_an_anomaly() -> None:
    state = reduce(
        [
            sse("ready", {"url": "https://app"}),
            sse("error", {"code": "BUILD_FAILED", "message": "late"}),
        ]
    )
    assert state.status == "READY"
    assert state.error is None
    assert state.outcome == "ready"
    (anomaly,) = state.anomalies
    assert anomaly.state == "ERROR"
    assert "after terminal state READY" in anomaly.reason


def test_canceled_while_queued_is_terminal_and_absorbs_later_states() -> None:
    state = reduce([state_event("QUEUED"), sse("canceled", {}), state_event("BUILDING")])
    assert state.status == "CANCELED"
    assert state.outcome == "canceled"
    assert state.terminal
    assert state.progress == 0
    assert len(state.anomalies) == 1


def test_unknown_state_matching_error_is_a_failure() -> None:
    state = reduce([state_event("BUILDING"), state_event("BUILD_ERROR")])
    assert state.status == "BUILD_ERROR"
    assert state.outcome == "failed"
    assert state.terminal
    assert state.error is not None
    assert state.error.code == "BUILD_ERROR"
    assert reduce([state_event("BUILD_ERROR")], state).status == "BUILD_ERROR"


def test_other_unknown_states_are_recorded_without_changing_status() -> None:
    state = reduce([state_event("BUILDING"), state_event("WARMING_UP")])
    assert state.status == "BUILDING"
    assert state.anomalies[0].reason == "unknown state WARMING_UP: recorded, status unchanged"


def test_error_event_carries_code_message_and_details() -> None:
    details = {"file": "app.ts", "line": 3}
    state = reduce(
        [
            state_event("BUILDING", step="compile"),
            sse("error", {"code": "E_TS", "message": "type error", "details": details}),
        ]
    )
    assert state.status == "ERROR"
    assert state.error is not None
    assert (state.error.code, state.error.message, state.error.details) == (
        "E_TS",
        "type error",
        details,
    )
    assert state.step == "compile"  # where it failed
    assert progress_of(state).error == "E_TS: type error"


def test_ready_then_a_later_alias_event_updates_aliases_not_status() -> None:
    state = reduce(
        [
            sse("ready", {"url": "https://app", "aliases": ["a.com"]}),
            sse("alias-assigned", {"alias": "b.com"}),
            sse("alias-assigned", {"aliases": ["a.com", "c.com"]}),
        ]
    )
    assert state.status == "READY"
    assert state.aliases == ("a.com", "b.com", "c.com")
    assert state.anomalies == ()


@pytest.mark.parametrize(
    "event",
    [
        sse("alias-error", {"code": "DOMAIN_NOT_VERIFIED", "message": "verify b.com"}),
        sse("error", {"code": "ALIAS_FAILED", "message": "verify b.com"}),
    ],
    ids=["alias-error", "error-with-alias-code"],
)
def test_alias_error_after_ready_is_recorded_without_changing_status(
    event: ServerSentEvent,
) -> None:
    state = reduce([sse("ready", {"url": "https://app"}), event])
    assert state.status == "READY"
    assert state.error is None
    (alias_error,) = state.alias_errors
    assert alias_error.message == "verify b.com"
    assert state.anomalies == ()


def test_replayed_events_with_the_same_id_are_applied_once() -> None:
    log = sse("log", {"text": "installing"}, id="7")
    building = state_event("BUILDING", progress=30)
    state = reduce([building, log, building, log, log])
    assert len(state.logs) == 1
    assert state.duplicates == 3
    assert state.events == 2
    assert state.counts == {"state": 1, "log": 1}
    assert state.anomalies == ()


def test_duplicates_do_not_count_as_a_visible_change() -> None:
    event = from_sse_event(sse("log", {"text": "x"}, id="1"))
    assert event is not None
    once = step(DeploymentState(), event)
    twice = step(once, event)
    assert twice.revision == once.revision
    assert twice.duplicates == 1


def test_sse_ids_are_sticky_so_same_id_with_other_data_is_not_a_duplicate() -> None:
    # An SSE event without an id line inherits the previous id.
    state = reduce([sse("log", {"text": "a"}, id="5"), sse("log", {"text": "b"}, id="5")])
    assert [line.text for line in state.logs] == ["a", "b"]


def test_stream_ending_before_a_terminal_state_is_disconnected_not_error() -> None:
    state = reduce([state_event("BUILDING", progress=50)])
    ended = step(state, end_of_stream())
    assert ended.status == "BUILDING"
    assert ended.disconnected
    assert ended.outcome == "disconnected"
    assert ended.error is None
    assert ended.revision == state.revision + 1
    assert step(ended, end_of_stream()) is ended
    finished = reduce([sse("ready", {"url": "u"})])
    assert step(finished, end_of_stream()) is finished


def test_progress_never_decreases_and_is_clamped() -> None:
    seen = []
    state = DeploymentState()
    for event in [
        state_event("BUILDING", progress=50),
        state_event("BUILDING", progress=30),
        state_event("BUILDING", progress=-5),
        state_event("BUILDING", progress=250),
        state_event("DEPLOYING"),
    ]:
        adapted = to_deployment_event(event)
        assert adapted is not None
        state = step(state, adapted)
        seen.append(state.progress)
    assert seen == [50, 50, 50, 100, 100]
    nan = DeploymentEvent(kind="state", state="BUILDING", progress=float("nan"))
    assert step(DeploymentState(), nan).anomalies[0].reason == "progress is NaN: ignored"


def test_reaching_a_state_raises_progress_to_its_floor() -> None:
    state = reduce([state_event("QUEUED"), state_event("BUILDING"), state_event("DEPLOYING")])
    assert state.progress == 85


def test_logs_are_bounded_and_count_what_they_dropped() -> None:
    state = reduce(
        [sse("log", {"text": f"line {i}"}) for i in range(10)], DeploymentState(max_logs=3)
    )
    assert [line.text for line in state.logs] == ["line 7", "line 8", "line 9"]
    assert state.logs_dropped == 7


def test_anomalies_are_bounded_too() -> None:
    state = reduce([sse("ready", {})] + [state_event("BUILDING") for _ in range(MAX_ANOMALIES + 5)])
    assert len(state.anomalies) == MAX_ANOMALIES
    assert state.anomalies_dropped == 5


def test_functions_and_log_levels() -> None:
    state = reduce(
        [
            sse("creating-functions", {"functions": ["api/a", "api/b"]}),
            sse("creating-functions", {"functions": ["api/b", "api/c"]}),
            sse("log", {"text": "careful", "level": "warn"}),
            sse("log", {"text": "boom", "source": "stderr"}),
            sse("log", "plain text data"),
        ]
    )
    assert state.functions == ("api/a", "api/b", "api/c")
    assert [(line.text, line.level) for line in state.logs] == [
        ("careful", "warning"),
        ("boom", "error"),
        ("plain text data", "info"),
    ]


def test_malformed_sse_events_are_anomalies_and_lose_no_good_data() -> None:
    state = reduce(
        [
            state_event("BUILDING", progress=20),
            sse("build-state", "{not json"),
            sse("build-state", "[1, 2]"),
            sse("mystery", {"x": 1}),
            sse("ping", ""),
            state_event("DEPLOYING"),
        ]
    )
    assert state.status == "DEPLOYING"
    reasons = [a.reason for a in state.anomalies]
    assert reasons[:2] == ["build-state event data is not a JSON object: ignored"] * 2
    assert reasons[2] == "unrecognised event type 'mystery': ignored"
    assert len(reasons) == 3  # the ping is a keep-alive, not an event
    assert to_deployment_event(42) == DeploymentEvent(
        kind="invalid", text="unsupported input int: ignored"
    )


# -- Vercel NDJSON adapter -----------------------------------------------------------------------


def test_vercel_keep_alive_lines_without_created_are_dropped() -> None:
    assert from_vercel_event({}) is None
    assert from_vercel_event(vercel("stdout", created=None, text="x")) is None
    invalid = from_vercel_event(["not", "an", "object"])
    assert invalid is not None
    assert invalid.kind == "invalid"


def test_vercel_events_reduce_to_a_ready_deployment() -> None:
    lines = [
        vercel("deployment-state", 1_700_000_000_000, id="e1", info={"readyState": "QUEUED"}),
        vercel("deployment-state", 1_700_000_001_000, id="e2", value="BUILDING"),
        vercel("delimiter", 1_700_000_001_500, id="e3", text="Build"),
        vercel("command", 1_700_000_002_000, id="e4", text="npm run build"),
        vercel("stdout", 1_700_000_003_000, id="e5", text="compiled"),
        {**vercel("stdout", 1_700_000_003_100, id="e6", text="deprecated"), "level": "warning"},
        vercel("stderr", 1_700_000_003_200, id="e7", text="npm ERR"),
        vercel("exit", 1_700_000_004_000, id="e8", info={"exitCode": 0}),
        vercel("deployment-state", 1_700_000_005_000, id="e9", info={"readyState": "READY"}),
    ]
    state = reduce(lines)
    assert state.status == "READY"
    assert state.step == "npm run build"
    assert [(line.source, line.level) for line in state.logs] == [
        ("delimiter", "info"),
        ("command", "info"),
        ("stdout", "info"),
        ("stdout", "warning"),
        ("stderr", "error"),
        ("exit", "info"),
    ]
    assert state.logs[-1].text == "exit code 0"
    assert state.phases == {
        "QUEUED": 1_700_000_000.0,
        "BUILDING": 1_700_000_001.0,
        "READY": 1_700_000_005.0,
    }
    assert reduce(lines + lines, state).duplicates == len(lines) * 2


def test_vercel_fatal_and_error_states_carry_the_error() -> None:
    fatal = reduce([vercel("fatal", id="f", text="Command failed", errorCode="BUILD_FAILED")])
    assert fatal.status == "ERROR"
    assert fatal.error is not None
    assert (fatal.error.code, fatal.error.message) == ("BUILD_FAILED", "Command failed")
    failed = reduce(
        [
            vercel(
                "deployment-state",
                id="s",
                info={"readyState": "ERROR"},
                errorCode="E1",
                errorMessage="no",
            )
        ]
    )
    assert failed.error is not None
    assert (failed.error.code, failed.error.message) == ("E1", "no")
    nonzero = from_vercel_event(vercel("exit", id="x", exitCode=1))
    assert nonzero is not None
    assert nonzero.level == "error"


def test_vercel_lines_arriving_as_ndjson_sse_messages_use_their_own_id() -> None:
    line = vercel("stdout", id="abc", text="hello")
    event = to_deployment_event(ServerSentEvent("message", json.dumps(line), "abc"))
    assert event is not None
    assert (event.kind, event.id, event.text) == ("log", "vercel:abc", "hello")


# -- views -----------------------------------------------------------------------------------------


def test_html_views_escape_text_and_draw_the_timeline() -> None:
    state = reduce(
        [
            state_event("QUEUED", at=0),
            state_event("BUILDING", at=2, step="<script>"),
            sse("error", {"code": "E", "message": "<b>bad</b>", "at": 5}),
        ]
    )
    card = deployment_html(state)
    assert state._repr_html_() == card
    assert "&lt;script&gt;" in card
    assert "<script>" not in card
    assert "&lt;b&gt;bad&lt;/b&gt;" in card
    svg = timeline_svg(state)
    assert svg.count("<rect") == 3
    assert ">QUEUED</text>" in svg
    assert ">5.0 s</text>" in svg
    assert "no phases yet" in timeline_svg(DeploymentState())
    assert progress_of(state).label == "ERROR · E: <b>bad</b>"
