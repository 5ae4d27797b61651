"""Provider adapters: raw LLM stream events → one normalised delta algebra.

Three wire formats are understood (see each adapter's docstring for the
exact mapping):

* OpenAI Chat Completions: ``data: {chat.completion.chunk}``, ``data:
  [DONE]``, ``data: {"error": ...}``;
* Anthropic Messages: ``message_start``, ``content_block_start`` /
  ``_delta`` (``text_delta``, ``input_json_delta``, ``thinking_delta``,
  ``signature_delta``, ``citations_delta``, anything else kept raw) /
  ``_stop``, ``message_delta``, ``message_stop``, ``ping``, ``error``;
* OpenAI Responses: ``response.created``, ``response.output_item.added`` /
  ``.done``, ``response.output_text.delta``,
  ``response.function_call_arguments.delta``, ``response.refusal.delta``,
  ``response.reasoning_summary_text.delta``, ``response.completed``,
  ``response.incomplete``, ``response.failed``, ``error``.

Every adapter turns one :class:`~rxsse.ServerSentEvent` into a list of the
small immutable deltas below; :mod:`rxsse.domain.llm` folds them into a
snapshot.  Adapters never raise on unexpected shapes: a JSON document that
is not an object, or a field of an unexpected type, is ignored or kept as an
unknown field, and invalid JSON becomes a :class:`ProviderError` delta with
``kind="invalid_json"`` so it shows up in the result instead of crashing it.

Pure: standard library (orjson when installed, see :mod:`rxsse._json`) and
rxsse's event only.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from rxsse._event import ServerSentEvent
from rxsse._json import first_loads, loads

__all__ = [
    "ANTHROPIC_EVENTS",
    "BlockStart",
    "BlockStop",
    "ChoiceExtra",
    "Delta",
    "Finish",
    "Logprobs",
    "Meta",
    "Provider",
    "ProviderError",
    "Role",
    "Signature",
    "StopDetails",
    "Terminal",
    "Text",
    "OpenAIStreamAdapter",
    "ToolCallDelta",
    "Usage",
    "adapter_for",
    "anthropic_deltas",
    "detect_provider",
    "openai_deltas",
    "responses_deltas",
]

Provider = Literal["openai", "anthropic", "responses"]
Channel = Literal["content", "refusal", "reasoning"]


class Meta(NamedTuple):
    """Response-level identity; each field is set once (first non-empty wins)."""

    id: str | None
    model: str | None
    created: int | None
    extra: dict[str, Any]


class Role(NamedTuple):
    choice: int
    role: str


class Text(NamedTuple):
    """Visible text (``content``), a refusal, or reasoning/thinking text."""

    choice: int
    channel: Channel
    text: str
    block: int | None = None


class Signature(NamedTuple):
    """A reasoning signature; replaces the previous one (never concatenated)."""

    choice: int
    signature: str
    block: int | None = None


class ToolCallDelta(NamedTuple):
    """A fragment of tool call number ``tool`` of a choice; ``arguments`` concatenate."""

    choice: int
    tool: int
    id: str | None
    type: str | None
    name: str | None
    arguments: str | None


class Logprobs(NamedTuple):
    choice: int
    channel: Literal["content", "refusal"]
    entries: list[Any]


class Finish(NamedTuple):
    """The finish/stop reason of a choice as the provider spelled it."""

    choice: int
    reason: str
    stop_sequence: str | None = None


class Usage(NamedTuple):
    """Token usage; merged key by key, a later ``None`` never erases a value."""

    usage: dict[str, Any]


class StopDetails(NamedTuple):
    details: dict[str, Any]


class BlockStart(NamedTuple):
    """A content block (Anthropic block, Responses output item) begins."""

    choice: int
    block: int
    type: str
    fields: dict[str, Any]


class BlockStop(NamedTuple):
    """A block ends (``fields`` is None), or carries a citation or unknown delta."""

    choice: int
    block: int
    fields: dict[str, Any] | None = None


class ChoiceExtra(NamedTuple):
    """Fields of a choice rxsse does not model; kept (first value wins per key)."""

    choice: int
    extra: dict[str, Any]


class Terminal(NamedTuple):
    """The provider's end-of-stream marker, with the outcome it states.

    ``outcome`` is ``None`` for a plain marker (``[DONE]``, ``message_stop``)
    or the Responses status (``"completed"``, ``"incomplete"``).
    """

    outcome: str | None = None
    reason: str | None = None


class ProviderError(NamedTuple):
    """An error reported inside the stream (or a malformed event)."""

    body: Any
    message: str
    kind: str | None
    retryable: bool


Delta = (
    Meta
    | Role
    | Text
    | Signature
    | ToolCallDelta
    | Logprobs
    | Finish
    | Usage
    | StopDetails
    | BlockStart
    | BlockStop
    | ChoiceExtra
    | Terminal
    | ProviderError
)

_RETRYABLE_MARKERS = (
    "server_error",
    "overloaded",
    "rate_limit",
    "timeout",
    "api_error",
    "internal",
    "unavailable",
)


def _error_delta(body: Any) -> ProviderError:
    """Classify an error body; transient-sounding types and codes are retryable."""
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict):
        message = str(error.get("message") or "")
        kind = error.get("type") or error.get("code")
        kind = str(kind) if kind is not None else None
        code = str(error.get("code") or "")
    else:
        message, kind, code = str(error), None, ""
    label = f"{kind or ''} {code}".lower()
    retryable = any(marker in label for marker in _RETRYABLE_MARKERS)
    return ProviderError(body, message, kind, retryable)


def _parse(data: str) -> Any:
    """Parsed JSON (see :func:`rxsse._json.loads`), or ``_INVALID``."""
    try:
        return loads(data)
    except ValueError:
        return _INVALID


_INVALID = object()


def _invalid(event: ServerSentEvent) -> list[Delta]:
    preview = event.data[:200]
    return [
        ProviderError(
            {"event": event.event, "data": preview},
            f"event {event.event!r} has invalid JSON data: {preview!r}",
            "invalid_json",
            False,
        )
    ]


# -- OpenAI Chat Completions ------------------------------------------------------

_CHUNK_KNOWN = frozenset({"id", "model", "created", "choices", "usage", "error"})
_CHOICE_KNOWN = frozenset({"index", "delta", "logprobs", "finish_reason"})
_DELTA_KNOWN = frozenset(
    {"role", "content", "refusal", "tool_calls", "reasoning_content", "reasoning", "function_call"}
)


def openai_deltas(event: ServerSentEvent) -> list[Delta]:
    """Map one Chat Completions event.

    ``[DONE]`` is the terminal marker.  A chunk yields a :class:`Meta` (id,
    model, created and every unknown top-level field such as
    ``system_fingerprint``), then per choice: role, content, refusal,
    reasoning (``reasoning_content``, else ``reasoning``), tool-call
    fragments (keyed by their ``index``, falling back to list position when a
    provider omits it; legacy ``function_call`` is tool call 0), logprobs,
    unknown choice/delta fields, and the finish reason; then usage.  A chunk
    whose only key is ``error`` (or that has ``error`` and no ``choices``) is
    a provider error.
    """
    data = event.data
    if data == "[DONE]":
        return [Terminal()]
    obj = _parse(data)
    if obj is _INVALID:
        return _invalid(event)
    if type(obj) is not dict:
        return []
    if "error" in obj and not obj.get("choices"):
        return [_error_delta(obj)]
    created = obj.get("created")
    extra_keys = obj.keys() - _CHUNK_KNOWN
    out: list[Delta] = [
        Meta(
            obj.get("id"),
            obj.get("model"),
            created if type(created) is int else None,
            {k: obj[k] for k in extra_keys} if extra_keys else _NO_EXTRA,
        )
    ]
    choices = obj.get("choices")
    if choices and type(choices) is list:
        for position, choice in enumerate(choices):
            if type(choice) is dict:
                _openai_choice(choice, position, out)
    usage = obj.get("usage")
    if usage and type(usage) is dict:
        out.append(Usage(usage))
    return out


_NO_EXTRA: dict[str, Any] = {}


def _openai_choice(choice: dict[str, Any], position: int, out: list[Delta]) -> None:
    index = choice.get("index", position)
    if type(index) is not int:
        index = position
    delta = choice.get("delta")
    if delta and type(delta) is dict:
        unknown: dict[str, Any] | None = None
        append = out.append
        for key, value in delta.items():
            if key == "content":
                if type(value) is str:
                    append(Text(index, "content", value))
            elif key == "role":
                if value and type(value) is str:
                    append(Role(index, value))
            elif key == "refusal":
                if type(value) is str:
                    append(Text(index, "refusal", value))
            elif key == "reasoning_content" or (
                key == "reasoning" and "reasoning_content" not in delta
            ):
                if type(value) is str:
                    append(Text(index, "reasoning", value))
            elif key == "tool_calls":
                if type(value) is list:
                    for slot, call in enumerate(value):
                        if type(call) is dict:
                            append(_openai_tool_call(index, call, slot))
            elif key == "function_call":
                if type(value) is dict:
                    name, arguments = value.get("name"), value.get("arguments")
                    append(ToolCallDelta(index, 0, None, "function", name, arguments))
            elif key != "reasoning":
                if unknown is None:
                    unknown = {}
                unknown[key] = value
        if unknown:
            out.append(ChoiceExtra(index, unknown))
    logprobs = choice.get("logprobs")
    if logprobs and type(logprobs) is dict:
        for channel in ("content", "refusal"):
            entries = logprobs.get(channel)
            if entries and type(entries) is list:
                out.append(Logprobs(index, channel, entries))
    extra_keys = choice.keys() - _CHOICE_KNOWN
    if extra_keys:
        out.append(ChoiceExtra(index, {k: choice[k] for k in extra_keys}))
    finish = choice.get("finish_reason")
    if finish and type(finish) is str:
        out.append(Finish(index, finish))


def _openai_tool_call(choice: int, call: dict[str, Any], slot: int) -> ToolCallDelta:
    index = call.get("index", slot)
    function = call.get("function")
    name = arguments = None
    if isinstance(function, dict):
        name, arguments = function.get("name"), function.get("arguments")
    return ToolCallDelta(
        choice,
        index if isinstance(index, int) else slot,
        call.get("id"),
        call.get("type"),
        name if isinstance(name, str) else None,
        arguments if isinstance(arguments, str) else None,
    )


# -- Anthropic Messages ------------------------------------------------------------

ANTHROPIC_EVENTS = frozenset(
    {
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "ping",
        "error",
    }
)
_TOOL_BLOCKS = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})
_MESSAGE_KNOWN = frozenset({"id", "model", "role", "usage", "content", "type"})


def anthropic_deltas(event: ServerSentEvent) -> list[Delta]:
    """Map one Messages event (the type comes from ``data.type``, else the SSE name).

    All content belongs to choice 0.  Text blocks feed ``content``, thinking
    blocks ``reasoning`` (with their signature), and tool-use blocks (also
    ``server_tool_use``) become tool calls keyed by the block index with
    ``input_json_delta`` fragments as arguments.  ``message_delta`` carries
    the stop reason, stop sequence, ``stop_details`` and cumulative usage;
    ``message_stop`` is the terminal marker; ``ping`` changes nothing.
    """
    obj = _parse(event.data)
    if obj is _INVALID:
        return _invalid(event)
    if not isinstance(obj, dict):
        return []
    kind = obj.get("type", event.event)
    if kind == "content_block_delta":
        return _anthropic_block_delta(obj)
    if kind == "message_start":
        message = obj.get("message")
        if not isinstance(message, dict):
            return []
        out: list[Delta] = [
            Meta(
                message.get("id"),
                message.get("model"),
                None,
                {k: v for k, v in message.items() if k not in _MESSAGE_KNOWN},
            ),
            Role(0, str(message.get("role") or "assistant")),
        ]
        if isinstance(message.get("usage"), dict):
            out.append(Usage(message["usage"]))
        return out
    if kind == "content_block_start":
        index = obj.get("index")
        block = obj.get("content_block")
        if not isinstance(index, int) or not isinstance(block, dict):
            return []
        block_type = str(block.get("type") or "unknown")
        out = [BlockStart(0, index, block_type, block)]
        if block_type in _TOOL_BLOCKS:
            out.append(
                ToolCallDelta(0, index, block.get("id"), block_type, block.get("name"), None)
            )
        elif block_type == "text" and isinstance(block.get("text"), str) and block["text"]:
            out.append(Text(0, "content", block["text"], index))
        elif (
            block_type == "thinking"
            and isinstance(block.get("thinking"), str)
            and block["thinking"]
        ):
            out.append(Text(0, "reasoning", block["thinking"], index))
        return out
    if kind == "content_block_stop":
        index = obj.get("index")
        return [BlockStop(0, index)] if isinstance(index, int) else []
    if kind == "message_delta":
        out = []
        delta = obj.get("delta")
        if isinstance(delta, dict):
            details = delta.get("stop_details")
            if isinstance(details, dict):
                out.append(StopDetails(details))
            reason = delta.get("stop_reason")
            if isinstance(reason, str) and reason:
                sequence = delta.get("stop_sequence")
                out.append(Finish(0, reason, sequence if isinstance(sequence, str) else None))
        if isinstance(obj.get("usage"), dict):
            out.append(Usage(obj["usage"]))
        return out
    if kind == "message_stop":
        return [Terminal()]
    if kind == "error":
        return [_error_delta(obj)]
    return []  # ping and unknown events change nothing


def _anthropic_block_delta(obj: dict[str, Any]) -> list[Delta]:
    index = obj.get("index")
    delta = obj.get("delta")
    if not isinstance(index, int) or not isinstance(delta, dict):
        return []
    kind = delta.get("type")
    if kind == "text_delta":
        return [Text(0, "content", str(delta.get("text") or ""), index)]
    if kind == "input_json_delta":
        return [ToolCallDelta(0, index, None, None, None, str(delta.get("partial_json") or ""))]
    if kind == "thinking_delta":
        return [Text(0, "reasoning", str(delta.get("thinking") or ""), index)]
    if kind == "signature_delta":
        return [Signature(0, str(delta.get("signature") or ""), index)]
    if kind == "citations_delta":
        return [BlockStop(0, index, {"citation": delta.get("citation")})]
    return [BlockStop(0, index, {"delta": delta})]


# -- OpenAI Responses ------------------------------------------------------------------

_RESPONSE_KNOWN = frozenset({"id", "model", "created_at", "output", "usage", "status"})


def responses_deltas(event: ServerSentEvent) -> list[Delta]:
    """Map one Responses API event; output items are blocks of choice 0.

    ``message`` items feed ``content`` (and ``refusal``), ``function_call``
    items become tool calls keyed by ``output_index`` (id = ``call_id``),
    ``reasoning`` summary text feeds ``reasoning``.  ``response.completed``
    and ``response.incomplete`` are terminal markers carrying the outcome
    (and the incomplete reason); ``response.failed`` and ``error`` are
    provider errors.
    """
    obj = _parse(event.data)
    if obj is _INVALID:
        return _invalid(event)
    if not isinstance(obj, dict):
        return []
    kind = obj.get("type", event.event)
    if kind == "response.output_text.delta":
        return [Text(0, "content", str(obj.get("delta") or ""), _int(obj.get("output_index")))]
    if kind == "response.function_call_arguments.delta":
        index = _int(obj.get("output_index"))
        return [ToolCallDelta(0, index or 0, None, None, None, str(obj.get("delta") or ""))]
    if kind == "response.refusal.delta":
        return [Text(0, "refusal", str(obj.get("delta") or ""), _int(obj.get("output_index")))]
    if kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
        return [Text(0, "reasoning", str(obj.get("delta") or ""), _int(obj.get("output_index")))]
    if kind == "response.output_item.added":
        item = obj.get("item")
        index = _int(obj.get("output_index"))
        if not isinstance(item, dict) or index is None:
            return []
        item_type = str(item.get("type") or "unknown")
        out: list[Delta] = [BlockStart(0, index, item_type, item)]
        if item_type == "function_call":
            out.append(
                ToolCallDelta(0, index, item.get("call_id"), "function", item.get("name"), None)
            )
        elif item_type == "message" and isinstance(item.get("role"), str):
            out.append(Role(0, item["role"]))
        return out
    if kind == "response.output_item.done":
        index = _int(obj.get("output_index"))
        return [BlockStop(0, index)] if index is not None else []
    if kind in ("response.created", "response.in_progress"):
        return _response_meta(obj.get("response"))
    if kind in ("response.completed", "response.incomplete"):
        response = obj.get("response")
        out = _response_meta(response)
        reason = None
        if isinstance(response, dict):
            if isinstance(response.get("usage"), dict):
                out.append(Usage(response["usage"]))
            details = response.get("incomplete_details")
            if isinstance(details, dict):
                reason = details.get("reason")
        out.append(Terminal(kind.removeprefix("response."), reason))
        return out
    if kind == "response.failed":
        response = obj.get("response")
        error = response.get("error") if isinstance(response, dict) else None
        return [*_response_meta(response), _error_delta(error or obj)]
    if kind == "error":
        return [_error_delta(obj)]
    return []


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def _response_meta(response: Any) -> list[Delta]:
    if not isinstance(response, dict):
        return []
    created = response.get("created_at")
    return [
        Meta(
            response.get("id"),
            response.get("model"),
            int(created) if isinstance(created, (int, float)) else None,
            {k: v for k, v in response.items() if k not in _RESPONSE_KNOWN and v is not None},
        )
    ]


# -- detection ---------------------------------------------------------------------------


def detect_provider(event: ServerSentEvent) -> Provider | None:
    """Guess the wire format from one event, or ``None`` if it cannot tell.

    The SSE event name decides first (``response.*`` → Responses, an
    Anthropic event name → Anthropic); then the JSON ``type`` field, then
    the shape of a chunk (``object: chat.completion.chunk`` or ``choices``).
    ``[DONE]`` means OpenAI Chat Completions.
    """
    name = event.event
    if name.startswith("response.") or name == "response":
        return "responses"
    if name in ANTHROPIC_EVENTS and name not in ("error", "ping"):
        return "anthropic"
    data = event.data
    if data == "[DONE]":
        return "openai"
    obj = _parse(data)
    if not isinstance(obj, dict):
        return None
    kind = obj.get("type")
    if isinstance(kind, str):
        if kind.startswith("response."):
            return "responses"
        if kind in ANTHROPIC_EVENTS and kind not in ("error", "ping"):
            return "anthropic"
    if obj.get("object") == "chat.completion.chunk" or "choices" in obj:
        return "openai"
    return None


_new_tuple = tuple.__new__  # builds a NamedTuple without its Python-level __new__


class OpenAIStreamAdapter:
    """:func:`openai_deltas` for one stream, with two shortcuts for the hot path.

    * A chunk whose keys and identity (id, model, created) equal the previous
      chunk's yields no :class:`Meta`: identity fields are set once, so a
      repeat can change nothing.
    * A choice that is exactly ``{"index", "delta": {"content": str},
      "logprobs": null, "finish_reason": null}`` becomes one :class:`Text`,
      and one whose delta is a single ``{"index", "function": {"arguments":
      str}}`` tool-call fragment one :class:`ToolCallDelta`, without the
      general per-field walk.

    Output is otherwise identical to :func:`openai_deltas` (the tests feed
    both the same streams).
    """

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: tuple[Any, ...] | None = None

    def __call__(self, event: ServerSentEvent) -> list[Delta]:
        data = event.data
        if data == "[DONE]":
            return [Terminal()]
        try:
            obj = first_loads(data)  # the hot path; _parse decides what it refuses
        except ValueError:
            obj = _parse(data)
            if obj is _INVALID:
                return _invalid(event)
        if type(obj) is not dict:
            return []
        if "error" in obj and not obj.get("choices"):
            return [_error_delta(obj)]
        created = obj.get("created")
        identity = (tuple(obj), obj.get("id"), obj.get("model"), created)
        out: list[Delta]
        if identity == self._last:
            out = []
        else:
            self._last = identity
            extra_keys = obj.keys() - _CHUNK_KNOWN
            out = [
                Meta(
                    identity[1],
                    identity[2],
                    created if type(created) is int else None,
                    {k: obj[k] for k in extra_keys} if extra_keys else _NO_EXTRA,
                )
            ]
        choices = obj.get("choices")
        if choices and type(choices) is list:
            for position, choice in enumerate(choices):
                if type(choice) is not dict:
                    continue
                delta = choice.get("delta")
                if (
                    len(choice) == 4
                    and type(delta) is dict
                    and len(delta) == 1
                    and choice.get("finish_reason") is None
                    and choice.get("logprobs") is None
                ):
                    index = choice.get("index")
                    content = delta.get("content")
                    if type(content) is str and type(index) is int:
                        out.append(_new_tuple(Text, (index, "content", content, None)))
                        continue
                    calls = delta.get("tool_calls")
                    if type(calls) is list and len(calls) == 1 and type(index) is int:
                        call = calls[0]
                        function = call.get("function") if type(call) is dict else None
                        if (
                            type(function) is dict
                            and len(call) == 2
                            and len(function) == 1
                            and type(call.get("index")) is int
                            and type(function.get("arguments")) is str
                        ):
                            # An arguments-only fragment of an already started call.
                            arguments = function["arguments"]
                            fields = (index, call["index"], None, None, None, arguments)
                            out.append(_new_tuple(ToolCallDelta, fields))
                            continue
                _openai_choice(choice, position, out)
        usage = obj.get("usage")
        if usage and type(usage) is dict:
            out.append(Usage(usage))
        return out


def adapter_for(provider: Provider) -> Any:
    """An adapter for one stream of ``provider`` (stateful for OpenAI, see above)."""
    if provider == "openai":
        return OpenAIStreamAdapter()
    return {"anthropic": anthropic_deltas, "responses": responses_deltas}[provider]
