"""Builders for LLM stream tests: recorded fixtures and synthetic chunks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rxsse import ServerSentEvent, SSEDecoder
from rxsse.domain.llm import ChatAccumulator, ChatSnapshot

FIXTURES = Path(__file__).parent / "fixtures" / "llm"


def fixture_events(name: str) -> list[ServerSentEvent]:
    """Decode a recorded stream exactly as a client would (unterminated tail dropped)."""
    decoder = SSEDecoder()
    events = decoder.feed((FIXTURES / name).read_bytes())
    return events + decoder.close()


def accumulate(events: list[ServerSentEvent], provider: Any = "auto") -> ChatSnapshot:
    accumulator = ChatAccumulator(provider)
    for event in events:
        accumulator.feed(event)
    return accumulator.finish()


def chunk(*choices: dict[str, Any], usage: Any = None, **top: Any) -> ServerSentEvent:
    """An OpenAI ``chat.completion.chunk`` event."""
    body: dict[str, Any] = {
        "id": top.pop("id", "chatcmpl-1"),
        "object": "chat.completion.chunk",
        "created": top.pop("created", 1700000000),
        "model": top.pop("model", "gpt-test"),
        "choices": list(choices),
        **top,
    }
    if usage is not None:
        body["usage"] = usage
    return ServerSentEvent(data=json.dumps(body))


def choice(index: int = 0, finish: str | None = None, **delta: Any) -> dict[str, Any]:
    return {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}


def tool(index: int, arguments: str | None = None, **fields: Any) -> dict[str, Any]:
    call: dict[str, Any] = {"index": index}
    function: dict[str, Any] = {}
    if "name" in fields:
        function["name"] = fields.pop("name")
    if arguments is not None:
        function["arguments"] = arguments
    if function:
        call["function"] = function
    call.update(fields)
    return call


DONE = ServerSentEvent(data="[DONE]")


def anthropic(kind: str, **body: Any) -> ServerSentEvent:
    return ServerSentEvent(kind, json.dumps({"type": kind, **body}))


def responses(kind: str, **body: Any) -> ServerSentEvent:
    return ServerSentEvent(kind, json.dumps({"type": kind, **body}))
