"""Emulated LLM providers: OpenAI Chat Completions, Anthropic Messages, OpenAI Responses.

Endpoints (``POST``, JSON body as the real APIs take it)::

    /v1/chat/completions   OpenAI Chat Completions (``chat.completion.chunk`` + ``[DONE]``)
    /v1/messages           Anthropic Messages (``message_start`` … ``message_stop``)
    /v1/responses          OpenAI Responses (``response.created`` … ``response.completed``)

The official ``openai`` and ``anthropic`` SDKs stream from them when given the
emulator's URL as ``base_url`` (``f"{url}/v1"`` for ``openai``, ``url`` for
``anthropic``).  ``"stream": true`` streams; otherwise the endpoint answers the
non-streaming JSON object (``chat.completion``, ``message``, ``response``) that
the stream accumulates to.

**What is generated** is a deterministic function of the seed (the
emulator's, or ``seed=K``), the last user message, and the request's knobs:
text made of words from that message and a small word list (some of them
non-ASCII: "café", "東京", "🙂"), split into word and sub-word tokens.  When the
request has ``tools`` (and ``tool_choice`` is not ``"none"``) the answer calls
them (every tool, or only the first with ``parallel_tool_calls: false``, or the
one ``tool_choice`` names) with JSON arguments built from each tool's parameter
schema.  Argument strings contain non-ASCII text; characters from U+3000 up are
written as ``\\uXXXX`` escapes (surrogate pairs above U+FFFF) and the argument
fragments are **cut inside every such escape** and elsewhere mid-JSON.
Anthropic answers with a short text block before its ``tool_use`` blocks;
OpenAI answers tool calls without content.  :func:`chat_completion`,
:func:`anthropic_message` and :func:`responses_response` return the
non-streaming answer for a request body, which is what a correct accumulator
must rebuild from the stream.

Request fields honoured: OpenAI ``messages``, ``model``, ``n`` (choices are
interleaved chunk by chunk), ``max_tokens`` / ``max_completion_tokens`` (per
choice; reaching it ends the choice with ``finish_reason: "length"``, even
inside tool-call arguments), ``tools``, ``tool_choice``,
``parallel_tool_calls``, ``stream_options.include_usage`` (every chunk then
has ``"usage": null`` and a last chunk with ``"choices": []`` carries the
usage).  Anthropic ``messages``, ``system``, ``max_tokens`` (required;
``stop_reason: "max_tokens"``), ``tools``, ``tool_choice``, ``thinking``
(``{"type": "enabled", ...}`` adds a thinking block streamed as
``thinking_delta`` then one ``signature_delta``).  Responses ``input``,
``instructions``, ``max_output_tokens`` (ends with ``response.incomplete``),
``tools`` (``{"type": "function", "name": ..., "parameters": ...}``).
Malformed requests get a 400 with the provider's error JSON.

**Knobs**: query parameters, or the same names as ``X-Emulator-<Name>``
headers (``-`` for ``_``; a query parameter wins), so SDK clients can set
them with ``default_headers`` or ``extra_query``:

``tokens_per_second=R``
    Pace token-carrying events at R per second (default 0: as fast as possible).
``ttft=S``
    Wait S seconds before the first token (default 0).
``words=N``
    Words of generated text per answer (default: 8 to 24, from the seed).
``fault=error|cut|abort``
    ``error``: replace the rest of the stream with the provider's mid-stream
    error (OpenAI ``data: {"error": {...}}``, Anthropic ``event: error``,
    Responses ``event: error``), then end the body cleanly.  ``cut``: end the
    body cleanly **before the terminal marker** (``[DONE]``,
    ``message_stop``, ``response.completed``/``response.incomplete``).
    ``abort``: the same, but drop the connection without the end-of-body
    marker (a broken transfer).
``fault_after=N``
    The fault happens after N events (default: half of the events for
    ``error``, all but the terminal marker for ``cut`` and ``abort``).
``split=0|1``
    ``1`` (default) writes every event in several network writes, cut inside
    each multi-byte UTF-8 sequence (at most four per event) and at one
    other deterministic offset, so clients must reassemble bytes as well as
    JSON.  The writes are separate ``send`` calls; TCP may still merge them.
``split_delay=S``
    Pause S seconds between those writes (default 0), so that a client
    surely reads them apart.

Every generic fault of :mod:`rxsse.emulator.faults` (``status``,
``drop_after``, ``stall``, ``garbage``, ``batch``, …) applies as well.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import random
import re
import string
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from rxsse._event import ServerSentEvent
from rxsse.emulator.faults import ConnectionDropped, Faults
from rxsse.emulator.streaming import stream_response

__all__ = [
    "InvalidRequest",
    "LLMKnobs",
    "anthropic_message",
    "chat_completion",
    "responses_response",
    "routes",
    "split_utf8",
]

Fault = Literal["error", "cut", "abort"]

_WORDS = (
    "stream", "token", "event", "river", "signal", "reactive", "observable", "chunk",
    "delta", "latency", "byte", "second", "model", "answer", "the", "a", "of", "and",
    "to", "is", "flows", "quickly", "gently", "every", "café", "naïve", "über",
    "jalapeño", "déjà", "Zürich", "東京", "データ", "→", "°C", "🙂", "résumé", "piñata",
)  # fmt: skip
_ARG_STRINGS = (
    "Zürich", "São Paulo", "東京", "café crème", "naïve", "🙂 ok", "Ελλάδα", "Paris",
    "Edinburgh", "Kraków", "北京市", "Smörgåsbord",
)  # fmt: skip
_ALNUM = string.ascii_letters + string.digits
_ESCAPE = re.compile("[\u3000-\U0010ffff]")
_UNICODE_ESCAPE = re.compile(r"\\u[0-9a-fA-F]{4}")


class InvalidRequest(ValueError):
    """A request body the emulated provider would reject with 400."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


