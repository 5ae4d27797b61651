"""ANSI terminal output → HTML that is safe to insert into any page (pure: stdlib only).

:class:`AnsiConverter` is a stateful converter: the style set by one line
(``ESC[31m`` without a reset) carries over to the next line and the next
chunk, as in a terminal.  Each line it returns is a **self-contained HTML
fragment**: every element it opens is closed at the end of the line and
re-opened at the start of the next, so any line can be rendered alone (what
a virtual-scrolling view does).

**What is rendered.**  SGR (``ESC[...m``): reset, bold, dim, italic,
underline (``4`` and ``4:x``), inverse, hidden, strike and their resets
(``22``-``29``), blink accepted and ignored; foreground/background 8 and
16 colours (``30``-``37``, ``40``-``47``, ``90``-``97``, ``100``-``107``),
256 colours and truecolour in both forms (``38;5;n``, ``38;2;r;g;b``,
``38:5:n``, ``38:2::r:g:b``, ``38:2:r:g:b``), default colours (``39``,
``49``); underline colour (``58``/``59``) is parsed and ignored.  Inverse
swaps foreground and background.  OSC 8 hyperlinks become ``<a href>``
when the URL's scheme is on the allowlist (``http``, ``https``); a refused
URL keeps its link text, unlinked.

**Output.**  Only ``<span class=... style=...>`` and ``<a href=...
rel=...>`` elements are produced.  By default colours 0-15 and attributes
are CSS classes (``ansi-fg-1``, ``ansi-bold``, …; see :data:`ANSI_CSS`) and
256-colour/truecolour values an inline ``style`` made only from numbers we
computed; ``inline_styles=True`` puts everything in ``style``.  Every text
character and the ``href`` value go through :func:`html.escape`, so all of
``& < > " '`` are escaped.

**Policies for malformed input** (no visible character is ever lost):

* every other escape sequence (CSI cursor moves, erase, ``?25l``, SGR with
  intermediates or private markers, OSC titles, DCS/SOS/PM/APC strings, two
  and three character escapes such as ``ESC ( B`` or ``ESC 7``) is removed;
* a sequence that is not complete (``ESC[31`` at the end of a line, an OSC
  without its ``BEL``/``ESC \\`` terminator, a CSI or OSC longer than
  :data:`MAX_CSI_CHARS`/:data:`MAX_OSC_CHARS`) is **not** a sequence: only
  the ``ESC`` is dropped and the characters after it are shown as text;
* invalid SGR values (a 256-colour index above 255, a truecolour component
  above 255, a missing argument) leave that attribute unchanged; after a
  ``38``/``48``/``58`` with an unknown colour mode the rest of that sequence
  is ignored (how many arguments it takes is unknowable);
* C0 and C1 control characters other than tab, line feed, carriage return,
  ``ESC`` and ``BEL`` are removed before sequences are parsed (a terminal
  executes them without printing), ``BEL`` outside an OSC is removed;
* lone surrogates (text decoded with ``surrogateescape``) become U+FFFD; a
  U+FFFD from an earlier ``errors="replace"`` decoding is ordinary text;
* ``\\r`` inside a line (progress bars) keeps only the **last segment with
  visible text**, so ``"10%\\r50%\\r100%"`` shows ``100%`` and a trailing
  ``\\r`` (CRLF line ends) changes nothing; styles set in the dropped
  segments still apply;
* in :meth:`AnsiConverter.feed`, a line longer than ``max_line_chars`` is
  emitted in pieces of at most that many characters, never cutting an
  escape sequence.

**Speed.**  A line without ``ESC``, ``\\r`` or control characters takes one
compiled-regex search and :func:`html.escape`; :meth:`AnsiConverter.feed`
escapes and splits a whole chunk of such lines at once.  Style transitions
and the tags of each style are memoised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import escape
from typing import Final

from rxsse._native import speedups

__all__ = [
    "ANSI_CSS",
    "MAX_CSI_CHARS",
    "MAX_OSC_CHARS",
    "PALETTE",
    "AnsiConverter",
    "split_long_line",
    "strip_ansi",
]

MAX_CSI_CHARS: Final = 128
"""Longest parameter string of a CSI sequence; a longer one is not a sequence."""

MAX_OSC_CHARS: Final = 4096
"""Longest payload of an OSC/DCS/SOS/PM/APC string; a longer one is not a sequence."""

MAX_URL_CHARS: Final = 2048
"""Longest OSC 8 URL that is linked; a longer one is refused (its text is kept)."""

PALETTE: Final[tuple[str, ...]] = (
    "#000000",
    "#cd0000",
    "#00cd00",
    "#cdcd00",
    "#0000ee",
    "#cd00cd",
    "#00cdcd",
    "#e5e5e5",
    "#7f7f7f",
    "#ff0000",
    "#00ff00",
    "#ffff00",
    "#5c5cff",
    "#ff00ff",
    "#00ffff",
    "#ffffff",
)
"""The 16 basic colours (xterm's defaults), used by inline styles and :data:`ANSI_CSS`."""

# Style flags.
_BOLD: Final = 1
_DIM: Final = 2
_ITALIC: Final = 4
_UNDERLINE: Final = 8
_INVERSE: Final = 16
_HIDDEN: Final = 32
_STRIKE: Final = 64

Colour = int | str | None
"""A palette index 0-255, a ``#rrggbb`` truecolour, or ``None`` for the default."""
Style = tuple[Colour, Colour, int]
"""(foreground, background, flags)."""
_DEFAULT: Final[Style] = (None, None, 0)

# C0/C1 controls other than \t \n \r ESC BEL; lone surrogates.
_CONTROLS: Final = re.compile(r"[\x00-\x06\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f-\x9f]+")
_SURROGATES: Final = re.compile(r"[\ud800-\udfff]")
_DIRTY: Final = re.compile(r"[\x00-\x06\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f-\x9f\ud800-\udfff]")
# Anything that takes a line off the fast path; _FAST adds the characters HTML escapes.
_SPECIAL: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_FAST: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff&<>\"']")
_HTML_CHARS: Final = re.compile(r"[&<>\"']")
_UNSAFE_ASCII: Final = bytes([*range(0x09), *range(0x0B, 0x20), 0x7F]) + b"&<>\"'"


