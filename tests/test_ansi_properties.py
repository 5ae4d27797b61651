"""Property test: the ANSI → HTML output is safe to insert into a page whatever the input.

Inputs are built from pieces whose visible text is known by construction:
plain text (any characters but ``ESC``/``\\r``/``\\n``, with ``<script>``,
quotes and entities mixed in; its control characters are invisible), SGR and
other complete escape sequences (invisible), OSC 8 links with allowed,
hostile (``javascript:``, quote-breaking) and random URLs around a text
piece, and *broken* sequences, each closed by a character that cannot
continue it, whose visible text is what the documented policy says (only
the ``ESC`` is dropped).  ``\\r`` markers split a line into segments; the
visible text of a line is its last segment with visible text.

Every output line is parsed with :class:`html.parser.HTMLParser` and must
contain only the converter's own elements and attributes, only ``http(s)``
hrefs, balanced tags, and exactly the expected visible text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rxsse.domain.ansi import ANSI_CSS, AnsiConverter, _ascii_html_safe_py, strip_ansi

ESC = "\x1b"
CR = object()  # a "\r" marker between pieces
Piece = tuple[str, str]  # (raw, visible)

_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
CLASSES = set(re.findall(r"\.(ansi-[a-z0-9-]+)", ANSI_CSS))
STYLE = re.compile(
    r"(?:color|background-color):#[0-9a-f]{6}|font-weight:bold|opacity:\.65|font-style:italic"
    r"|text-decoration:(?:underline|line-through|underline line-through)|visibility:hidden"
)
HREF = re.compile(r"https?://[^\s\"'<>`]+", re.IGNORECASE)
ATTRIBUTES = {"span": {"class", "style"}, "a": {"href", "rel"}}

HOSTILE_TEXT = (
    "<script>alert(1)</script>",
    "</span><img src=x onerror=alert(1)>",
    '" onmouseover="alert(1)',
    "' onclick='x'",
    "&amp;&lt;&#39;&#x27;",
    "<!-- comment -->",
    "<![CDATA[x]]>",
    "<a href='javascript:alert(1)'>x</a>",
    "\t",
)
URLS = (
    "https://github.com/o/r/actions/runs/1?a=1&b=2",
    "http://example.com/",
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    "data:text/html;base64,PHNjcmlwdD4=",
    'https://e.com/"><script>alert(1)</script>',
    "https://e.com/' onmouseover='alert(1)",
    "https://e.com/ x",
    "http://e.com/<b>",
    "",
)

text_chars = st.characters(blacklist_characters="\x1b\r\n", blacklist_categories=["Cs"])
plain = st.one_of(st.text(text_chars, max_size=12), st.sampled_from(HOSTILE_TEXT))


def text_piece(raw: str) -> Piece:
    return raw, _INVISIBLE.sub("", raw)


sgr_param = st.one_of(
    st.integers(0, 110).map(str),
    st.builds(lambda n: f"38;5;{n}", st.integers(0, 300)),
    st.builds(lambda n: f"48:5:{n}", st.integers(0, 300)),
    st.builds(
        lambda r, g, b, colon: f"38:2::{r}:{g}:{b}" if colon else f"48;2;{r};{g};{b}",
        st.integers(0, 300),
        st.integers(0, 255),
        st.integers(0, 255),
        st.booleans(),
    ),
    st.just(""),
)
sgr = st.lists(sgr_param, max_size=5).map(lambda ps: (f"{ESC}[{';'.join(ps)}m", ""))
other_csi = st.builds(
    lambda params, inter, final: (f"{ESC}[{params}{inter}{final}", ""),
    st.text(st.sampled_from("0123456789;:<=>?"), max_size=6),
    st.text(st.sampled_from(" !\"#$%&'()*+,-./"), max_size=2),
    st.sampled_from("@ABCDGHJKlhmnqrsu~"),
)
osc_other = st.builds(
    lambda number, body, bel: (f"{ESC}]{number};{body}{chr(7) if bel else ESC + chr(92)}", ""),
    st.sampled_from(["0", "2", "133", "52", "7", "1337"]),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=10),
    st.booleans(),
)
short_escape = st.sampled_from([f"{ESC}(B", f"{ESC}7", f"{ESC}8", f"{ESC}=", f"{ESC}M"]).map(
    lambda s: (s, "")
)
url = st.one_of(
    st.sampled_from(URLS),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12).map(
        lambda s: "https://" + s
    ),
)


def _link(target: str, inner: str, bel: bool) -> Piece:
    end = "\x07" if bel else f"{ESC}\\"
    raw, visible = text_piece(inner)
    return f"{ESC}]8;;{target}{end}{raw}{ESC}]8;;{end}", visible


link = st.builds(_link, url, plain, st.booleans())
broken = st.sampled_from(
    [
        (f"{ESC}[31\x07", "[31"),
        (f"{ESC}[38;5;1\x07", "[38;5;1"),
        (f"{ESC}\x07", ""),
        (f"{ESC}]8;;javascript:alert(1)\t", "]8;;javascript:alert(1)\t"),
        (f'{ESC}]8;;https://e.com/"><script>\t', ']8;;https://e.com/"><script>\t'),
        (f"{ESC}]0;<title>\t", "]0;<title>\t"),
    ]
)
piece = st.one_of(
    plain.map(text_piece), sgr, other_csi, osc_other, short_escape, link, broken, st.just(CR)
)
line = st.lists(piece, max_size=12)


def render(pieces: list[object]) -> tuple[str, str]:
    """(raw line, expected visible text) of a list of pieces."""
    raw: list[str] = []
    segments: list[str] = [""]
    for item in pieces:
        if item is CR:
            raw.append("\r")
            segments.append("")
        else:
            assert isinstance(item, tuple)
            raw.append(item[0])
            segments[-1] += item[1]
    visible = [s for s in segments if s]
    return "".join(raw), visible[-1] if visible else ""


class SafetyChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in ATTRIBUTES, f"element {tag!r}"
        names = [name for name, _ in attrs]
        assert len(names) == len(set(names))
        for name, value in attrs:
            assert name in ATTRIBUTES[tag], f"attribute {name!r} on {tag!r}"
            assert value is not None
            if name == "class":
                assert set(value.split()) <= CLASSES, value
            elif name == "style":
                assert all(STYLE.fullmatch(part) for part in value.split(";")), value
            elif name == "href":
                assert HREF.fullmatch(value), value
            elif name == "rel":
                assert value == "noopener noreferrer nofollow"
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise AssertionError(f"self-closing {tag!r}")

    def handle_endtag(self, tag: str) -> None:
        assert self.stack, f"stray </{tag}>"
        assert self.stack.pop() == tag

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        raise AssertionError("comment")

    def handle_decl(self, decl: str) -> None:
        raise AssertionError("declaration")

    def handle_pi(self, data: str) -> None:
        raise AssertionError("processing instruction")

    def unknown_decl(self, data: str) -> None:
        raise AssertionError("unknown declaration")


def check_safe(fragment: str, visible: str) -> None:
    checker = SafetyChecker()
    checker.feed(fragment)
    checker.close()
    assert not checker.stack, "unclosed element"
    assert "".join(checker.text) == visible
    for quote in ("'", '"'):  # quotes only ever delimit our own attribute values
        outside = re.sub(r'<(?:span|a)(?: [a-z]+="[^"<>]*")*>|</(?:span|a)>', "", fragment)
        assert quote not in outside
        assert "<" not in outside
        assert ">" not in outside


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(line, st.booleans())
def test_one_line_is_safe_and_shows_exactly_the_visible_text(
    pieces: list[object], inline: bool
) -> None:
    raw, visible = render(pieces)
    converter = AnsiConverter(inline_styles=inline)
    html, text = converter.convert_with_text(raw)
    assert text == visible
    assert strip_ansi(raw) == visible
    check_safe(html, visible)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line, min_size=1, max_size=4), st.data())
def test_a_chunked_stream_of_lines_is_safe_line_by_line(
    lines: list[list[object]], data: st.DataObject
) -> None:
    rendered = [render(pieces) for pieces in lines]
    stream = "".join(raw + "\n" for raw, _ in rendered)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    converter = AnsiConverter()
    out: list[str] = []
    previous = 0
    for cut in [*cuts, len(stream)]:
        out.extend(converter.feed(stream[previous:cut]))
        previous = cut
    out.extend(converter.flush())
    assert len(out) == len(rendered)
    for fragment, (_, visible) in zip(out, rendered, strict=True):
        check_safe(fragment, visible)


# -- the C check of the plain-line fast path ---------------------------------------------------

c_ascii_html_safe: Callable[[str], bool] | None
try:
    from rxsse._speedups import ascii_html_safe as _c_check
except ImportError:  # not built: only the Python check exists
    c_ascii_html_safe = None
else:
    c_ascii_html_safe = _c_check


@pytest.mark.skipif(c_ascii_html_safe is None, reason="the C extension is not built")
@settings(max_examples=500, deadline=None)
@given(
    line=st.one_of(
        st.text(st.characters(max_codepoint=0x7F)),
        st.text(st.characters(max_codepoint=0x7F, exclude_characters="&<>\"'\x1b")),
        st.text(),
    )
)
def test_c_and_python_plain_line_checks_agree(line: str) -> None:
    assert c_ascii_html_safe is not None
    assert c_ascii_html_safe(line) is _ascii_html_safe_py(line)


def test_plain_line_check_on_every_ascii_character() -> None:
    checks = [_ascii_html_safe_py] + ([] if c_ascii_html_safe is None else [c_ascii_html_safe])
    for check in checks:
        safe = "".join(chr(c) for c in range(128) if check(chr(c)))
        assert safe == "\t\n" + "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in "&<>\"'")
        assert check("") is True
        assert check("café") is False
