"""LLM accumulation: merge rules, completeness, the three providers, and the operators."""

from __future__ import annotations

import json
from typing import Any

import pytest
import reactivex
from reactivex import operators as ops
from reactivex.subject import Subject
from reactivex.testing import ReactiveTest, TestScheduler

from rxsse import ServerSentEvent, collect, from_bytes
from rxsse.domain.llm import ChatAccumulator, ChatSnapshot
from rxsse.domain.llm_deltas import Meta, OpenAIStreamAdapter, openai_deltas
from rxsse.domain.partial_json import parse_partial_json
from rxsse.errors import IncompleteStreamError, LLMProviderError
from rxsse.operators import accumulate_chat, chat_metrics, text_deltas
from tests.llm_helpers import (
    DONE,
    FIXTURES,
    accumulate,
    anthropic,
    choice,
    chunk,
    fixture_events,
    responses,
    tool,
)

# -- merge rules -----------------------------------------------------------------------


def test_set_once_fields_are_never_concatenated() -> None:
    """openai-python's accumulator yields "assistantassistant" here; rxsse does not."""
    snap = accumulate(
        [
            chunk(choice(role="assistant", content="Hi")),
            chunk(choice(role="assistant", content=" there")),
            chunk(choice(tool_calls=[tool(0, "", id="call_1", type="function", name="f")])),
            chunk(choice(tool_calls=[tool(0, '{"a":', id="call_1", type="function", name="f")])),
            chunk(choice(tool_calls=[tool(0, "1}", name="f")]), id="other-id"),
            chunk(choice(finish="tool_calls")),
            DONE,
        ]
    )
    c = snap.choices[0]
    assert c.role == "assistant"
    assert c.content == "Hi there"
    call = c.tool_calls[0]
    assert (call.id, call.type, call.name, call.arguments) == ("call_1", "function", "f", '{"a":1}')
    assert snap.id == "chatcmpl-1", "first non-empty id wins"


def test_choices_and_tool_calls_are_keyed_by_index_not_position() -> None:
    """Index 1 appears first, and each chunk lists choices in a different order."""
    snap = accumulate(
        [
            chunk(choice(1, role="assistant", content="B")),
            chunk(choice(0, role="assistant", content="A")),
            chunk(
                choice(1, tool_calls=[tool(1, '{"y"', id="c1", name="g")]),
                choice(0, content="a"),
            ),
            chunk(choice(1, tool_calls=[tool(0, '{"x"', id="c0", name="f"), tool(1, ":2}")])),
            chunk(choice(1, tool_calls=[tool(0, ":1}")]), choice(0, finish="stop")),
            chunk(choice(1, finish="tool_calls")),
            DONE,
        ]
    )
    assert snap.choices[0].content == "Aa"
    assert snap.choices[1].content == "B"
    calls = snap.choices[1].tool_calls
    assert (calls[0].id, calls[0].arguments) == ("c0", '{"x":1}')
    assert (calls[1].id, calls[1].arguments) == ("c1", '{"y":2}')
    completion = snap.as_completion()
    assert [c["index"] for c in completion["choices"]] == [0, 1]
    assert [t["id"] for t in completion["choices"][1]["message"]["tool_calls"]] == ["c0", "c1"]


def test_several_fragments_for_one_index_in_one_chunk_merge_in_order() -> None:
    snap = accumulate(
        [
            chunk(
                choice(
                    tool_calls=[
                        tool(0, '{"a"', id="c", name="f"),
                        tool(0, ': "x'),
                        tool(0, 'y"}'),
                    ]
                )
            ),
            chunk(choice(finish="tool_calls")),
            DONE,
        ]
    )
    assert snap.choices[0].tool_calls[0].parsed_arguments == {"a": "xy"}


