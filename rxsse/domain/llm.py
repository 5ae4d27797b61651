"""LLM token streams accumulated into complete, honest results.

:class:`ChatAccumulator` folds the deltas of :mod:`rxsse.domain.llm_deltas`
(OpenAI Chat Completions, Anthropic Messages, OpenAI Responses) into a
:class:`ChatSnapshot`.  Merge rules, whatever the provider:

* ``id``, ``type``, ``role`` and ``name`` are set once: the first non-empty
  value wins and later ones are ignored (never concatenated);
* content, refusal, reasoning and tool-call arguments concatenate;
  logprobs append; usage and the reasoning signature replace, but a later
  ``null`` never erases a value (usage merges key by key);
* choices are keyed by their logical ``index``, tool calls by their
  ``index`` within the choice (never by list position), so ``n > 1``
  streams interleave independently and an index may first appear late;
  several fragments for the same index in one chunk merge in order;
* unknown fields are preserved (response-level in ``extra``, choice-level
  in ``ChoiceSnapshot.extra``; the first value of a key wins).

**Completeness.**  ``status`` is ``"in_progress"`` until the stream ends;
then exactly one of:

``complete``            terminal marker seen, normal stop
``truncated``           the provider stopped at a length limit
                        (``length``, ``max_tokens``, ``max_output_tokens``)
``filtered``            content filter (``content_filter``)
``refused``             a refusal (OpenAI refusal text, Anthropic
                        ``stop_reason: refusal``)
``provider_error``      an error arrived in the stream (``error`` holds the
                        body and whether retrying may help)
``no_terminal_marker``  every choice finished, but the end-of-stream marker
                        (``[DONE]``, ``message_stop``, ``response.completed``)
                        never came
``connection_lost``     the stream ended while a choice was still open

The last two mean the result is not trustworthy as complete.

**Cost.**  Work is linear in the stream length: text is kept as appended
fragments and joined only when a snapshot's text is read (and then cached),
and a snapshot shares the unchanged choices of the previous one.  Snapshots
are immutable: a snapshot never changes after it was taken.  The accumulator
itself is the reducer state and is updated in place by :func:`step`, which
returns it (pure in the sense of design.md: no IO, no Rx, no clock).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, PrivateAttr, computed_field

from rxsse._event import ServerSentEvent
from rxsse.domain._construct import build
from rxsse.domain._html import HTMLReprMixin
from rxsse.domain.llm_deltas import (
    BlockStart,
    BlockStop,
    ChoiceExtra,
    Delta,
    Finish,
    Logprobs,
    Meta,
    Provider,
    ProviderError,
    Role,
    Signature,
    StopDetails,
    Terminal,
    Text,
    ToolCallDelta,
    Usage,
    adapter_for,
    detect_provider,
)
from rxsse.domain.partial_json import parse_partial_json

__all__ = [
    "INCOMPLETE_STATUSES",
    "ChatAccumulator",
    "ChatSnapshot",
    "ChoiceSnapshot",
    "ContentBlock",
    "ProviderErrorInfo",
    "Status",
    "ToolCall",
    "step",
]

Status = Literal[
    "in_progress",
    "complete",
    "truncated",
    "filtered",
    "refused",
    "provider_error",
    "no_terminal_marker",
    "connection_lost",
]
INCOMPLETE_STATUSES: frozenset[str] = frozenset({"no_terminal_marker", "connection_lost"})

_TRUNCATED = frozenset(
    {"length", "max_tokens", "max_output_tokens", "model_context_window_exceeded"}
)
_FILTERED = frozenset({"content_filter"})
_REFUSED = frozenset({"refusal"})


class _Fragments:
    """Append-only text; ``text(n)`` joins the first ``n`` parts once and caches."""

    __slots__ = ("_cache", "_cached_n", "_view", "parts")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self._cached_n = 0
        self._cache = ""
        self._view: _Lazy | None = None

    def view(self) -> _Lazy:
        """A frozen view of the current text (shared while nothing is appended)."""
        n = len(self.parts)
        if not n:
            return _NO_TEXT
        view = self._view
        if view is None or view._n != n:
            view = self._view = _Lazy(self, n)
        return view

    def text(self, n: int) -> str:
        if n != self._cached_n:
            if n > self._cached_n:
                self._cache += "".join(self.parts[self._cached_n : n])
            else:
                self._cache = "".join(self.parts[:n])
            self._cached_n = n
        return self._cache


class _Lazy:
    """A frozen view of the first ``n`` fragments (``None`` if there were none)."""

    __slots__ = ("_fragments", "_n")

    def __init__(self, fragments: _Fragments, n: int) -> None:
        self._fragments = fragments
        self._n = n

    def value(self) -> str | None:
        return self._fragments.text(self._n) if self._n else None


_NO_TEXT = _Lazy(_Fragments(), 0)


class _LazyList:
    """A frozen view of the first ``n`` items of an append-only list."""

    __slots__ = ("_items", "_n")

    def __init__(self, items: list[Any] | None) -> None:
        self._items = items
        self._n = len(items) if items is not None else 0

    def value(self) -> list[Any] | None:
        return self._items[: self._n] if self._items is not None else None


_NO_LIST = _LazyList(None)

_FROZEN = ConfigDict(frozen=True, arbitrary_types_allowed=True)


class ToolCall(HTMLReprMixin, BaseModel):
    """One tool (function) call of a choice, keyed by its ``index``.

    ``arguments`` is the concatenated JSON text; ``parsed_arguments`` parses
    it when complete, else best-effort (:func:`parse_partial_json`), computed
    when read.  ``arguments_incomplete`` is true when the stream ended (or
    the call's block closed) while the arguments were not valid JSON.
    """

    model_config = _FROZEN

    index: int
    id: str | None = None
    type: str | None = None
    name: str | None = None
    closed: bool = False
    _arguments: _Lazy = PrivateAttr(default=_NO_TEXT)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def arguments(self) -> str:
        return self._arguments.value() or ""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def parsed_arguments(self) -> Any:
        return parse_partial_json(self.arguments)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def arguments_incomplete(self) -> bool:
        if not self.closed:
            return False
        text = self.arguments
        if not text.strip():
            return False
        try:
            json.loads(text)
        except ValueError:
            return True
        return False


class ContentBlock(HTMLReprMixin, BaseModel):
    """An Anthropic content block or a Responses output item, in stream order."""

    model_config = _FROZEN

    index: int
    type: str
    fields: dict[str, Any] = {}
    signature: str | None = None
    citations: list[Any] = []
    deltas: list[Any] = []
    closed: bool = False
    _text: _Lazy = PrivateAttr(default=_NO_TEXT)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def text(self) -> str | None:
        return self._text.value()


class ChoiceSnapshot(HTMLReprMixin, BaseModel):
    """One choice (``n`` > 1 streams have several), keyed by ``index``."""

    model_config = _FROZEN

    index: int
    role: str | None = None
    signature: str | None = None
    tool_calls: dict[int, ToolCall] = {}
    finish_reason: str | None = None
    stop_sequence: str | None = None
    blocks: dict[int, ContentBlock] = {}
    extra: dict[str, Any] = {}
    _content: _Lazy = PrivateAttr(default=_NO_TEXT)
    _refusal: _Lazy = PrivateAttr(default=_NO_TEXT)
    _reasoning: _Lazy = PrivateAttr(default=_NO_TEXT)
    _logprobs_content: _LazyList = PrivateAttr(default=_NO_LIST)
    _logprobs_refusal: _LazyList = PrivateAttr(default=_NO_LIST)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def logprobs_content(self) -> list[Any] | None:
        """Logprob entries of the content tokens, in order (``None`` if none came)."""
        return self._logprobs_content.value()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def logprobs_refusal(self) -> list[Any] | None:
        return self._logprobs_refusal.value()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def content(self) -> str | None:
        """The visible text; ``None`` if the provider sent no content at all."""
        return self._content.value()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def refusal(self) -> str | None:
        return self._refusal.value()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def reasoning(self) -> str | None:
        """Reasoning/thinking text (OpenAI ``reasoning_content``, Anthropic thinking)."""
        return self._reasoning.value()


class ProviderErrorInfo(HTMLReprMixin, BaseModel):
    """An error the provider reported inside the stream."""

    model_config = _FROZEN

    message: str
    type: str | None = None
    retryable: bool = False
    body: Any = None


class ChatSnapshot(HTMLReprMixin, BaseModel):
    """The accumulated state of one LLM response stream at one moment."""

    model_config = _FROZEN

    provider: str | None = None
    id: str | None = None
    model: str | None = None
    created: int | None = None
    choices: dict[int, ChoiceSnapshot] = {}
    usage: dict[str, Any] | None = None
    status: Status = "in_progress"
    error: ProviderErrorInfo | None = None
    stop_details: dict[str, Any] | None = None
    terminal: bool = False
    events: int = 0
    extra: dict[str, Any] = {}

    @property
    def text(self) -> str:
        """Visible text of choice 0 (``""`` if none)."""
        choice = self.choices.get(0)
        return (choice.content or "") if choice is not None else ""

    @property
    def complete(self) -> bool:
        """True only for ``status == "complete"``."""
        return self.status == "complete"

    def as_completion(self) -> dict[str, Any]:
        """The non-streaming OpenAI ``ChatCompletion`` JSON this stream amounts to."""
        choices = []
        for index in sorted(self.choices):
            choice = self.choices[index]
            message: dict[str, Any] = {
                "role": choice.role or "assistant",
                "content": choice.content,
                "refusal": choice.refusal,
            }
            calls = [
                {
                    "id": call.id,
                    "type": call.type or "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for _, call in sorted(choice.tool_calls.items())
            ]
            if calls:
                message["tool_calls"] = calls
            if choice.reasoning is not None:
                message["reasoning_content"] = choice.reasoning
            logprobs = None
            if choice.logprobs_content is not None or choice.logprobs_refusal is not None:
                logprobs = {"content": choice.logprobs_content, "refusal": choice.logprobs_refusal}
            choices.append(
                {
                    "index": index,
                    "message": message,
                    "logprobs": logprobs,
                    "finish_reason": _openai_finish(choice.finish_reason),
                }
            )
        completion: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": choices,
            "usage": self.usage,
        }
        for key, value in self.extra.items():
            completion.setdefault(key, value)
        completion["object"] = "chat.completion"
        return completion

    def as_message(self) -> dict[str, Any]:
        """The non-streaming Anthropic ``Message`` JSON this stream amounts to."""
        choice = self.choices.get(0)
        content: list[dict[str, Any]] = []
        stop_reason = None
        stop_sequence = None
        if choice is not None:
            stop_reason = _anthropic_stop(choice.finish_reason)
            stop_sequence = choice.stop_sequence
            if choice.blocks:
                for _, block in sorted(choice.blocks.items()):
                    content.append(_block_json(block, choice))
            else:
                if choice.reasoning is not None:
                    thinking = {"type": "thinking", "thinking": choice.reasoning}
                    thinking["signature"] = choice.signature or ""
                    content.append(thinking)
                if choice.content:
                    content.append({"type": "text", "text": choice.content})
                for _, call in sorted(choice.tool_calls.items()):
                    content.append(
                        {
                            "type": "tool_use",
                            "id": call.id,
                            "name": call.name,
                            "input": _input_of(call),
                        }
                    )
        message: dict[str, Any] = {
            "id": self.id,
            "type": "message",
            "role": (choice.role if choice is not None else None) or "assistant",
            "model": self.model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": stop_sequence,
            "usage": self.usage,
        }
        if self.stop_details is not None:
            message["stop_details"] = self.stop_details
        for key, value in self.extra.items():
            message.setdefault(key, value)
        return message


def _input_of(call: ToolCall) -> Any:
    parsed = call.parsed_arguments
    return parsed if parsed is not None else {}


def _block_json(block: ContentBlock, choice: ChoiceSnapshot) -> dict[str, Any]:
    data = {k: v for k, v in block.fields.items() if k not in ("text", "thinking", "input")}
    data["type"] = block.type
    if block.type in ("text", "message"):
        data["type"] = "text"
        data["text"] = block.text or ""
        if block.citations:
            data["citations"] = list(block.citations)
    elif block.type == "thinking":
        data["thinking"] = block.text or ""
        data["signature"] = block.signature or ""
    elif block.index in choice.tool_calls:
        data["input"] = _input_of(choice.tool_calls[block.index])
    elif "input" in block.fields:
        data["input"] = block.fields["input"]
    return data


_TO_OPENAI = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
_TO_ANTHROPIC = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


def _openai_finish(reason: str | None) -> str | None:
    return _TO_OPENAI.get(reason, reason) if reason is not None else None


def _anthropic_stop(reason: str | None) -> str | None:
    return _TO_ANTHROPIC.get(reason, reason) if reason is not None else None


# -- the accumulator ---------------------------------------------------------------------

_EMPTY: dict[Any, Any] = {}  # shared by snapshots; never mutated
_CHOICE_LEVEL = frozenset(
    {Text, Role, Signature, ToolCallDelta, Logprobs, Finish, BlockStart, BlockStop, ChoiceExtra}
)


class _ToolAcc:
    __slots__ = (
        "_fields",
        "arguments",
        "closed",
        "id",
        "index",
        "name",
        "snapshot",
        "type",
    )

    def __init__(self, index: int) -> None:
        self.index = index
        self.id: str | None = None
        self.type: str | None = None
        self.name: str | None = None
        self.arguments = _Fragments()
        self.closed = False
        self.snapshot: ToolCall | None = None
        # Shared by snapshots until id, type, name or closed change (then None).
        self._fields: dict[str, Any] | None = None

    def snap(self) -> ToolCall:
        if self.snapshot is None:
            fields = self._fields
            if fields is None:
                fields = self._fields = {
                    "index": self.index,
                    "id": self.id,
                    "type": self.type,
                    "name": self.name,
                    "closed": self.closed,
                }
            arguments = self.arguments
            view = arguments._view
            if view is None or view._n != len(arguments.parts):
                view = arguments.view()
            self.snapshot = build(ToolCall, fields, {"_arguments": view})
        return self.snapshot


class _BlockAcc:
    __slots__ = (
        "citations",
        "closed",
        "deltas",
        "fields",
        "index",
        "signature",
        "snapshot",
        "text",
        "type",
    )

    def __init__(self, index: int, kind: str, fields: dict[str, Any]) -> None:
        self.index = index
        self.type = kind
        self.fields = fields
        self.text = _Fragments()
        self.signature: str | None = None
        self.citations: list[Any] = []
        self.deltas: list[Any] = []
        self.closed = False
        self.snapshot: ContentBlock | None = None

    def snap(self) -> ContentBlock:
        if self.snapshot is None:
            self.snapshot = build(
                ContentBlock,
                {
                    "index": self.index,
                    "type": self.type,
                    "fields": self.fields,
                    "signature": self.signature,
                    "citations": list(self.citations),
                    "deltas": list(self.deltas),
                    "closed": self.closed,
                },
                {"_text": self.text.view()},
            )
        return self.snapshot


class _ChoiceAcc:
    __slots__ = (
        "blocks",
        "content",
        "content_stale",
        "extra",
        "fields",
        "finish_reason",
        "index",
        "logprobs_content",
        "logprobs_refusal",
        "reasoning",
        "refusal",
        "role",
        "signature",
        "snapshot",
        "stop_sequence",
        "tools",
        "tools_stale",
        "views",
    )

    def __init__(self, index: int) -> None:
        self.index = index
        self.tools_stale = False  # only tool-call arguments grew since ``fields``
        self.role: str | None = None
        self.content = _Fragments()
        self.refusal = _Fragments()
        self.reasoning = _Fragments()
        self.signature: str | None = None
        self.tools: dict[int, _ToolAcc] = {}
        self.logprobs_content: list[Any] | None = None
        self.logprobs_refusal: list[Any] | None = None
        self.finish_reason: str | None = None
        self.stop_sequence: str | None = None
        self.blocks: dict[int, _BlockAcc] = {}
        self.extra: dict[str, Any] = {}
        self.snapshot: ChoiceSnapshot | None = None
        # The public fields of the next snapshot; kept while only text grows
        # (snapshots share it: frozen models never change their __dict__).
        self.fields: dict[str, Any] | None = None
        # The private views of the next snapshot; kept while no text or
        # logprobs arrive (e.g. while tool-call arguments stream).
        self.views: dict[str, Any] | None = None
        self.content_stale = False  # content grew since ``views`` (the rest holds)

    def snap(self) -> ChoiceSnapshot:
        if self.snapshot is None:
            fields = self.fields
            if fields is None:
                fields = self.fields = self._fields()
            elif self.tools_stale:
                all_tools = self.tools
                if len(all_tools) == 1:
                    ((number, only),) = all_tools.items()
                    tools = {number: only.snap()}
                else:
                    tools = {
                        i: t.snapshot if t.snapshot is not None else t.snap()
                        for i, t in all_tools.items()
                    }
                fields = self.fields = {**fields, "tool_calls": tools}
            self.tools_stale = False
            views = self.views
            if views is not None and self.content_stale:  # only the content grew
                views = self.views = {**views, "_content": self.content.view()}
            self.content_stale = False
            if views is None:  # text or logprobs grew: new frozen views
                content = self.content
                views = self.views = {
                    "_content": content.view() if content.parts else _NO_TEXT,
                    "_refusal": self.refusal.view() if self.refusal.parts else _NO_TEXT,
                    "_reasoning": self.reasoning.view() if self.reasoning.parts else _NO_TEXT,
                    "_logprobs_content": _NO_LIST
                    if self.logprobs_content is None
                    else _LazyList(self.logprobs_content),
                    "_logprobs_refusal": _NO_LIST
                    if self.logprobs_refusal is None
                    else _LazyList(self.logprobs_refusal),
                }
            self.snapshot = build(ChoiceSnapshot, fields, views)
        return self.snapshot

    def _fields(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "role": self.role,
            "signature": self.signature,
            "tool_calls": {i: t.snap() for i, t in self.tools.items()} if self.tools else _EMPTY,
            "finish_reason": self.finish_reason,
            "stop_sequence": self.stop_sequence,
            "blocks": {i: b.snap() for i, b in self.blocks.items()} if self.blocks else _EMPTY,
            "extra": dict(self.extra) if self.extra else _EMPTY,
        }


class ChatAccumulator:
    """Reducer state for one response stream; see the module docstring.

    ``provider`` is ``"openai"``, ``"anthropic"``, ``"responses"`` or
    ``"auto"`` (decided by the first event that tells, see
    :func:`~rxsse.domain.llm_deltas.detect_provider`; events before that are
    counted but change nothing).
    """

    __slots__ = (
        "_adapter",
        "_base",
        "_choices",
        "_extra_copy",
        "_snaps",
        "_snapshot",
        "_touched",
        "created",
        "error",
        "events",
        "extra",
        "id",
        "model",
        "provider",
        "status",
        "stop_details",
        "terminal",
        "terminal_outcome",
        "usage",
    )

    def __init__(self, provider: Provider | Literal["auto"] = "auto") -> None:
        self.provider: Provider | None = None if provider == "auto" else provider
        self._adapter = adapter_for(provider) if provider != "auto" else None
        self.id: str | None = None
        self.model: str | None = None
        self.created: int | None = None
        self._choices: dict[int, _ChoiceAcc] = {}
        self.usage: dict[str, Any] | None = None
        self.status: Status = "in_progress"
        self.error: ProviderErrorInfo | None = None
        self.stop_details: dict[str, Any] | None = None
        self.terminal = False
        self.terminal_outcome: tuple[str | None, str | None] = (None, None)
        self.events = 0
        self.extra: dict[str, Any] = {}
        self._extra_copy: dict[str, Any] | None = None
        self._base: dict[str, Any] | None = None  # snapshot fields that rarely change
        self._snaps: dict[int, ChoiceSnapshot] = {}  # the choices of the last snapshot
        self._touched: int | None = None
        self._snapshot: ChatSnapshot | None = None

    # -- feeding ----------------------------------------------------------------------------

    def feed(self, event: ServerSentEvent) -> bool:
        """Apply one raw event; return whether the snapshot changed."""
        self.events += 1
        adapter = self._adapter
        if adapter is None:
            provider = detect_provider(event)
            if provider is None:
                return False
            self.provider = provider
            adapter = self._adapter = adapter_for(provider)
        changed = False
        choices = self._choices
        touched = self._touched  # the one choice changed since the last snapshot, or -1
        for delta in adapter(event):
            if type(delta) is Text and delta.block is None and delta.choice in choices:
                # Inlined hot path of apply(): visible text grows.
                index = delta.choice
                touched = index if touched is None or touched == index else -1
                choice = choices[index]
                choice.snapshot = None
                channel = delta.channel
                if channel == "content":
                    choice.content.parts.append(delta.text)
                    choice.content_stale = True
                elif channel == "refusal":
                    choice.refusal.parts.append(delta.text)
                    choice.views = None
                else:
                    choice.reasoning.parts.append(delta.text)
                    choice.views = None
                changed = True
                continue
            if (
                type(delta) is ToolCallDelta
                and delta.choice in choices
                and delta.id is None
                and delta.type is None
                and delta.name is None
                and delta.arguments
            ):
                # Inlined: more arguments for a tool call that already exists.
                index = delta.choice
                choice = choices[index]
                tool = choice.tools.get(delta.tool)
                if tool is not None:
                    touched = index if touched is None or touched == index else -1
                    tool.arguments.parts.append(delta.arguments)
                    tool.snapshot = choice.snapshot = None
                    choice.tools_stale = True
                    changed = True
                    continue
            touched = -1
            changed = self.apply(delta) or changed
        self._touched = touched
        if changed:
            self._snapshot = None
        return changed

    def apply(self, delta: Delta) -> bool:
        """Apply one normalised delta; return whether anything changed.

        (``feed`` handles visible text and argument fragments inline first.)
        """
        changed = self._apply(delta)
        if changed and type(delta) not in _CHOICE_LEVEL:
            self._base = None
        return changed

    def _apply(self, delta: Delta) -> bool:
        """Apply one normalised delta; return whether anything changed."""
        kind = type(delta)
        if kind is Text:
            assert isinstance(delta, Text)
            choice = self._choice(delta.choice)
            if delta.channel == "content":
                choice.content.parts.append(delta.text)
            elif delta.channel == "refusal":
                choice.refusal.parts.append(delta.text)
            else:
                choice.reasoning.parts.append(delta.text)
            if delta.block is not None and delta.block in choice.blocks:
                block = choice.blocks[delta.block]
                block.text.parts.append(delta.text)
                block.snapshot = None
            return True
        if kind is Meta:
            assert isinstance(delta, Meta)
            if (
                (not delta.id or self.id)
                and (not delta.model or self.model)
                and (delta.created is None or self.created is not None)
                and delta.extra.keys() <= self.extra.keys()
            ):
                return False  # the usual case: every chunk repeats the same identity
            changed = False
            if delta.id and not self.id:
                self.id, changed = delta.id, True
            if delta.model and not self.model:
                self.model, changed = delta.model, True
            if delta.created is not None and self.created is None:
                self.created, changed = delta.created, True
            for key, value in delta.extra.items():
                if value is not None and key not in self.extra:
                    self.extra[key] = value
                    changed = True
            return changed
        if kind is ToolCallDelta:
            assert isinstance(delta, ToolCallDelta)
            return self._tool_call(delta)
        if kind is Role:
            assert isinstance(delta, Role)
            choice = self._choice(delta.choice)
            if choice.role is None and delta.role:
                choice.role = delta.role
                return True
            return False
        if kind is Finish:
            assert isinstance(delta, Finish)
            choice = self._choice(delta.choice)
            choice.finish_reason = delta.reason
            if delta.stop_sequence is not None:
                choice.stop_sequence = delta.stop_sequence
            for tool in choice.tools.values():
                if not tool.closed:
                    tool.closed, tool.snapshot, tool._fields = True, None, None
            return True
        if kind is Usage:
            assert isinstance(delta, Usage)
            merged = dict(self.usage or {})
            for key, value in delta.usage.items():
                if value is not None:
                    merged[key] = value
            if merged != (self.usage or {}):
                self.usage = merged
                return True
            return False
        if kind is Logprobs:
            assert isinstance(delta, Logprobs)
            choice = self._choice(delta.choice)
            if delta.channel == "content":
                if choice.logprobs_content is None:
                    choice.logprobs_content = []
                choice.logprobs_content.extend(delta.entries)
            else:
                if choice.logprobs_refusal is None:
                    choice.logprobs_refusal = []
                choice.logprobs_refusal.extend(delta.entries)
            return True
        if kind is Signature:
            assert isinstance(delta, Signature)
            choice = self._choice(delta.choice)
            if delta.signature:
                choice.signature = delta.signature
                if delta.block is not None and delta.block in choice.blocks:
                    block = choice.blocks[delta.block]
                    block.signature, block.snapshot = delta.signature, None
                return True
            return False
        if kind is BlockStart:
            assert isinstance(delta, BlockStart)
            choice = self._choice(delta.choice)
            if delta.block not in choice.blocks:
                choice.blocks[delta.block] = _BlockAcc(delta.block, delta.type, delta.fields)
                return True
            return False
        if kind is BlockStop:
            assert isinstance(delta, BlockStop)
            return self._block_stop(delta)
        if kind is ChoiceExtra:
            assert isinstance(delta, ChoiceExtra)
            choice = self._choice(delta.choice)
            changed = False
            for key, value in delta.extra.items():
                if key not in choice.extra and value is not None:
                    choice.extra[key] = value
                    changed = True
            return changed
        if kind is StopDetails:
            assert isinstance(delta, StopDetails)
            self.stop_details = delta.details
            return True
        if kind is Terminal:
            assert isinstance(delta, Terminal)
            self.terminal = True
            self.terminal_outcome = (delta.outcome, delta.reason)
            self._settle(connection_ended=False)
            return True
        if kind is ProviderError:
            assert isinstance(delta, ProviderError)
            if self.error is None:
                self.error = ProviderErrorInfo(
                    message=delta.message,
                    type=delta.kind,
                    retryable=delta.retryable,
                    body=delta.body,
                )
            self.status = "provider_error"
            return True
        return False

    def _choice(self, index: int) -> _ChoiceAcc:
        choice = self._choices.get(index)
        if choice is None:
            choice = self._choices[index] = _ChoiceAcc(index)
        choice.snapshot = None
        choice.fields = choice.views = None
        return choice

    def _tool_call(self, delta: ToolCallDelta) -> bool:
        choice = self._choice(delta.choice)
        tool = choice.tools.get(delta.tool)
        if tool is None:
            tool = choice.tools[delta.tool] = _ToolAcc(delta.tool)
        tool.snapshot = None
        if delta.id and tool.id is None:
            tool.id, tool._fields = delta.id, None
        if delta.type and tool.type is None:
            tool.type, tool._fields = delta.type, None
        if delta.name and tool.name is None:
            tool.name, tool._fields = delta.name, None
        if delta.arguments:
            tool.arguments.parts.append(delta.arguments)
        return True

    def _block_stop(self, delta: BlockStop) -> bool:
        choice = self._choice(delta.choice)
        block = choice.blocks.get(delta.block)
        if delta.fields is not None:  # a citation or an unknown block delta
            if block is None:
                return False
            if "citation" in delta.fields:
                block.citations.append(delta.fields["citation"])
            else:
                block.deltas.append(delta.fields.get("delta"))
            block.snapshot = None
            return True
        if block is not None:
            block.closed, block.snapshot = True, None
        tool = choice.tools.get(delta.block)
        if tool is not None:
            tool.closed, tool.snapshot, tool._fields = True, None, None
        return True

    # -- ending ------------------------------------------------------------------------------

    def finish(self) -> ChatSnapshot:
        """The stream ended (body over or connection lost): settle the status."""
        if self.status == "in_progress":
            self._settle(connection_ended=True)
            self._snapshot = self._base = None
        for choice in self._choices.values():
            for tool in choice.tools.values():
                if not tool.closed:
                    tool.closed, tool.snapshot, tool._fields = True, None, None
                    choice.snapshot = choice.fields = None
                    self._snapshot = None
        return self.snapshot()

    def _settle(self, *, connection_ended: bool) -> None:
        if self.status == "provider_error":
            return
        choices = self._choices.values()
        reasons = {c.finish_reason for c in choices if c.finish_reason}
        outcome, outcome_reason = self.terminal_outcome
        if outcome_reason:
            reasons.add(outcome_reason)
        if connection_ended and not self.terminal:
            finished = bool(choices) and all(c.finish_reason for c in choices)
            self.status = "no_terminal_marker" if finished else "connection_lost"
        elif reasons & _TRUNCATED or (outcome == "incomplete" and not reasons & _FILTERED):
            self.status = "truncated"
        elif reasons & _FILTERED:
            self.status = "filtered"
        elif reasons & _REFUSED or any(c.refusal.parts and any(c.refusal.parts) for c in choices):
            self.status = "refused"
        else:
            self.status = "complete"

    # -- reading -----------------------------------------------------------------------------

    def _frozen_extra(self) -> dict[str, Any]:
        """A copy of ``extra`` shared by snapshots until ``extra`` changes."""
        frozen = self._extra_copy
        if frozen is None or len(frozen) != len(self.extra):
            frozen = self._extra_copy = dict(self.extra)
        return frozen

    def snapshot(self) -> ChatSnapshot:
        """An immutable snapshot of the current state (cached until the next change)."""
        snap = self._snapshot
        if snap is None:
            base = self._base
            if base is None:
                base = self._base = {
                    "provider": self.provider,
                    "id": self.id,
                    "model": self.model,
                    "created": self.created,
                    "usage": self.usage,
                    "status": self.status,
                    "error": self.error,
                    "stop_details": self.stop_details,
                    "terminal": self.terminal,
                    "extra": self._frozen_extra(),
                }
            choices = self._choices
            touched, self._touched = self._touched, None
            previous = self._snaps
            if len(choices) == 1:
                ((index, only),) = choices.items()
                snaps = {index: only.snap()}
            elif touched is not None and touched >= 0 and len(previous) == len(choices):
                # Only one choice changed (n > 1 streams interleave): reuse the others.
                snaps = previous.copy()
                snaps[touched] = choices[touched].snap()
            else:
                snaps = {
                    i: c.snapshot if c.snapshot is not None else c.snap()
                    for i, c in choices.items()
                }
            self._snaps = snaps
            fields = {**base, "choices": snaps, "events": self.events}
            snap = self._snapshot = build(ChatSnapshot, fields, None)
        return snap


def step(state: ChatAccumulator, event: ServerSentEvent) -> ChatAccumulator:
    """Reducer form: apply ``event`` to ``state`` and return it."""
    state.feed(event)
    return state
