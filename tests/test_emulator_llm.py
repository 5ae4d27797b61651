"""The emulated LLM endpoints: wire format, knobs, faults, and the official SDKs streaming.

Every expectation comes from :func:`chat_completion`, :func:`anthropic_message`
and :func:`responses_response` (what the emulator generates for a request body
with the ``emulator`` fixture's seed, 7), so these tests check that the stream
accumulates to exactly the non-streaming answer.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx
import openai
import pytest
import pytest_asyncio

from rxsse import ServerSentEvent, collect, from_url
from rxsse.emulator import running
from rxsse.emulator.llm import (
    InvalidRequest,
    anthropic_message,
    chat_completion,
    responses_response,
    split_utf8,
)

SEED = 7

# One emulator for the whole module (its start and stop dominate such short tests).
shared_loop = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def emulator() -> AsyncIterator[str]:
    """Base URL of an emulator seeded with :data:`SEED`, shared by this module's tests."""
    async with running(seed=SEED) as url:
        yield url


WEATHER: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "units": {"type": "string", "enum": ["c", "f"]},
        "days": {"type": "integer"},
        "where": {"type": "string", "enum": ["東京", "🙂 ok", "Zürich"]},
    },
}
LOOKUP: dict[str, Any] = {
    "type": "object",
    "properties": {"q": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
}
CHAT_TOOLS: list[Any] = [
    {"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}},
    {"type": "function", "function": {"name": "lookup", "parameters": LOOKUP}},
]
MESSAGES: list[Any] = [{"role": "user", "content": "How is the weather in Zürich today?"}]


def chat_body(**fields: Any) -> dict[str, Any]:
    return {"model": "gpt-emulated", "messages": MESSAGES, **fields}


async def raw_events(url: str, path: str, body: dict[str, Any], **params: Any) -> list[Any]:
    """POST ``body`` to the emulator and collect the SSE events with rxsse."""
    source = from_url(
        f"{url}{path}", method="POST", json=body, params=params or None, reconnect=False
    )
    return await collect(source)


def chat_chunks(events: list[ServerSentEvent]) -> list[dict[str, Any]]:
    return [event.json() for event in events if event.data != "[DONE]"]


def openai_client(url: str, **kwargs: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0, **kwargs)


def anthropic_client(url: str, **kwargs: Any) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=url, api_key="x", max_retries=0, **kwargs)


# -- pure generation -------------------------------------------------------------------


def test_generation_is_deterministic_per_seed_and_prompt() -> None:
    body = chat_body(tools=CHAT_TOOLS)
    assert chat_completion(body, seed=SEED) == chat_completion(body, seed=SEED)
    assert chat_completion(body, seed=SEED) != chat_completion(body, seed=SEED + 1)
    other = chat_body(messages=[{"role": "user", "content": "something else"}])
    assert chat_completion(other, seed=SEED) != chat_completion(chat_body(), seed=SEED)


def test_text_comes_from_the_prompt_and_the_word_list() -> None:
    content = chat_completion(chat_body(), seed=SEED, words=40)["choices"][0]["message"]["content"]
    assert content.endswith(".")
    assert len(content.split()) == 40


def test_invalid_requests_are_rejected() -> None:
    with pytest.raises(InvalidRequest, match="messages"):
        chat_completion({"model": "m"})
    with pytest.raises(InvalidRequest, match="n must be"):
        chat_completion(chat_body(n=0))
    with pytest.raises(InvalidRequest, match="max_tokens"):
        anthropic_message({"model": "m", "messages": MESSAGES})


def test_split_utf8_cuts_inside_multibyte_sequences() -> None:
    frame = "data: é東🙂 ok\n\n".encode()
    pieces = split_utf8(frame, random.Random(1))
    assert b"".join(pieces) == frame
    undecodable = 0
    for piece in pieces:
        try:
            piece.decode()
        except UnicodeDecodeError:
            undecodable += 1
    assert undecodable >= 2


# -- OpenAI Chat Completions: the wire format read with rxsse -----------------------------


@shared_loop
async def test_chat_stream_wire_format_with_usage(emulator: str) -> None:
    body = chat_body(stream=True, stream_options={"include_usage": True})
    expected = chat_completion(body, seed=SEED)
    events = await raw_events(emulator, "/v1/chat/completions", body)
    assert events[-1] == ServerSentEvent(data="[DONE]")
    chunks = chat_chunks(events)
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert {chunk["id"] for chunk in chunks} == {expected["id"]}
    *deltas, last = chunks
    assert last["choices"] == []
    assert last["usage"] == expected["usage"]
    assert all(chunk["usage"] is None for chunk in deltas)
    assert deltas[0]["choices"][0]["delta"]["role"] == "assistant"
    assert deltas[-1]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "stop",
    }
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in deltas)
    assert text == expected["choices"][0]["message"]["content"]
    assert expected["usage"]["completion_tokens"] == len(deltas) - 2  # role and finish chunks


