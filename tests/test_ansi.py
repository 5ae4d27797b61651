"""ANSI → HTML: one test per feature and per malformed-input policy (rxsse.domain.ansi)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from rxsse.domain.ansi import (
    ANSI_CSS,
    MAX_CSI_CHARS,
    MAX_OSC_CHARS,
    PALETTE,
    AnsiConverter,
    split_long_line,
    strip_ansi,
)

ESC = "\x1b"


def convert(*lines: str, inline_styles: bool = False) -> list[str]:
    converter = AnsiConverter(inline_styles=inline_styles)
    return [converter.convert(line) for line in lines]


class Spans(HTMLParser):
    """(text, attributes of every open element) for each text run of a fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.runs: list[tuple[str, list[tuple[str, dict[str, str | None]]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        assert self.stack
        assert self.stack.pop()[0] == tag

    def handle_data(self, data: str) -> None:
        self.runs.append((data, list(self.stack)))


def runs(fragment: str) -> list[tuple[str, str]]:
    """(text, "class|style|href") per text run, for compact assertions."""
    parser = Spans()
    parser.feed(fragment)
    parser.close()
    assert not parser.stack, f"unclosed elements in {fragment!r}"
    out = []
    for text, stack in parser.runs:
        parts = []
        for tag, attrs in stack:
            if tag == "a":
                parts.append(f"href={attrs['href']}")
            if attrs.get("class"):
                parts.append(f"class={attrs['class']}")
            if attrs.get("style"):
                parts.append(f"style={attrs['style']}")
        out.append((text, " ".join(parts)))
    return out


# -- SGR attributes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "off", "cls"),
    [
        ("1", "22", "ansi-bold"),
        ("2", "22", "ansi-dim"),
        ("3", "23", "ansi-italic"),
        ("4", "24", "ansi-underline"),
        ("21", "24", "ansi-underline"),
        ("4:3", "4:0", "ansi-underline"),
        ("9", "29", "ansi-strike"),
        ("8", "28", "ansi-hidden"),
    ],
)
def test_attribute_and_its_reset(on: str, off: str, cls: str) -> None:
    (html,) = convert(f"a{ESC}[{on}mb{ESC}[{off}mc{ESC}[{on}md{ESC}[0me")
    assert runs(html) == [
        ("a", ""),
        ("b", f"class={cls}"),
        ("c", ""),
        ("d", f"class={cls}"),
        ("e", ""),
    ]


def test_blink_and_unknown_codes_are_accepted_and_ignored() -> None:
    (html,) = convert(f"{ESC}[5mx{ESC}[25;53;73my")
    assert html == "xy"


def test_bold_and_dim_share_reset_22() -> None:
    (html,) = convert(f"{ESC}[1;2ma{ESC}[22mb")
    assert runs(html) == [("a", "class=ansi-bold ansi-dim"), ("b", "")]


def test_empty_params_and_zero_reset() -> None:
    (html,) = convert(f"{ESC}[1;31ma{ESC}[mb{ESC}[31mc{ESC}[0md")
    assert runs(html) == [
        ("a", "class=ansi-fg-1 ansi-bold"),
        ("b", ""),
        ("c", "class=ansi-fg-1"),
        ("d", ""),
    ]


# -- colours -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("31", "class=ansi-fg-1"),
        ("37", "class=ansi-fg-7"),
        ("41", "class=ansi-bg-1"),
        ("91", "class=ansi-fg-9"),
        ("97", "class=ansi-fg-15"),
        ("101", "class=ansi-bg-9"),
        ("107", "class=ansi-bg-15"),
        ("38;5;9", "class=ansi-fg-9"),
        ("38;5;196", "style=color:#ff0000"),
        ("38;5;16", "style=color:#000000"),
        ("38;5;232", "style=color:#080808"),
        ("38;5;255", "style=color:#eeeeee"),
        ("48;5;21", "style=background-color:#0000ff"),
        ("38:5:208", "style=color:#ff8700"),
        ("38;2;1;2;3", "style=color:#010203"),
        ("38:2::10:20:30", "style=color:#0a141e"),
        ("38:2:0:10:20:30", "style=color:#0a141e"),
        ("38:2:10:20:30", "style=color:#0a141e"),
        ("48;2;255;255;255", "style=background-color:#ffffff"),
        ("48:2::0:0:0", "style=background-color:#000000"),
        ("31;44", "class=ansi-fg-1 ansi-bg-4"),
    ],
)
def test_colours(params: str, expected: str) -> None:
    (html,) = convert(f"{ESC}[{params}mx")
    assert runs(html) == [("x", expected)]