# -- knobs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LLMKnobs:
    """The LLM knobs of one request (see the module docstring)."""

    tokens_per_second: float = 0.0
    ttft: float = 0.0
    words: int | None = None
    fault: Fault | None = None
    fault_after: int | None = None
    split: bool = True
    split_delay: float = 0.0

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> LLMKnobs:
        """Parse the knobs; raises ``ValueError`` on malformed ones."""
        name = params.get("fault") or None
        faults: dict[str | None, Fault | None] = {
            None: None,
            "error": "error",
            "cut": "cut",
            "abort": "abort",
        }
        if name not in faults:
            raise ValueError(f"fault must be error, cut or abort, not {name!r}")
        words = params.get("words")
        after = params.get("fault_after")
        return cls(
            tokens_per_second=float(params.get("tokens_per_second") or 0),
            ttft=float(params.get("ttft") or 0),
            words=int(words) if words else None,
            fault=faults[name],
            fault_after=int(after) if after else None,
            split=params.get("split", "1") not in ("0", "false"),
            split_delay=float(params.get("split_delay") or 0),
        )


def request_params(request: Request) -> dict[str, str]:
    """Knob and fault parameters: ``X-Emulator-*`` headers overridden by the query."""
    params = {
        name[len("x-emulator-") :].replace("-", "_"): value
        for name, value in request.headers.items()
        if name.startswith("x-emulator-")
    }
    params.update(request.query_params.items())
    return params


# -- generation (pure) -----------------------------------------------------------------


@dataclass(frozen=True)
class _Call:
    """One generated tool call; ``fragments`` join to (a prefix of) ``arguments``."""

    id: str
    name: str
    arguments: str
    fragments: tuple[str, ...]
    complete: bool = True


@dataclass(frozen=True)
class _Turn:
    """One generated answer (an OpenAI choice, an Anthropic message)."""

    thinking: tuple[str, ...]
    text: tuple[str, ...]
    calls: tuple[_Call, ...]
    truncated: bool = False
    thinking_complete: bool = True
    text_complete: bool = True

    @property
    def tokens(self) -> int:
        """Output tokens: one per thinking, text or argument fragment."""
        return len(self.thinking) + len(self.text) + sum(len(c.fragments) for c in self.calls)


def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random("/".join([str(seed), *map(str, parts)]))


def _ident(rng: random.Random, prefix: str, size: int = 24) -> str:
    return prefix + "".join(rng.choice(_ALNUM) for _ in range(size))


def _text_of(content: Any) -> str:
    """Plain text of a message content: a string or a list of text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def _count_tokens(texts: Sequence[str]) -> int:
    """The emulator's prompt token count: words plus 4 per message."""
    return sum(len(text.split()) + 4 for text in texts)


