"""Message status: the monotonic machine, receipts, echoes, groups (in virtual time)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reactivex.testing import TestScheduler

from rxsse.domain.messaging import (
    RANK,
    Acked,
    DeliveryStatus,
    MessageEvent,
    MessageState,
    Receipt,
    Retrying,
    SendFailed,
    Sending,
    StatusBook,
    StatusEvent,
    advance,
)
from rxsse.operators.messaging import message_status
from tests.messaging_helpers import Harness

S = DeliveryStatus


def sending(client_id: str, conversation: str = "c1", text: str = "hi") -> Sending:
    return Sending(conversation=conversation, client_id=client_id, text=text, sender="me")


def acked(
    client_id: str, seq: int, recipients: tuple[str, ...] = ("bob",), conversation: str = "c1"
) -> Acked:
    return Acked(
        conversation=conversation,
        client_id=client_id,
        id=f"m{seq}",
        seq=seq,
        recipients=recipients,
    )


def status(
    value: DeliveryStatus,
    *,
    client_id: str | None = None,
    message_id: str | None = None,
    user: str | None = "bob",
) -> StatusEvent:
    return StatusEvent(
        conversation="c1", status=value, client_id=client_id, id=message_id, user=user
    )


def echo(client_id: str, message_id: str, seq: int) -> MessageEvent:
    return MessageEvent(
        conversation="c1", id=message_id, seq=seq, sender="me", text="hello", client_id=client_id
    )


def receipt(user: str, seq: int, kind: str = "read") -> Receipt:
    return Receipt(conversation="c1", user=user, seq=seq, kind=kind)  # type: ignore[arg-type]


def statuses(h: Harness) -> list[tuple[float, str | None, DeliveryStatus | None]]:
    return [(t, m.client_id, m.status) for t, m in h.out]


def status_harness() -> Harness:
    return Harness(message_status(), TestScheduler())


# -- acceptance, in virtual time through the operator ---------------------------------------------


def test_sent_read_delivered_ends_at_read() -> None:
    h = status_harness().all_at(
        [
            (0.0, sending("a")),
            (0.1, acked("a", 1)),
            (0.2, status(S.READ, client_id="a")),
            (0.3, status(S.DELIVERED, client_id="a")),
        ]
    )
    h.run(1.0)
    assert statuses(h) == [(0.0, "a", S.SENDING), (0.1, "a", S.SENT), (0.2, "a", S.READ)]


def test_duplicate_delivered_emits_once() -> None:
    h = status_harness().all_at(
        [
            (0.0, sending("a")),
            (0.1, acked("a", 1)),
            (0.2, status(S.DELIVERED, message_id="m1")),
            (0.3, status(S.DELIVERED, message_id="m1")),
            (0.4, receipt("bob", 1, "delivered")),
        ]
    )
    h.run(1.0)
    assert statuses(h) == [(0.0, "a", S.SENDING), (0.1, "a", S.SENT), (0.2, "a", S.DELIVERED)]


def test_receipt_before_ack_is_applied_at_the_ack() -> None:
    h = status_harness().all_at(
        [(0.0, sending("a")), (0.1, receipt("bob", 5)), (0.2, acked("a", 5))]
    )
    h.run(1.0)
    assert statuses(h) == [(0.0, "a", S.SENDING), (0.2, "a", S.READ)]
    assert h.out[-1][1].recipients == {"bob": S.READ}


def test_status_by_id_before_ack_waits_for_the_ack() -> None:
    book = StatusBook()
    book.apply(sending("a"))
    assert book.apply(status(S.DELIVERED, message_id="m3")) == []
    (state,) = book.apply(acked("a", 3))
    assert state.status is S.DELIVERED


def test_echo_merges_with_the_optimistic_message() -> None:
    h = status_harness().all_at(
        [
            (0.0, sending("a", text="hello")),
            (
                0.1,
                MessageEvent(
                    conversation="c1", id="m1", seq=1, sender="me", text="hello", client_id="a"
                ),
            ),
            (0.2, acked("a", 1)),  # the ack after the echo changes nothing visible but recipients
        ]
    )
    h.run(1.0)
    assert [(t, m.client_id, m.id, m.status) for t, m in h.out][:2] == [
        (0.0, "a", None, S.SENDING),
        (0.1, "a", "m1", S.SENT),
    ]
    book = StatusBook()
    for _, event in [(0, sending("a")), (1, acked("a", 1))]:
        book.apply(event)
    echo = MessageEvent(conversation="c1", id="m1", seq=1, sender="me", client_id="a")
    assert book.apply(echo) == []  # ack first, then the echo: no duplicate, no change
    assert len(book.timeline("c1")) == 1


def test_receipt_for_5_marks_1_to_5_but_not_6() -> None:
    h = status_harness()
    for n in range(1, 7):
        h.at(n * 0.1, sending(f"c{n}")).at(n * 0.1 + 0.05, acked(f"c{n}", n))
    h.at(1.0, receipt("bob", 5)).at(1.1, receipt("bob", 3))  # a lower receipt moves nothing
    h.run(2.0)
    read = [(t, m.seq) for t, m in h.out if m.status is S.READ]
    assert read == [(1.0, 1), (1.0, 2), (1.0, 3), (1.0, 4), (1.0, 5)]
    assert not [t for t, _ in h.out if t > 1.0]
    book = StatusBook()
    for n in range(1, 7):
        book.apply(sending(f"c{n}"))
        book.apply(acked(f"c{n}", n))
    book.apply(receipt("bob", 5))
    final = {m.seq: m.status for m in book.timeline("c1")}
    assert final == {1: S.READ, 2: S.READ, 3: S.READ, 4: S.READ, 5: S.READ, 6: S.SENT}


def test_group_status_is_the_lowest_over_recipients() -> None:
    book = StatusBook()
    book.apply(sending("a"))
    book.apply(acked("a", 1, recipients=("bob", "carol", "me")))  # the sender is not a recipient
    (after_bob,) = book.apply(receipt("bob", 1))
    assert after_bob.status is S.SENT
    assert after_bob.recipients == {"bob": S.READ, "carol": S.SENT}
    (after_carol,) = book.apply(receipt("carol", 1, "delivered"))
    assert after_carol.status is S.DELIVERED
    (everyone,) = book.apply(receipt("carol", 1))
    assert everyone.status is S.READ
    assert book.apply(receipt("dave", 1)) == []  # not in this message's audience
    assert book.apply(receipt("me", 9)) == []  # own receipts never count


def test_message_status_without_a_user_holds_for_every_recipient() -> None:
    book = StatusBook()
    book.apply(sending("a"))
    book.apply(acked("a", 1, recipients=("bob", "carol")))
    (state,) = book.apply(status(S.DELIVERED, client_id="a", user=None))
    assert state.status is S.DELIVERED
    assert state.recipients == {"bob": S.DELIVERED, "carol": S.DELIVERED}


def test_failed_only_from_sending_and_back_only_on_retry() -> None:
    book = StatusBook()
    book.apply(sending("a"))
    fail = SendFailed(conversation="c1", client_id="a", attempts=3, reason="500")
    assert [m.status for m in book.apply(fail)] == [S.FAILED]
    assert book.apply(sending("a")) == []  # a plain "sending" does not revive it
    assert [m.status for m in book.apply(Retrying(conversation="c1", client_id="a"))] == [S.SENDING]
    book.apply(acked("a", 1))
    assert book.apply(fail) == []  # a stale failure after the ack is ignored
    assert book.message("a") is not None
    assert book.message("a").status is S.SENT  # type: ignore[union-attr]


def test_a_late_ack_rescues_a_failed_message() -> None:
    book = StatusBook()
    book.apply(sending("a"))
    book.apply(SendFailed(conversation="c1", client_id="a", attempts=1))
    assert [m.status for m in book.apply(acked("a", 1))] == [S.SENT]


def test_messages_from_others_join_the_timeline_once() -> None:
    book = StatusBook()
    incoming = MessageEvent(conversation="c1", id="m7", seq=7, sender="bob", text="yo")
    (state,) = book.apply(incoming)
    assert (state.own, state.status, state.sender) == (False, None, "bob")
    assert book.apply(incoming) == []
    assert book.apply(status(S.READ, message_id="m7")) == []  # others' messages have no ticks
    assert book.apply(status(S.READ, client_id="not-ours")) == []
    assert book.apply("noise") == []
    assert book.conversations() == ["c1"]


def test_timeline_orders_by_seq_with_unacknowledged_last() -> None:
    book = StatusBook()
    book.apply(sending("late"))
    book.apply(MessageEvent(conversation="c1", id="m2", seq=2, sender="bob"))
    book.apply(sending("early"))
    book.apply(acked("early", 1))
    assert [m.client_id or m.id for m in book.timeline("c1")] == ["early", "m2", "late"]


def test_message_state_renders_as_html() -> None:
    state = MessageState(
        conversation="c1",
        client_id="a",
        id=None,
        seq=None,
        sender="<me>",
        text="hi",
        own=True,
        status=S.SENDING,
        recipients={},
        at=0.0,
    )
    assert "&lt;me&gt;" in state._repr_html_()


# -- properties ----------------------------------------------------------------------------

SERVER_STATUSES = [S.SENT, S.DELIVERED, S.READ]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(SERVER_STATUSES), min_size=1, max_size=12))
def test_advance_ends_at_the_maximum_rank_reached(reports: list[DeliveryStatus]) -> None:
    current = S.SENDING
    ranks = []
    for report in reports:
        current = advance(current, report)
        ranks.append(RANK[current])
    assert current is max(reports, key=RANK.__getitem__)
    assert ranks == sorted(ranks)  # never backwards


@st.composite
def interleavings(draw: st.DrawFn) -> tuple[list[Any], DeliveryStatus]:
    """Status events about message seq 3 (ours) in any order, with the rank they justify."""
    events: list[Any] = [acked("a", 3, recipients=("bob",))]
    best = S.SENT
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["status", "receipt", "echo", "dup_ack"]))
        if kind == "status":
            value = draw(st.sampled_from(SERVER_STATUSES))
            by_id = draw(st.booleans())
            events.append(status(value, message_id="m3") if by_id else status(value, client_id="a"))
            best = max(best, value, key=RANK.__getitem__)
        elif kind == "receipt":
            seq = draw(st.integers(1, 5))
            read = draw(st.booleans())
            events.append(receipt("bob", seq, "read" if read else "delivered"))
            if seq >= 3:
                best = max(best, S.READ if read else S.DELIVERED, key=RANK.__getitem__)
        elif kind == "echo":
            events.append(
                MessageEvent(conversation="c1", id="m3", seq=3, sender="me", client_id="a")
            )
        else:
            events.append(acked("a", 3, recipients=("bob",)))
    order = draw(st.permutations(events))
    return list(order), best


@settings(max_examples=300, deadline=None)
@given(interleavings())
def test_any_interleaving_ends_at_the_maximum_rank_reached(
    case: tuple[list[Any], DeliveryStatus],
) -> None:
    events, best = case
    book = StatusBook()
    (first,) = book.apply(sending("a"))
    states = [first]
    for event in events:
        states.extend(book.apply(event))
    assert book.message("a").status is best  # type: ignore[union-attr]
    ranks = [RANK[s.status] for s in states if s.status is not None]
    assert ranks == sorted(ranks)
    for before, after in itertools.pairwise(states):
        assert before != after  # every emission is a change
    assert len(book.timeline("c1")) == 1  # the echo never duplicates


def test_status_event_needs_a_reference() -> None:
    with pytest.raises(ValueError, match="id or a client_id"):
        StatusEvent(conversation="c1", status=S.READ)