def test_default_foreground_and_background() -> None:
    (html,) = convert(f"{ESC}[31;42ma{ESC}[39mb{ESC}[49mc")
    assert runs(html) == [("a", "class=ansi-fg-1 ansi-bg-2"), ("b", "class=ansi-bg-2"), ("c", "")]


def test_underline_colour_58_is_consumed_with_its_arguments() -> None:
    (html,) = convert(f"{ESC}[58;2;1;2;3;31mx{ESC}[58:5:9;59my")
    assert runs(html) == [("x", "class=ansi-fg-1"), ("y", "class=ansi-fg-1")]


@pytest.mark.parametrize(
    "params", ["38;5;256", "38;5", "38;2;1;2", "38;2;1;2;300", "38;7;1", "38:5:", "38:2::1:2"]
)
def test_invalid_extended_colours_leave_the_colour_unchanged(params: str) -> None:
    (html,) = convert(f"{ESC}[32ma{ESC}[{params}mb")
    assert runs(html)[1] == ("b", "class=ansi-fg-2")


def test_inverse_swaps_colours_and_defaults() -> None:
    (html,) = convert(f"{ESC}[31;7ma{ESC}[42mb{ESC}[27mc")
    assert runs(html) == [
        ("a", "class=ansi-fg-inverse ansi-bg-1"),
        ("b", "class=ansi-fg-2 ansi-bg-1"),
        ("c", "class=ansi-fg-1 ansi-bg-2"),
    ]


def test_inline_styles_mode() -> None:
    (html,) = convert(f"{ESC}[1;3;4;9;31;44ma{ESC}[0;2;8;7mb", inline_styles=True)
    assert runs(html) == [
        (
            "a",
            f"style=color:{PALETTE[1]};background-color:{PALETTE[4]};font-weight:bold;"
            "font-style:italic;text-decoration:underline line-through",
        ),
        ("b", "style=color:#1e1e1e;background-color:#e6e6e6;opacity:.65;visibility:hidden"),
    ]
    assert "class=" not in html


def test_stylesheet_covers_every_class_the_converter_emits() -> None:
    html = "".join(
        convert(*(f"{ESC}[{p}mx" for p in ("1;2;3;4;9;8;7", "30;40", "97;107", "0", "90;100")))
    )
    for cls in set(re.findall(r'class="([^"]*)"', html)):
        for name in cls.split():
            assert f".{name}" in ANSI_CSS
    for index in range(16):
        assert f".ansi-fg-{index}{{color:{PALETTE[index]}}}" in ANSI_CSS


# -- state across lines and chunks --------------------------------------------------------


def test_style_carries_across_lines_and_each_line_is_self_contained() -> None:
    html = convert(f"{ESC}[1;32mgreen", "still green", "", f"end{ESC}[0m", "plain")
    assert runs(html[0]) == [("green", "class=ansi-fg-2 ansi-bold")]
    assert runs(html[1]) == [("still green", "class=ansi-fg-2 ansi-bold")]
    assert html[2] == ""
    assert runs(html[3]) == [("end", "class=ansi-fg-2 ansi-bold")]
    assert html[4] == "plain"


def test_reset_forgets_style_link_and_pending_text() -> None:
    converter = AnsiConverter()
    converter.feed(f"{ESC}]8;;https://a.example/{ESC}\\{ESC}[31mred\npending")
    assert converter.style != (None, None, 0)
    assert converter.link == "https://a.example/"
    converter.reset()
    assert converter.style == (None, None, 0)
    assert converter.link is None
    assert converter.flush() == []
    assert converter.convert("x") == "x"


COLOURED = (
    f"{ESC}[1m{ESC}[31mFAILED{ESC}[0m tests/t.py::test_x - {ESC}[38;2;255;128;0massert{ESC}[39m "
    f"<1> == '2' & {ESC}]8;;https://ci.example/run?a=1&b=2{ESC}\\link{ESC}]8;;{ESC}\\ "
    f"{ESC}[38:5:196mdone{ESC}[0m\r\n"
    f"second {ESC}[4munder{ESC}[24m line\n"
)