def _words(prompt: str, rng: random.Random, count: int) -> list[str]:
    own = [word.strip(".,;:!?\"'()") for word in prompt.split()]
    own = [word for word in own if word]
    picked = [
        rng.choice(own) if own and rng.random() < 0.3 else rng.choice(_WORDS) for _ in range(count)
    ]
    if picked:
        picked[0] = picked[0][:1].upper() + picked[0][1:]
    return picked


def _tokens(words: Sequence[str], rng: random.Random) -> tuple[str, ...]:
    """Word and sub-word tokens (leading spaces as real tokenizers have), then ``.``."""
    tokens: list[str] = []
    for position, word in enumerate(words):
        piece = word if position == 0 else " " + word
        if len(word) > 4 and rng.random() < 0.5:
            cut = rng.randrange(2, len(piece) - 1)
            tokens += [piece[:cut], piece[cut:]]
        else:
            tokens.append(piece)
    if tokens:
        tokens.append(".")
    return tuple(tokens)


def _value_for(schema: Any, rng: random.Random, depth: int = 0) -> Any:
    """A value valid for a (simple) JSON schema: objects, arrays, scalars, enums."""
    if not isinstance(schema, dict):
        return rng.choice(_ARG_STRINGS)
    if "enum" in schema and isinstance(schema["enum"], list) and schema["enum"]:
        return rng.choice(schema["enum"])
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return _value_for(schema[key][0], rng, depth)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        properties = schema.get("properties")
        if not isinstance(properties, dict) or depth > 4:
            return {}
        return {name: _value_for(sub, rng, depth + 1) for name, sub in properties.items()}
    if kind == "array":
        return [_value_for(schema.get("items"), rng, depth + 1) for _ in range(rng.randint(1, 3))]
    if kind == "integer":
        return rng.randint(0, 100)
    if kind == "number":
        return round(rng.uniform(-50, 50), 1)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    return rng.choice(_ARG_STRINGS)


def _escape(match: re.Match[str]) -> str:
    return json.dumps(match.group(0))[1:-1]  # \uXXXX, or a surrogate pair above U+FFFF


