"""Named conformance cases for :class:`rxsse.SSEDecoder`.

Every case is one complete connection: the bytes of the stream, the events
it must dispatch (in order), and the decoder's ``last_event_id`` and
``retry`` once the stream has been fed and closed.

Sources (facts only, restated here in our own words):

* WHATWG HTML, section "Interpreting an event stream" (9.2.6), and its four
  examples (``spec-*``).
* web-platform-tests ``eventsource/format-*`` tests (``wpt-*``).  Those tests
  serve ``message`` followed by a blank line (or, with ``newline=none``, by a
  single LF); the streams below include whatever the server appends.
* The remaining cases pin down each rule of the spec in isolation.

Only the stream bytes are given; how they are chunked is up to the tests, and
every chunking must give the same result.
"""

from __future__ import annotations

from typing import NamedTuple

from rxsse import ServerSentEvent

__all__ = ["CASES", "DecoderCase", "ev"]

BOM = b"\xef\xbb\xbf"


class DecoderCase(NamedTuple):
    """One conformance case."""

    name: str
    stream: bytes
    events: list[ServerSentEvent]
    last_event_id: str = ""
    retry: int | None = None


def ev(
    data: str,
    event: str = "message",
    id: str = "",
    retry: int | None = None,
) -> ServerSentEvent:
    """Shorthand for an expected event (keyword order: data first)."""
    return ServerSentEvent(event=event, data=data, id=id, retry=retry)


_LONG = b"x" * 2048  # format-comments uses a 2 KiB comment line