def _ascii_html_safe_py(line: str) -> bool:
    """``line`` is ASCII with no control but TAB and LF and none of ``&<>"'``: its own HTML.

    One C-level pass over the bytes: delete the unsafe ones, compare lengths.
    ``rxsse._speedups.ascii_html_safe`` is the same check in C, used when built.
    """
    return line.isascii() and len(line.encode().translate(None, _UNSAFE_ASCII)) == len(line)


_native = speedups()
_ascii_html_safe: Final = _ascii_html_safe_py if _native is None else _native.ascii_html_safe
_ESCAPE: Final = re.compile(
    r"\x1b(?:"
    rf"\[([0-9;:]{{0,{MAX_CSI_CHARS}}})m"  # 1: SGR parameters
    rf"|\[[0-?]{{0,{MAX_CSI_CHARS}}}[ -/]{{0,8}}[@-~]"  # any other CSI
    rf"|\]([^\x00-\x1f\x7f]{{0,{MAX_OSC_CHARS}}})(?:\x07|\x1b\\)"  # 2: OSC payload
    rf"|[PX^_][^\x00-\x1f\x7f]{{0,{MAX_OSC_CHARS}}}(?:\x07|\x1b\\)"  # DCS, SOS, PM, APC
    r"|[ -/]{0,8}[0-OQ-WYZ\\`-~]"  # nF / Fp / Fe / Fs escapes (ESC ( B, ESC 7, ...)
    r")?"  # a lone ESC matches too, and is dropped on its own
)
_URL: Final = re.compile(r"https?://[^\s\"'<>\\^`{|}\x00-\x1f\x7f-\x9f]+", re.IGNORECASE)

_CUBE: Final = (0, 95, 135, 175, 215, 255)