def _arguments_text(value: Any) -> str:
    """Compact JSON; Latin/Greek characters raw, U+3000 and up as ``\\uXXXX`` escapes."""
    return _ESCAPE.sub(_escape, json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def _fragments(text: str, rng: random.Random) -> tuple[str, ...]:
    """Split ``text`` at random offsets, and inside every ``\\uXXXX`` escape."""
    cuts = {match.start() + 4 for match in _UNICODE_ESCAPE.finditer(text)}
    position = 0
    while position < len(text):
        position += rng.randint(1, 7)
        cuts.add(position)
    points = [0, *sorted(cut for cut in cuts if 0 < cut < len(text)), len(text)]
    return tuple(text[a:b] for a, b in itertools.pairwise(points) if b > a)


@dataclass(frozen=True)
class _Tool:
    name: str
    parameters: Any


def _turn(
    prompt: str,
    tools: Sequence[_Tool],
    *,
    seed: int,
    index: int,
    words: int | None,
    lead_in: bool,
    thinking: bool,
    max_tokens: int | None,
) -> _Turn:
    """Generate answer ``index`` for ``prompt``, truncated to ``max_tokens`` tokens."""
    rng = _rng(seed, "turn", prompt, index)
    count = words if words is not None else rng.randint(8, 24)
    thought: tuple[str, ...] = ()
    if thinking:
        thought = _tokens(_words(prompt, rng, rng.randint(8, 16)), rng)
    if tools:
        count = min(count, rng.randint(3, 6)) if lead_in else 0
    text = _tokens(_words(prompt, rng, count), rng)
    calls = []
    for tool in tools:
        call_rng = _rng(seed, "call", prompt, index, tool.name)
        arguments = _arguments_text(_value_for(tool.parameters, call_rng))
        fragments = _fragments(arguments, call_rng)
        calls.append(_Call(_ident(call_rng, "call_"), tool.name, arguments, fragments))
    turn = _Turn(thought, text, tuple(calls))
    return turn if max_tokens is None else _truncate(turn, max_tokens)


def _truncate(turn: _Turn, budget: int) -> _Turn:
    """Keep the first ``budget`` tokens (thinking, then text, then call fragments)."""
    if turn.tokens <= budget:
        return turn
    thinking = turn.thinking[:budget]
    budget -= len(thinking)
    text = turn.text[:budget]
    budget -= len(text)
    calls = []
    for call in turn.calls:
        if budget <= 0:
            break
        kept = call.fragments[:budget]
        budget -= len(kept)
        calls.append(replace(call, fragments=kept, complete=len(kept) == len(call.fragments)))
    return _Turn(
        thinking,
        text,
        tuple(calls),
        truncated=True,
        thinking_complete=len(thinking) == len(turn.thinking),
        text_complete=len(text) == len(turn.text),
    )


def _positive_int(body: Mapping[str, Any], *names: str) -> int | None:
    for name in names:
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InvalidRequest(f"{name} must be a positive integer", name)
        return value
    return None


def _messages(body: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    messages = body.get(name)
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest(f"{name} must be a non-empty array", name)
    if not all(isinstance(message, dict) for message in messages):
        raise InvalidRequest(f"every item of {name} must be an object", name)
    return messages


def _last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role", "user") == "user":
            return _text_of(message.get("content"))
    return ""


def _select(tools: list[_Tool], choice: Any, parallel: bool, none: str, named: str) -> list[_Tool]:
    """The tools the answer calls, per ``tool_choice`` and parallel tool use."""
    if choice == none or (isinstance(choice, dict) and choice.get("type") == none):
        return []
    if isinstance(choice, dict):
        wanted = choice.get("name") or (choice.get("function") or {}).get("name")
        if choice.get("type") in (named, "function") and wanted:
            tools = [tool for tool in tools if tool.name == wanted]
            if not tools:
                raise InvalidRequest(f"tool_choice names an unknown tool {wanted!r}", "tool_choice")
    return tools if parallel else tools[:1]


def _frame(data: Any, event: str = "message") -> ServerSentEvent:
    if isinstance(data, str):
        return ServerSentEvent(event, data)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return ServerSentEvent(event, text)


@dataclass(frozen=True)
class _Plan:
    """A whole answer: the stream's events (``True`` = carries a token) and the JSON."""

    events: list[tuple[ServerSentEvent, bool]]
    result: dict[str, Any]
    error: ServerSentEvent
    sequenced: bool = False  # events carry ``sequence_number`` (Responses)


# -- OpenAI Chat Completions -----------------------------------------------------------


def _chat_tools(body: Mapping[str, Any]) -> list[_Tool]:
    tools = body.get("tools") or []
    if not isinstance(tools, list):
        raise InvalidRequest("tools must be an array", "tools")
    result = []
    for tool in tools:
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise InvalidRequest("each tool must be {type: function, function: {name}}", "tools")
        result.append(_Tool(function["name"], function.get("parameters") or {}))
    return result


def _chat_plan(body: Mapping[str, Any], seed: int, words: int | None) -> _Plan:
    messages = _messages(body, "messages")
    model = str(body.get("model") or "rxsse-emulator")
    n = body.get("n")
    n = 1 if n is None else n
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 16:
        raise InvalidRequest("n must be an integer from 1 to 16", "n")
    max_tokens = _positive_int(body, "max_completion_tokens", "max_tokens")
    tools = _select(
        _chat_tools(body),
        body.get("tool_choice"),
        body.get("parallel_tool_calls", True) is not False,
        none="none",
        named="function",
    )
    prompt = _last_user_text(messages)
    options = body.get("stream_options") or {}
    include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
    rng = _rng(seed, "chat", prompt)
    envelope = {
        "id": _ident(rng, "chatcmpl-", 29),
        "object": "chat.completion.chunk",
        "created": 1_700_000_000 + rng.randrange(10**7),
        "model": model,
        "system_fingerprint": "fp_rxsse",
    }
    turns = [
        _turn(
            prompt,
            tools,
            seed=seed,
            index=i,
            words=words,
            lead_in=False,
            thinking=False,
            max_tokens=max_tokens,
        )
        for i in range(n)
    ]
    prompt_tokens = _count_tokens([_text_of(m.get("content")) for m in messages])
    completion_tokens = sum(turn.tokens for turn in turns)
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }

    def finish(turn: _Turn) -> str:
        return "length" if turn.truncated else "tool_calls" if turn.calls else "stop"

    def choice_deltas(index: int, turn: _Turn) -> Iterator[tuple[dict[str, Any], bool]]:
        def choice(delta: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
            return {"index": index, "delta": delta, "logprobs": None, "finish_reason": reason}

        content = None if tools else ""
        yield choice({"role": "assistant", "content": content, "refusal": None}), False
        for token in turn.text:
            yield choice({"content": token}), True
        for k, call in enumerate(turn.calls):
            function = {"name": call.name, "arguments": ""}
            head = {"index": k, "id": call.id, "type": "function", "function": function}
            yield choice({"tool_calls": [head]}), False
            for fragment in call.fragments:
                tail = {"index": k, "function": {"arguments": fragment}}
                yield choice({"tool_calls": [tail]}), True
        yield choice({}, finish(turn)), False

    streams = [choice_deltas(i, turn) for i, turn in enumerate(turns)]
    events: list[tuple[ServerSentEvent, bool]] = []
    while streams:  # choices interleaved round-robin, one per chunk
        for stream in list(streams):
            item = next(stream, None)
            if item is None:
                streams.remove(stream)
                continue
            chunk: dict[str, Any] = {**envelope, "choices": [item[0]]}
            if include_usage:
                chunk["usage"] = None
            events.append((_frame(chunk), item[1]))
    if include_usage:
        events.append((_frame({**envelope, "choices": [], "usage": usage}), False))
    events.append((_frame("[DONE]"), False))

    def message(turn: _Turn) -> dict[str, Any]:
        result: dict[str, Any] = {
            "role": "assistant",
            "content": None if tools else "".join(turn.text),
            "refusal": None,
        }
        if turn.calls:
            result["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": "".join(call.fragments)},
                }
                for call in turn.calls
            ]
        return result

    completion = {
        **envelope,
        "object": "chat.completion",
        "choices": [
            {"index": i, "message": message(turn), "logprobs": None, "finish_reason": finish(turn)}
            for i, turn in enumerate(turns)
        ],
        "usage": usage,
    }
    error = {
        "message": "The server had an error while processing your request. Sorry about that!",
        "type": "server_error",
        "param": None,
        "code": None,
    }
    return _Plan(events, completion, _frame({"error": error}))


