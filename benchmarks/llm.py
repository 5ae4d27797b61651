"""LLM stream accumulation: rxsse's ``accumulate_chat`` against openai-python.

Run from the repository root with ``python -m benchmarks.llm`` (``--quick``
for a smoke run).  Both sides accumulate the same OpenAI Chat Completions
stream in one run:

``rxsse``
    ``reactivex.from_iterable(events).pipe(accumulate_chat("openai"))``
    subscribed to the end: the Rx pipeline, provider adapter, JSON parsing of
    every ``ServerSentEvent.data`` and one immutable ``ChatSnapshot`` per
    chunk are all included.
``openai-python``
    ``ChatCompletionStreamState().handle_chunk(chunk)`` for every chunk, fed
    chunk objects that were **already parsed** (``ChatCompletionChunk``
    validated before the clock starts), then ``get_final_completion()``.

Streams (generated deterministically, ``chat.completion.chunk`` JSON of the
shape the API sends): ``text`` (content deltas of one or a few tokens),
``tool call`` (arguments streamed in small fragments), and ``n=3`` (three
choices interleaved).  The time of each side is the best of ``--repeats``
runs with garbage collection off.  The project's target: at least 15x
openai-python's chunks/s.

rxsse parses JSON with orjson when the ``fast`` extra is installed (it is in
``dev``); the header says which parser ran.  With the stdlib parser the
ratios are about 11x.

Linearity: rxsse is also timed on a stream 10x longer; the target is that
10x the chunks costs at most 12x the time (no repeated string rebuilding).
"""

from __future__ import annotations

if not __package__:  # run as a file, `python benchmarks/NAME.py`: import from the repository
    # root instead of benchmarks/, where http.py would shadow the standard library's http
    import sys as _sys
    from pathlib import Path as _Path

    _sys.path[0] = str(_Path(__file__).resolve().parent.parent)

import argparse
import gc
import json
import random
import time
from collections.abc import Callable, Sequence
from functools import partial
from importlib import metadata
from typing import Any

import reactivex
from openai.lib.streaming.chat._completions import ChatCompletionStreamState
from openai.types.chat import ChatCompletionChunk

from rxsse import ServerSentEvent
from rxsse._json import FAST
from rxsse.operators import accumulate_chat

__all__ = ["main"]

TARGET = 15.0
LINEARITY_LIMIT = 12.0
WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "while",
    "streaming",
    "tokens",
    "arrive",
]


def _chunk(rng: random.Random, n: int, choices: list[dict[str, Any]]) -> str:
    return json.dumps(
        {
            "id": "chatcmpl-bench0000000000000000000",
            "object": "chat.completion.chunk",
            "created": 1727346178,
            "model": "gpt-4o-2024-08-06",
            "system_fingerprint": "fp_5050236cbd",
            "choices": choices,
        },
        separators=(",", ":"),
    )


def _delta(index: int, **delta: Any) -> dict[str, Any]:
    return {"index": index, "delta": delta, "logprobs": None, "finish_reason": None}