@shared_loop
async def test_chat_without_include_usage_has_no_usage_field(emulator: str) -> None:
    events = await raw_events(emulator, "/v1/chat/completions", chat_body(stream=True))
    assert all("usage" not in chunk for chunk in chat_chunks(events))


@shared_loop
async def test_chat_n_choices_are_interleaved(emulator: str) -> None:
    body = chat_body(stream=True, n=3)
    expected = chat_completion(body, seed=SEED)
    chunks = chat_chunks(await raw_events(emulator, "/v1/chat/completions", body))
    indexes = [chunk["choices"][0]["index"] for chunk in chunks]
    assert indexes[:6] == [0, 1, 2, 0, 1, 2]
    for choice in expected["choices"]:
        own = [c["choices"][0] for c in chunks if c["choices"][0]["index"] == choice["index"]]
        text = "".join(part["delta"].get("content") or "" for part in own)
        assert text == choice["message"]["content"]
        assert own[-1]["finish_reason"] == "stop"


@shared_loop
async def test_chat_tool_arguments_are_split_inside_unicode_escapes(emulator: str) -> None:
    body = chat_body(stream=True, tools=CHAT_TOOLS)
    expected = chat_completion(body, seed=SEED)["choices"][0]
    chunks = chat_chunks(await raw_events(emulator, "/v1/chat/completions", body))
    fragments: dict[int, list[str]] = {0: [], 1: []}
    heads = {}
    for chunk in chunks:
        for call in chunk["choices"][0]["delta"].get("tool_calls", []):
            if "id" in call:
                heads[call["index"]] = (call["id"], call["function"]["name"])
            fragments[call["index"]].append(call["function"]["arguments"])
    assert expected["message"]["content"] is None
    assert expected["finish_reason"] == "tool_calls"
    for index, call in enumerate(expected["message"]["tool_calls"]):
        assert heads[index] == (call["id"], call["function"]["name"])
        assert "".join(fragments[index]) == call["function"]["arguments"]
        json.loads(call["function"]["arguments"])
    weather = fragments[0]
    assert "\\u" in "".join(weather)  # 東京 and 🙂 are written as \uXXXX escapes
    assert any(fragment[-4:-2] == "\\u" for fragment in weather)  # cut inside one


@shared_loop
async def test_chat_network_writes_are_cut_inside_utf8(emulator: str) -> None:
    body = chat_body(stream=True, tools=CHAT_TOOLS)
    reads: list[bytes] = []
    async with (
        httpx.AsyncClient() as client,
        client.stream(
            "POST", f"{emulator}/v1/chat/completions?split_delay=0.002", json=body
        ) as response,
    ):
        async for chunk in response.aiter_raw():
            reads.append(chunk)
    body_bytes = b"".join(reads)
    assert body_bytes.endswith(b"data: [DONE]\n\n")
    cut_inside = 0
    for chunk in reads:
        try:
            chunk.decode()
        except UnicodeDecodeError:
            cut_inside += 1
    assert cut_inside > 0


@shared_loop
async def test_chat_max_tokens_finishes_with_length(emulator: str) -> None:
    body = chat_body(stream=True, max_tokens=3, stream_options={"include_usage": True})
    chunks = chat_chunks(await raw_events(emulator, "/v1/chat/completions", body))
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    assert chunks[-1]["usage"]["completion_tokens"] == 3