def chat_completion(body: Mapping[str, Any], *, seed: int = 0, words: int | None = None) -> Any:
    """The ``chat.completion`` JSON the emulator answers (and streams) for ``body``.

    Raises :class:`InvalidRequest` when the endpoint would answer 400.
    """
    return _chat_plan(body, seed, words).result


# -- Anthropic Messages ----------------------------------------------------------------


def _anthropic_tools(body: Mapping[str, Any]) -> list[_Tool]:
    tools = body.get("tools") or []
    if not isinstance(tools, list) or not all(
        isinstance(tool, dict) and isinstance(tool.get("name"), str) for tool in tools
    ):
        raise InvalidRequest("tools must be an array of {name, input_schema}", "tools")
    return [_Tool(tool["name"], tool.get("input_schema") or {}) for tool in tools]


def _anthropic_plan(body: Mapping[str, Any], seed: int, words: int | None) -> _Plan:
    messages = _messages(body, "messages")
    max_tokens = _positive_int(body, "max_tokens")
    if max_tokens is None:
        raise InvalidRequest("max_tokens: Field required", "max_tokens")
    model = str(body.get("model") or "rxsse-emulator")
    choice = body.get("tool_choice") or {}
    parallel = not (isinstance(choice, dict) and choice.get("disable_parallel_tool_use"))
    tools = _select(_anthropic_tools(body), choice, parallel, none="none", named="tool")
    thinking = body.get("thinking")
    wants_thinking = isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive")
    prompt = _last_user_text(messages)
    turn = _turn(
        prompt,
        tools,
        seed=seed,
        index=0,
        words=words,
        lead_in=True,
        thinking=wants_thinking,
        max_tokens=max_tokens,
    )
    rng = _rng(seed, "anthropic", prompt)
    message_id = _ident(rng, "msg_")
    signature = base64.b64encode(hashlib.sha256(f"{seed}/{prompt}".encode()).digest()).decode()
    system = body.get("system")
    texts = [_text_of(system)] if system else []
    input_tokens = _count_tokens([*texts, *(_text_of(m.get("content")) for m in messages)])
    output_tokens = turn.tokens
    stop_reason = "max_tokens" if turn.truncated else "tool_use" if turn.calls else "end_turn"
    events: list[tuple[ServerSentEvent, bool]] = []

    def emit(data: dict[str, Any], token: bool = False) -> None:
        events.append((_frame(data, data["type"]), token))

    usage_start = {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": 1,
    }
    start: dict[str, Any] = {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage_start,
    }
    emit({"type": "message_start", "message": start})
    emit({"type": "ping"})
    content: list[dict[str, Any]] = []
    blocks: list[tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]], bool]] = []
    if turn.thinking:
        deltas = [{"type": "thinking_delta", "thinking": token} for token in turn.thinking]
        if turn.thinking_complete:
            deltas.append({"type": "signature_delta", "signature": signature})
        final = {"type": "thinking", "thinking": "".join(turn.thinking)}
        final["signature"] = signature if turn.thinking_complete else ""
        start_block = {"type": "thinking", "thinking": "", "signature": ""}
        blocks.append((start_block, final, deltas, turn.thinking_complete))
    if turn.text:
        deltas = [{"type": "text_delta", "text": token} for token in turn.text]
        final = {"type": "text", "text": "".join(turn.text)}
        blocks.append(({"type": "text", "text": ""}, final, deltas, turn.text_complete))
    for call in turn.calls:
        deltas = [{"type": "input_json_delta", "partial_json": ""}]
        deltas += [{"type": "input_json_delta", "partial_json": f} for f in call.fragments]
        value = json.loads(call.arguments) if call.complete else {}
        head = {"type": "tool_use", "id": call.id.replace("call_", "toolu_"), "name": call.name}
        blocks.append(({**head, "input": {}}, {**head, "input": value}, deltas, call.complete))
    for index, (block, final, deltas, complete) in enumerate(blocks):
        emit({"type": "content_block_start", "index": index, "content_block": block})
        for delta in deltas:
            token = delta["type"] != "signature_delta" and bool(delta.get("partial_json", True))
            emit({"type": "content_block_delta", "index": index, "delta": delta}, token)
        if complete:  # a block cut by max_tokens gets no content_block_stop (as recorded)
            emit({"type": "content_block_stop", "index": index})
        content.append(final)
    emit(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": output_tokens},
        }
    )
    emit({"type": "message_stop"})
    message = {
        **start,
        "content": content,
        "stop_reason": stop_reason,
        "usage": {**usage_start, "output_tokens": output_tokens},
    }
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    return _Plan(events, message, _frame(error, "error"))


