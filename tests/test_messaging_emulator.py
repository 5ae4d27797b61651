"""The emulated messaging service over real HTTP, consumed by the messaging operators."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx
import reactivex
from reactivex import operators as ops
from reactivex.scheduler.eventloop import AsyncIOScheduler
from reactivex.subject import Subject
from rich.console import Console

from rxsse import collect, from_url
from rxsse.demo.messaging_panel import MessagingPanel, http_sender, typing_line
from rxsse.domain.messaging import (
    DeliveryStatus,
    ManualRetry,
    MessageEvent,
    MessageState,
    Receipt,
    RetryPolicy,
    Submit,
    TypingEvent,
)
from rxsse.operators.messaging import message_status, messaging_events, outbox, typing_users


async def test_stream_carries_every_event_type_and_parses(emulator: str) -> None:
    source = from_url(f"{emulator}/messaging/stream", params={"rate": 0}).pipe(ops.take(400))
    events = await asyncio.wait_for(collect(source.pipe(messaging_events())), timeout=10)
    assert len(events) == 400
    names = {type(e).__name__ for e in events}
    assert names >= {"TypingEvent", "TypingList", "MessageEvent", "Receipt", "PresenceEvent"}
    stops = [e for e in events if isinstance(e, TypingEvent) and not e.typing]
    assert stops  # explicit stops as well as silent expiry
    again = await asyncio.wait_for(collect(source.pipe(ops.take(50))), timeout=10)
    first = await asyncio.wait_for(collect(source.pipe(ops.take(50))), timeout=10)
    assert [e.data for e in again] == [e.data for e in first]  # deterministic


async def test_stream_resumes_after_last_event_id(emulator: str) -> None:
    url = f"{emulator}/messaging/stream"
    full = await collect(from_url(url, params={"rate": 0}).pipe(ops.take(60)))
    resumed = await collect(
        from_url(url, params={"rate": 0}, last_event_id="40").pipe(ops.take(20))
    )
    assert resumed[0].id == "41"
    assert [e.data for e in resumed] == [e.data for e in full[40:]]


async def test_typing_users_over_the_live_stream(emulator: str) -> None:
    scheduler = AsyncIOScheduler(asyncio.get_running_loop())
    source = from_url(f"{emulator}/messaging/stream", params={"rate": 1000}).pipe(ops.take(300))
    updates = await asyncio.wait_for(
        collect(
            source.pipe(
                messaging_events(), typing_users(expiry=0.5, self_id="me", scheduler=scheduler)
            )
        ),
        timeout=10,
    )
    assert updates
    assert all("me" not in u.users for u in updates)
    last: dict[str, tuple[str, ...]] = {}
    for update in updates:
        assert last.get(update.conversation, ()) != update.users
        last[update.conversation] = update.users


async def test_send_acknowledges_idempotently_fails_and_answers_late(emulator: str) -> None:
    async with httpx.AsyncClient() as client:
        body = {"conversation": "c-b", "client_id": "x1", "text": "hi"}
        first = (await client.post(f"{emulator}/messaging/send", json=body)).json()
        again = (await client.post(f"{emulator}/messaging/send", json=body)).json()
        assert first == again
        assert first["recipients"] == ["bob", "carol"]
        assert first["id"] == f"c-b/{first['seq']}"
        failing = await client.post(f"{emulator}/messaging/send?fail=1", json=body)
        assert failing.status_code == 503
        loop = asyncio.get_running_loop()
        started = loop.time()
        late = await client.post(
            f"{emulator}/messaging/send?late=1&late_delay=0.3", json={**body, "client_id": "x2"}
        )
        assert late.status_code == 200
        assert loop.time() - started >= 0.3
        assert (await client.post(f"{emulator}/messaging/send", content=b"{")).status_code == 400
        missing = {**body, "conversation": "nowhere"}
        assert (await client.post(f"{emulator}/messaging/send", json=missing)).status_code == 404


async def test_outbox_echo_and_receipts_end_to_end(emulator: str) -> None:
    loop = asyncio.get_running_loop()
    scheduler = AsyncIOScheduler(loop)
    counter = itertools.count(1)
    async with httpx.AsyncClient() as client:
        stream = from_url(f"{emulator}/messaging/stream", params={"rate": 5}).pipe(
            messaging_events(), ops.share()
        )
        echoes: list[MessageEvent] = []
        receipts: list[Receipt] = []
        commands: Subject[Submit | ManualRetry] = Subject()
        sends = commands.pipe(
            outbox(
                # every first attempt fails (seeded draws), retries reuse the client id
                http_sender(emulator, client, params="?fail=0.5&seed=3"),
                policy=RetryPolicy(base_delay=0.05, max_attempts=10, timeout=2.0),
                client_ids=lambda: f"e2e-{next(counter)}",
                scheduler=scheduler,
            ),
            ops.share(),
        )
        states: dict[str, list[Any]] = {}

        def record(state: MessageState) -> None:
            if state.own and state.client_id is not None:
                states.setdefault(state.client_id, []).append(state.status)

        subscriptions = [
            stream.subscribe(
                lambda e: (
                    echoes.append(e)
                    if isinstance(e, MessageEvent) and e.client_id
                    else receipts.append(e)
                    if isinstance(e, Receipt)
                    else None
                )
            ),
            reactivex.merge(stream, sends).pipe(message_status()).subscribe(record),
        ]
        await asyncio.sleep(0.3)  # the stream is open before we send
        commands.on_next(Submit(conversation="c-a", text="one"))
        commands.on_next(Submit(conversation="c-a", text="two"))
        deadline = loop.time() + 10
        while loop.time() < deadline and not all(
            states.get(c, [None])[-1] is DeliveryStatus.READ for c in ("e2e-1", "e2e-2")
        ):
            await asyncio.sleep(0.05)
        for subscription in subscriptions:
            subscription.dispose()
    assert states["e2e-1"][0] is DeliveryStatus.SENDING
    assert states["e2e-1"][-1] is DeliveryStatus.READ
    assert states["e2e-2"][-1] is DeliveryStatus.READ
    assert sorted(e.client_id for e in echoes if e.client_id) == ["e2e-1", "e2e-2"]  # echoed once
    seqs = [e.seq for e in sorted(echoes, key=lambda e: str(e.client_id))]
    assert seqs == sorted(seqs)  # FIFO: message one stored before message two


async def test_panel_renders_typing_ticks_and_presence(emulator: str) -> None:
    panel = MessagingPanel()
    panel.start(emulator, faults=False)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while loop.time() < deadline and (panel.events < 15 or not panel.presence):
            await asyncio.sleep(0.05)
    finally:
        panel.stop()
    await asyncio.sleep(0.05)
    assert panel.events >= 15
    console = Console(width=100, record=True)
    console.print(panel.render())
    text = console.export_text()
    assert "presence" in text
    assert "●" in text
    assert "events=" in panel.summary()
    assert not panel.error


def test_typing_line() -> None:
    assert typing_line(()) == ""
    assert typing_line(("alice",)) == "alice is typing…"
    assert typing_line(("alice", "bob")) == "alice and bob are typing…"
    assert typing_line(("a", "b", "c")) == "3 people are typing…"