@shared_loop
async def test_chat_mid_stream_error_fault(emulator: str) -> None:
    body = chat_body(stream=True)
    events = await raw_events(emulator, "/v1/chat/completions", body, fault="error", fault_after=4)
    assert len(events) == 5
    error = events[-1].json()["error"]
    assert error["type"] == "server_error"
    assert error["message"]
    assert all(event.data != "[DONE]" for event in events)


@shared_loop
async def test_chat_cut_before_done_fault(emulator: str) -> None:
    body = chat_body(stream=True)
    full = await raw_events(emulator, "/v1/chat/completions", body)
    cut = await raw_events(emulator, "/v1/chat/completions", body, fault="cut")
    assert cut == full[:-1]
    assert cut[-1].json()["choices"][0]["finish_reason"] == "stop"


@shared_loop
async def test_chat_abort_drops_the_connection_before_done(emulator: str) -> None:
    body = chat_body(stream=True)
    seen: list[bytes] = []
    with pytest.raises(httpx.RemoteProtocolError):
        async with (
            httpx.AsyncClient() as client,
            client.stream("POST", f"{emulator}/v1/chat/completions?fault=abort", json=body) as r,
        ):
            async for chunk in r.aiter_raw():
                seen.append(chunk)
    assert b"finish_reason" in b"".join(seen)
    assert b"[DONE]" not in b"".join(seen)


@shared_loop
async def test_knobs_can_be_headers(emulator: str) -> None:
    body = chat_body(stream=True)
    source = from_url(
        f"{emulator}/v1/chat/completions",
        method="POST",
        json=body,
        headers={"X-Emulator-Fault": "cut"},
        reconnect=False,
    )
    events = await collect(source)
    assert events[-1].data != "[DONE]"


@shared_loop
async def test_tokens_per_second_paces_the_stream(emulator: str) -> None:
    body = chat_body(stream=True)
    started = time.perf_counter()
    events = await raw_events(
        emulator, "/v1/chat/completions", body, words=5, ttft=0.1, tokens_per_second=50
    )
    elapsed = time.perf_counter() - started
    tokens = chat_completion(body, seed=SEED, words=5)["usage"]["completion_tokens"]
    assert len(events) == tokens + 3
    assert elapsed >= 0.1 + (tokens - 1) / 50 * 0.9


@shared_loop
async def test_non_streaming_answer_and_bad_request(emulator: str) -> None:
    body = chat_body(n=2, tools=CHAT_TOOLS)
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{emulator}/v1/chat/completions", json=body)
        bad = await client.post(f"{emulator}/v1/chat/completions", json={"model": "m"})
        status = await client.post(f"{emulator}/v1/chat/completions?status=503", json=body)
    assert answer.json() == chat_completion(body, seed=SEED)
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "messages"
    assert status.status_code == 503


# -- OpenAI Chat Completions: the official SDK -----------------------------------------


@shared_loop
async def test_openai_sdk_streams_text(emulator: str) -> None:
    expected = chat_completion(chat_body(), seed=SEED)["choices"][0]
    client = openai_client(emulator)
    stream = await client.chat.completions.create(
        model="gpt-emulated", messages=MESSAGES, stream=True
    )
    parts, finish = [], None
    async for chunk in stream:
        for choice in chunk.choices:
            parts.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    assert "".join(parts) == expected["message"]["content"]
    assert finish == "stop"


@shared_loop
async def test_openai_sdk_streams_n_choices(emulator: str) -> None:
    expected = chat_completion(chat_body(n=2), seed=SEED)
    client = openai_client(emulator)
    stream = await client.chat.completions.create(
        model="gpt-emulated", messages=MESSAGES, n=2, stream=True
    )
    texts: dict[int, str] = {0: "", 1: ""}
    async for chunk in stream:
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
    assert texts == {c["index"]: c["message"]["content"] for c in expected["choices"]}
    assert texts[0] != texts[1]