def test_arguments_split_inside_a_unicode_escape() -> None:
    snap = accumulate(
        [
            chunk(choice(tool_calls=[tool(0, '{"t": "caf\\u00', id="c", name="f")])),
            chunk(choice(tool_calls=[tool(0, "e9 \\ud83d")])),
            chunk(choice(tool_calls=[tool(0, '\\ude00"}')])),
            chunk(choice(finish="tool_calls")),
            DONE,
        ]
    )
    assert snap.choices[0].tool_calls[0].parsed_arguments == {"t": "café 😀"}


def test_usage_replaces_but_a_later_null_never_erases() -> None:
    """openai-python overwrites usage with null; rxsse keeps the last real value."""
    snap = accumulate(
        [
            chunk(choice(content="x")),
            chunk(usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}),
            chunk(choice(finish="stop"), usage=None),
            ServerSentEvent(data=json.dumps({"id": "chatcmpl-1", "choices": [], "usage": None})),
            DONE,
        ]
    )
    assert snap.usage == {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}


def test_usage_only_chunk_with_empty_choices() -> None:
    snap = accumulate(
        [
            chunk(choice(content="x", finish="stop")),
            chunk(usage={"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}),
            DONE,
        ]
    )
    assert sorted(snap.choices) == [0]
    assert snap.usage is not None
    assert snap.usage["total_tokens"] == 6


def test_logprobs_append() -> None:
    def lp(token: str) -> dict[str, Any]:
        return {"token": token, "logprob": -0.1, "bytes": None, "top_logprobs": []}

    first = choice(content="a")
    first["logprobs"] = {"content": [lp("a")], "refusal": None}
    second = choice(content="b")
    second["logprobs"] = {"content": [lp("b")], "refusal": None}
    snap = accumulate([chunk(first), chunk(second), chunk(choice(finish="stop")), DONE])
    assert [e["token"] for e in snap.choices[0].logprobs_content or []] == ["a", "b"]


def test_unknown_fields_are_preserved() -> None:
    extra_choice = choice(content="x", annotations=[{"kind": "note"}])
    extra_choice["provider_meta"] = {"k": 1}
    snap = accumulate(
        [chunk(extra_choice, system_fingerprint="fp_1", service_tier="default"), DONE]
    )
    assert snap.extra["system_fingerprint"] == "fp_1"
    assert snap.extra["service_tier"] == "default"
    assert snap.choices[0].extra["annotations"] == [{"kind": "note"}]
    assert snap.choices[0].extra["provider_meta"] == {"k": 1}
    assert snap.as_completion()["system_fingerprint"] == "fp_1"


def test_azure_annotation_chunks_without_delta() -> None:
    prompt_filter = ServerSentEvent(
        data=json.dumps(
            {
                "id": "",
                "object": "",
                "created": 0,
                "model": "",
                "choices": [],
                "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}],
            }
        )
    )
    annotation = ServerSentEvent(
        data=json.dumps(
            {
                "id": "chatcmpl-1",
                "choices": [
                    {"index": 0, "finish_reason": None, "content_filter_results": {"hate": {}}}
                ],
            }
        )
    )
    snap = accumulate(
        [
            prompt_filter,
            chunk(choice(role="assistant", content="ok")),
            annotation,
            chunk(choice(finish="stop")),
            DONE,
        ]
    )
    assert snap.text == "ok"
    assert snap.id == "chatcmpl-1", "an empty id never wins"
    assert snap.choices[0].extra["content_filter_results"] == {"hate": {}}
    assert snap.extra["prompt_filter_results"][0]["prompt_index"] == 0
    assert snap.status == "complete"


def test_reasoning_and_signature_replace() -> None:
    snap = accumulate(
        [
            anthropic(
                "message_start",
                message={
                    "id": "m",
                    "model": "c",
                    "role": "assistant",
                    "usage": {"input_tokens": 3},
                },
            ),
            anthropic(
                "content_block_start", index=0, content_block={"type": "thinking", "thinking": ""}
            ),
            anthropic(
                "content_block_delta",
                index=0,
                delta={"type": "thinking_delta", "thinking": "Let me"},
            ),
            anthropic(
                "content_block_delta",
                index=0,
                delta={"type": "thinking_delta", "thinking": " think"},
            ),
            anthropic(
                "content_block_delta",
                index=0,
                delta={"type": "signature_delta", "signature": "sig-A"},
            ),
            anthropic(
                "content_block_delta",
                index=0,
                delta={"type": "signature_delta", "signature": "sig-B"},
            ),
            anthropic("content_block_stop", index=0),
            anthropic("content_block_start", index=1, content_block={"type": "text", "text": ""}),
            anthropic(
                "content_block_delta", index=1, delta={"type": "text_delta", "text": "Answer"}
            ),
            anthropic(
                "content_block_delta",
                index=1,
                delta={"type": "citations_delta", "citation": {"cited_text": "src"}},
            ),
            anthropic("content_block_stop", index=1),
            anthropic(
                "message_delta",
                delta={"stop_reason": "end_turn"},
                usage={"output_tokens": 9, "input_tokens": None},
            ),
            anthropic("message_stop"),
        ]
    )
    c = snap.choices[0]
    assert (c.reasoning, c.signature, c.content) == ("Let me think", "sig-B", "Answer")
    assert snap.usage == {"input_tokens": 3, "output_tokens": 9}
    message = snap.as_message()
    assert message["content"][0] == {
        "type": "thinking",
        "thinking": "Let me think",
        "signature": "sig-B",
    }
    assert message["content"][1]["citations"] == [{"cited_text": "src"}]
    assert snap.status == "complete"


# -- completeness ------------------------------------------------------------------------

OPENAI_TEXT = [chunk(choice(role="assistant", content="Hel")), chunk(choice(content="lo"))]


@pytest.mark.parametrize(
    ("events", "status"),
    [
        ([*OPENAI_TEXT, chunk(choice(finish="stop")), DONE], "complete"),
        ([*OPENAI_TEXT, chunk(choice(finish="stop"))], "no_terminal_marker"),
        (OPENAI_TEXT, "connection_lost"),
        ([*OPENAI_TEXT, chunk(choice(finish="length")), DONE], "truncated"),
        ([*OPENAI_TEXT, chunk(choice(finish="content_filter")), DONE], "filtered"),
        ([chunk(choice(refusal="No.")), chunk(choice(finish="stop")), DONE], "refused"),
        (
            [
                *OPENAI_TEXT,
                ServerSentEvent(data='{"error": {"message": "boom", "type": "server_error"}}'),
            ],
            "provider_error",
        ),
    ],
    ids=["complete", "no-marker", "lost", "truncated", "filtered", "refused", "error"],
)
def test_openai_completeness(events: list[ServerSentEvent], status: str) -> None:
    assert accumulate(events).status == status


def test_n2_with_one_unfinished_choice_is_a_lost_connection() -> None:
    snap = accumulate([chunk(choice(0, content="a", finish="stop")), chunk(choice(1, content="b"))])
    assert snap.status == "connection_lost"


def test_provider_error_body_and_retryability() -> None:
    overloaded = accumulate(
        [
            *OPENAI_TEXT,
            ServerSentEvent(
                data='{"error": {"message": "busy", "type": "server_error", "code": null}}'
            ),
        ]
    )
    assert overloaded.error is not None
    assert overloaded.error.retryable
    assert overloaded.error.message == "busy"
    invalid = accumulate(
        [
            *OPENAI_TEXT,
            ServerSentEvent(data='{"error": {"message": "bad", "type": "invalid_request_error"}}'),
        ]
    )
    assert invalid.error is not None
    assert not invalid.error.retryable
    assert invalid.text == "Hello", "the partial text is kept"


def _anthropic_text(stop: str) -> list[ServerSentEvent]:
    return [
        anthropic(
            "message_start",
            message={
                "id": "m1",
                "model": "claude",
                "role": "assistant",
                "usage": {"input_tokens": 5, "output_tokens": 1},
            },
        ),
        anthropic("content_block_start", index=0, content_block={"type": "text", "text": ""}),
        anthropic("ping"),
        anthropic("content_block_delta", index=0, delta={"type": "text_delta", "text": "Hi"}),
        anthropic("content_block_stop", index=0),
        anthropic(
            "message_delta",
            delta={"stop_reason": stop, "stop_sequence": None},
            usage={"output_tokens": 2},
        ),
    ]


@pytest.mark.parametrize(
    ("events", "status"),
    [
        ([*_anthropic_text("end_turn"), anthropic("message_stop")], "complete"),
        (_anthropic_text("end_turn"), "no_terminal_marker"),
        (_anthropic_text("end_turn")[:4], "connection_lost"),
        ([*_anthropic_text("max_tokens"), anthropic("message_stop")], "truncated"),
        ([*_anthropic_text("refusal"), anthropic("message_stop")], "refused"),
        (
            [
                *_anthropic_text("end_turn")[:4],
                anthropic("error", error={"type": "overloaded_error", "message": "Overloaded"}),
            ],
            "provider_error",
        ),
    ],
    ids=["complete", "no-marker", "lost", "truncated", "refused", "error"],
)
def test_anthropic_completeness(events: list[ServerSentEvent], status: str) -> None:
    snap = accumulate(events)
    assert snap.status == status
    if status == "provider_error":
        assert snap.error is not None
        assert snap.error.retryable


def _responses(end: list[ServerSentEvent]) -> list[ServerSentEvent]:
    return [
        responses(
            "response.created",
            response={
                "id": "resp_1",
                "model": "gpt-r",
                "created_at": 1700,
                "status": "in_progress",
            },
        ),
        responses(
            "response.output_item.added",
            output_index=0,
            item={"type": "message", "role": "assistant", "id": "msg"},
        ),
        responses("response.output_text.delta", output_index=0, content_index=0, delta="Hel"),
        responses("response.output_text.delta", output_index=0, content_index=0, delta="lo"),
        responses("response.output_item.done", output_index=0, item={}),
        responses(
            "response.output_item.added",
            output_index=1,
            item={"type": "function_call", "call_id": "call_9", "name": "lookup"},
        ),
        responses("response.function_call_arguments.delta", output_index=1, delta='{"q": '),
        responses("response.function_call_arguments.delta", output_index=1, delta='"x"}'),
        responses("response.output_item.done", output_index=1, item={}),
        *end,
    ]


@pytest.mark.parametrize(
    ("end", "status"),
    [
        (
            [
                responses(
                    "response.completed",
                    response={"id": "resp_1", "status": "completed", "usage": {"output_tokens": 7}},
                )
            ],
            "complete",
        ),
        (
            [
                responses(
                    "response.incomplete",
                    response={
                        "id": "resp_1",
                        "incomplete_details": {"reason": "max_output_tokens"},
                    },
                )
            ],
            "truncated",
        ),
        (
            [
                responses(
                    "response.incomplete",
                    response={"id": "resp_1", "incomplete_details": {"reason": "content_filter"}},
                )
            ],
            "filtered",
        ),
        (
            [
                responses(
                    "response.failed",
                    response={"id": "resp_1", "error": {"code": "server_error", "message": "oops"}},
                )
            ],
            "provider_error",
        ),
        ([], "connection_lost"),
    ],
    ids=["completed", "incomplete-length", "incomplete-filter", "failed", "lost"],
)
def test_responses_api(end: list[ServerSentEvent], status: str) -> None:
    snap = accumulate(_responses(end))
    assert snap.provider == "responses"
    assert snap.status == status
    assert snap.text == "Hello"
    call = snap.choices[0].tool_calls[1]
    assert (call.id, call.name, call.parsed_arguments) == ("call_9", "lookup", {"q": "x"})
    assert snap.id == "resp_1"


def test_provider_is_detected_from_the_first_telling_event() -> None:
    assert accumulate([*OPENAI_TEXT, DONE]).provider == "openai"
    assert accumulate(_anthropic_text("end_turn")).provider == "anthropic"
    assert accumulate(_responses([])).provider == "responses"


def test_invalid_json_is_reported_not_raised() -> None:
    snap = accumulate([*OPENAI_TEXT, ServerSentEvent(data="{not json"), DONE], "openai")
    assert snap.status == "provider_error"
    assert snap.error is not None
    assert snap.error.type == "invalid_json"
    assert snap.text == "Hello"


# -- snapshots ----------------------------------------------------------------------------


def test_snapshots_are_immutable_views_of_their_moment() -> None:
    accumulator = ChatAccumulator()
    accumulator.feed(chunk(choice(role="assistant", content="a")))
    first = accumulator.snapshot()
    accumulator.feed(chunk(choice(content="b")))
    accumulator.feed(chunk(usage={"completion_tokens": 2}))
    second = accumulator.snapshot()
    assert first.text == "a"
    assert first.usage is None
    assert second.text == "ab"
    with pytest.raises(ValueError, match="frozen"):
        first.status = "complete"
    dumped = second.model_dump()
    assert dumped["choices"][0]["content"] == "ab"


def test_as_completion_is_a_chat_completion() -> None:
    snap = accumulate(
        [
            chunk(choice(role="assistant", content="Hi")),
            chunk(choice(finish="stop")),
            chunk(usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}),
            DONE,
        ]
    )
    completion = snap.as_completion()
    assert completion["object"] == "chat.completion"
    assert completion["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hi", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    assert completion["usage"]["total_tokens"] == 2


def test_total_work_is_linear() -> None:
    """Ten times more chunks may cost at most ~12x (no repeated string rebuilding)."""
    import time

    def cost(n: int) -> float:
        events = [chunk(choice(content="tok ")) for _ in range(n)] + [DONE]
        accumulator = ChatAccumulator("openai")
        start = time.perf_counter()
        for event in events:
            if accumulator.feed(event):
                accumulator.snapshot()
        return time.perf_counter() - start

    cost(500)
    small = min(cost(2_000) for _ in range(3))
    large = min(cost(20_000) for _ in range(3))
    assert large / small < 20, f"{large / small:.1f}x for 10x the chunks"


# -- partial JSON ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('{"a": 1, "b": [1, 2], "c": "x"}', {"a": 1, "b": [1, 2], "c": "x"}),
        ('{"a": "hel', {}),
        ('{"a": 1, "b', {"a": 1}),
        ('{"a": 1, "b":', {"a": 1}),
        ("[1, 2", [1]),
        ('[1, "two", {"x": tr', [1, "two", {}]),
        ('{"a": {"b": [true, null', {"a": {"b": [True]}}),
        ('{"q": "say \\"hi\\"", "r', {"q": 'say "hi"'}),
        ("", None),
        ("nonsense", None),
    ],
)
def test_parse_partial_json(text: str, value: Any) -> None:
    assert parse_partial_json(text) == value