def _hex_of_index(index: int) -> str:
    """``#rrggbb`` of xterm 256-colour ``index`` (16-231 cube, 232-255 greys)."""
    if index < 16:
        return PALETTE[index]
    if index < 232:
        n = index - 16
        r, g, b = _CUBE[n // 36], _CUBE[n // 6 % 6], _CUBE[n % 6]
    else:
        r = g = b = 8 + 10 * (index - 232)
    return f"#{r:02x}{g:02x}{b:02x}"


def _css_classes() -> str:
    rules = [
        ".ansi-bold{font-weight:bold}",
        ".ansi-dim{opacity:.65}",
        ".ansi-italic{font-style:italic}",
        ".ansi-underline{text-decoration:underline}",
        ".ansi-strike{text-decoration:line-through}",
        ".ansi-underline.ansi-strike{text-decoration:underline line-through}",
        ".ansi-hidden{visibility:hidden}",
        ".ansi-fg-inverse{color:var(--ansi-bg,#ffffff)}",
        ".ansi-bg-inverse{background-color:var(--ansi-fg,#000000)}",
    ]
    for index, colour in enumerate(PALETTE):
        rules.append(f".ansi-fg-{index}{{color:{colour}}}")
        rules.append(f".ansi-bg-{index}{{background-color:{colour}}}")
    return "\n".join(rules)


ANSI_CSS: Final = _css_classes()
"""The stylesheet for the class-based output (put it in a ``<style>`` element once).

``--ansi-fg``/``--ansi-bg`` (CSS custom properties) set the colours that
inverse video swaps when a line uses the default foreground or background.
"""


# -- SGR ---------------------------------------------------------------------------------------

_MAX_STATES: Final = 4096  # distinct (style, link) states one converter memoises
_SGR_CACHE: dict[tuple[Style, str], Style] = {}
_SGR_CACHE_LIMIT: Final = 8192


def _component(text: str) -> int | None:
    if not text.isdigit() or len(text) > 3:
        return None
    value = int(text)
    return value if value <= 255 else None


def _extended(args: list[str]) -> tuple[Colour, int]:
    """Parse ``5;n`` or ``2;r;g;b`` after a 38/48/58: (colour or None if invalid, items used)."""
    if not args:
        return None, 0
    if args[0] == "5":
        return (_component(args[1]) if len(args) > 1 else None), 2
    if args[0] == "2":
        r, g, b = (_component(a) for a in [*args[1:4], "", "", ""][:3])
        if r is not None and g is not None and b is not None:
            return f"#{r:02x}{g:02x}{b:02x}", 4
        return None, min(len(args), 4)
    return None, len(args)  # unknown colour mode: the rest of the sequence is ambiguous


def _extended_colon(sub: list[str]) -> Colour:
    """Parse the colon form after 38/48/58: ``5:n``, ``2::r:g:b``, ``2:cs:r:g:b``, ``2:r:g:b``."""
    if sub and sub[0] == "2":
        rgb = sub[2:5] if len(sub) >= 5 else sub[1:4]
        colour, _ = _extended(["2", *rgb])
        return colour
    colour, _ = _extended(sub)
    return colour


def _apply_sgr(style: Style, params: str) -> Style:
    """The style after SGR ``params`` (memoised; pure)."""
    key = (style, params)
    cached = _SGR_CACHE.get(key)
    if cached is not None:
        return cached
    fg, bg, flags = style
    items = params.split(";")
    i, n = 0, len(items)
    while i < n:
        item = items[i]
        i += 1
        if ":" in item:
            head, *sub = item.split(":")
            if head in ("38", "48"):
                colour = _extended_colon(sub)
                if colour is not None:
                    if head == "38":
                        fg = colour
                    else:
                        bg = colour
            elif head == "4":
                flags = flags & ~_UNDERLINE if sub[:1] == ["0"] else flags | _UNDERLINE
            continue
        if len(item) > 3:
            continue
        code = int(item) if item else 0
        if code == 0:
            fg, bg, flags = None, None, 0
        elif code == 1:
            flags |= _BOLD
        elif code == 2:
            flags |= _DIM
        elif code == 3:
            flags |= _ITALIC
        elif code in (4, 21):
            flags |= _UNDERLINE
        elif code == 7:
            flags |= _INVERSE
        elif code == 8:
            flags |= _HIDDEN
        elif code == 9:
            flags |= _STRIKE
        elif code == 22:
            flags &= ~(_BOLD | _DIM)
        elif code == 23:
            flags &= ~_ITALIC
        elif code == 24:
            flags &= ~_UNDERLINE
        elif code == 27:
            flags &= ~_INVERSE
        elif code == 28:
            flags &= ~_HIDDEN
        elif code == 29:
            flags &= ~_STRIKE
        elif 30 <= code <= 37:
            fg = code - 30
        elif 40 <= code <= 47:
            bg = code - 40
        elif 90 <= code <= 97:
            fg = code - 82
        elif 100 <= code <= 107:
            bg = code - 92
        elif code == 39:
            fg = None
        elif code == 49:
            bg = None
        elif code in (38, 48, 58):
            colour, used = _extended(items[i:])
            i += used
            if colour is not None and code != 58:
                if code == 38:
                    fg = colour
                else:
                    bg = colour
        # everything else (blink 5/6/25, fonts, overline, 59, ...) is accepted and ignored
    result: Style = (fg, bg, flags)
    if len(_SGR_CACHE) >= _SGR_CACHE_LIMIT:
        _SGR_CACHE.clear()
    _SGR_CACHE[key] = result
    return result


# -- the converter ---------------------------------------------------------------------------


def _check_hex(value: str) -> str:
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        raise ValueError(f"colour must be #rrggbb, not {value!r}")
    return value.lower()


class AnsiConverter:
    """Stateful ANSI → HTML converter (see the module docstring for every rule).

    ``convert(line)`` converts one line and returns its HTML;
    ``convert_with_text(line)`` also returns the line's visible text.
    ``feed(chunk)`` takes arbitrary chunks of a stream (lines end with
    ``\\n``; ``\\r\\n`` works; escape sequences and lines may be split
    anywhere) and returns the HTML of each line the chunk completed;
    ``flush()`` returns the last, unterminated line.  The style and an open
    OSC 8 link carry over between lines and chunks until ``reset()``.

    ``inline_styles`` puts colours and attributes into ``style`` attributes
    instead of classes; ``default_fg``/``default_bg`` are then the colours
    inverse video swaps in.  ``schemes`` is the URL scheme allowlist of OSC 8
    links (only ``http`` and ``https`` are allowed at most).

    Internally each distinct (style, link) state gets a small integer, and
    the transition of a state by an SGR parameter string is memoised, so a
    repeated colour change costs one dictionary lookup.
    """

    __slots__ = (
        "_ids",
        "_inline",
        "_pending",
        "_pending_size",
        "_prefix",
        "_schemes",
        "_state",
        "_states",
        "_suffix",
        "_tags",
        "_transitions",
        "default_bg",
        "default_fg",
        "max_line_chars",
    )

    def __init__(
        self,
        *,
        inline_styles: bool = False,
        default_fg: str = "#e6e6e6",
        default_bg: str = "#1e1e1e",
        schemes: Iterable[str] = ("http", "https"),
        max_line_chars: int = 1 << 20,
    ) -> None:
        if max_line_chars < MAX_OSC_CHARS + 16:
            raise ValueError(f"max_line_chars must be at least {MAX_OSC_CHARS + 16}")
        allowed = {s.lower() for s in schemes}
        if not allowed <= {"http", "https"}:
            raise ValueError(f"only http and https links can be allowed, not {sorted(allowed)}")
        self._inline = inline_styles
        self.default_fg = _check_hex(default_fg)
        self.default_bg = _check_hex(default_bg)
        self._schemes = frozenset(allowed)
        self.max_line_chars = max_line_chars
        self._pending: list[str] = []
        self._pending_size = 0
        self._states: list[tuple[Style, str | None]] = []
        self._ids: dict[tuple[Style, str | None], int] = {}
        self._tags: list[tuple[str, str]] = []
        self._transitions: dict[tuple[int, str], int] = {}
        self._state = 0
        self._prefix = ""
        self._suffix = ""
        self._enter(_DEFAULT, None)

    # -- state ---------------------------------------------------------------------------

    @property
    def style(self) -> Style:
        """The current (foreground, background, flags) carried to the next text."""
        return self._states[self._state][0]

    @property
    def link(self) -> str | None:
        """The URL of the open OSC 8 link, if any (only allowed URLs)."""
        return self._states[self._state][1]

    def reset(self) -> None:
        """Forget style, link and any unterminated line."""
        self._pending.clear()
        self._pending_size = 0
        self._enter(_DEFAULT, None)

    def _intern(self, style: Style, link: str | None) -> int:
        key = (style, link)
        state = self._ids.get(key)
        if state is None:
            state = len(self._states)
            self._ids[key] = state
            self._states.append(key)
            self._tags.append(self._make_tags(style, link))
        return state

    def _compact(self) -> None:
        """Bound the memo tables: forget every state but the current one (which becomes 0)."""
        current = self._states[self._state]
        tags = self._tags[self._state]
        self._states.clear()
        self._ids.clear()
        self._tags.clear()
        self._transitions.clear()
        self._states.append(current)
        self._ids[current] = 0
        self._tags.append(tags)
        self._state = 0

    def _enter(self, style: Style, link: str | None) -> None:
        if len(self._states) >= _MAX_STATES:
            self._compact()
        state = self._intern(style, link)
        self._state = state
        self._prefix, self._suffix = self._tags[state]

    def _make_tags(self, style: Style, link: str | None) -> tuple[str, str]:
        fg, bg, flags = style
        classes: list[str] = []
        css: list[str] = []
        inline = self._inline
        if flags & _INVERSE:
            fg, bg = bg, fg
            if fg is None:
                if inline:
                    css.append(f"color:{self.default_bg}")
                else:
                    classes.append("ansi-fg-inverse")
            if bg is None:
                if inline:
                    css.append(f"background-color:{self.default_fg}")
                else:
                    classes.append("ansi-bg-inverse")
        for colour, cls, prop in ((fg, "ansi-fg-", "color"), (bg, "ansi-bg-", "background-color")):
            if colour is None:
                continue
            if isinstance(colour, int) and colour < 16 and not inline:
                classes.append(f"{cls}{colour}")
            else:
                value = _hex_of_index(colour) if isinstance(colour, int) else colour
                css.append(f"{prop}:{value}")
        if inline:
            if flags & _BOLD:
                css.append("font-weight:bold")
            if flags & _DIM:
                css.append("opacity:.65")
            if flags & _ITALIC:
                css.append("font-style:italic")
            lines = [
                name
                for bit, name in ((_UNDERLINE, "underline"), (_STRIKE, "line-through"))
                if flags & bit
            ]
            if lines:
                css.append("text-decoration:" + " ".join(lines))
            if flags & _HIDDEN:
                css.append("visibility:hidden")
        else:
            for bit, name in (
                (_BOLD, "ansi-bold"),
                (_DIM, "ansi-dim"),
                (_ITALIC, "ansi-italic"),
                (_UNDERLINE, "ansi-underline"),
                (_STRIKE, "ansi-strike"),
                (_HIDDEN, "ansi-hidden"),
            ):
                if flags & bit:
                    classes.append(name)
        prefix = suffix = ""
        if classes or css:
            attrs = ""
            if classes:
                attrs += f' class="{" ".join(classes)}"'
            if css:
                attrs += f' style="{";".join(css)}"'
            prefix, suffix = f"<span{attrs}>", "</span>"
        if link is not None:
            href = escape(link, quote=True)
            prefix = f'<a href="{href}" rel="noopener noreferrer nofollow">{prefix}'
            suffix = f"{suffix}</a>"
        return prefix, suffix

    # -- one line ------------------------------------------------------------------------

    def convert(self, line: str) -> str:
        """HTML of one line, with the style carried in from earlier lines."""
        # The fast paths: nothing to strip or interpret, at most the five characters to
        # escape.  For ASCII text, one C-level pass (_ascii_html_safe) and
        # str.isprintable() beat regex searches.
        if _ascii_html_safe(line):
            html = line
        elif line.isascii():
            if line.isprintable() or _SPECIAL.search(line) is None:
                html = escape(line)
            else:
                return self._convert_special(line, None)
        elif _FAST.search(line) is None:
            html = line
        elif _SPECIAL.search(line) is None:
            html = escape(line)
        else:
            return self._convert_special(line, None)
        if self._prefix and html:
            return self._prefix + html + self._suffix
        return html

    def convert_with_text(self, line: str) -> tuple[str, str]:
        """``(html, visible_text)`` of one line; the text is what the HTML shows."""
        if _SPECIAL.search(line) is None:
            html = escape(line)
            if self._prefix and line:
                html = self._prefix + html + self._suffix
            return html, line
        texts: list[str] = []
        html = self._convert_special(line, texts)
        return html, "".join(texts)

    def _convert_special(self, line: str, texts: list[str] | None) -> str:
        if _DIRTY.search(line) is not None:
            line = _clean(line)
        if "\r" not in line:
            return self._segment(line, texts)
        chosen = ""
        chosen_texts: list[str] = []
        for segment in line.split("\r"):
            segment_texts: list[str] = []
            html = self._segment(segment, segment_texts)
            if segment_texts:
                chosen, chosen_texts = html, segment_texts
        if texts is not None:
            texts.extend(chosen_texts)
        return chosen

    def _segment(self, segment: str, texts: list[str] | None) -> str:
        """HTML of a line without ``\\r`` or controls other than BEL; visible runs to ``texts``."""
        bell = "\x07" in segment
        quote = _HTML_CHARS.search(segment) is not None
        if "\x1b" not in segment:
            text = segment.replace("\x07", "") if bell else segment
            if not text:
                return ""
            if texts is not None:
                texts.append(text)
            return self._prefix + (escape(text) if quote else text) + self._suffix
        # split() gives [text, sgr, osc, text, sgr, osc, ..., text]; groups are None
        # for sequences that are only removed (other CSI, lone ESC, ...).
        parts = _ESCAPE.split(segment)
        if bell:
            parts = [p.replace("\x07", "") if p else p for p in parts]
        out: list[str] = []
        append = out.append
        prefix, suffix = self._prefix, self._suffix
        transitions = self._transitions
        state = self._state
        text = parts[0]
        if text:
            if texts is not None:
                texts.append(text)
            append(prefix + (escape(text) if quote else text) + suffix)
        for params, payload, text in zip(parts[1::3], parts[2::3], parts[3::3], strict=True):
            if params is not None:  # SGR
                key = (state, params)
                new = transitions.get(key)
                if new is None:
                    if len(self._states) >= _MAX_STATES:
                        self._compact()
                        state = 0
                        key = (state, params)
                    style, link = self._states[state]
                    new = self._intern(_apply_sgr(style, params), link)
                    transitions[key] = new
                if new != state:
                    state = self._state = new
                    prefix, suffix = self._prefix, self._suffix = self._tags[new]
            elif payload is not None and payload.startswith("8;"):
                self._osc8(payload)
                state = self._state
                prefix, suffix = self._prefix, self._suffix
            if text:
                if texts is not None:
                    texts.append(text)
                append(prefix + (escape(text) if quote else text) + suffix)
        return "".join(out)

    def _osc8(self, payload: str) -> None:
        parts = payload.split(";", 2)
        if len(parts) != 3:
            return
        url = parts[2]
        link: str | None = None
        if url and len(url) <= MAX_URL_CHARS and _URL.fullmatch(url):
            scheme = url.split(":", 1)[0].lower()
            if scheme in self._schemes:
                link = url
        style, current = self._states[self._state]
        if link != current:
            self._enter(style, link)

    # -- a stream of chunks --------------------------------------------------------------

    def feed(self, chunk: str) -> list[str]:
        """HTML of every line completed by ``chunk`` (lines end with ``\\n``)."""
        end = chunk.rfind("\n")
        if end < 0:
            self._hold(chunk)
            return self._overflow()
        if self._pending:
            self._pending.append(chunk)
            chunk = "".join(self._pending)
            end += self._pending_size
            self._pending.clear()
            self._pending_size = 0
        rest = chunk[end + 1 :]
        body = chunk[:end]
        if rest:
            self._hold(rest)
        limit = self.max_line_chars
        if len(body) <= limit and _SPECIAL.search(body) is None:
            if _HTML_CHARS.search(body) is not None:
                body = escape(body)
            lines = body.split("\n")
            prefix = self._prefix
            if prefix:
                suffix = self._suffix
                return [prefix + line + suffix if line else "" for line in lines]
            return lines
        convert = self.convert
        out: list[str] = []
        for line in body.split("\n"):
            if len(line) > limit:
                out.extend(convert(piece) for piece in self._pieces(line))
            else:
                out.append(convert(line))
        return out + self._overflow() if rest else out

    def flush(self) -> list[str]:
        """The HTML of the unterminated last line, if any (the style is kept)."""
        if not self._pending:
            return []
        line = "".join(self._pending)
        self._pending.clear()
        self._pending_size = 0
        return [self.convert(line)]

    def _hold(self, text: str) -> None:
        if text:
            self._pending.append(text)
            self._pending_size += len(text)

    def _overflow(self) -> list[str]:
        """Emit pieces of a pending line longer than ``max_line_chars``."""
        if self._pending_size <= self.max_line_chars:
            return []
        pieces = self._pieces("".join(self._pending))
        text = pieces.pop()
        self._pending = [text] if text else []
        self._pending_size = len(text)
        return [self.convert(piece) for piece in pieces]

    def _pieces(self, text: str) -> list[str]:
        return split_long_line(text, self.max_line_chars)


def split_long_line(text: str, limit: int) -> list[str]:
    """``text`` cut into pieces of at most ``limit`` characters, never inside an escape sequence.

    A cut that would fall inside a sequence moves back to the sequence's
    ``ESC`` (unless that leaves an empty piece, possible only when ``limit``
    is shorter than the sequence).  The last piece may be shorter.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    pieces: list[str] = []
    start = 0
    while len(text) - start > limit:
        cut = start + limit
        esc = text.rfind("\x1b", max(start + 1, cut - MAX_OSC_CHARS - 16), cut)
        if esc > start:
            match = _ESCAPE.match(text, esc)
            if match is not None and match.end() > cut:
                cut = esc
        pieces.append(text[start:cut])
        start = cut
    pieces.append(text[start:])
    return pieces


def _clean(line: str) -> str:
    """Remove non-printing controls and replace lone surrogates (see the policies)."""
    if _CONTROLS.search(line) is not None:
        line = _CONTROLS.sub("", line)
    if _SURROGATES.search(line) is not None:
        line = _SURROGATES.sub("\ufffd", line)
    return line


def _strip_segment(segment: str) -> str:
    if "\x1b" in segment:
        segment = _ESCAPE.sub("", segment)
    return segment.replace("\x07", "") if "\x07" in segment else segment


def strip_ansi(line: str) -> str:
    """The visible text of one line: what :meth:`AnsiConverter.convert` shows, without HTML.

    Escape sequences, controls and overwritten ``\\r`` segments are removed
    by exactly the converter's rules (a ``\\n`` inside stays as it is).
    """
    if _SPECIAL.search(line) is None:
        return line
    line = _clean(line)
    if "\r" not in line:
        return _strip_segment(line)
    chosen = ""
    for segment in line.split("\r"):
        text = _strip_segment(segment)
        if text:
            chosen = text
    return chosen