def test_chunks_split_at_every_offset_give_the_same_lines() -> None:
    whole = AnsiConverter()
    expected = whole.feed(COLOURED) + whole.flush()
    assert len(expected) == 2
    assert any("ansi-fg-1" in line for line in expected)
    for cut in range(len(COLOURED) + 1):
        converter = AnsiConverter()
        got = converter.feed(COLOURED[:cut]) + converter.feed(COLOURED[cut:]) + converter.flush()
        assert got == expected, cut


def test_chunks_split_into_single_characters() -> None:
    whole = AnsiConverter()
    expected = whole.feed(COLOURED)
    converter = AnsiConverter()
    got = [line for char in COLOURED for line in converter.feed(char)]
    assert got == expected
    assert converter.flush() == []


def test_feed_handles_crlf_split_between_chunks_and_flush_keeps_the_last_line() -> None:
    converter = AnsiConverter()
    assert converter.feed("one\r") == []
    assert converter.feed("\ntwo") == ["one"]
    assert converter.flush() == ["two"]
    assert converter.flush() == []


def test_feed_fast_path_keeps_carried_style() -> None:
    converter = AnsiConverter()
    converter.convert(f"{ESC}[33m")
    assert converter.feed("a\n\nb <c>\n") == [
        '<span class="ansi-fg-3">a</span>',
        "",
        '<span class="ansi-fg-3">b &lt;c&gt;</span>',
    ]


# -- OSC 8 hyperlinks ------------------------------------------------------------------------


def link(url: str, text: str = "text", terminator: str = f"{ESC}\\") -> str:
    return f"{ESC}]8;;{url}{terminator}{text}{ESC}]8;;{terminator}"


@pytest.mark.parametrize(
    "url",
    ["https://github.com/o/r/actions/runs/1", "http://example.com/a?b=1&c=2#x", "HTTPS://EX.COM/"],
)
def test_allowed_links_become_anchors(url: str) -> None:
    (html,) = convert(f"see {link(url)} now")
    assert runs(html) == [("see ", ""), ("text", f"href={url}"), (" now", "")]
    assert 'rel="noopener noreferrer nofollow"' in html


def test_link_with_bel_terminator_and_params_and_style_inside() -> None:
    url = "https://example.com/"
    (html,) = convert(f"{ESC}]8;id=7;{url}\x07{ESC}[31mred{ESC}]8;;\x07 after")
    assert runs(html) == [("red", f"href={url} class=ansi-fg-1"), (" after", "class=ansi-fg-1")]


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
        "file:///etc/passwd",
        'https://e.com/"onmouseover="alert(1)',
        "https://e.com/'x",
        "https://e.com/<script>",
        " https://e.com/",
        "//e.com/",
        "https://",
        "https://e.com/" + "a" * 3000,
    ],
)
def test_refused_links_keep_their_text(url: str) -> None:
    (html,) = convert(f"a {link(url, 'click')} b")
    assert "<a" not in html
    assert runs(html) == [("a click b", "")] or [t for t, _ in runs(html)] == ["a ", "click", " b"]
    assert strip_ansi(f"a {link(url, 'click')} b") == "a click b"


def test_link_carries_across_lines() -> None:
    html = convert(f"{ESC}]8;;https://e.com/{ESC}\\one", f"two{ESC}]8;;{ESC}\\three")
    assert runs(html[0]) == [("one", "href=https://e.com/")]
    assert runs(html[1]) == [("two", "href=https://e.com/"), ("three", "")]


def test_only_http_and_https_can_be_allowed() -> None:
    with pytest.raises(ValueError, match="http and https"):
        AnsiConverter(schemes=("http", "javascript"))
    (html,) = [AnsiConverter(schemes=("https",)).convert(link("http://e.com/"))]
    assert "<a" not in html


# -- other sequences are stripped -------------------------------------------------------------