# -- operators ------------------------------------------------------------------------------


def _sse_bytes(events: list[ServerSentEvent]) -> list[bytes]:
    return [
        (f"event: {e.event}\n" if e.event != "message" else "").encode()
        + b"data: "
        + e.data.encode()
        + b"\n\n"
        for e in events
    ]


async def test_accumulate_chat_emits_per_change_and_completes_at_the_marker() -> None:
    events = [*OPENAI_TEXT, chunk(choice(content="")), chunk(choice(finish="stop")), DONE]
    snaps = await collect(from_bytes(_sse_bytes(events)).pipe(accumulate_chat()))
    assert [s.text for s in snaps] == ["Hel", "Hello", "Hello", "Hello", "Hello"]
    assert snaps[-1].status == "complete"
    assert [s.status for s in snaps[:-1]] == ["in_progress"] * 4


def test_accumulate_chat_disposes_the_upstream_after_the_marker() -> None:
    subject: Subject[ServerSentEvent] = Subject()
    got: list[ChatSnapshot] = []
    completed: list[bool] = []
    subject.pipe(accumulate_chat()).subscribe(
        got.append, on_completed=lambda: completed.append(True)
    )
    for event in [*OPENAI_TEXT, chunk(choice(finish="stop")), DONE]:
        subject.on_next(event)
    assert completed == [True]
    assert not subject.observers, "the upstream subscription was disposed"


