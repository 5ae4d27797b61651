"""Hypothesis: any permutation, with duplicates, of a valid deployment history."""

from __future__ import annotations

import json
from typing import Any

import reactivex
from hypothesis import given, settings
from hypothesis import strategies as st

from rxsse import ServerSentEvent
from rxsse.domain.deploy import (
    RANKED_STATES,
    DeploymentState,
    end_of_stream,
    is_terminal,
    step,
    to_deployment_event,
)
from rxsse.operators.deploy import deployment_state

TERMINALS = ("READY", "ERROR", "BUILD_ERROR", "CANCELED")
RANK = {name: index for index, name in enumerate(RANKED_STATES)}


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[str, str | None]]:
    """A valid history: an increasing path of states, logs between, maybe a terminal end."""
    path = draw(
        st.lists(st.sampled_from(RANKED_STATES[:-1]), unique=True, max_size=5).map(
            lambda states: sorted(states, key=RANK.__getitem__)
        )
    )
    ending = draw(st.sampled_from((*TERMINALS, None)))
    history: list[tuple[str, str | None]] = []
    for state in [*path, *([ending] if ending else [])]:
        history.append(("state", state))
        history.extend(("log", None) for _ in range(draw(st.integers(0, 2))))
    if draw(st.booleans()):
        history.append(("junk", None))
    return history


def wire(item: tuple[str, str | None], index: int, vercel: bool) -> object:
    kind, state = item
    ident = f"e{index}"
    if vercel:
        if kind == "state":
            payload: dict[str, Any] = {"id": ident, "info": {"readyState": state}}
            return {"type": "deployment-state", "created": 1000 + index, "payload": payload}
        if kind == "log":
            return {"type": "stdout", "created": 1000 + index, "payload": {"id": ident}}
        return {"type": "mystery", "created": 1000 + index, "payload": {"id": ident}}
    if kind == "state":
        if state == "READY":
            return ServerSentEvent("ready", json.dumps({"url": "https://x"}), ident)
        if state == "CANCELED":
            return ServerSentEvent("canceled", "{}", ident)
        data = {"state": state, "progress": index * 7 % 101}
        return ServerSentEvent("build-state", json.dumps(data), ident)
    if kind == "log":
        return ServerSentEvent("log", json.dumps({"text": f"line {index}"}), ident)
    return ServerSentEvent("build-state", "{broken", ident)


def expected_status(order: list[tuple[str, str | None]]) -> str | None:
    reached: list[str] = []
    for kind, state in order:
        if kind != "state" or state is None:
            continue
        if is_terminal(state):
            return state  # the first terminal one absorbs everything after it
        reached.append(state)
    return max(reached, key=RANK.__getitem__) if reached else None


@settings(max_examples=250, deadline=None)
@given(data=st.data(), history=histories(), vercel=st.booleans())
def test_any_permutation_with_duplicates_ends_in_the_right_status(
    data: st.DataObject, history: list[tuple[str, str | None]], vercel: bool
) -> None:
    items = [wire(item, index, vercel) for index, item in enumerate(history)]
    indices = list(range(len(items)))
    extra = data.draw(st.lists(st.sampled_from(indices), max_size=8)) if indices else []
    order = data.draw(st.permutations(indices + extra))
    state = DeploymentState()
    progress = [0.0]
    first_seen: list[int] = []
    for index in order:
        event = to_deployment_event(items[index])
        if event is not None:
            state = step(state, event)
        progress.append(state.progress)
        if index not in first_seen:
            first_seen.append(index)
    state = step(state, end_of_stream())
    assert state.status == expected_status([history[i] for i in first_seen])
    assert progress == sorted(progress)  # never decreases
    assert state.duplicates == len(order) - len(first_seen)
    if state.terminal:
        assert state.outcome in ("ready", "failed", "canceled")
    else:
        assert state.outcome == "disconnected"  # ended early: never a failure
    # The operator reaches the same final status and never errors.
    emitted: list[DeploymentState] = []
    errors: list[Exception] = []
    reactivex.from_iterable([items[i] for i in order]).pipe(deployment_state()).subscribe(
        emitted.append, errors.append
    )
    assert not errors
    assert emitted[-1].status == state.status
    assert emitted[-1].revision == max(s.revision for s in emitted)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
KEYS = st.sampled_from(
    [
        "state",
        "readyState",
        "progress",
        "step",
        "text",
        "level",
        "url",
        "aliases",
        "alias",
        "code",
        "message",
        "details",
        "functions",
        "at",
        "created",
        "type",
        "payload",
        "info",
        "value",
        "id",
        "exitCode",
        "errorCode",
    ]
)
OBJECTS = st.dictionaries(KEYS, JSON | st.dictionaries(KEYS, JSON, max_size=4), max_size=6)
SSE_TYPES = st.sampled_from(
    [
        "build-state",
        "log",
        "creating-functions",
        "ready",
        "error",
        "canceled",
        "alias-assigned",
        "alias-error",
        "message",
        "ping",
        "other",
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    items=st.lists(
        st.tuples(SSE_TYPES, OBJECTS | JSON, st.sampled_from(["", "1", "2"]), st.booleans()),
        max_size=12,
    )
)
def test_arbitrary_json_never_raises_and_keeps_invariants(
    items: list[tuple[str, Any, str, bool]],
) -> None:
    state = DeploymentState(max_logs=3)
    for name, value, ident, as_mapping in items:
        raw: object = value if as_mapping else ServerSentEvent(name, json.dumps(value), ident)
        event = to_deployment_event(raw)
        if event is None:
            continue
        previous = state
        state = step(state, event)
        assert state.progress >= previous.progress
        assert 0 <= state.progress <= 100
        assert len(state.logs) <= 3
        if previous.terminal:
            assert state.status == previous.status
