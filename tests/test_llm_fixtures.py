"""Recorded provider streams accumulate to the results their README states."""

from __future__ import annotations

import json

import pytest

from rxsse.domain.llm import ChatSnapshot
from tests.llm_helpers import accumulate, fixture_events


def final(name: str) -> ChatSnapshot:
    return accumulate(fixture_events(name))


def usage3(snap: ChatSnapshot) -> tuple[int, int, int]:
    assert snap.usage is not None
    u = snap.usage
    return u["prompt_tokens"], u["completion_tokens"], u["total_tokens"]


def test_openai_plain_text() -> None:
    snap = final("openai-chat/plain-text.sse")
    assert snap.text == (
        "I'm unable to provide real-time weather updates. To get the current weather in "
        "San Francisco, I recommend checking a reliable weather website or a weather app."
    )
    assert snap.choices[0].finish_reason == "stop"
    assert usage3(snap) == (14, 30, 44)
    assert snap.status == "complete"
    assert snap.choices[0].role == "assistant"


def test_openai_json_content() -> None:
    snap = final("openai-chat/json-content.sse")
    assert snap.text == '{"city":"San Francisco","temperature":61,"units":"f"}'
    assert usage3(snap) == (79, 14, 93)


def test_openai_three_interleaved_choices() -> None:
    snap = final("openai-chat/three-choices.sse")
    assert sorted(snap.choices) == [0, 1, 2]
    temperatures = sorted(
        int(c.content.split('"temperature":')[1].split(",")[0])  # type: ignore[union-attr]
        for c in snap.choices.values()
    )
    assert temperatures == [59, 61, 65]
    assert all(c.finish_reason == "stop" for c in snap.choices.values())
    assert usage3(snap) == (79, 42, 121)


def test_openai_max_tokens_is_truncated() -> None:
    snap = final("openai-chat/max-tokens-length.sse")
    assert snap.text == '{"'
    assert snap.choices[0].finish_reason == "length"
    assert snap.status == "truncated"
    assert usage3(snap) == (79, 1, 80)


def test_openai_refusal() -> None:
    snap = final("openai-chat/refusal.sse")
    assert snap.choices[0].content is None
    assert snap.choices[0].refusal == "I'm sorry, I can't assist with that request."
    assert snap.status == "refused"


def test_openai_content_logprobs() -> None:
    snap = final("openai-chat/content-logprobs.sse")
    assert snap.text == "Foo!"
    assert [e["token"] for e in snap.choices[0].logprobs_content or []] == ["Foo", "!"]


def test_openai_refusal_logprobs() -> None:
    snap = final("openai-chat/refusal-logprobs.sse")
    assert snap.choices[0].refusal == "I'm very sorry, but I can't assist with that."
    assert len(snap.choices[0].logprobs_refusal or []) == 11


@pytest.mark.parametrize(
    ("name", "call_id", "function", "arguments", "usage"),
    [
        (
            "one-tool-call.sse",
            "call_c91SqDXlYFuETYv8mUHzz6pp",
            "GetWeatherArgs",
            '{"city":"Edinburgh","country":"UK","units":"c"}',
            (76, 24, 100),
        ),
        (
            "strict-tool.sse",
            "call_CTf1nWJLqSeRgDqaCG27xZ74",
            "get_weather",
            '{"city":"San Francisco","state":"CA"}',
            (48, 19, 67),
        ),
        (
            "non-strict-tool.sse",
            "call_4XzlGBLtUe9dy3GVNV4jhq7h",
            "get_weather",
            '{"city":"New York City"}',
            (44, 16, 60),
        ),
    ],
)
def test_openai_single_tool_calls(
    name: str, call_id: str, function: str, arguments: str, usage: tuple[int, int, int]
) -> None:
    snap = final(f"openai-chat/{name}")
    call = snap.choices[0].tool_calls[0]
    assert (call.id, call.name, call.arguments) == (call_id, function, arguments)
    assert call.type == "function"
    assert not call.arguments_incomplete
    assert snap.choices[0].finish_reason == "tool_calls"
    assert usage3(snap) == usage
    assert snap.status == "complete"


def test_openai_two_sequential_tool_calls() -> None:
    snap = final("openai-chat/two-tool-calls.sse")
    calls = snap.choices[0].tool_calls
    assert (calls[0].id, calls[0].name, calls[0].arguments) == (
        "call_JMW1whyEaYG438VE1OIflxA2",
        "GetWeatherArgs",
        '{"city": "Edinburgh", "country": "GB", "units": "c"}',
    )
    assert (calls[1].id, calls[1].name, calls[1].arguments) == (
        "call_DNYTawLBoN8fj3KN6qU9N1Ou",
        "get_stock_price",
        '{"ticker": "AAPL", "exchange": "NASDAQ"}',
    )
    assert usage3(snap) == (149, 60, 209)