async def test_an_incomplete_stream_fails_with_the_partial_snapshot() -> None:
    with pytest.raises(IncompleteStreamError) as info:
        await collect(from_bytes(_sse_bytes(OPENAI_TEXT)).pipe(accumulate_chat()))
    partial = info.value.partial
    assert isinstance(partial, ChatSnapshot)
    assert partial.status == "connection_lost"
    assert partial.text == "Hello"


async def test_on_incomplete_complete_reports_by_status_only() -> None:
    snaps = await collect(
        from_bytes(_sse_bytes(OPENAI_TEXT)).pipe(accumulate_chat(on_incomplete="complete"))
    )
    assert snaps[-1].status == "connection_lost"


async def test_a_network_error_is_chained_to_the_incomplete_error() -> None:
    source = reactivex.concat(
        reactivex.from_iterable(OPENAI_TEXT), reactivex.throw(ConnectionResetError("reset"))
    )
    with pytest.raises(IncompleteStreamError) as info:
        await collect(source.pipe(accumulate_chat()))
    assert isinstance(info.value.__cause__, ConnectionResetError)


async def test_a_provider_error_fails_with_body_and_partial() -> None:
    events = [
        *OPENAI_TEXT,
        ServerSentEvent(data='{"error": {"message": "rate limited", "type": "rate_limit_error"}}'),
    ]
    with pytest.raises(LLMProviderError) as info:
        await collect(reactivex.from_iterable(events).pipe(accumulate_chat()))
    assert info.value.retryable
    assert info.value.body["error"]["message"] == "rate limited"
    assert info.value.partial.text == "Hello"


