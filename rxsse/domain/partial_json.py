"""Best-effort parsing of a JSON document that is still arriving.

:func:`parse_partial_json` returns the most complete value that a prefix of
a JSON text certainly contains: everything up to the last complete member
or element, with the open objects and arrays closed.  What cannot be known
yet is left out rather than guessed:

* an unterminated string value is dropped (``{"a": "hel`` → ``{}``), as is a
  key whose value has not started or finished (``{"a": 1, "b`` → ``{"a": 1}``);
* a number at the very end is dropped (``[1, 2`` → ``[1]``: the ``2`` may be
  the start of ``25``), and so is an unfinished ``true``/``false``/``null``;
* a text that is not a JSON prefix at all gives ``None``.

The whole text is scanned once (linear time); callers that want a value
after every fragment should parse lazily, when the value is read.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["parse_partial_json"]

_WHITESPACE = " \t\r\n"


def parse_partial_json(text: str) -> Any:
    """The value certainly contained in the JSON prefix ``text``, or ``None``."""
    stripped = text.strip()
    if not stripped:
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        pass
    cut = _last_safe_cut(stripped)
    if cut is None:
        return None
    prefix, closers = cut
    try:
        return json.loads(prefix + closers)
    except ValueError:
        return None


def _last_safe_cut(text: str) -> tuple[str, str] | None:
    """Scan ``text``; return the longest prefix ending after a complete value,
    with the closing brackets it needs, or ``None``.

    A cut is safe right after a value that completes a member or element
    (a string value, a closed container, or a number/literal followed by a
    delimiter), and right after an opening bracket (an empty container).
    """
    stack: list[str] = []  # "{" or "["
    expect_key: list[bool] = []  # per object: is the next string a key?
    best: tuple[int, str] | None = None
    i = 0
    n = len(text)

    def closers() -> str:
        return "".join("}" if c == "{" else "]" for c in reversed(stack))

    while i < n:
        ch = text[i]
        if ch in _WHITESPACE:
            i += 1
            continue
        if ch in "{[":
            stack.append(ch)
            expect_key.append(ch == "{")
            i += 1
            best = (i, closers())
            continue
        if ch in "}]":
            if not stack:
                return _result(text, best)
            stack.pop()
            expect_key.pop()
            i += 1
            best = (i, closers()) if stack else (i, "")
            continue
        if ch == ",":
            if stack and stack[-1] == "{":
                expect_key[-1] = True
            i += 1
            continue
        if ch == ":":
            if stack and stack[-1] == "{":
                expect_key[-1] = False
            i += 1
            continue
        if ch == '"':
            end = _string_end(text, i)
            if end is None:
                return _result(text, best)  # unterminated string: drop it
            i = end
            is_key = bool(stack) and stack[-1] == "{" and expect_key[-1]
            if not is_key:
                best = (i, closers())
            continue
        # a number or a literal: complete only when a delimiter follows
        j = i
        while j < n and text[j] not in ",]}" + _WHITESPACE:
            j += 1
        if j == n:
            return _result(text, best)
        i = j
        best = (i, closers())
    return _result(text, best)


def _result(text: str, best: tuple[int, str] | None) -> tuple[str, str] | None:
    if best is None:
        return None
    end, close = best
    prefix = text[:end].rstrip()
    if prefix.endswith(","):
        prefix = prefix[:-1]
    return prefix, close


def _string_end(text: str, start: int) -> int | None:
    """Index just after the string starting at ``start``, or ``None``."""
    i = start + 1
    n = len(text)
    while i < n:
        quote = text.find('"', i)
        if quote == -1:
            return None
        backslashes = 0
        k = quote - 1
        while k > start and text[k] == "\\":
            backslashes += 1
            k -= 1
        if backslashes % 2 == 0:
            return quote + 1
        i = quote + 1
    return None