@shared_loop
async def test_openai_sdk_streams_tool_calls(emulator: str) -> None:
    expected = chat_completion(chat_body(tools=CHAT_TOOLS), seed=SEED)["choices"][0]
    client = openai_client(emulator)
    stream = await client.chat.completions.create(
        model="gpt-emulated", messages=MESSAGES, tools=CHAT_TOOLS, stream=True
    )
    calls: dict[int, dict[str, str]] = {}
    async for chunk in stream:
        for call in chunk.choices[0].delta.tool_calls or [] if chunk.choices else []:
            entry = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
            entry["id"] = call.id or entry["id"]
            if call.function is not None:
                entry["name"] = call.function.name or entry["name"]
                entry["arguments"] += call.function.arguments or ""
    assert [calls[i] for i in sorted(calls)] == [
        {"id": c["id"], "name": c["function"]["name"], "arguments": c["function"]["arguments"]}
        for c in expected["message"]["tool_calls"]
    ]
    assert json.loads(calls[0]["arguments"])["where"] in ("東京", "🙂 ok", "Zürich")


@shared_loop
async def test_openai_sdk_include_usage_and_max_tokens(emulator: str) -> None:
    body = chat_body(max_tokens=4, stream_options={"include_usage": True})
    expected = chat_completion(body, seed=SEED)
    client = openai_client(emulator)
    stream = await client.chat.completions.create(
        model="gpt-emulated",
        messages=MESSAGES,
        max_tokens=4,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.model_dump(exclude_none=True) == expected["usage"]
    assert expected["usage"]["completion_tokens"] == 4
    assert chunks[-2].choices[0].finish_reason == "length"


@shared_loop
async def test_openai_sdk_stream_helper_final_completion(emulator: str) -> None:
    body = chat_body(n=2, tools=CHAT_TOOLS, stream_options={"include_usage": True})
    expected = chat_completion(body, seed=SEED)
    client = openai_client(emulator)
    async with client.chat.completions.stream(
        model="gpt-emulated",
        messages=MESSAGES,
        n=2,
        tools=CHAT_TOOLS,
        stream_options={"include_usage": True},
    ) as stream:
        final = await stream.get_final_completion()
    got = final.model_dump(exclude_none=True, exclude_unset=True)
    assert got["id"] == expected["id"]
    assert got["usage"] == expected["usage"]
    for choice, want in zip(final.choices, expected["choices"], strict=True):
        assert choice.finish_reason == want["finish_reason"]
        assert [
            {"id": c.id, "name": c.function.name, "arguments": c.function.arguments}
            for c in choice.message.tool_calls or []
        ] == [
            {"id": c["id"], "name": c["function"]["name"], "arguments": c["function"]["arguments"]}
            for c in want["message"]["tool_calls"]
        ]


@shared_loop
async def test_openai_sdk_non_streaming_equals_stream_result(emulator: str) -> None:
    client = openai_client(emulator)
    completion = await client.chat.completions.create(model="gpt-emulated", messages=MESSAGES)
    assert completion.model_dump(exclude_unset=True) == chat_completion(chat_body(), seed=SEED)


@shared_loop
async def test_openai_sdk_raises_on_mid_stream_error(emulator: str) -> None:
    client = openai_client(emulator)
    stream = await client.chat.completions.create(
        model="gpt-emulated", messages=MESSAGES, stream=True, extra_query={"fault": "error"}
    )
    with pytest.raises(openai.APIError, match="server had an error"):
        async for _ in stream:
            pass


@shared_loop
async def test_openai_sdk_does_not_notice_a_cut_before_done(emulator: str) -> None:
    """The hazard rxsse's accumulator exists for: the SDK ends quietly without ``[DONE]``."""
    expected = chat_completion(chat_body(), seed=SEED)["choices"][0]["message"]["content"]
    client = openai_client(emulator, default_headers={"X-Emulator-Fault": "cut"})
    stream = await client.chat.completions.create(
        model="gpt-emulated", messages=MESSAGES, stream=True
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == expected


# -- Anthropic Messages ----------------------------------------------------------------

ANTHROPIC_TOOLS: list[Any] = [{"name": "get_weather", "input_schema": WEATHER}]


def anthropic_body(**fields: Any) -> dict[str, Any]:
    return {"model": "claude-emulated", "max_tokens": 200, "messages": MESSAGES, **fields}


def assert_message(got: Any, expected: dict[str, Any]) -> None:
    """Compare an SDK ``Message`` with the emulator's JSON, field by field."""
    assert got.id == expected["id"]
    assert got.stop_reason == expected["stop_reason"]
    assert got.usage.input_tokens == expected["usage"]["input_tokens"]
    assert got.usage.output_tokens == expected["usage"]["output_tokens"]
    blocks = [block.model_dump(exclude_none=True) for block in got.content]
    for block in blocks:
        block.pop("parsed_output", None)
    assert blocks == expected["content"]


@shared_loop
async def test_anthropic_wire_format(emulator: str) -> None:
    body = anthropic_body(stream=True, tools=ANTHROPIC_TOOLS, thinking={"type": "enabled"})
    events = await raw_events(emulator, "/v1/messages", body)
    kinds = [event.event for event in events]
    assert kinds[:2] == ["message_start", "ping"]
    assert kinds[-2:] == ["message_delta", "message_stop"]
    assert all(event.json()["type"] == event.event for event in events)
    deltas = [e.json()["delta"]["type"] for e in events if e.event == "content_block_delta"]
    assert set(deltas) == {"thinking_delta", "signature_delta", "text_delta", "input_json_delta"}
    assert deltas.count("signature_delta") == 1
    starts = [e.json()["content_block"]["type"] for e in events if e.event == "content_block_start"]
    assert starts == ["thinking", "text", "tool_use"]
    assert kinds.count("content_block_stop") == 3


@shared_loop
async def test_anthropic_sdk_stream_text(emulator: str) -> None:
    expected = anthropic_message(anthropic_body(), seed=SEED)
    client = anthropic_client(emulator)
    async with client.messages.stream(
        model="claude-emulated", max_tokens=200, messages=MESSAGES
    ) as stream:
        text = "".join([part async for part in stream.text_stream])
        final = await stream.get_final_message()
    assert text == expected["content"][0]["text"]
    assert_message(final, expected)
    assert final.stop_reason == "end_turn"


@shared_loop
async def test_anthropic_sdk_stream_tool_use_and_thinking(emulator: str) -> None:
    body = anthropic_body(tools=ANTHROPIC_TOOLS, thinking={"type": "enabled", "budget_tokens": 64})
    expected = anthropic_message(body, seed=SEED)
    client = anthropic_client(emulator)
    async with client.messages.stream(
        model="claude-emulated",
        max_tokens=200,
        messages=MESSAGES,
        tools=ANTHROPIC_TOOLS,
        thinking={"type": "enabled", "budget_tokens": 64},
    ) as stream:
        final = await stream.get_final_message()
    assert_message(final, expected)
    assert [block.type for block in final.content] == ["thinking", "text", "tool_use"]
    assert final.stop_reason == "tool_use"


@shared_loop
async def test_anthropic_sdk_create_stream_events(emulator: str) -> None:
    body = anthropic_body(tools=ANTHROPIC_TOOLS)
    expected = anthropic_message(body, seed=SEED)
    client = anthropic_client(emulator)
    stream = await client.messages.create(
        model="claude-emulated",
        max_tokens=200,
        messages=MESSAGES,
        tools=ANTHROPIC_TOOLS,
        stream=True,
    )
    text, partial_json, kinds = "", "", []
    async for event in stream:
        kinds.append(event.type)
        if event.type == "content_block_delta":
            if event.delta.type == "text_delta":
                text += event.delta.text
            elif event.delta.type == "input_json_delta":
                partial_json += event.delta.partial_json
    assert kinds[0] == "message_start"
    assert kinds[-1] == "message_stop"
    assert text == expected["content"][0]["text"]
    assert json.loads(partial_json) == expected["content"][1]["input"]


@shared_loop
async def test_anthropic_sdk_max_tokens(emulator: str) -> None:
    expected = anthropic_message(anthropic_body(max_tokens=3), seed=SEED)
    client = anthropic_client(emulator)
    async with client.messages.stream(
        model="claude-emulated", max_tokens=3, messages=MESSAGES
    ) as stream:
        final = await stream.get_final_message()
    assert final.stop_reason == "max_tokens"
    assert_message(final, expected)
    assert expected["usage"]["output_tokens"] == 3


@shared_loop
async def test_anthropic_sdk_raises_on_error_event(emulator: str) -> None:
    client = anthropic_client(emulator)
    with pytest.raises(anthropic.APIStatusError, match="overloaded_error"):
        async with client.messages.stream(
            model="claude-emulated",
            max_tokens=200,
            messages=MESSAGES,
            extra_query={"fault": "error", "fault_after": "5"},
        ) as stream:
            await stream.get_final_message()


@shared_loop
async def test_anthropic_non_streaming_and_bad_request(emulator: str) -> None:
    client = anthropic_client(emulator)
    message = await client.messages.create(
        model="claude-emulated", max_tokens=200, messages=MESSAGES, tools=ANTHROPIC_TOOLS
    )
    assert_message(message, anthropic_message(anthropic_body(tools=ANTHROPIC_TOOLS), seed=SEED))
    async with httpx.AsyncClient() as http:
        bad = await http.post(f"{emulator}/v1/messages", json={"messages": MESSAGES})
    assert bad.status_code == 400
    assert bad.json()["error"]["type"] == "invalid_request_error"


# -- OpenAI Responses ------------------------------------------------------------------

RESPONSE_TOOLS: list[Any] = [{"type": "function", "name": "get_weather", "parameters": WEATHER}]


@shared_loop
async def test_responses_sdk_stream_text(emulator: str) -> None:
    expected = responses_response({"model": "gpt-emulated", "input": "Hello there"}, seed=SEED)
    client = openai_client(emulator)
    async with client.responses.stream(model="gpt-emulated", input="Hello there") as stream:
        deltas = [e.delta async for e in stream if e.type == "response.output_text.delta"]
        final = await stream.get_final_response()
    assert "".join(deltas) == final.output_text == expected["output"][0]["content"][0]["text"]
    assert final.id == expected["id"]
    assert final.status == "completed"
    assert final.usage is not None
    assert final.usage.output_tokens == expected["usage"]["output_tokens"]


@shared_loop
async def test_responses_sdk_stream_function_call(emulator: str) -> None:
    body = {"model": "gpt-emulated", "input": MESSAGES, "tools": RESPONSE_TOOLS}
    expected = responses_response(body, seed=SEED)
    client = openai_client(emulator)
    async with client.responses.stream(
        model="gpt-emulated", input=MESSAGES, tools=RESPONSE_TOOLS
    ) as stream:
        final = await stream.get_final_response()
    [call] = final.output
    assert call.type == "function_call"
    want = expected["output"][0]
    assert (call.call_id, call.name, call.arguments) == (
        want["call_id"],
        want["name"],
        want["arguments"],
    )


@shared_loop
async def test_responses_incomplete_and_wire_format(emulator: str) -> None:
    body = {"model": "gpt-emulated", "input": "Hello", "stream": True, "max_output_tokens": 2}
    events = await raw_events(emulator, "/v1/responses", body)
    kinds = [event.event for event in events]
    assert kinds[:3] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert kinds[-1] == "response.incomplete"
    assert kinds.count("response.output_text.delta") == 2
    assert [event.json()["sequence_number"] for event in events] == list(range(len(events)))
    final = events[-1].json()["response"]
    assert final["incomplete_details"] == {"reason": "max_output_tokens"}
    assert final == responses_response(body, seed=SEED)


@shared_loop
async def test_responses_error_fault_is_numbered(emulator: str) -> None:
    body = {"model": "gpt-emulated", "input": "Hello", "stream": True}
    events = await raw_events(emulator, "/v1/responses", body, fault="error", fault_after=3)
    assert [event.event for event in events][-1] == "error"
    assert events[-1].json()["sequence_number"] == 3
    assert events[-1].json()["code"] == "server_error"


@shared_loop
async def test_anthropic_cut_before_message_stop(emulator: str) -> None:
    body = anthropic_body(stream=True)
    full = await raw_events(emulator, "/v1/messages", body)
    cut = await raw_events(emulator, "/v1/messages", body, fault="cut")
    assert full[-1].event == "message_stop"
    assert cut == full[:-1]