async def test_text_deltas_skip_empty_deltas() -> None:
    events = [
        chunk(choice(role="assistant", content="")),
        *OPENAI_TEXT,
        chunk(choice(content="")),
        chunk(choice(finish="stop")),
        DONE,
    ]
    assert await collect(reactivex.from_iterable(events).pipe(text_deltas())) == ["Hel", "lo"]
    anthropic_texts = await collect(
        reactivex.from_iterable(_anthropic_text("end_turn")).pipe(text_deltas())
    )
    assert anthropic_texts == ["Hi"]


def test_chat_metrics_in_virtual_time() -> None:
    """TestScheduler ticks are seconds; the request starts at the subscription (200)."""
    scheduler = TestScheduler()
    on_next = ReactiveTest.on_next
    source = scheduler.create_hot_observable(
        on_next(201, chunk(choice(role="assistant", content=""))),  # TTFB 1 s
        on_next(202, chunk(choice(content="Hel"))),  # TTFT 2 s
        on_next(203, chunk(choice(content="lo"))),  # gap 1 s
        on_next(205, chunk(choice(content="!"))),  # gap 2 s
        on_next(206, chunk(usage={"completion_tokens": 4})),
        on_next(208, DONE),  # e2e 8 s
        ReactiveTest.on_completed(209),
    )
    results = scheduler.start(lambda: source.pipe(chat_metrics(scheduler=scheduler)))
    values = _values(results.messages)
    final = values[-1]
    assert final.done
    assert final.ttfb == pytest.approx(1.0)
    assert final.ttft == pytest.approx(2.0)
    assert final.inter_chunk_latencies == pytest.approx((1.0, 2.0))
    assert final.e2e == pytest.approx(8.0)
    assert final.output_tokens == 4
    assert final.tpot == pytest.approx((8.0 - 2.0) / 3)
    assert final.itl == pytest.approx(2.0)
    assert final.output_tokens_per_second == pytest.approx(0.5)
    assert values[0].ttft is None
    assert values[1].ttft == pytest.approx(2.0)
    assert values[3].max_chunk_gap == pytest.approx(2.0)
    assert [m.time for m in results.messages][-1] == 209


