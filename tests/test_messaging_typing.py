"""Typing indicators in virtual time: receive-side expiry set and send-side throttle."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reactivex.testing import TestScheduler

from rxsse.domain.messaging import (
    MessageEvent,
    Submit,
    TypingEvent,
    TypingList,
    TypingSet,
    TypingThrottle,
    TypingUpdate,
)
from rxsse.operators.messaging import _Wakeup, throttle_typing, typing_users
from tests.messaging_helpers import Harness


def typing(user: str, conversation: str = "c1", on: bool = True) -> TypingEvent:
    return TypingEvent(conversation=conversation, user=user, typing=on)


def message(sender: str, conversation: str = "c1", seq: int = 1) -> MessageEvent:
    return MessageEvent(conversation=conversation, id=f"m{seq}", seq=seq, sender=sender)


def updates(h: Harness) -> list[tuple[float, str, tuple[str, ...]]]:
    return [(t, u.conversation, u.users) for t, u in h.out]


def typing_harness(expiry: float = 3.0, self_id: str | None = None) -> Harness:
    scheduler = TestScheduler()
    return Harness(typing_users(expiry, self_id, scheduler=scheduler), scheduler)


# -- receive side: acceptance -------------------------------------------------------------------


def test_typing_at_zero_is_present_until_exactly_expiry() -> None:
    h = typing_harness().at(0.0, typing("alice"))
    h.run(2.999)
    assert updates(h) == [(0.0, "c1", ("alice",))]
    h.run(3.0)
    assert updates(h) == [(0.0, "c1", ("alice",)), (3.0, "c1", ())]
    assert h.out[-1][1].at == 3.0
    h.run(10.0)
    assert len(h.out) == 2


def test_refresh_extends_without_emitting() -> None:
    h = typing_harness().at(0.0, typing("alice")).at(2.9, typing("alice"))
    h.run(5.89)
    assert updates(h) == [(0.0, "c1", ("alice",))]
    h.run(20.0)
    assert updates(h) == [(0.0, "c1", ("alice",)), (2.9 + 3.0, "c1", ())]


def test_false_removes_at_once_and_the_old_deadline_emits_nothing() -> None:
    h = typing_harness().at(0.0, typing("alice")).at(1.0, typing("alice", on=False))
    h.run(20.0)
    assert updates(h) == [(0.0, "c1", ("alice",)), (1.0, "c1", ())]


def test_a_message_clears_its_sender_only() -> None:
    h = typing_harness().at(0.0, typing("alice")).at(0.5, typing("bob")).at(1.0, message("alice"))
    h.run(20.0)
    assert updates(h) == [
        (0.0, "c1", ("alice",)),
        (0.5, "c1", ("alice", "bob")),
        (1.0, "c1", ("bob",)),
        (3.5, "c1", ()),
    ]


def test_users_and_conversations_expire_independently() -> None:
    h = typing_harness().all_at(
        [
            (0.0, typing("alice", "c1")),
            (1.0, typing("bob", "c1")),
            (1.5, typing("alice", "c2")),
            (2.0, typing("alice", "c1")),  # refresh in c1 only
        ]
    )
    h.run(20.0)
    assert updates(h) == [
        (0.0, "c1", ("alice",)),
        (1.0, "c1", ("alice", "bob")),
        (1.5, "c2", ("alice",)),
        (4.0, "c1", ("alice",)),  # bob's 1.0 + 3
        (4.5, "c2", ()),  # alice in c2: 1.5 + 3
        (5.0, "c1", ()),  # alice in c1: refreshed at 2.0
    ]


def test_dispose_leaves_no_scheduled_work() -> None:
    h = typing_harness()
    h.all_at([(0.0, typing("alice")), (0.5, typing("bob", "c2")), (1.0, typing("alice"))])
    h.run(1.5)
    assert h.timers() == 1  # one wake-up, not one per event or per user
    h.subscription.dispose()
    assert h.timers() == 0
    h.run(30.0)
    assert len(h.out) == 2


def test_one_wakeup_for_many_users_and_events() -> None:
    h = typing_harness()
    for i in range(200):
        h.at(i * 0.01, typing(f"u{i % 50}", f"c{i % 7}"))
    peak = 0
    for step in range(1, 60):
        h.run(step * 0.05)
        peak = max(peak, h.timers())
    assert peak == 1
    h.run(100.0)
    assert h.timers() == 0
    assert {u.users for _, u in h.out[-7:]} == {()}


def test_full_list_replaces_the_set_and_keeps_order_of_those_present() -> None:
    h = typing_harness(self_id="me").all_at(
        [
            (0.0, typing("alice")),
            (0.0, typing("bob")),
            (1.0, TypingList(conversation="c1", users=("carol", "bob", "me"))),
            (1.5, TypingList(conversation="c1", users=("bob", "carol"))),  # same set: nothing
        ]
    )
    h.run(20.0)
    assert updates(h) == [
        (0.0, "c1", ("alice",)),
        (0.0, "c1", ("alice", "bob")),
        (1.0, "c1", ("bob", "carol")),  # alice dropped, bob kept his place, "me" never shown
        (4.5, "c1", ("carol",)),  # both refreshed by the list at 1.5
        (4.5, "c1", ()),
    ]


def test_full_list_refreshes_deadlines() -> None:
    h = typing_harness().all_at(
        [
            (0.0, typing("alice")),
            (2.0, TypingList(conversation="c1", users=("alice", "bob"))),
        ]
    )
    h.run(20.0)
    assert updates(h) == [
        (0.0, "c1", ("alice",)),
        (2.0, "c1", ("alice", "bob")),
        (5.0, "c1", ("bob",)),
        (5.0, "c1", ()),
    ]


def test_own_user_is_never_shown() -> None:
    h = typing_harness(self_id="me").at(0.0, typing("me")).at(0.5, typing("me", on=False))
    h.run(10.0)
    assert h.out == []
    assert h.timers() == 0


def test_refresh_at_exactly_the_deadline_removes_then_adds() -> None:
    h = typing_harness().at(0.0, typing("alice")).at(3.0, typing("alice"))
    h.run(10.0)
    assert updates(h) == [
        (0.0, "c1", ("alice",)),
        (3.0, "c1", ()),
        (3.0, "c1", ("alice",)),
        (6.0, "c1", ()),
    ]


def test_unknown_events_and_removals_of_absent_users_emit_nothing() -> None:
    h = typing_harness().all_at(
        [(0.0, "not an event"), (0.5, typing("zed", on=False)), (1.0, message("zed"))]
    )
    h.run(10.0)
    assert h.out == []


def test_completion_and_error_cancel_the_wakeup() -> None:
    h = typing_harness().at(0.0, typing("alice")).complete_at(1.0)
    h.run(10.0)
    assert h.completed == 1.0
    assert len(h.out) == 1
    assert h.timers() == 0
    e = typing_harness().at(0.0, typing("alice"))
    e.error_at(1.0, ValueError("boom"))
    e.run(10.0)
    assert isinstance(e.error, ValueError)
    assert e.timers() == 0


def test_bad_expiry_is_rejected() -> None:
    with pytest.raises(ValueError, match="expiry"):
        typing_users(expiry=0)


def test_updates_are_html_renderable_models() -> None:
    update = TypingUpdate(conversation="c<1>", users=("a",), at=1.0)
    assert "c&lt;1&gt;" in update._repr_html_()


def test_stale_queue_entries_are_dropped_and_never_wake_anyone() -> None:
    machine = TypingSet(expiry=3.0)
    for i in range(1000):
        machine.apply(typing(f"u{i}"), 0.0)
        machine.apply(typing(f"u{i}", on=False), 0.0)
    machine.apply(typing("alice"), 1.0)
    machine.apply(typing("alice"), 2.0)  # refresh: the entry of 1.0 is stale
    assert len(machine) == 1
    assert machine.next_deadline() == 5.0  # not 3.0 (removed users) nor 4.0 (refreshed)
    assert machine.queue_size == 1
    assert machine.expire(4.9) == []
    assert [u.users for u in machine.expire(5.0)] == [()]
    assert machine.next_deadline() is None


def test_a_clock_stepping_back_still_expires_in_deadline_order() -> None:
    machine = TypingSet(expiry=3.0)
    machine.apply(typing("alice"), 10.0)
    machine.apply(typing("bob", "c2"), 5.0)  # the clock went backwards
    assert machine.next_deadline() == 8.0
    assert [(u.conversation, u.at) for u in machine.expire(20.0)] == [("c2", 8.0), ("c1", 13.0)]


# -- receive side: property against a brute-force recomputation --------------------------------

USERS = ("alice", "bob", "carol", "me")
CONVERSATIONS = ("c1", "c2")


@st.composite
def event_logs(draw: st.DrawFn) -> list[tuple[float, Any]]:
    steps = draw(st.lists(st.integers(0, 6), min_size=1, max_size=30))
    log: list[tuple[float, Any]] = []
    time = 0.0
    for step in steps:
        time += step * 0.25  # quarter seconds: events land exactly on deadlines too
        conversation = draw(st.sampled_from(CONVERSATIONS))
        kind = draw(st.sampled_from(("on", "on", "on", "off", "message", "list")))
        if kind == "list":
            users = draw(st.lists(st.sampled_from(USERS), max_size=3, unique=True))
            log.append((time, TypingList(conversation=conversation, users=tuple(users))))
        elif kind == "message":
            log.append((time, message(draw(st.sampled_from(USERS)), conversation)))
        else:
            user = draw(st.sampled_from(USERS))
            log.append((time, typing(user, conversation, on=kind == "on")))
    return log


def brute_force(
    log: list[tuple[float, Any]], query: float, expiry: float, self_id: str
) -> dict[str, tuple[str, ...]]:
    """Who types at ``query``: replay the log naively, expiring before every step."""
    present: dict[str, dict[str, float]] = {c: {} for c in CONVERSATIONS}

    def expire(now: float) -> None:
        for users in present.values():
            for user in [u for u, deadline in users.items() if deadline <= now]:
                del users[user]

    for time, event in log:
        if time > query:
            break
        expire(time)
        users = present[event.conversation]
        if isinstance(event, TypingEvent) and event.user != self_id:
            if event.typing:
                users[event.user] = time + expiry
            else:
                users.pop(event.user, None)
        elif isinstance(event, MessageEvent):
            users.pop(event.sender, None)
        elif isinstance(event, TypingList):
            listed = [u for u in event.users if u != self_id]
            for user in list(users):
                if user not in listed:
                    del users[user]
            for user in listed:
                users[user] = time + expiry
    expire(query)
    return {c: tuple(users) for c, users in present.items()}


@settings(max_examples=150, deadline=None)
@given(event_logs(), st.sampled_from([1.0, 3.0]))
def test_typing_set_matches_brute_force_at_every_time(
    log: list[tuple[float, Any]], expiry: float
) -> None:
    h = typing_harness(expiry=expiry, self_id="me").all_at(log)
    end = log[-1][0] + expiry + 1.0
    h.run(end)
    query = 0.0
    while query <= end:
        shown: dict[str, tuple[str, ...]] = {c: () for c in CONVERSATIONS}
        for time, update in h.out:
            if time <= query:
                shown[update.conversation] = update.users
        assert shown == brute_force(log, query, expiry, "me"), f"at {query}"
        query += 0.125
    last: dict[str, tuple[str, ...]] = {}
    for _, update in h.out:  # only changes are emitted
        assert last.get(update.conversation, ()) != update.users
        last[update.conversation] = update.users
    assert h.timers() == 0


# -- send side --------------------------------------------------------------------------------


def throttle_harness(**kwargs: Any) -> Harness:
    scheduler = TestScheduler()
    return Harness(throttle_typing(scheduler=scheduler, **kwargs), scheduler)


def signals(h: Harness) -> list[tuple[float, bool]]:
    return [(t, s.typing) for t, s in h.out]


KEYS_FOR_TEN_SECONDS = [i * 0.5 for i in range(21)]  # 0, 0.5, ..., 10


def test_keystrokes_every_half_second_refresh_every_interval_then_stop() -> None:
    h = throttle_harness(interval=2.0, stop_after=3.0)
    for t in KEYS_FOR_TEN_SECONDS:
        h.at(t, "k")
    h.run(30.0)
    assert signals(h) == [(t, True) for t in (0.0, 2.0, 4.0, 6.0, 8.0, 10.0)] + [(13.0, False)]
    assert h.out[-1][1].at == 13.0
    assert h.timers() == 0


def test_send_mid_typing_stops_and_the_next_key_starts_again() -> None:
    h = throttle_harness()
    h.all_at([(0.0, "k"), (0.5, "k"), (1.0, "k"), (1.2, Submit(conversation="c1", text="hi"))])
    h.all_at([(1.5, "k"), (1.7, "k")])
    h.run(30.0)
    assert signals(h) == [(0.0, True), (1.2, False), (1.5, True), (1.7 + 3.0, False)]


def test_edge_only_mode_sends_one_true_and_one_false() -> None:
    h = throttle_harness(refresh=False)
    for t in KEYS_FOR_TEN_SECONDS:
        h.at(t, "k")
    h.run(30.0)
    assert signals(h) == [(0.0, True), (13.0, False)]


def test_send_without_typing_emits_nothing() -> None:
    h = (
        throttle_harness()
        .at(0.0, Submit(conversation="c1", text="x"))
        .at(5.0, Submit(conversation="c1", text="y"))
    )
    h.run(10.0)
    assert h.out == []


def test_completion_while_typing_sends_a_final_false() -> None:
    h = throttle_harness().at(0.0, "k").complete_at(1.0)
    h.run(10.0)
    assert signals(h) == [(0.0, True), (1.0, False)]
    assert h.completed == 1.0
    assert h.timers() == 0


def test_throttle_dispose_leaves_no_scheduled_work() -> None:
    h = throttle_harness().at(0.0, "k").at(0.5, "k").dispose_at(1.0)
    h.run(1.0)
    assert h.timers() == 0
    h.run(10.0)
    assert signals(h) == [(0.0, True)]


def test_key_at_the_stop_deadline_gives_false_then_true() -> None:
    machine = TypingThrottle()
    assert [s.typing for s in machine.keystroke(0.0)] == [True]
    assert [(s.at, s.typing) for s in machine.keystroke(3.0)] == [(3.0, False), (3.0, True)]


def test_throttle_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="positive"):
        throttle_typing(interval=0)
    with pytest.raises(ValueError, match="positive"):
        throttle_typing(stop_after=-1)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 12), st.booleans()),  # (quarter seconds since last, is a send)
        min_size=1,
        max_size=40,
    ),
    st.booleans(),
)
def test_signals_alternate_and_refresh_no_faster_than_interval(
    inputs: list[tuple[int, bool]], refresh: bool
) -> None:
    h = throttle_harness(refresh=refresh)
    time = 0.0
    for gap, is_send in inputs:
        time += gap * 0.25
        h.at(time, Submit(conversation="c", text="") if is_send else "k")
    h.complete_at(time + 0.1)
    h.run(time + 10.0)
    out = signals(h)
    if out:
        assert out[0][1] is True
        assert out[-1][1] is False  # completion never leaves the peer with a dangling true
    previous: tuple[float, bool] | None = None
    for signal in out:
        if previous is not None:
            assert not (previous[1] is False and signal[1] is False)  # never two false in a row
            if previous[1] and signal[1]:
                assert refresh
                assert signal[0] - previous[0] >= 2.0
        previous = signal
    assert h.timers() == 0


def test_a_replaced_or_disposed_wakeup_that_still_runs_does_nothing() -> None:
    # On a threaded scheduler, a timer can start just as it is replaced or disposed.
    scheduler = TestScheduler()
    fired: list[float] = []
    wakeup = _Wakeup(scheduler, lambda: 0.0, fired.append, threading.RLock())
    first = 5.0
    wakeup.arm(first)
    wakeup.arm(3.0)  # earlier: replaces the wake-up at 5.0
    wakeup._run(scheduler, first)  # the replaced action runs anyway
    assert fired == []
    assert wakeup.armed == 3.0
    scheduler.advance_to(3.0)
    assert fired == [3.0]
    wakeup.arm(4.0)
    armed = wakeup.armed
    wakeup.dispose()
    wakeup._run(scheduler, armed)
    wakeup.arm(6.0)  # disposed: never armed again
    scheduler.advance_to(10.0)
    assert fired == [3.0]
    assert wakeup.armed is None