@pytest.mark.parametrize(
    "sequence",
    [
        f"{ESC}[2K",  # erase line
        f"{ESC}[1G",  # cursor to column 1
        f"{ESC}[3A",  # cursor up
        f"{ESC}[?25l",  # hide cursor
        f"{ESC}[?25h",
        f"{ESC}[?2004h",  # bracketed paste
        f"{ESC}[2J",
        f"{ESC}[H",
        f"{ESC}[10;20H",
        f"{ESC}[>4;1m",  # private-marker "m" (xterm modifyOtherKeys) is not SGR
        f"{ESC}[31 m",  # intermediate byte: not SGR
        f"{ESC}]0;window title\x07",
        f"{ESC}]2;title{ESC}\\",
        f"{ESC}]133;A\x07",  # shell-integration prompt mark
        f"{ESC}]52;c;aGVsbG8=\x07",  # clipboard
        f"{ESC}P1$r0m{ESC}\\",  # DCS
        f"{ESC}_application{ESC}\\",  # APC
        f"{ESC}(B",  # charset designation
        f"{ESC}7",
        f"{ESC}8",
        f"{ESC}=",
        f"{ESC}M",
        f"{ESC}\\",
    ],
)
def test_other_sequences_are_removed(sequence: str) -> None:
    (html,) = convert(f"a{sequence}b")
    assert html == "ab"
    assert strip_ansi(f"a{sequence}b") == "ab"


# -- \r progress bars ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "visible"),
    [
        ("10%\r50%\r100%", "100%"),
        ("done\r", "done"),
        ("\rstart", "start"),
        ("a\r\rb", "b"),
        ("\r\r", ""),
        (f"10%\r{ESC}[2K{ESC}[1G", "10%"),  # an erase after the last update shows nothing new
        (f"{ESC}[32mok{ESC}[0m\r{ESC}[2K", "ok"),
    ],
)
def test_carriage_return_keeps_the_last_visible_segment(line: str, visible: str) -> None:
    html, text = AnsiConverter().convert_with_text(line)
    assert text == visible
    assert strip_ansi(line) == visible
    assert "".join(t for t, _ in runs(html)) == visible


def test_styles_from_overwritten_segments_still_apply() -> None:
    converter = AnsiConverter()
    (html,) = [converter.convert(f"{ESC}[31m 10%\r{ESC}[1m100%")]
    assert runs(html) == [("100%", "class=ansi-fg-1 ansi-bold")]
    assert runs(converter.convert("next")) == [("next", "class=ansi-fg-1 ansi-bold")]


def test_pip_style_progress_bar() -> None:
    bar = (
        f"   {ESC}[90m━━━━━━━━{ESC}[0m {ESC}[32m0.0/75.6 kB{ESC}[0m {ESC}[31m?{ESC}[0m eta "
        f"{ESC}[36m-:--:--{ESC}[0m\r   {ESC}[38;5;197m━━━━━━━━{ESC}[0m {ESC}[32m75.6/75.6 kB"
        f"{ESC}[0m {ESC}[31m2.1 MB/s{ESC}[0m eta {ESC}[36m0:00:00{ESC}[0m"
    )
    html, text = AnsiConverter().convert_with_text(bar)
    assert text == "   ━━━━━━━━ 75.6/75.6 kB 2.1 MB/s eta 0:00:00"
    assert "0.0/75.6" not in html
    assert "color:#ff005f" in html


# -- escaping ---------------------------------------------------------------------------------


def test_all_five_special_characters_are_escaped_in_text() -> None:
    for html in convert("<script>alert('x')</script> & \"q\"", f"{ESC}[31m<b>&'\""):
        assert "<script" not in html
        assert "<b>" not in html
        for raw in ("'", '"'):
            assert raw not in re.sub(r'(class|style|href|rel)="[^"]*"', "", html)
    assert convert("<&>\"'")[0] == "&lt;&amp;&gt;&quot;&#x27;"


def test_ampersand_in_href_is_escaped() -> None:
    (html,) = convert(link("https://e.com/?a=1&b=<2>"))
    assert "<a" not in html  # "<" is refused in URLs
    (html,) = convert(link("https://e.com/?a=1&b=2"))
    assert 'href="https://e.com/?a=1&amp;b=2"' in html


# -- malformed input policies --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "visible"),
    [
        (f"a{ESC}", "a"),  # lone ESC at the end
        (f"a{ESC}[31", "a[31"),  # CSI without final byte
        (f"a{ESC}[31\x07b", "a[31b"),  # CSI interrupted by BEL
        (f"a{ESC}[31éb", "a[31éb"),  # CSI interrupted by a non-CSI character
        (f"a{ESC}]8;;https://e.com/ no terminator", "a]8;;https://e.com/ no terminator"),
        (f"a{ESC}]0;title\tb", "a]0;title\tb"),  # OSC interrupted by a control
        (f"a{ESC}[{'1;' * MAX_CSI_CHARS}31mb", "a[" + "1;" * MAX_CSI_CHARS + "31mb"),
        (f"a{ESC}]0;{'t' * (MAX_OSC_CHARS + 1)}\x07b", f"a]0;{'t' * (MAX_OSC_CHARS + 1)}b"),
        (f"a{ESC}{ESC}[31mb", "ab"),  # doubled ESC: the first is lone
        (f"a{ESC}\x07b", "ab"),
    ],
)
def test_broken_sequences_lose_no_text(line: str, visible: str) -> None:
    html, text = AnsiConverter().convert_with_text(line)
    assert text == visible
    assert strip_ansi(line) == visible
    assert "".join(t for t, _ in runs(html)) == visible