def test_chat_metrics_without_usage_leave_token_metrics_unknown() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_cold_observable(
        ReactiveTest.on_next(10, chunk(choice(content="a"))),
        ReactiveTest.on_next(20, chunk(choice(content="b"))),
        ReactiveTest.on_completed(30),
    )
    results = scheduler.start(lambda: source.pipe(chat_metrics(scheduler=scheduler)))
    final = _values(results.messages)[-1]
    assert final.output_tokens is None
    assert final.tpot is None
    assert final.estimated_output_tokens == 2
    assert final.e2e == pytest.approx(30.0)


def _values(messages: list[Any]) -> list[Any]:
    """The on_next values of recorded TestScheduler messages."""
    return [m.value.value for m in messages if m.value.kind == "N"]


def test_operators_are_exported() -> None:
    from rxsse import operators

    assert {"accumulate_chat", "text_deltas", "chat_metrics"} <= set(operators.__all__)
    assert ops is not None


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in (FIXTURES / "openai-chat").glob("*.sse")),
)
def test_the_stream_adapter_shortcuts_change_nothing(name: str) -> None:
    """OpenAIStreamAdapter only drops repeated identities and fast-paths plain content."""
    events = fixture_events(f"openai-chat/{name}")
    stateful = OpenAIStreamAdapter()
    plain = [d for e in events for d in openai_deltas(e) if not isinstance(d, Meta)]
    fast = [d for e in events for d in stateful(e) if not isinstance(d, Meta)]
    assert fast == plain
    by_function = ChatAccumulator("openai")
    by_function._adapter = openai_deltas
    by_stream = ChatAccumulator("openai")
    for event in events:
        by_function.feed(event)
        by_stream.feed(event)
    assert by_function.finish().model_dump() == by_stream.finish().model_dump()