def text_stream(chunks: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    out = [_chunk(rng, 0, [_delta(0, role="assistant", content="")])]
    for i in range(chunks):
        out.append(_chunk(rng, i, [_delta(0, content=" " + rng.choice(WORDS))]))
    final = _delta(0)
    final["finish_reason"] = "stop"
    out.append(_chunk(rng, 0, [final]))
    return out


def tool_stream(chunks: int, seed: int = 2) -> list[str]:
    rng = random.Random(seed)
    arguments = json.dumps({"query": " ".join(rng.choice(WORDS) for _ in range(chunks))})
    size = max(1, len(arguments) // chunks)
    pieces = [arguments[i : i + size] for i in range(0, len(arguments), size)]
    first = {
        "index": 0,
        "id": "call_bench",
        "type": "function",
        "function": {"name": "search", "arguments": ""},
    }
    out = [_chunk(rng, 0, [_delta(0, role="assistant", content=None, tool_calls=[first])])]
    for piece in pieces:
        call = {"index": 0, "function": {"arguments": piece}}
        out.append(_chunk(rng, 0, [_delta(0, tool_calls=[call])]))
    final = _delta(0)
    final["finish_reason"] = "tool_calls"
    out.append(_chunk(rng, 0, [final]))
    return out


def n3_stream(chunks: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    out = [_chunk(rng, 0, [_delta(i, role="assistant", content="")]) for i in range(3)]
    for i in range(chunks):
        out.append(_chunk(rng, i, [_delta(i % 3, content=" " + rng.choice(WORDS))]))
    for i in range(3):
        final = _delta(i)
        final["finish_reason"] = "stop"
        out.append(_chunk(rng, 0, [final]))
    return out


def run_rxsse(events: Sequence[ServerSentEvent]) -> Any:
    """Subscribe to the pipeline; return the last snapshot (raise its error)."""
    last: list[Any] = [None]
    failure: list[Exception] = []

    def keep(snapshot: Any) -> None:
        last[0] = snapshot

    reactivex.from_iterable(events).pipe(accumulate_chat("openai")).subscribe(
        on_next=keep, on_error=failure.append
    )
    if failure:
        raise failure[0]
    return last[0]


def run_openai(chunks: Sequence[ChatCompletionChunk]) -> Any:
    state = ChatCompletionStreamState()
    for parsed in chunks:
        state.handle_chunk(parsed)
    return state.get_final_completion()


def best_of(repeats: int, fn: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
        finally:
            gc.enable()
    return best


def _check(datas: list[str]) -> None:
    events = [ServerSentEvent(data=d) for d in [*datas, "[DONE]"]]
    ours = run_rxsse(events).as_completion()
    theirs = run_openai([ChatCompletionChunk.model_validate_json(d) for d in datas])
    for mine, other in zip(ours["choices"], theirs.choices, strict=True):
        assert mine["message"]["content"] == other.message.content
        assert [c["function"]["arguments"] for c in mine["message"].get("tool_calls", [])] == [
            c.function.arguments for c in other.message.tool_calls or []
        ]


def main(argv: list[str] | None = None) -> None:
    """Print the table of chunks/s and the ratios."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.llm", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small streams, two repeats")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv)
    chunks = 300 if args.quick else 2000
    repeats = args.repeats or (2 if args.quick else 5)
    streams = {
        "text": text_stream(chunks),
        "tool call": tool_stream(chunks),
        "n=3": n3_stream(chunks),
    }
    print(
        f"rxsse accumulate_chat vs openai {metadata.version('openai')} "
        f"ChatCompletionStreamState; best of {repeats}; chunks/s; JSON parser: "
        f"{'orjson (rxsse[fast])' if FAST else 'stdlib json (install rxsse[fast] for orjson)'}\n"
    )
    print("| stream | chunks | rxsse chunks/s | openai chunks/s | rxsse/openai | target |")
    print("|---|--:|--:|--:|--:|:-:|")
    misses = []
    for name, datas in streams.items():
        _check(datas)
        events = [ServerSentEvent(data=d) for d in [*datas, "[DONE]"]]
        parsed = [ChatCompletionChunk.model_validate_json(d) for d in datas]
        ours = best_of(repeats, partial(run_rxsse, events))
        theirs = best_of(repeats, partial(run_openai, parsed))
        ratio = theirs / ours
        ok = ratio >= TARGET
        if not ok:
            misses.append(name)
        print(
            f"| {name} | {len(datas)} | {len(datas) / ours:,.0f} | {len(datas) / theirs:,.0f} "
            f"| {ratio:.1f}x | ≥{TARGET:.0f}x {'ok' if ok else 'MISS'} |"
        )
    short = [ServerSentEvent(data=d) for d in [*text_stream(chunks), "[DONE]"]]
    long = [ServerSentEvent(data=d) for d in [*text_stream(chunks * 10), "[DONE]"]]
    t_short = best_of(repeats, lambda: run_rxsse(short))
    t_long = best_of(repeats, lambda: run_rxsse(long))
    growth = t_long / t_short
    print(
        f"\nLinearity: {len(long)} chunks took {growth:.1f}x the time of {len(short)} "
        f"(limit {LINEARITY_LIMIT:.0f}x): {'ok' if growth <= LINEARITY_LIMIT else 'MISS'}"
    )
    if misses:
        print("Targets missed: " + ", ".join(misses))
        if args.quick:
            print(
                "(--quick streams are 300 chunks, where per-stream setup weighs; the 15x target "
                "is for the full 2,000-chunk run.)"
            )


if __name__ == "__main__":
    main()