CASES: list[DecoderCase] = [
    # -- the WHATWG spec's own examples ------------------------------------
    DecoderCase(
        "spec-stock-ticker",
        b"data: YHOO\ndata: +2\ndata: 10\n\n",
        [ev("YHOO\n+2\n10")],
    ),
    DecoderCase(
        # "once followed by a blank line": without it nothing is dispatched.
        "spec-stock-ticker-without-blank-line",
        b"data: YHOO\ndata: +2\ndata: 10\n",
        [],
    ),
    DecoderCase(
        # Four blocks: a comment-only block fires nothing; "id: 1" sets the
        # last event ID; a bare "id" line resets it to ""; "data:  third
        # event" keeps one leading space.
        "spec-test-stream",
        b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\n"
        b"data:  third event\n\n",
        [ev("first event", id="1"), ev("second event"), ev(" third event")],
    ),
    DecoderCase(
        # "the end of the stream is not enough to trigger the dispatch of the
        # last event"
        "spec-test-stream-end-of-stream-is-not-a-blank-line",
        b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\n"
        b"data:  third event\n",
        [ev("first event", id="1"), ev("second event")],
    ),
    DecoderCase(
        # The spec says this stream fires TWO events: "" and "\n".  The last
        # block ("data:") is discarded because no blank line follows it.
        "spec-fires-two-events",
        b"data\n\ndata\ndata\n\ndata:",
        [ev(""), ev("\n")],
    ),
    DecoderCase(
        # ... "as would the last block if it was followed by a blank line".
        "spec-fires-two-events-then-terminated",
        b"data\n\ndata\ndata\n\ndata:\n\n",
        [ev(""), ev("\n"), ev("")],
    ),
    DecoderCase(
        "spec-two-identical-events",
        b"data:test\n\ndata: test\n\n",
        [ev("test"), ev("test")],
    ),
    # -- BOM (wpt format-bom, format-bom-2) --------------------------------
    DecoderCase(
        # One BOM is stripped at the start; a BOM starting a later line is
        # part of the field name "\ufeffdata", an unknown field.
        "wpt-bom",
        BOM + b"data:1\n\n" + BOM + b"data:2\n\ndata:3\n\n",
        [ev("1"), ev("3")],
    ),
    DecoderCase(
        # Only one BOM is stripped: the second makes the first line unknown.
        "wpt-bom-2-double-bom",
        BOM + BOM + b"data:1\n\ndata:2\n\ndata:3\n\n",
        [ev("2"), ev("3")],
    ),
    DecoderCase(
        "bom-then-cr-line-endings",
        BOM + b"data: x\r\r",
        [ev("x")],
    ),
    DecoderCase(
        "bom-only-stream",
        BOM,
        [],
    ),
    DecoderCase(
        "bom-inside-data-value-is-kept",
        BOM + b"data: " + BOM + b"x\n\n",
        [ev("\ufeffx")],
    ),
    DecoderCase(
        "bom-not-at-start-is-not-stripped",
        b"\n" + BOM + b"data: x\n\ndata: y\n\n",
        [ev("y")],
    ),
    # -- comments (wpt format-comments) ------------------------------------
    DecoderCase(
        "wpt-comments",
        b"data:1\r:\x00\n:\r\ndata:2\n:"
        + _LONG
        + b"\rdata:3\n:data:fail\r:"
        + _LONG
        + b"\ndata:4\n\n",
        [ev("1\n2\n3\n4")],
    ),
    DecoderCase(
        "comment-only-blocks-dispatch-nothing",
        b": hello\n:\n\n:another\r\n\r\n",
        [],
    ),
    DecoderCase(
        "comment-with-field-syntax-is-ignored",
        b":data: nope\ndata: yes\n\n",
        [ev("yes")],
    ),
    # -- data before final empty line (wpt) --------------------------------
    DecoderCase(
        # The unterminated second block is discarded, and its id is never
        # committed; the retry line of the first block applies.
        "wpt-data-before-final-empty-line",
        b"retry:1000\ndata:test1\n\nid:test\ndata:test2\n",
        [ev("test1", retry=1000)],
        retry=1000,
    ),
    DecoderCase(
        "unterminated-final-line-discarded",
        b"data: a\n\ndata: b",
        [ev("a")],
    ),
    DecoderCase(
        "empty-stream",
        b"",
        [],
    ),
    DecoderCase(
        "blank-lines-only",
        b"\n\n\r\n\r\r\n\n",
        [],
    ),
    DecoderCase(
        "leading-blank-lines",
        b"\n\n\ndata: x\n\n",
        [ev("x")],
    ),
    # -- data field (wpt format-field-data) --------------------------------
    DecoderCase(
        "wpt-field-data",
        b"data:\n\ndata\ndata\n\ndata:test\n\n",
        [ev(""), ev("\n"), ev("test")],
    ),
    DecoderCase(
        "data-multiple-lines-joined-with-lf",
        b"data: a\ndata: b\ndata: c\n\n",
        [ev("a\nb\nc")],
    ),
    DecoderCase(
        "data-mixed-space-and-no-space",
        b"data: a\ndata:b\ndata:  c\n\n",
        [ev("a\nb\n c")],
    ),
    DecoderCase(
        "data-exactly-one-trailing-lf-removed",
        b"data: a\ndata:\n\n",
        [ev("a\n")],
    ),
    DecoderCase(
        "data-two-empty-lines",
        b"data:\ndata:\n\n",
        [ev("\n")],
    ),
    DecoderCase(
        "data-line-without-colon",
        b"data\n\n",
        [ev("")],
    ),
    DecoderCase(
        "data-colon-in-value",
        b"data: a:b\ndata::c\ndata: :\n\n",
        [ev("a:b\n:c\n:")],
    ),
    DecoderCase(
        "data-only-spaces",
        b"data:   \n\n",
        [ev("  ")],
    ),
    DecoderCase(
        "data-tab-is-not-a-space",
        b"data:\tx\n\n",
        [ev("\tx")],
    ),
    DecoderCase(
        "data-json-payload",
        b'data: {"a": [1, 2], "b": "c"}\n\n',
        [ev('{"a": [1, 2], "b": "c"}')],
    ),
    DecoderCase(
        "data-fields-interleaved-with-other-fields",
        b"data: a\nevent: e\ndata: b\n: comment\nid: 9\ndata: c\n\n",
        [ev("a\nb\nc", event="e", id="9")],
        last_event_id="9",
    ),
    DecoderCase(
        "data-long-line",
        b"data: " + b"y" * 10_000 + b"\n\n",
        [ev("y" * 10_000)],
    ),
    # -- event field (wpt format-field-event, format-field-event-empty) -----
    DecoderCase(
        # The event type is reset after each dispatch.
        "wpt-field-event",
        b"event:test\ndata:x\n\ndata:x\n\n",
        [ev("x", event="test"), ev("x")],
    ),
    DecoderCase(
        "wpt-field-event-empty",
        b"event: \ndata:data\n\n",
        [ev("data")],
    ),
    DecoderCase(
        "event-without-colon-is-empty",
        b"event\ndata: x\n\n",
        [ev("x")],
    ),
    DecoderCase(
        "event-last-one-wins",
        b"event: a\nevent: b\ndata: x\n\n",
        [ev("x", event="b")],
    ),
    DecoderCase(
        "event-set-after-data-in-same-block",
        b"data: x\nevent: late\n\n",
        [ev("x", event="late")],
    ),
    DecoderCase(
        "event-value-keeps-colons-and-spaces",
        b"event:  a:b \ndata: x\n\n",
        [ev("x", event=" a:b ")],
    ),
    DecoderCase(
        # An event-only block dispatches nothing, and its type does not leak
        # into the next block.
        "event-only-block-dispatches-nothing",
        b"event: foo\n\ndata: x\n\n",
        [ev("x")],
    ),
    DecoderCase(
        "event-named-message-explicitly",
        b"event: message\ndata: x\n\n",
        [ev("x")],
    ),
    # -- id field (wpt format-field-id*, last-event-id2) -------------------
    DecoderCase(
        "wpt-id-persists",
        b"id: 1\ndata: 1\n\ndata:2\n\n",
        [ev("1", id="1"), ev("2", id="1")],
        last_event_id="1",
    ),
    DecoderCase(
        "wpt-id-changes-and-persists",
        b"id: 1\ndata: 1\n\nid: 2\ndata:2\n\ndata:3\n\n",
        [ev("1", id="1"), ev("2", id="2"), ev("3", id="2")],
        last_event_id="2",
    ),
    DecoderCase(
        "wpt-id-resets",
        b"id: 1\ndata: 1\n\nid:\ndata:2\n\ndata:3\n\n",
        [ev("1", id="1"), ev("2"), ev("3")],
    ),
    DecoderCase(
        "wpt-id-utf-8",
        b"id: \xe2\x80\xa6\ndata: hello\n\n",
        [ev("hello", id="\u2026")],
        last_event_id="\u2026",
    ),
    DecoderCase(
        # An id-only block updates the last event ID without an event.
        "id-only-block-updates-last-event-id",
        b"id: 7\n\n",
        [],
        last_event_id="7",
    ),
    DecoderCase(
        "id-only-block-then-event",
        b"id: 7\n\ndata: x\n\n",
        [ev("x", id="7")],
        last_event_id="7",
    ),
    DecoderCase(
        "id-after-data-in-same-block",
        b"data: x\nid: 3\n\n",
        [ev("x", id="3")],
        last_event_id="3",
    ),
    DecoderCase(
        # wpt format-field-id-null: "id" with U+0000 is ignored.
        "id-with-null-ignored",
        b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\nid:\x00\x00\ndata: c\n\n",
        [ev("a", id="1"), ev("b", id="1"), ev("c", id="1")],
        last_event_id="1",
    ),
    DecoderCase(
        "id-null-does-not-reset",
        b"id: 1\n\nid: \x00\n\n",
        [],
        last_event_id="1",
    ),
    DecoderCase(
        "id-empty-value-resets",
        b"id: 5\n\nid:\n\n",
        [],
    ),
    DecoderCase(
        "id-bare-name-resets",
        b"id: 5\ndata: a\n\nid\ndata: b\n\n",
        [ev("a", id="5"), ev("b")],
    ),
    DecoderCase(
        "id-unterminated-block-not-committed",
        b"id: 1\n\nid: 2\ndata: x",
        [],
        last_event_id="1",
    ),
    DecoderCase(
        "id-keeps-second-space-and-colons",
        b"id:  a:b\ndata: x\n\n",
        [ev("x", id=" a:b")],
        last_event_id=" a:b",
    ),
    DecoderCase(
        "id-last-one-in-block-wins",
        b"id: a\nid: b\ndata: x\n\n",
        [ev("x", id="b")],
        last_event_id="b",
    ),
    # -- retry field (wpt format-field-retry, -bogus, -empty) --------------
    DecoderCase(
        # "02000" is decimal 2000 (not octal); the event carries its block's
        # retry value.
        "wpt-retry-leading-zero-decimal",
        b"retry:02000\ndata:x\n\n",
        [ev("x", retry=2000)],
        retry=2000,
    ),
    DecoderCase(
        "wpt-retry-bogus-ignored",
        b"retry:2000\nretry:1000x\ndata:x\n\n",
        [ev("x", retry=2000)],
        retry=2000,
    ),
    DecoderCase(
        "wpt-retry-empty-ignored",
        b"retry\ndata:test\n\n",
        [ev("test")],
    ),
    DecoderCase(
        "retry-empty-after-colon-ignored",
        b"retry: 5\n\nretry:\ndata: x\n\n",
        [ev("x")],
        retry=5,
    ),
    DecoderCase(
        # A retry-only block dispatches nothing but sets the retry.
        "retry-only-block",
        b"retry: 1000\n\n",
        [],
        retry=1000,
    ),
    DecoderCase(
        "retry-zero",
        b"retry: 0\ndata: x\n\n",
        [ev("x", retry=0)],
        retry=0,
    ),
    DecoderCase(
        # retry belongs to its block's event only; the stream value stays.
        "retry-is-per-block-on-events",
        b"retry: 10\ndata: a\n\ndata: b\n\n",
        [ev("a", retry=10), ev("b")],
        retry=10,
    ),
    DecoderCase(
        "retry-last-valid-in-block-wins",
        b"retry: 10\nretry: 20\nretry: nope\ndata: a\n\n",
        [ev("a", retry=20)],
        retry=20,
    ),
    DecoderCase(
        # The reconnection time is set at once, even if the block that set
        # it is never terminated.
        "retry-effective-in-unterminated-block",
        b"data: a\n\nretry: 3000\ndata: b",
        [ev("a")],
        retry=3000,
    ),
    DecoderCase(
        "retry-bogus-1a",
        b"retry: 1a\ndata: x\n\n",
        [ev("x")],
    ),
    DecoderCase(
        # "retry:  10" has the value " 10" (only one space is removed).
        "retry-bogus-leading-space",
        b"retry:  10\ndata: x\n\n",
        [ev("x")],
    ),
    DecoderCase(
        "retry-bogus-trailing-space",
        b"retry: 10 \ndata: x\n\n",
        [ev("x")],
    ),
    DecoderCase(
        "retry-bogus-negative",
        b"retry: -1\ndata: x\n\n",
        [ev("x")],
    ),
    DecoderCase(
        "retry-bogus-plus-sign",
        b"retry: +1\ndata: x\n\n",
        [ev("x")],
    ),
    DecoderCase(
        "retry-bogus-decimal-point",
        b"retry: 1.5\ndata: x\n\n",
        [ev("x")],
    ),
    DecoderCase(
        "retry-bogus-underscore",
        b"retry: 1_000\ndata: x\n\n",
        [ev("x")],
    ),
    DecoderCase(
        # U+0661 U+0662 ARABIC-INDIC digits are digits, but not ASCII digits.
        "retry-bogus-non-ascii-digits",
        "retry: \u0661\u0662\ndata: x\n\n".encode(),
        [ev("x")],
    ),
    DecoderCase(
        "retry-bogus-fullwidth-digits",
        "retry: \uff11\uff12\ndata: x\n\n".encode(),
        [ev("x")],
    ),
    DecoderCase(
        "retry-bogus-does-not-clear-earlier-value",
        b"retry: 5\n\nretry: x\n\n",
        [],
        retry=5,
    ),
    DecoderCase(
        # Documented divergence: values above 10**18 ms are clamped.
        "retry-huge-value-clamped",
        b"retry: " + b"9" * 30 + b"\n\n",
        [],
        retry=10**18,
    ),
    DecoderCase(
        "retry-largest-unclamped",
        b"retry: 999999999999999999\n\n",
        [],
        retry=999_999_999_999_999_999,
    ),
    DecoderCase(
        # 19 characters, but the value is 1: leading zeros do not make a
        # number large (the spec interprets the digits in base ten).
        "retry-many-leading-zeros",
        b"retry: 0000000000000000001\n\n",
        [],
        retry=1,
    ),
    # -- line endings (wpt format-newlines) --------------------------------
    DecoderCase(
        "wpt-newlines",
        b"data:test\r\ndata\ndata:test\r\n\r\n",
        [ev("test\n\ntest")],
    ),
    DecoderCase(
        "newlines-lf",
        b"data: a\ndata: b\n\ndata: c\n\n",
        [ev("a\nb"), ev("c")],
    ),
    DecoderCase(
        "newlines-cr",
        b"data: a\rdata: b\r\rdata: c\r\r",
        [ev("a\nb"), ev("c")],
    ),
    DecoderCase(
        "newlines-crlf",
        b"data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n",
        [ev("a\nb"), ev("c")],
    ),
    DecoderCase(
        "newlines-mixed",
        b"data:1\rdata:2\ndata:3\r\ndata:4\r\n\r",
        [ev("1\n2\n3\n4")],
    ),
    DecoderCase(
        # CR then CRLF: the line ends at the CR, then an empty line.
        "newlines-cr-then-crlf",
        b"data: x\r\r\n",
        [ev("x")],
    ),
    DecoderCase(
        # LF then CR: two line ends (LF CR is not a pair).
        "newlines-lf-then-cr",
        b"data: x\n\r",
        [ev("x")],
    ),
    DecoderCase(
        # CRLF is one line end, so this is one line and no blank line.
        "newlines-crlf-is-not-two-line-ends",
        b"data: x\r\n",
        [],
    ),
    DecoderCase(
        # A CR at the very end of the stream ends its line.
        "newlines-cr-at-end-of-stream",
        b"event: e\ndata: x\r\r",
        [ev("x", event="e")],
    ),
    DecoderCase(
        "newlines-many-cr-and-lf",
        b"data: a\r\r\r\n\n\r\ndata: b\n\r\n\r",
        [ev("a"), ev("b")],
    ),
    DecoderCase(
        # VT, FF, NEL (U+0085), LS (U+2028) and PS (U+2029) end no line.
        "unicode-separators-are-not-line-ends",
        b"data: a\xe2\x80\xa8b\xc2\x85c\x0bd\x0ce\xe2\x80\xa9f\x1cg\x1dh\x1ei\n\n",
        [ev("a\u2028b\x85c\x0bd\x0ce\u2029f\x1cg\x1dh\x1ei")],
    ),
    DecoderCase(
        "unicode-separator-does-not-end-field-name",
        b"data\xe2\x80\xa8: x\ndata: y\n\n",
        [ev("y")],
    ),
    # -- leading space (wpt format-leading-space) --------------------------
    DecoderCase(
        "wpt-leading-space",
        b"data:\ttest\rdata: \ndata:test\n\n",
        [ev("\ttest\n\ntest")],
    ),
    DecoderCase(
        "leading-space-only-one-removed",
        b"data:  x\n\n",
        [ev(" x")],
    ),
    DecoderCase(
        "space-before-colon-is-part-of-name",
        b"data : x\ndata: y\n\n",
        [ev("y")],
    ),
    # -- field parsing and unknown fields (wpt) ----------------------------
    DecoderCase(
        "wpt-field-parsing",
        b"data:\x00\ndata:  2\rData:1\ndata\x00:2\ndata:1\r\x00data:4\nda-ta:3\rdata_5\n"
        b"data:3\rdata:\r\n data:32\ndata:4\n\n",
        [ev("\x00\n 2\n1\n3\n\n4")],
    ),
    DecoderCase(
        "wpt-field-unknown",
        b"data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test\n\n",
        [ev("test\n\ntest")],
    ),
    DecoderCase(
        "unknown-field-only-block-dispatches-nothing",
        b"foo: bar\n\n",
        [],
    ),
    DecoderCase(
        "field-names-case-sensitive",
        b"Data: x\nDATA: x\nEvent: e\nID: 1\nRetry: 5\ndata: y\n\n",
        [ev("y")],
    ),
    DecoderCase(
        "field-name-prefix-is-not-the-field",
        b"dat: x\ndatax: x\nids: 1\nretryy: 5\ndata: y\n\n",
        [ev("y")],
    ),
    # -- NULL and UTF-8 (wpt format-null-character, format-utf-8) ----------
    DecoderCase(
        "wpt-null-character",
        b"data:\x00\n\n",
        [ev("\x00")],
    ),
    DecoderCase(
        "null-in-event-type-kept",
        b"event: a\x00b\ndata: x\n\n",
        [ev("x", event="a\x00b")],
    ),
    DecoderCase(
        "wpt-utf-8",
        b"data:ok\xe2\x80\xa6\n\n",
        [ev("ok\u2026")],
    ),
    DecoderCase(
        "utf-8-four-byte-sequence",
        b"data: \xf0\x9f\x98\x80 \xe4\xb8\xad\n\n",
        [ev("\U0001f600 \u4e2d")],
    ),
    DecoderCase(
        "utf-8-invalid-bytes-replaced",
        b"data: \xff\xfe\n\n",
        [ev("\ufffd\ufffd")],
    ),
    DecoderCase(
        # A maximal subpart of an ill-formed sequence becomes one U+FFFD.
        "utf-8-invalid-continuation",
        b"data: a\xe2\x28\xa1b\n\n",
        [ev("a\ufffd(\ufffdb")],
    ),
    DecoderCase(
        "utf-8-truncated-sequence-before-newline",
        b"data: \xe2\x82\n\n",
        [ev("\ufffd")],
    ),
    DecoderCase(
        "utf-8-encoded-surrogate",
        b"data: \xed\xa0\x80\n\n",
        [ev("\ufffd\ufffd\ufffd")],
    ),
    DecoderCase(
        "utf-8-overlong",
        b"data: \xc0\xaf\n\n",
        [ev("\ufffd\ufffd")],
    ),
    DecoderCase(
        "utf-8-above-max-code-point",
        b"data: \xf4\x90\x80\x80\n\n",
        [ev("\ufffd\ufffd\ufffd\ufffd")],
    ),
    DecoderCase(
        "utf-8-invalid-in-field-name",
        b"da\xfft\x61: x\ndata: y\n\n",
        [ev("y")],
    ),
    DecoderCase(
        "utf-8-invalid-in-id",
        b"id: \xff\ndata: y\n\n",
        [ev("y", id="\ufffd")],
        last_event_id="\ufffd",
    ),
    DecoderCase(
        "utf-8-truncated-at-end-of-stream",
        b"data: a\n\ndata: \xe2\x82",
        [ev("a")],
    ),
    # -- everything together ------------------------------------------------
    DecoderCase(
        "all-fields-in-one-block",
        b'event: update\nid: 42\nretry: 500\ndata: {"a": 1}\n\n',
        [ev('{"a": 1}', event="update", id="42", retry=500)],
        last_event_id="42",
        retry=500,
    ),
    DecoderCase(
        "realistic-mixed-stream",
        BOM
        + b": keep-alive\r\n\r\nretry: 2500\r\n\r\nid: 1\r\nevent: add\r\ndata: 73857293\r\n\r\n"
        b"data: plain\r\n\r\nevent: remove\r\ndata: 2153\r\nid: 2\r\n\r\n: ping\r\n\r\n"
        b"data: half\r\nid: 3\r\n",
        [
            ev("73857293", event="add", id="1"),
            ev("plain", id="1"),
            ev("2153", event="remove", id="2"),
        ],
        last_event_id="2",
        retry=2500,
    ),
    DecoderCase(
        "fast-path-shaped-blocks-after-slow-block",
        b"id: 9\nevent: x\ndata: 1\n\ndata: 2\n\ndata: 3\ndata: 4\n\ndata: 5\n\n",
        [ev("1", event="x", id="9"), ev("2", id="9"), ev("3\n4", id="9"), ev("5", id="9")],
        last_event_id="9",
    ),
    # Streams shaped for the decoder's whole-chunk fast paths: every block has
    # the same field sequence.  Split at every offset, they exercise the fast
    # and the general path against each other.
    DecoderCase(
        "uniform-id-data-blocks",
        b"id: 1\ndata: a\n\nid: 2\ndata: b\n\nid: 3\ndata: c\n\n",
        [ev("a", id="1"), ev("b", id="2"), ev("c", id="3")],
        last_event_id="3",
    ),
    DecoderCase(
        "uniform-event-id-data-blocks",
        b"event: x\nid: 1\ndata: a\n\nevent: y\nid: 2\ndata: b\n\n",
        [ev("a", event="x", id="1"), ev("b", event="y", id="2")],
        last_event_id="2",
    ),
    DecoderCase(
        "uniform-blocks-with-two-data-lines",
        b"id: 1\ndata: a\ndata: b\n\nid: 2\ndata: c\ndata: d\n\n",
        [ev("a\nb", id="1"), ev("c\nd", id="2")],
        last_event_id="2",
    ),
    DecoderCase(
        "uniform-blocks-with-an-empty-event-type",
        b"event: x\ndata: a\n\nevent: \ndata: b\n\n",
        [ev("a", event="x"), ev("b")],
    ),
    DecoderCase(
        "uniform-blocks-with-an-empty-id",
        b"id: 1\ndata: a\n\nid: \ndata: b\n\n",
        [ev("a", id="1"), ev("b", id="")],
        last_event_id="",
    ),
    DecoderCase(
        "uniform-blocks-with-a-null-in-one-id",
        b"id: 1\ndata: a\n\nid: 2\x00\ndata: b\n\nid: 3\ndata: c\n\n",
        [ev("a", id="1"), ev("b", id="1"), ev("c", id="3")],
        last_event_id="3",
    ),
    DecoderCase(
        "data-only-blocks-with-empty-data-lines",
        b"data: \ndata: a\n\ndata: \n\ndata: b\ndata: \n\n",
        [ev("\na"), ev(""), ev("b\n")],
    ),
    DecoderCase(
        "data-only-blocks-then-an-extra-blank-line",
        b"data: a\n\ndata: b\ndata: c\n\n\n\ndata: d\n\n",
        [ev("a"), ev("b\nc"), ev("d")],
    ),
    DecoderCase(
        "uniform-blocks-with-non-ascii-and-invalid-utf8",
        "id: é\ndata: ☃\n\n".encode() + b"id: \xff\ndata: a\xc3\n\n",
        [ev("☃", id="é"), ev("a\ufffd", id="\ufffd")],
        last_event_id="\ufffd",
    ),
    DecoderCase(
        "data-field-without-space-breaks-uniformity",
        b"data: a\n\ndata:b\n\ndata: c\n\n",
        [ev("a"), ev("b"), ev("c")],
    ),
]


def _check_unique_names() -> None:
    names = [case.name for case in CASES]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise AssertionError(f"duplicate case names: {duplicates}")


_check_unique_names()
