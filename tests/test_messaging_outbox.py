"""Outbox (virtual time), presence, and reading messaging events off the wire."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
import reactivex
from reactivex import Observable
from reactivex import operators as ops
from reactivex.testing import TestScheduler

from rxsse import ServerSentEvent
from rxsse.domain.messaging import (
    Acked,
    AttemptFailed,
    DeliveryStatus,
    ManualRetry,
    MessageEvent,
    PresenceEvent,
    PresenceState,
    Receipt,
    Retrying,
    RetryPolicy,
    SendAttempt,
    SendFailed,
    Sending,
    StatusEvent,
    Submit,
    TypingEvent,
    TypingList,
    parse_event,
)
from rxsse.errors import DomainError, MessagingEventError
from rxsse.operators.messaging import message_status, messaging_events, outbox, presence
from tests.messaging_helpers import Harness


class FakeServer:
    """A send endpoint in virtual time, scripted per client id.

    ``script[client_id]`` lists the outcome of each request for that id, in
    order: ``"ok"`` (ack after ``latency``), ``"fail"`` (error after
    ``latency``), ``"late"`` (ack after ``late`` seconds) or ``"silent"``
    (completes without an ack).  Missing
    entries mean ``"ok"``.  Stored messages are deduplicated by client id.
    """

    def __init__(
        self,
        scheduler: TestScheduler,
        script: dict[str, list[str]] | None = None,
        latency: float = 0.1,
        late: float = 20.0,
    ) -> None:
        self.scheduler = scheduler
        self.script = script or {}
        self.latency = latency
        self.late = late
        self.log: list[tuple[float, str, int]] = []  # (time, client_id, attempt)
        self.stored: dict[str, int] = {}  # client_id -> seq
        self.cancelled = 0

    def send(self, attempt: SendAttempt) -> Observable[Acked]:
        self.log.append((float(self.scheduler.clock), attempt.client_id, attempt.attempt))
        outcomes = self.script.get(attempt.client_id, [])
        calls = sum(1 for _, client_id, _ in self.log if client_id == attempt.client_id)
        outcome = outcomes[calls - 1] if calls <= len(outcomes) else "ok"

        def ack(_: Any) -> Acked:
            seq = self.stored.setdefault(attempt.client_id, len(self.stored) + 1)
            return Acked(
                conversation=attempt.conversation,
                client_id=attempt.client_id,
                id=f"m{seq}",
                seq=seq,
                recipients=("bob",),
            )

        delay = self.late if outcome == "late" else self.latency
        timer = reactivex.timer(delay, scheduler=self.scheduler)
        if outcome == "fail":
            return timer.pipe(ops.flat_map(lambda _: reactivex.throw(RuntimeError("HTTP 503"))))
        if outcome == "silent":
            return timer.pipe(ops.flat_map(lambda _: reactivex.empty()))
        return timer.pipe(ops.map(ack), ops.finally_action(self._count_cancel))

    def _count_cancel(self) -> None:
        self.cancelled += 1


def ids() -> Iterator[str]:
    n = 0
    while True:
        n += 1
        yield f"cid{n}"


def outbox_harness(
    script: dict[str, list[str]] | None = None, **policy: Any
) -> tuple[Harness, FakeServer]:
    scheduler = TestScheduler()
    server = FakeServer(scheduler, script)
    counter = ids()
    settings = {"base_delay": 1.0, "jitter": 0.0, "max_attempts": 3, "timeout": 5.0, **policy}
    operator = outbox(
        server.send,
        policy=RetryPolicy(**settings),
        rng=random.Random(1),
        client_ids=lambda: next(counter),
        scheduler=scheduler,
    )
    return Harness(operator, scheduler), server


def kinds(h: Harness) -> list[tuple[float, str, str]]:
    return [(round(t, 6), type(e).__name__, e.client_id) for t, e in h.out]


def submit(text: str, conversation: str = "c1") -> Submit:
    return Submit(conversation=conversation, text=text)


# -- outbox --------------------------------------------------------------------


def test_optimistic_send_then_ack() -> None:
    h, _server = outbox_harness()
    h.at(0.0, submit("hi")).run(10.0)
    assert kinds(h) == [(0.0, "Sending", "cid1"), (0.1, "Acked", "cid1")]
    assert h.out[1][1].id == "m1"
    assert h.timers() == 0


def test_retry_keeps_the_client_id_with_exponential_backoff() -> None:
    h, server = outbox_harness({"cid1": ["fail", "fail", "ok"]})
    h.at(0.0, submit("hi")).run(30.0)
    # attempt 1 at 0, fails at 0.1, waits 1 s; attempt 2 at 1.1, fails at 1.2, waits 2 s
    assert server.log == [(0.0, "cid1", 1), (1.1, "cid1", 2), (3.2, "cid1", 3)]
    assert kinds(h) == [
        (0.0, "Sending", "cid1"),
        (0.1, "AttemptFailed", "cid1"),
        (1.2, "AttemptFailed", "cid1"),
        (3.3, "Acked", "cid1"),
    ]
    failed = [e for _, e in h.out if isinstance(e, AttemptFailed)]
    assert [round(e.retry_at, 6) for e in failed] == [1.1, 3.2]
    assert "HTTP 503" in failed[0].reason
    assert server.stored == {"cid1": 1}


def test_jitter_scales_the_backoff_down_by_at_most_the_jitter_fraction() -> None:
    policy = RetryPolicy(base_delay=1.0, multiplier=2.0, max_delay=5.0, jitter=0.5)
    assert policy.delay(1, 0.0) == 1.0
    assert policy.delay(1, 0.999) == pytest.approx(0.5005)
    assert policy.delay(3, 0.0) == 4.0
    assert policy.delay(10, 0.0) == 5.0  # capped
    rng = random.Random(7)
    delays = [policy.delay(2, rng.random()) for _ in range(100)]
    assert all(1.0 <= d <= 2.0 for d in delays)
    assert len(set(delays)) > 50
    with pytest.raises(ValueError, match="max_delay"):
        RetryPolicy(base_delay=2.0, max_delay=1.0)


def test_fifo_per_conversation_message_two_waits_for_message_one() -> None:
    h, server = outbox_harness({"cid1": ["fail", "ok"]})
    h.at(0.0, submit("one")).at(0.05, submit("two")).at(0.05, submit("other", "c2"))
    h.run(30.0)
    assert server.log == [
        (0.0, "cid1", 1),
        (0.05, "cid3", 1),  # another conversation does not wait
        (1.1, "cid1", 2),
        (1.2, "cid2", 1),  # only after message 1 was acknowledged
    ]
    assert [server.stored[c] for c in ("cid1", "cid2")] == [2, 3]  # server order kept
    assert kinds(h)[-2:] == [(1.2, "Acked", "cid1"), (1.3, "Acked", "cid2")]


def test_failed_after_max_attempts_then_next_goes_and_manual_retry() -> None:
    h, server = outbox_harness({"cid1": ["fail", "fail", "fail", "ok"]})
    h.at(0.0, submit("one")).at(0.0, submit("two"))
    h.run(20.0)
    events = kinds(h)
    assert (3.3, "SendFailed", "cid1") in events  # attempts at 0, 1.1, 3.2
    assert (3.4, "Acked", "cid2") in events
    failed = next(e for _, e in h.out if isinstance(e, SendFailed))
    assert failed.attempts == 3
    h.at(20.0, ManualRetry(client_id="cid1")).run(40.0)
    assert kinds(h)[-2:] == [(20.0, "Retrying", "cid1"), (20.1, "Acked", "cid1")]
    assert server.log[-1] == (20.0, "cid1", 1)  # fresh attempt count, same client id
    assert h.timers() == 0


def test_manual_retry_during_backoff_sends_now_and_otherwise_does_nothing() -> None:
    h, server = outbox_harness({"cid1": ["fail", "ok"]}, base_delay=10.0, max_delay=10.0)
    h.at(0.0, submit("one")).at(1.0, ManualRetry(client_id="cid1"))
    h.at(1.05, ManualRetry(client_id="cid1"))  # in flight: nothing
    h.at(2.0, ManualRetry(client_id="cid1"))  # acked: nothing
    h.at(2.0, ManualRetry(client_id="unknown"))
    h.run(30.0)
    assert server.log == [(0.0, "cid1", 1), (1.0, "cid1", 2)]
    assert kinds(h)[-1] == (1.1, "Acked", "cid1")


def test_a_late_answer_times_out_and_the_retry_is_idempotent() -> None:
    h, _server = outbox_harness({"cid1": ["late", "ok"]})
    h.at(0.0, submit("one")).run(60.0)
    assert kinds(h) == [
        (0.0, "Sending", "cid1"),
        (5.0, "AttemptFailed", "cid1"),  # no answer within the 5 s timeout
        (6.1, "Acked", "cid1"),
    ]
    assert "no answer" in h.out[1][1].reason
    assert len([e for _, e in h.out if isinstance(e, Acked)]) == 1  # the late one is cancelled
    assert h.timers() == 0


def test_no_acknowledgement_and_a_raising_send_count_as_failures() -> None:
    h, _ = outbox_harness({"cid1": ["silent", "ok"]})
    h.at(0.0, submit("one")).run(10.0)
    assert [n for _, n, _ in kinds(h)] == ["Sending", "AttemptFailed", "Acked"]
    assert h.out[1][1].reason == "no acknowledgement"

    def broken(attempt: SendAttempt) -> Observable[Acked]:
        raise ConnectionError("refused")

    scheduler = TestScheduler()
    b = Harness(outbox(broken, policy=RetryPolicy(max_attempts=1), scheduler=scheduler), scheduler)
    b.at(0.0, submit("x")).run(5.0)
    assert [type(e).__name__ for _, e in b.out] == ["Sending", "SendFailed"]
    assert "refused" in b.out[1][1].reason


def test_completes_when_everything_settled_and_dispose_cancels_in_flight() -> None:
    h, _ = outbox_harness({"cid1": ["fail", "ok"]})
    h.at(0.0, submit("one")).complete_at(0.5).run(30.0)
    assert h.completed == pytest.approx(1.2)  # after the retry's ack, not at 0.5
    d, server = outbox_harness()
    d.at(0.0, submit("one")).dispose_at(0.05).run(10.0)
    assert kinds(d) == [(0.0, "Sending", "cid1")]
    assert d.timers() == 0
    assert server.cancelled == 1
    e, _ = outbox_harness()
    e.at(0.0, submit("one")).error_at(0.05, ValueError("composer broke")).run(10.0)
    assert isinstance(e.error, ValueError)
    assert e.timers() == 0


def test_duplicate_client_id_is_one_message() -> None:
    h, server = outbox_harness()
    same = Submit(conversation="c1", text="x", client_id="mine")
    h.at(0.0, same).at(0.01, same).run(5.0)
    assert [c for _, c, _ in server.log] == ["mine"]


def test_outbox_feeds_message_status_end_to_end() -> None:
    scheduler = TestScheduler()
    server = FakeServer(scheduler, {"cid1": ["fail", "ok"]})
    counter = ids()
    commands = reactivex.subject.Subject[Submit | ManualRetry]()
    stream = reactivex.subject.Subject[Any]()
    sends = commands.pipe(
        outbox(
            server.send,
            policy=RetryPolicy(base_delay=1.0, jitter=0.0),
            client_ids=lambda: next(counter),
            scheduler=scheduler,
        )
    )
    seen: list[tuple[float, str]] = []
    reactivex.merge(sends, stream).pipe(message_status()).subscribe(
        lambda m: seen.append((round(float(scheduler.clock), 6), str(m.status)))
    )
    scheduler.schedule_absolute(0.0, lambda *_: commands.on_next(submit("hi")))
    read = Receipt(conversation="c1", user="bob", seq=1)
    scheduler.schedule_absolute(3.0, lambda *_: stream.on_next(read))
    scheduler.advance_to(10.0)
    assert seen == [(0.0, "sending"), (1.2, "sent"), (3.0, "read")]


# -- presence --------------------------------------------------------------------


def test_presence_states_last_active_and_stale_events() -> None:
    h = Harness(presence(), TestScheduler())
    events = [
        PresenceEvent(user="bob", state=PresenceState.ONLINE, at=10.0),
        PresenceEvent(user="bob", state=PresenceState.ONLINE, at=10.0),  # repeat: nothing
        PresenceEvent(user="bob", state=PresenceState.AWAY, at=70.0),
        PresenceEvent(user="bob", state=PresenceState.ONLINE, at=5.0),  # stale: nothing
        PresenceEvent(user="bob", state=PresenceState.OFFLINE, at=90.0, last_active=80.0),
        PresenceEvent(user="carol", state=PresenceState.AWAY, at=1.0),
        "noise",
    ]
    for i, event in enumerate(events):
        h.at(i * 0.1, event)
    h.run(5.0)
    got = [(p.user, p.state.value, p.since, p.last_active) for _, p in h.out]
    assert got == [
        ("bob", "online", 10.0, 10.0),
        ("bob", "away", 70.0, 10.0),
        ("bob", "offline", 90.0, 80.0),
        ("carol", "away", 1.0, None),
    ]


def test_presence_online_again_moves_last_active_forward() -> None:
    h = Harness(presence(), TestScheduler())
    h.at(0.0, PresenceEvent(user="bob", state=PresenceState.ONLINE, at=1.0))
    h.at(0.1, PresenceEvent(user="bob", state=PresenceState.ONLINE, at=2.0))
    h.run(1.0)
    assert [(p.since, p.last_active) for _, p in h.out] == [(1.0, 1.0), (1.0, 2.0)]


# -- wire parsing --------------------------------------------------------------------


def sse(event: str, data: Any) -> ServerSentEvent:
    return ServerSentEvent(event, data if isinstance(data, str) else json.dumps(data), "7")


def test_every_wire_type_parses() -> None:
    cases = [
        (sse("typing", {"conversation": "c", "user": "u", "typing": False}), TypingEvent),
        (sse("typing_list", {"conversation": "c", "users": ["a", "b"]}), TypingList),
        (sse("message", {"conversation": "c", "id": "m1", "seq": 1, "sender": "u"}), MessageEvent),
        (sse("status", {"conversation": "c", "id": "m1", "status": "read"}), StatusEvent),
        (sse("receipt", {"conversation": "c", "user": "u", "seq": 4}), Receipt),
        (sse("presence", {"user": "u", "state": "away", "extra": 1}), PresenceEvent),
    ]
    for event, model in cases:
        assert type(parse_event(event)) is model
    assert parse_event(sse("ping", "not even json")) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        ({"conversation": "c", "user": "u", "typing": "maybe"}, "typing"),
        ({"user": "u"}, "conversation"),
    ],
)
def test_malformed_known_events_raise_a_typed_error(data: Any, message: str) -> None:
    event = sse("typing", data)
    with pytest.raises(MessagingEventError, match=message) as caught:
        parse_event(event)
    assert caught.value.event is event
    assert isinstance(caught.value, DomainError)
    assert isinstance(caught.value, ValueError)


def test_status_events_reject_client_side_states() -> None:
    bad = sse("status", {"conversation": "c", "id": "m1", "status": "failed"})
    with pytest.raises(MessagingEventError, match="status"):
        parse_event(bad)
    assert DeliveryStatus.FAILED.value == "failed"


def test_messaging_events_raise_or_skip_without_losing_good_events() -> None:
    good = sse("typing", {"conversation": "c", "user": "u"})
    bad = sse("typing", "{oops")
    items: list[Any] = []
    errors: list[Exception] = []
    reactivex.from_iterable([good, bad, good]).pipe(messaging_events()).subscribe(
        items.append, errors.append
    )
    assert len(items) == 1
    assert isinstance(errors[0], MessagingEventError)
    skipped: list[Any] = []
    reactivex.from_iterable([good, bad, sse("ping", "x"), good]).pipe(
        messaging_events(on_invalid="skip")
    ).subscribe(skipped.append)
    assert len(skipped) == 2
    with pytest.raises(ValueError, match="on_invalid"):
        messaging_events(on_invalid="ignore")  # type: ignore[arg-type]


def test_client_side_events_are_models() -> None:
    event = Sending(conversation="c", client_id="x", text="hi")
    assert event.sender == "me"
    assert Retrying(conversation="c", client_id="x").client_id == "x"