def test_a_late_non_empty_id_is_not_skipped_as_a_repeat() -> None:
    events = [chunk(choice(content="a"), id=""), chunk(choice(content="b")), DONE]
    assert accumulate(events).id == "chatcmpl-1"


def test_every_intermediate_snapshot_equals_a_fresh_accumulation_of_its_prefix() -> None:
    """Snapshots share unchanged parts; each must still be exactly its moment's state."""
    events = [
        chunk(choice(0, role="assistant", content="")),
        chunk(choice(1, role="assistant", content="")),
        chunk(choice(0, tool_calls=[tool(0, '{"a"', id="t0", type="function", name="f")])),
        chunk(choice(1, content="x")),
        chunk(choice(0, tool_calls=[tool(0, ": 1}")])),
        chunk(choice(1, content="y")),
        chunk(choice(2, role="assistant", content="z")),
        chunk(choice(1, content="w"), choice(2, content="v")),
        chunk(choice(0, finish="tool_calls"), choice(1, finish="stop")),
        chunk(choice(2, finish="stop")),
        chunk(usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}),
        DONE,
    ]
    accumulator = ChatAccumulator("openai")
    for k, event in enumerate(events):
        if not accumulator.feed(event):
            continue
        fresh = ChatAccumulator("openai")
        for earlier in events[: k + 1]:
            fresh.feed(earlier)
        assert accumulator.snapshot().model_dump() == fresh.snapshot().model_dump(), k


def test_json_results_do_not_depend_on_the_parser() -> None:
    """orjson refuses a lone surrogate escape; the stdlib decides, as without orjson."""
    from rxsse import _json

    text = '{"c": "\\ud83d"}'
    assert _json.loads(text) == json.loads(text)
    with pytest.raises(ValueError, match="Expecting"):
        _json.loads("{not json")
    snap = accumulate([chunk(choice(content="\ud83d")), chunk(choice(finish="stop")), DONE])
    assert snap.text == "\ud83d"