def anthropic_message(body: Mapping[str, Any], *, seed: int = 0, words: int | None = None) -> Any:
    """The Anthropic ``message`` JSON the emulator answers (and streams) for ``body``.

    A ``tool_use`` block cut by ``max_tokens`` has ``input: {}`` here (its
    stream stops mid-JSON).  Raises :class:`InvalidRequest` on a 400 body.
    """
    return _anthropic_plan(body, seed, words).result


# -- OpenAI Responses ------------------------------------------------------------------


def _responses_input(body: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The last user text and every input text of a Responses request."""
    value = body.get("input")
    if isinstance(value, str):
        return value, [value]
    if not isinstance(value, list) or not value:
        raise InvalidRequest("input must be a string or a non-empty array", "input")
    items = [item for item in value if isinstance(item, dict)]
    texts = [_text_of(item.get("content")) for item in items]
    return _last_user_text([item for item in items if "role" in item]), texts


def _responses_plan(body: Mapping[str, Any], seed: int, words: int | None) -> _Plan:
    prompt, texts = _responses_input(body)
    max_tokens = _positive_int(body, "max_output_tokens")
    raw_tools = body.get("tools") or []
    if not isinstance(raw_tools, list) or not all(isinstance(t, dict) for t in raw_tools):
        raise InvalidRequest("tools must be an array", "tools")
    functions = [
        _Tool(str(tool.get("name")), tool.get("parameters") or {})
        for tool in raw_tools
        if tool.get("type") == "function" and isinstance(tool.get("name"), str)
    ]
    parallel = body.get("parallel_tool_calls", True) is not False
    tools = _select(functions, body.get("tool_choice"), parallel, none="none", named="function")
    turn = _turn(
        prompt,
        tools,
        seed=seed,
        index=0,
        words=words,
        lead_in=False,
        thinking=False,
        max_tokens=max_tokens,
    )
    rng = _rng(seed, "responses", prompt)
    instructions = body.get("instructions")
    input_tokens = _count_tokens(
        [*([instructions] if isinstance(instructions, str) else []), *texts]
    )
    base: dict[str, Any] = {
        "id": _ident(rng, "resp_", 32),
        "object": "response",
        "created_at": 1_700_000_000 + rng.randrange(10**7),
        "status": "in_progress",
        "error": None,
        "incomplete_details": None,
        "instructions": instructions if isinstance(instructions, str) else None,
        "max_output_tokens": max_tokens,
        "model": str(body.get("model") or "rxsse-emulator"),
        "output": [],
        "parallel_tool_calls": parallel,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": False,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": body.get("tool_choice") or "auto",
        "tools": raw_tools,
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": None,
        "user": None,
        "metadata": {},
    }
    events: list[tuple[ServerSentEvent, bool]] = []

    def emit(data: dict[str, Any], token: bool = False) -> None:
        events.append((_frame({**data, "sequence_number": len(events)}, data["type"]), token))

    emit({"type": "response.created", "response": base})
    emit({"type": "response.in_progress", "response": base})
    output: list[dict[str, Any]] = []
    if turn.text or not turn.calls:
        index = len(output)
        status = "incomplete" if turn.truncated else "completed"
        item: dict[str, Any] = {
            "id": _ident(rng, "msg_", 32),
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        at = {"item_id": item["id"], "output_index": index, "content_index": 0}
        text = "".join(turn.text)
        part = {"type": "output_text", "text": text, "annotations": []}
        emit({"type": "response.output_item.added", "output_index": index, "item": item})
        emit({"type": "response.content_part.added", **at, "part": {**part, "text": ""}})
        for token in turn.text:
            emit({"type": "response.output_text.delta", **at, "delta": token, "logprobs": []}, True)
        emit({"type": "response.output_text.done", **at, "text": text, "logprobs": []})
        emit({"type": "response.content_part.done", **at, "part": part})
        done = {**item, "status": status, "content": [part]}
        emit({"type": "response.output_item.done", "output_index": index, "item": done})
        output.append(done)
    for call in turn.calls:
        index = len(output)
        item = {
            "id": call.id.replace("call_", "fc_"),
            "type": "function_call",
            "status": "in_progress",
            "arguments": "",
            "call_id": call.id,
            "name": call.name,
        }
        at = {"item_id": item["id"], "output_index": index}
        arguments = "".join(call.fragments)
        emit({"type": "response.output_item.added", "output_index": index, "item": item})
        for fragment in call.fragments:
            emit({"type": "response.function_call_arguments.delta", **at, "delta": fragment}, True)
        emit({"type": "response.function_call_arguments.done", **at, "arguments": arguments})
        status = "completed" if call.complete else "incomplete"
        done = {**item, "status": status, "arguments": arguments}
        emit({"type": "response.output_item.done", "output_index": index, "item": done})
        output.append(done)
    usage = {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": turn.tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + turn.tokens,
    }
    final = {**base, "status": "completed", "output": output, "usage": usage}
    if turn.truncated:
        final["status"] = "incomplete"
        final["incomplete_details"] = {"reason": "max_output_tokens"}
    emit({"type": f"response.{final['status']}", "response": final})
    error = {
        "type": "error",
        "code": "server_error",
        "message": "The server had an error while processing your request.",
        "param": None,
    }
    return _Plan(events, final, _frame(error, "error"), sequenced=True)


def responses_response(body: Mapping[str, Any], *, seed: int = 0, words: int | None = None) -> Any:
    """The ``response`` JSON the emulator answers (and streams) for a Responses ``body``.

    Raises :class:`InvalidRequest` when the endpoint would answer 400.
    """
    return _responses_plan(body, seed, words).result


# -- serving ---------------------------------------------------------------------------


def split_utf8(frame: bytes, rng: random.Random, *, limit: int = 4) -> list[bytes]:
    """Cut ``frame`` inside its first ``limit`` multi-byte UTF-8 sequences and at one offset.

    A cut inside a sequence falls right after its lead byte.  The pieces join
    to ``frame``.
    """
    cuts: set[int] = set()
    for position in range(1, len(frame)):
        if len(cuts) >= limit:
            break
        if frame[position - 1] >= 0xC0 and 0x80 <= frame[position] < 0xC0:
            cuts.add(position)
    if len(frame) > 1:
        cuts.add(rng.randrange(1, len(frame)))
    points = [0, *sorted(cuts), len(frame)]
    return [frame[a:b] for a, b in itertools.pairwise(points) if b > a]


async def _split_writes(
    body: AsyncIterator[bytes], seed: int, delay: float
) -> AsyncIterator[bytes]:
    """Re-chunk ``body`` with :func:`split_utf8`, pausing ``delay`` s between pieces.

    Even with no delay it yields to the event loop after each piece, so the
    response writes every piece in a send of its own.
    """
    rng = _rng(seed, "split")
    async for chunk in body:
        for piece in split_utf8(chunk, rng):
            yield piece
            await asyncio.sleep(delay)


async def _play(plan: _Plan, knobs: LLMKnobs) -> AsyncIterator[ServerSentEvent]:
    """The plan's events, paced per the knobs, with the LLM fault applied."""
    events = plan.events
    stop = len(events)
    if knobs.fault is not None:
        default = len(events) // 2 if knobs.fault == "error" else len(events) - 1
        stop = min(knobs.fault_after if knobs.fault_after is not None else default, len(events))
    loop = asyncio.get_running_loop()
    started = loop.time()
    tokens = 0
    for event, token in events[:stop]:
        if token:
            if knobs.ttft > 0 or knobs.tokens_per_second > 0:
                rate = knobs.tokens_per_second
                due = started + knobs.ttft + (tokens / rate if rate > 0 else 0.0)
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            tokens += 1
        yield event
    if knobs.fault == "error":
        error = plan.error
        if plan.sequenced:
            error = _frame({**json.loads(error.data), "sequence_number": stop}, error.event)
        yield error
    elif knobs.fault == "abort":
        raise ConnectionDropped(f"aborted after {stop} events")


def _stream(request: Request, plan: _Plan, faults: Faults, knobs: LLMKnobs) -> Response:
    """Serve ``plan`` through :func:`~rxsse.emulator.streaming.stream_response`."""
    rechunk = None
    if knobs.split:

        def rechunk(body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
            return _split_writes(body, faults.seed, knobs.split_delay)

    return stream_response(request, _play(plan, knobs), faults, rechunk)


Planner = Callable[[Mapping[str, Any], int, int | None], _Plan]
ErrorBody = Callable[[str, str | None], dict[str, Any]]


def _openai_error(message: str, param: str | None) -> dict[str, Any]:
    return {
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": None}
    }


def _anthropic_error(message: str, param: str | None) -> dict[str, Any]:
    return {"type": "error", "error": {"type": "invalid_request_error", "message": message}}


def _endpoint(seed: int, planner: Planner, error_body: ErrorBody) -> Callable[..., Any]:
    async def endpoint(request: Request) -> Response:
        params = request_params(request)
        try:
            faults = Faults.from_query(params, default_seed=seed)
            knobs = LLMKnobs.from_params(params)
        except ValueError as exc:
            return PlainTextResponse(f"bad emulator parameter: {exc}\n", status_code=400)
        try:
            body = json.loads(await request.body())
            if not isinstance(body, dict):
                raise InvalidRequest("the request body must be a JSON object")
            plan = planner(body, faults.seed, knobs.words)
        except json.JSONDecodeError as exc:
            return JSONResponse(error_body(f"invalid JSON body: {exc.msg}", None), 400)
        except InvalidRequest as exc:
            return JSONResponse(error_body(exc.message, exc.param), 400)
        if not body.get("stream"):
            if faults.status is not None:
                return JSONResponse(error_body("emulated status", None), faults.status)
            return JSONResponse(plan.result)
        return _stream(request, plan, faults, knobs)

    return endpoint


def routes(seed: int) -> list[BaseRoute]:
    """The LLM endpoints of an emulator seeded with ``seed``."""
    return [
        Route(
            "/v1/chat/completions",
            _endpoint(seed, _chat_plan, _openai_error),
            methods=["POST"],
        ),
        Route("/v1/messages", _endpoint(seed, _anthropic_plan, _anthropic_error), methods=["POST"]),
        Route("/v1/responses", _endpoint(seed, _responses_plan, _openai_error), methods=["POST"]),
    ]
