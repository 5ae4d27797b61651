"""``/messaging/stream`` and ``/messaging/send``: an emulated instant-messaging service.

``GET /messaging/stream`` is an endless SSE stream of the event types of
:mod:`rxsse.domain.messaging` (``typing``, ``typing_list``, ``message``,
``status``, ``receipt``, ``presence``) for several conversations between
the client's user ``me`` and other users: bursts of typing refreshed about
once a second that end in a message, an explicit stop or silence (so clients
must expire them), receipts, delivery statuses and presence changes.  Query
parameters (besides the faults of :mod:`rxsse.emulator.faults`):

``rate=R``           events per second (default 20; ``0`` = as fast as possible)
``count=N``          events in the whole stream (default: endless)
``conversations=K``  number of conversations (default 3, at most 26)

Everything is a deterministic function of the seed; event *n* has ``id: n``
and a ``Last-Event-ID: k`` resumes at *k + 1* of the same sequence.

``POST /messaging/send`` takes ``{"conversation", "client_id", "text"}`` and
answers ``{"conversation", "client_id", "id", "seq", "recipients"}``.  It is
idempotent by ``client_id`` (a retry gets the same ``id`` and ``seq`` and
stores nothing new).  Query parameters ``fail=P`` (probability of a 503
answer, default 0), ``late=P`` (probability of answering only after
``late_delay`` seconds, default 0 and 2.0) and ``seed``; the draws depend on
the seed, the client id and the attempt number.  A stored message is echoed
to every open ``/messaging/stream`` of the same emulator as a ``message``
event with its ``client_id``, followed after a short while by ``delivered``
and ``read`` receipts from its recipients.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import string
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from rxsse._event import ServerSentEvent
from rxsse.emulator.faults import Faults
from rxsse.emulator.streaming import int_param, stream_response

__all__ = ["ME", "USERS", "MessagingService", "conversation_members", "routes", "scripted_events"]

ME = "me"
USERS = ("alice", "bob", "carol", "dave", "erin", "frank")
_WORDS = ("ok", "sure", "see you", "on my way", "lunch?", "ship it", "👍", "done", "why not")
_STATES = ("online", "online", "away", "offline")


def conversation_members(index: int) -> tuple[str, ...]:
    """Members of conversation ``index`` (0-based): ``me`` and one to three others."""
    size = 1 + index % 3
    return (ME, *(USERS[(index + k) % len(USERS)] for k in range(size)))


def _conversation_id(index: int) -> str:
    return "c-" + string.ascii_lowercase[index]


@dataclass
class _Conversation:
    id: str
    members: tuple[str, ...]
    seq: int = 0


@dataclass
class MessagingService:
    """State shared by the two endpoints of one emulator: sequence numbers and live streams."""

    seed: int
    conversations: dict[str, _Conversation] = field(default_factory=dict)
    stored: dict[str, dict[str, object]] = field(default_factory=dict)  # client_id -> ack
    attempts: dict[str, int] = field(default_factory=dict)
    listeners: set[asyncio.Queue[ServerSentEvent]] = field(default_factory=set)

    def conversation(self, conversation_id: str) -> _Conversation | None:
        if conversation_id not in self.conversations:
            letters = conversation_id.removeprefix("c-")
            if len(letters) != 1 or letters not in string.ascii_lowercase:
                return None
            index = string.ascii_lowercase.index(letters)
            self.conversations[conversation_id] = _Conversation(
                conversation_id, conversation_members(index)
            )
        return self.conversations[conversation_id]

    def broadcast(self, event: ServerSentEvent) -> None:
        for queue in self.listeners:
            queue.put_nowait(event)

    async def echo_later(self, ack: dict[str, object], text: str) -> None:
        """Echo a stored message, then receipts from its recipients."""
        conversation = str(ack["conversation"])
        message = {**ack, "sender": ME, "text": text}
        message.pop("recipients", None)
        self.broadcast(ServerSentEvent("message", json.dumps(message)))
        seq = ack["seq"]
        recipients = ack["recipients"]
        assert isinstance(recipients, list)
        rng = random.Random(f"{self.seed}/{ack['client_id']}/receipts")
        for kind in ("delivered", "read"):
            for user in recipients:
                await asyncio.sleep(rng.uniform(0.05, 0.3))
                receipt = {"conversation": conversation, "user": user, "seq": seq, "kind": kind}
                self.broadcast(ServerSentEvent("receipt", json.dumps(receipt)))


class _Script:
    """The deterministic background traffic of the stream."""

    def __init__(self, seed: int, conversations: int) -> None:
        self.rng = random.Random(f"messaging/{seed}")
        self.convs = [
            _Conversation(_conversation_id(i), conversation_members(i))
            for i in range(conversations)
        ]
        self.composing: dict[tuple[str, str], int] = {}  # (conversation, user) -> refreshes left
        self.presence: dict[str, str] = {}
        self.time = 0.0

    def next(self) -> tuple[str, dict[str, object]]:
        rng = self.rng
        self.time += 0.05
        roll = rng.random()
        if self.composing and roll < 0.55:
            key = rng.choice(sorted(self.composing))
            left = self.composing[key] - 1
            conversation, user = key
            if left > 0:
                self.composing[key] = left
                return "typing", {"conversation": conversation, "user": user, "typing": True}
            del self.composing[key]
            ending = rng.random()
            if ending < 0.6:
                return "message", self._message(conversation, user)
            if ending < 0.8:
                return "typing", {"conversation": conversation, "user": user, "typing": False}
            return self.next()  # silence: the client must expire the typer
        if roll < 0.75:
            conv = rng.choice(self.convs)
            user = rng.choice(conv.members[1:])
            self.composing.setdefault((conv.id, user), rng.randint(1, 6))
            return "typing", {"conversation": conv.id, "user": user, "typing": True}
        if roll < 0.8:
            conv = rng.choice(self.convs)
            typing = sorted(u for (c, u) in self.composing if c == conv.id)
            return "typing_list", {"conversation": conv.id, "users": typing}
        if roll < 0.9:
            conv = rng.choice(self.convs)
            if conv.seq:
                user = rng.choice(conv.members[1:])
                seq = rng.randint(max(1, conv.seq - 2), conv.seq)
                kind = rng.choice(("read", "delivered"))
                return "receipt", {"conversation": conv.id, "user": user, "seq": seq, "kind": kind}
            return "message", self._message(conv.id, rng.choice(conv.members[1:]))
        user = rng.choice(USERS)
        state = rng.choice(_STATES)
        self.presence[user] = state
        data: dict[str, object] = {"user": user, "state": state, "at": round(self.time, 3)}
        if state != "online":
            data["last_active"] = round(max(0.0, self.time - rng.uniform(0, 30)), 3)
        return "presence", data

    def _message(self, conversation: str, sender: str) -> dict[str, object]:
        conv = next(c for c in self.convs if c.id == conversation)
        conv.seq += 1
        return {
            "conversation": conversation,
            "id": f"{conversation}/{conv.seq}",
            "seq": conv.seq,
            "sender": sender,
            "text": self.rng.choice(_WORDS),
            "at": round(self.time, 3),
        }


async def scripted_events(
    *,
    first: int,
    count: int | None,
    rate: float,
    seed: int,
    conversations: int,
    injected: asyncio.Queue[ServerSentEvent] | None = None,
) -> AsyncIterator[ServerSentEvent]:
    """Script events ``first``, ``first + 1``, … paced at ``rate``, merged with ``injected``.

    Injected events (echoes and receipts of sent messages) go out as soon as
    possible, without ids (they are not part of the replayable script).
    """
    script = _Script(seed, conversations)
    for _ in range(first - 1):
        script.next()
    loop = asyncio.get_running_loop()
    started = loop.time()
    n = first
    sent = 0
    while count is None or n <= count:
        if injected is not None:
            while not injected.empty():
                yield injected.get_nowait()
        if rate > 0:
            delay = started + sent / rate - loop.time()
            if delay > 0:
                if injected is None:
                    await asyncio.sleep(delay)
                else:
                    with contextlib.suppress(TimeoutError):
                        yield await asyncio.wait_for(injected.get(), delay)
                        continue
        elif sent % 256 == 0:
            await asyncio.sleep(0)
        kind, data = script.next()
        yield ServerSentEvent(kind, json.dumps(data, ensure_ascii=False), str(n))
        n += 1
        sent += 1


def routes(seed: int) -> list[BaseRoute]:
    """The ``/messaging/*`` routes of an emulator seeded with ``seed``."""
    service = MessagingService(seed)
    tasks: set[asyncio.Task[None]] = set()

    async def stream(request: Request) -> Response:
        try:
            faults = Faults.from_query(request.query_params, default_seed=seed)
            count = int_param(request, "count", None)
            conversations = int_param(request, "conversations", 3) or 3
            rate = float(request.query_params.get("rate", "20"))
            if not 1 <= conversations <= 26:
                raise ValueError("conversations must be between 1 and 26")
        except ValueError as exc:
            return PlainTextResponse(f"bad query parameter: {exc}\n", status_code=400)
        last = request.headers.get("last-event-id", "")
        first = int(last) + 1 if last.isdigit() else 1
        if count is not None and first > count and last:
            return Response(status_code=204)
        queue: asyncio.Queue[ServerSentEvent] = asyncio.Queue()
        service.listeners.add(queue)

        async def events() -> AsyncIterator[ServerSentEvent]:
            try:
                async for event in scripted_events(
                    first=first,
                    count=count,
                    rate=rate,
                    seed=faults.seed,
                    conversations=conversations,
                    injected=queue,
                ):
                    yield event
            finally:
                service.listeners.discard(queue)

        return stream_response(request, events(), faults)

    async def send(request: Request) -> Response:
        try:
            body = await request.json()
            conversation_id = str(body["conversation"])
            client_id = str(body["client_id"])
            text = str(body.get("text", ""))
            fail = float(request.query_params.get("fail", "0"))
            late = float(request.query_params.get("late", "0"))
            late_delay = float(request.query_params.get("late_delay", "2.0"))
            send_seed = int(request.query_params.get("seed", str(seed)))
        except (ValueError, KeyError, TypeError) as exc:
            return PlainTextResponse(f"bad request: {exc!r}\n", status_code=400)
        conversation = service.conversation(conversation_id)
        if conversation is None:
            return PlainTextResponse(f"no conversation {conversation_id!r}\n", status_code=404)
        attempt = service.attempts.get(client_id, 0) + 1
        service.attempts[client_id] = attempt
        rng = random.Random(f"{send_seed}/{client_id}/{attempt}")
        if rng.random() < fail:
            return PlainTextResponse("emulated failure\n", status_code=503)
        answer_late = rng.random() < late
        ack = service.stored.get(client_id)
        if ack is None:
            conversation.seq += 1000 if conversation.seq == 0 else 1  # clear of the script's seqs
            ack = {
                "conversation": conversation_id,
                "client_id": client_id,
                "id": f"{conversation_id}/{conversation.seq}",
                "seq": conversation.seq,
                "recipients": list(conversation.members[1:]),
            }
            service.stored[client_id] = ack
            task = asyncio.create_task(service.echo_later(ack, text))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if answer_late:
            await asyncio.sleep(late_delay)
        return JSONResponse(ack)

    return [
        Route("/messaging/stream", stream),
        Route("/messaging/send", send, methods=["POST"]),
    ]
