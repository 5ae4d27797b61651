"""The messaging panel: conversations with "X is typing…", message ticks and presence dots.

Also home of :func:`http_sender`, the ``send`` function that connects
:func:`rxsse.operators.messaging.outbox` to the emulator's ``/messaging/send``
(the notebook uses it too).
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import reactivex
from reactivex import Observable, abc
from reactivex import operators as ops
from reactivex.scheduler.eventloop import AsyncIOScheduler
from reactivex.subject import Subject
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from rxsse._async_source import from_async_iterable
from rxsse.domain.messaging import (
    Acked,
    DeliveryStatus,
    ManualRetry,
    MessageState,
    Presence,
    PresenceState,
    RetryPolicy,
    SendAttempt,
    Submit,
    TypingUpdate,
)
from rxsse.operators.messaging import (
    message_status,
    messaging_events,
    outbox,
    presence,
    typing_users,
)
from rxsse.sources.http import from_url
from rxsse.sources.lifecycle import ReconnectPolicy

__all__ = ["TICKS", "MessagingPanel", "http_sender", "typing_line"]

RATE = 20  # stream events per second
SEND_EVERY = 2.5  # seconds between the panel's own messages
FAULTS = "?fail=0.3&late=0.15&late_delay=3"

TICKS: dict[DeliveryStatus | None, tuple[str, str]] = {
    DeliveryStatus.SENDING: ("◷", "dim"),
    DeliveryStatus.FAILED: ("!", "bold red"),
    DeliveryStatus.SENT: ("✓", "dim"),
    DeliveryStatus.DELIVERED: ("✓✓", "dim"),
    DeliveryStatus.READ: ("✓✓", "bold blue"),
    None: ("", ""),
}
"""How a status is drawn: text and rich style."""

_DOTS = {PresenceState.ONLINE: "green", PresenceState.AWAY: "yellow", PresenceState.OFFLINE: "dim"}


def http_sender(
    base_url: str, client: httpx.AsyncClient, *, params: str = ""
) -> Callable[[SendAttempt], Observable[Acked]]:
    """A ``send`` for :func:`~rxsse.operators.messaging.outbox` that POSTs to ``/messaging/send``.

    Each attempt is one request on the running loop; disposing (a timeout or
    the outbox's disposal) cancels it.  A non-2xx answer is an error.
    """

    def send(attempt: SendAttempt) -> Observable[Acked]:
        async def request() -> AsyncIterator[Acked]:
            body = {
                "conversation": attempt.conversation,
                "client_id": attempt.client_id,
                "text": attempt.text,
            }
            response = await client.post(f"{base_url}/messaging/send{params}", json=body)
            response.raise_for_status()
            yield Acked.model_validate(response.json())

        return from_async_iterable(request)

    return send


def typing_line(users: tuple[str, ...]) -> str:
    """``"alice is typing…"``, ``"alice and bob are typing…"``, ``"3 people are typing…"``."""
    if not users:
        return ""
    if len(users) == 1:
        return f"{users[0]} is typing…"
    if len(users) == 2:
        return f"{users[0]} and {users[1]} are typing…"
    return f"{len(users)} people are typing…"


class MessagingPanel:
    """Subscribes ``/messaging/stream`` and sends a message now and then through the outbox.

    With ``faults`` the send endpoint fails 30 % of the attempts and answers
    15 % late (after the outbox's 2 s timeout), so retries and the occasional
    failed message show up as ticks.
    """

    title = "messaging · typing, ticks, presence"

    def __init__(self) -> None:
        self._subscriptions: list[abc.DisposableBase] = []
        self._client: httpx.AsyncClient | None = None
        self._sender_task: asyncio.Task[None] | None = None
        self.typing: dict[str, tuple[str, ...]] = {}
        self.messages: dict[str, list[MessageState]] = {}
        self.presence: dict[str, Presence] = {}
        self.events = 0
        self.sent = 0
        self.error = ""

    def start(self, base_url: str, *, faults: bool) -> None:
        loop = asyncio.get_running_loop()
        scheduler = AsyncIOScheduler(loop)
        self._client = httpx.AsyncClient(timeout=10.0)
        stream = from_url(
            f"{base_url}/messaging/stream?rate={RATE}",
            reconnect=ReconnectPolicy(default_delay=0.25, max_delay=2.0, max_attempts=None),
        ).pipe(messaging_events(on_invalid="skip"), ops.share())
        commands: Subject[Submit | ManualRetry] = Subject()
        self._commands = commands
        sends = commands.pipe(
            outbox(
                http_sender(base_url, self._client, params=FAULTS if faults else ""),
                policy=RetryPolicy(max_attempts=3, base_delay=0.5, timeout=2.0),
                scheduler=scheduler,
            ),
            ops.share(),
        )
        on_error = self._on_error
        self._subscriptions = [
            stream.pipe(typing_users(self_id="me", scheduler=scheduler)).subscribe(
                self._on_typing, on_error
            ),
            stream.pipe(presence()).subscribe(self._on_presence, on_error),
            reactivex.merge(stream, sends)
            .pipe(message_status())
            .subscribe(self._on_message, on_error),
            stream.subscribe(self._count, on_error),
        ]
        self._sender_task = loop.create_task(self._send_now_and_then())

    async def _send_now_and_then(self) -> None:
        rng = random.Random(5)
        for n in itertools.count(1):
            await asyncio.sleep(SEND_EVERY)
            conversation = rng.choice(["c-a", "c-b", "c-c"])
            self._commands.on_next(Submit(conversation=conversation, text=f"demo message {n}"))
            self.sent += 1

    def stop(self) -> None:
        if self._sender_task is not None:
            self._sender_task.cancel()
            self._sender_task = None
        for subscription in self._subscriptions:
            subscription.dispose()
        self._subscriptions = []
        if self._client is not None:
            client, self._client = self._client, None
            asyncio.get_running_loop().create_task(client.aclose())

    def _count(self, _: Any) -> None:
        self.events += 1

    def _on_error(self, error: Exception) -> None:
        self.error = f"{type(error).__name__}: {error}"

    def _on_typing(self, update: TypingUpdate) -> None:
        self.typing[update.conversation] = update.users

    def _on_presence(self, update: Presence) -> None:
        self.presence[update.user] = update

    def _on_message(self, state: MessageState) -> None:
        timeline = self.messages.setdefault(state.conversation, [])
        key = state.client_id or state.id
        for index, known in enumerate(timeline):
            if (known.client_id or known.id) == key:
                timeline[index] = state
                break
        else:
            timeline.append(state)
            del timeline[:-3]

    def render(self) -> RenderableType:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        dots = Text()
        for user, seen in sorted(self.presence.items()):
            dots.append("● ", style=_DOTS[seen.state])
            dots.append(f"{user}  ")
        table.add_row("presence", dots)
        for conversation in sorted(self.messages.keys() | self.typing.keys()):
            lines = Text()
            for message in self.messages.get(conversation, []):
                tick, style = TICKS[message.status]
                lines.append(f"{message.sender}: {message.text} ")
                lines.append(tick + "\n", style=style)
            lines.append(typing_line(self.typing.get(conversation, ())), style="italic cyan")
            table.add_row(conversation, lines)
        table.add_row("events", f"{self.events:,}  (sent {self.sent})")
        if self.error:
            table.add_row("error", Text(self.error, style="red"))
        return table

    def summary(self) -> str:
        typing = sum(1 for users in self.typing.values() if users)
        statuses = [m.status.value for ms in self.messages.values() for m in ms if m.status]
        return (
            f"events={self.events} typing_conversations={typing} sent={self.sent} "
            f"own_statuses={','.join(statuses) or '-'} users_seen={len(self.presence)}"
        )