def test_controls_are_removed_and_csi_survives_an_embedded_control() -> None:
    html, text = AnsiConverter().convert_with_text(f"a\x00b\x08c\x7fd\x85e{ESC}[3\x001mred\x07")
    assert text == "abcdered"
    assert runs(html)[-1] == ("red", "class=ansi-fg-1")


def test_tab_is_kept_and_lone_surrogates_become_replacement_characters() -> None:
    bad = b"caf\xe9 \xff".decode("utf-8", "surrogateescape")
    html, text = AnsiConverter().convert_with_text(f"\t{bad}")
    assert text == "\tcaf\ufffd \ufffd"
    html.encode("utf-8")  # always encodable
    assert AnsiConverter().convert(b"\xff ok".decode("utf-8", "replace")) == "\ufffd ok"


def test_huge_lines_are_emitted_in_pieces_without_cutting_a_sequence() -> None:
    limit = MAX_OSC_CHARS + 16
    converter = AnsiConverter(max_line_chars=limit)
    body = ("x" * (limit - 3)) + f"{ESC}[31m" + "y" * (2 * limit) + "\n"
    lines = converter.feed(body[:100]) + converter.feed(body[100:])
    assert len(lines) == 4  # x…x | ESC[31m y… | y… | yyyyy
    assert max(len(line) for line in lines) < limit + 40
    visible = "".join("".join(t for t, _ in runs(line)) for line in lines)
    assert visible == body[:-1].replace(f"{ESC}[31m", "")
    assert runs(lines[0]) == [("x" * (limit - 3), "")]
    assert all(cls == "class=ansi-fg-1" for line in lines[1:] for _, cls in runs(line))
    one_chunk = AnsiConverter(max_line_chars=limit).feed(body)
    assert one_chunk == lines
    with pytest.raises(ValueError, match="max_line_chars"):
        AnsiConverter(max_line_chars=10)


def test_split_long_line_moves_the_cut_before_an_escape() -> None:
    text = "abc" + f"{ESC}[31m" + "def"
    assert split_long_line(text, 5) == ["abc", f"{ESC}[31m", "def"]
    assert split_long_line("abcdef", 4) == ["abcd", "ef"]
    assert split_long_line("", 4) == [""]
    assert "".join(split_long_line(text * 50, 7)) == text * 50
    with pytest.raises(ValueError, match="limit"):
        split_long_line("x", 0)


def test_invalid_default_colours_are_refused() -> None:
    with pytest.raises(ValueError, match="rrggbb"):
        AnsiConverter(default_fg="red;background:url(x)")


def test_memo_tables_stay_bounded_and_keep_the_current_style() -> None:
    converter = AnsiConverter()
    for i in range(5000):  # 5000 distinct truecolour states
        html = converter.convert(f"{ESC}[38;2;{i % 256};{i // 256};7mx")
        assert html == f'<span style="color:#{i % 256:02x}{i // 256:02x}07">x</span>'
    assert len(converter._states) <= 4096
    assert converter.convert("carried") == '<span style="color:#871307">carried</span>'
    converter.convert(f"{ESC}]8;;https://e.com/{ESC}\\")
    assert converter.link == "https://e.com/"


def test_the_two_fast_path_checks_agree_on_every_ascii_character() -> None:
    from rxsse.domain.ansi import _FAST, _UNSAFE_ASCII

    for code in range(128):
        assert (bytes([code]) in _UNSAFE_ASCII) == (_FAST.search(chr(code)) is not None), code
    converter = AnsiConverter()
    assert converter.convert("a\tb") == "a\tb"
    assert converter.convert("a\x7fb") == "ab"
    assert converter.convert("a'b") == "a&#x27;b"
