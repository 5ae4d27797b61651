"""rxsse against openai-python's own stream accumulator.

On well-formed random OpenAI streams both must agree on what a client
reads: content, role, tool calls, finish reasons and usage.  On the hazard
cases named below, openai-python's ``ChatCompletionStreamState`` is wrong
(as of the version installed here) and rxsse is right.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.lib.streaming.chat._completions import ChatCompletionStreamState
from openai.types.chat import ChatCompletionChunk

from rxsse import ServerSentEvent
from tests.llm_helpers import DONE, accumulate, choice, chunk, tool


def openai_final(events: list[ServerSentEvent]) -> Any:
    state = ChatCompletionStreamState()
    for event in events:
        if event.data != "[DONE]":
            state.handle_chunk(ChatCompletionChunk.model_validate(json.loads(event.data)))
    return state.get_final_completion()


def split_text(draw: st.DrawFn, text: str) -> list[str]:
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=4)))
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def openai_streams(draw: st.DrawFn) -> list[ServerSentEvent]:
    n = draw(st.integers(1, 3))
    per_choice: list[list[dict[str, Any]]] = []
    for i in range(n):
        chunks = [choice(i, role="assistant", content="")]
        if draw(st.booleans()):
            for fragment in draw(st.lists(st.text(max_size=8), min_size=1, max_size=5)):
                chunks.append(choice(i, content=fragment))
            # ("length" makes openai-python's get_final_completion raise, so it is left out)
            finish = "stop"
        else:
            for t in range(draw(st.integers(1, 2))):
                arguments = json.dumps(
                    draw(st.dictionaries(st.text(max_size=5), json_values, max_size=3))
                )
                pieces = split_text(draw, arguments)
                name = draw(st.sampled_from(["get_weather", "lookup", "f"]))
                chunks.append(
                    choice(
                        i,
                        tool_calls=[
                            tool(t, pieces[0], id=f"call_{i}_{t}", type="function", name=name)
                        ],
                    )
                )
                chunks.extend(choice(i, tool_calls=[tool(t, piece)]) for piece in pieces[1:])
            finish = "tool_calls"
        chunks.append(choice(i, finish=finish))
        per_choice.append(chunks)
    # Interleave, keeping each choice's order and first appearances in index order.
    positions = [0] * n
    events: list[ServerSentEvent] = []
    while any(p < len(c) for p, c in zip(positions, per_choice, strict=True)):
        ready = [
            i
            for i in range(n)
            if positions[i] < len(per_choice[i]) and (i == 0 or positions[i - 1] > 0)
        ]
        i = draw(st.sampled_from(ready))
        events.append(chunk(per_choice[i][positions[i]]))
        positions[i] += 1
    if draw(st.booleans()):
        prompt, completion = draw(st.integers(0, 99)), draw(st.integers(0, 99))
        events.append(
            chunk(
                usage={
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                }
            )
        )
    return [*events, DONE]


@settings(max_examples=150, deadline=None)
@given(events=openai_streams())
def test_as_completion_agrees_with_openai_python(events: list[ServerSentEvent]) -> None:
    theirs = openai_final(events)
    ours = accumulate(events).as_completion()
    assert len(ours["choices"]) == len(theirs.choices)
    for mine, other in zip(ours["choices"], theirs.choices, strict=True):
        assert mine["index"] == other.index
        message = mine["message"]
        assert message["role"] == other.message.role
        assert message["content"] == other.message.content
        assert mine["finish_reason"] == other.finish_reason
        their_calls = [
            (c.id, c.type, c.function.name, c.function.arguments)
            for c in other.message.tool_calls or []
        ]
        my_calls = [
            (c["id"], c["type"], c["function"]["name"], c["function"]["arguments"])
            for c in message.get("tool_calls", [])
        ]
        assert my_calls == their_calls
    their_usage = theirs.usage.model_dump(exclude_none=True) if theirs.usage else None
    assert ours["usage"] == their_usage


# -- hazard cases: openai-python is wrong, rxsse is right ------------------------------------


def test_hazard_repeated_role_is_not_concatenated() -> None:
    events = [
        chunk(choice(role="assistant", content="a")),
        chunk(choice(role="assistant", content="b")),
        chunk(choice(finish="stop")),
        DONE,
    ]
    assert openai_final(events).choices[0].message.role == "assistantassistant"
    assert accumulate(events).choices[0].role == "assistant"


def test_hazard_repeated_tool_call_id_and_name_are_not_concatenated() -> None:
    events = [
        chunk(choice(tool_calls=[tool(0, '{"a":', id="c1", type="function", name="f")])),
        chunk(choice(tool_calls=[tool(0, "1}", id="c1", type="function", name="f")])),
        chunk(choice(finish="tool_calls")),
        DONE,
    ]
    their_call = openai_final(events).choices[0].message.tool_calls[0]
    assert (their_call.id, their_call.function.name) == ("c1c1", "ff")
    call = accumulate(events).choices[0].tool_calls[0]
    assert (call.id, call.name, call.arguments) == ("c1", "f", '{"a":1}')


def test_hazard_a_later_chunk_without_usage_does_not_erase_it() -> None:
    events = [
        chunk(choice(content="a")),
        chunk(usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}),
        chunk(choice(finish="stop")),
        DONE,
    ]
    assert openai_final(events).usage is None
    assert accumulate(events).usage == {
        "prompt_tokens": 1,
        "completion_tokens": 1,
        "total_tokens": 2,
    }


def test_hazard_choices_are_placed_by_index_not_list_position() -> None:
    events = [
        chunk(choice(1, role="assistant", content="B")),
        chunk(choice(0, role="assistant", content="A")),
        chunk(choice(0, finish="stop"), choice(1, finish="stop")),
        DONE,
    ]
    with pytest.raises(IndexError):
        openai_final(events)
    snap = accumulate(events)
    assert (snap.choices[0].content, snap.choices[1].content) == ("A", "B")


def test_hazard_tool_calls_are_placed_by_index_not_list_position() -> None:
    events = [
        chunk(choice(tool_calls=[tool(1, "{}", id="c1", type="function", name="g")])),
        chunk(choice(tool_calls=[tool(0, "{}", id="c0", type="function", name="f")])),
        chunk(choice(finish="tool_calls")),
        DONE,
    ]
    with pytest.raises(IndexError):
        openai_final(events)
    calls = accumulate(events).choices[0].tool_calls
    assert (calls[0].id, calls[1].id) == ("c0", "c1")


def test_hazard_a_cut_off_stream_does_not_look_complete() -> None:
    events = [chunk(choice(role="assistant", content="Hel"))]
    theirs = openai_final(events)
    assert theirs.choices[0].message.content == "Hel"  # returned as if it were a result
    snap = accumulate(events)
    assert snap.status == "connection_lost"
    assert not snap.complete