def test_openai_long_utf8_json() -> None:
    snap = final("openai-chat/long-json-utf8.sse")
    assert "°" in snap.text
    assert snap.status == "complete"
    assert usage3(snap) == (19, 177, 196)


def test_anthropic_basic_without_final_blank_line_is_incomplete() -> None:
    snap = final("anthropic/basic-response.sse")
    assert snap.id == "msg_4QpJur2dWWDjF6C758FbBw5vm12BaVipnK"
    assert snap.text == "Hello there!"
    assert snap.choices[0].finish_reason == "end_turn"
    assert snap.usage is not None
    assert (snap.usage["input_tokens"], snap.usage["output_tokens"]) == (11, 6)
    assert snap.status == "no_terminal_marker", "message_stop was never dispatched"


def test_anthropic_tool_use() -> None:
    snap = final("anthropic/tool-use-response.sse")
    assert snap.text == "I'll check the current weather in Paris for you."
    call = snap.choices[0].tool_calls[1]
    assert (call.id, call.name) == ("toolu_01NRLabsLyVHZPKxbKvkfSMn", "get_weather")
    assert call.parsed_arguments == {"location": "Paris"}
    assert snap.choices[0].finish_reason == "tool_use"
    assert snap.usage is not None
    assert (snap.usage["input_tokens"], snap.usage["output_tokens"]) == (377, 65)
    message = snap.as_message()
    assert [b["type"] for b in message["content"]] == ["text", "tool_use"]
    assert message["content"][1]["input"] == {"location": "Paris"}
    assert message["stop_reason"] == "tool_use"


def test_anthropic_incomplete_partial_json() -> None:
    snap = final("anthropic/incomplete-partial-json-response.sse")
    call = next(iter(snap.choices[0].tool_calls.values()))
    assert call.parsed_arguments == {
        "filename": "taxes.txt",
        "lines_of_text": [
            "# COMPREHENSIVE TAX GUIDE FOR INDIVIDUALS WITH MULTIPLE W-2s",
            "",
            "## INTRODUCTION",
            "",
        ],
    }
    assert call.arguments_incomplete, "the JSON never completed"
    assert snap.choices[0].finish_reason == "max_tokens"
    assert snap.usage is not None
    assert (snap.usage["input_tokens"], snap.usage["output_tokens"]) == (450, 124)
    assert snap.status == "no_terminal_marker"


def test_anthropic_refusal_with_stop_details() -> None:
    snap = final("anthropic/refusal-response.sse")
    assert snap.stop_details is not None
    assert snap.stop_details["type"] == "refusal"
    assert snap.stop_details["category"] == "cyber"
    assert snap.choices[0].finish_reason == "refusal"


@pytest.mark.parametrize(
    "name", ["compaction-response.sse", "fallback-response.sse", "fallback-credit-response.sse"]
)
def test_anthropic_extra_blocks_keep_the_text(name: str) -> None:
    snap = final(f"anthropic/{name}")
    assert snap.text == "Hello there!"
    assert snap.choices[0].blocks[0].type in ("compaction", "fallback", "text")


def test_anthropic_fallback_credit_usage() -> None:
    snap = final("anthropic/fallback-credit-response.sse")
    assert snap.usage is not None
    assert snap.usage["output_tokens"] == 8


def test_anthropic_thinking_signature_replaced_and_refusal() -> None:
    snap = final("anthropic/stream-a-refusal.sse")
    choice = snap.choices[0]
    assert snap.text == "Hi"
    assert choice.reasoning
    sent = [
        json.loads(e.data)["delta"]["signature"]
        for e in fixture_events("anthropic/stream-a-refusal.sse")
        if '"signature_delta"' in e.data
    ]
    assert choice.signature == sent[-1], "replaced by the last signature, not concatenated"
    assert snap.status == "refused"
    assert snap.usage is not None
    assert snap.usage["output_tokens"] == 106
    thinking = [b for b in snap.as_message()["content"] if b["type"] == "thinking"]
    assert thinking[0]["signature"] == choice.signature


def test_anthropic_server_tool_use_and_refusal() -> None:
    snap = final("anthropic/stream-a-toolrefusal.sse")
    call = snap.choices[0].tool_calls[0]
    assert call.name == "web_search"
    assert call.parsed_arguments == {"query": "solar eclipse viewing safety news 2026"}
    assert snap.status == "refused"


def test_anthropic_long_text_complete() -> None:
    snap = final("anthropic/stream-b-fallback.sse")
    assert snap.status == "complete"
    assert snap.usage is not None
    assert snap.usage["output_tokens"] == 547
    assert snap.text.startswith(" there! Happy to explain.")
