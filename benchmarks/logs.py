"""ANSI → HTML throughput: rxsse against ansi2html and rich, on the same lines, same run.

Run from the repository root with ``python -m benchmarks.logs`` (add
``--quick`` for a smoke test).  Every implementation turns the same corpus of
terminal output into HTML, called in two ways:

``per line`` (the live-log case: each line arrives in its own SSE event)
    rxsse: ``AnsiConverter().convert(line)`` per line; ansi2html: one
    ``Ansi2HTMLConverter(inline=False)``, ``.convert(line, full=False)`` per
    line; rich: ``Text.from_ansi(line)`` per line, each printed to one
    recording ``Console`` (truecolour, no wrapping), one
    ``export_html(inline_styles=False, code_format="{code}")`` at the end.
``whole text`` (a finished log converted in one go; reported, not judged)
    rxsse: ``AnsiConverter().feed(chunk)`` over 64 KiB chunks, then
    ``flush()`` (one HTML fragment per line); ansi2html:
    ``.convert(text, full=False)``; rich: ``Text.from_ansi(text)``, printed
    and exported as above.

The targets (4x ansi2html on ANSI-heavy lines, 20x on plain lines) are judged
per line, the way rxsse converts a live log: one event, one line, one HTML
fragment.  Whole-text rows are printed for completeness: on a plain log
converted in one call ansi2html does nearly no per-line work, while rxsse
still returns one fragment per line, so no per-line converter can be 20x
faster there.

Two corpora are generated deterministically (fixed seed), 20,000 lines each
(2,000 with ``--quick``):

``ANSI-heavy``
    CI tool output as the tools colour it: pytest progress and failures,
    pip download bars, vite build lines, git diff, coloured log levels, npm
    warnings, with 8/16-colour, 256-colour and truecolour SGR (about 7
    sequences and 60 visible characters per line).
``plain``
    the same lines with every escape sequence removed.

About one word in 30 needs HTML escaping (``<dict>``, ``a & b``, quotes),
so roughly one line in five has something to escape, as in real CI logs.
Neither corpus has ``\r`` or OSC 8 links, which the peers treat
differently.  Before timing, each output is parsed with ``html.parser`` and
its visible text compared with the corpus's (escape sequences removed);
for rich, ``Text.plain``.  The time of an implementation is the best of
``--repeats`` runs (implementations take turns; garbage collection is off
while one runs).  Ratios compare lines/s of rxsse with the peer's in the
same call pattern.
"""

from __future__ import annotations

if not __package__:  # run as a file, `python benchmarks/NAME.py`: import from the repository
    # root instead of benchmarks/, where http.py would shadow the standard library's http
    import sys as _sys
    from pathlib import Path as _Path

    _sys.path[0] = str(_Path(__file__).resolve().parent.parent)

import argparse
import gc
import io
import platform
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser

from ansi2html import Ansi2HTMLConverter
from rich.console import Console
from rich.text import Text

from benchmarks._common import positive_int as _positive_int
from benchmarks._common import rate as _rate
from benchmarks._common import version as _version
from rxsse.domain import ansi
from rxsse.domain.ansi import AnsiConverter, strip_ansi

__all__ = ["main"]

FULL_LINES = 20_000
QUICK_LINES = 2_000
FULL_REPEATS = 5
QUICK_REPEATS = 2
CHUNK = 64 * 1024
TARGETS = {"ANSI-heavy": 4.0, "plain": 20.0}  # rxsse / ansi2html lines/s

Convert = Callable[[str, Sequence[str]], list[str]]


# -- implementations ---------------------------------------------------------------------------


def rxsse_lines(text: str, lines: Sequence[str]) -> list[str]:
    convert = AnsiConverter().convert
    return [convert(line) for line in lines]


def rxsse_text(text: str, lines: Sequence[str]) -> list[str]:
    converter = AnsiConverter()
    feed = converter.feed
    out: list[str] = []
    for start in range(0, len(text), CHUNK):
        out.extend(feed(text[start : start + CHUNK]))
    out.extend(converter.flush())
    return out


def ansi2html_lines(text: str, lines: Sequence[str]) -> list[str]:
    convert = Ansi2HTMLConverter(inline=False).convert
    return [convert(line, full=False) for line in lines]


def ansi2html_text(text: str, lines: Sequence[str]) -> list[str]:
    return [Ansi2HTMLConverter(inline=False).convert(text, full=False)]


def _console() -> Console:
    return Console(
        file=io.StringIO(), record=True, width=10_000, force_terminal=True, color_system="truecolor"
    )


def rich_lines(text: str, lines: Sequence[str]) -> list[str]:
    console = _console()
    for line in lines:
        console.print(Text.from_ansi(line), soft_wrap=True, highlight=False)
    return [console.export_html(inline_styles=False, code_format="{code}")]


def rich_text(text: str, lines: Sequence[str]) -> list[str]:
    console = _console()
    console.print(Text.from_ansi(text), soft_wrap=True, highlight=False)
    return [console.export_html(inline_styles=False, code_format="{code}")]


NAMES = ("rxsse", "ansi2html", "rich")
MODES: dict[str, tuple[Convert, ...]] = {
    "per line": (rxsse_lines, ansi2html_lines, rich_lines),
    "whole text": (rxsse_text, ansi2html_text, rich_text),
}
_INDEX = {name: index for index, name in enumerate(NAMES)}


# -- corpora -----------------------------------------------------------------------------------

ESC = "\x1b"
_WORDS = (
    "request", "response", "module", "assert", "client", "server", "cache", "token", "build",
    "deploy", "worker", "queue", "value", "timeout", "retry", "session", "commit", "branch",
)  # fmt: skip
_ESCAPED_WORDS = ("<dict>", "a & b", "'quoted'", '"double"', "x < y")
ESCAPED_EVERY = 30
_PACKAGES = ("httpx", "pydantic", "reactivex", "anyio", "starlette", "uvicorn", "rich", "pytest")


def _sgr(*params: object) -> str:
    return f"{ESC}[{';'.join(str(p) for p in params)}m"


def _word(rng: random.Random) -> str:
    if rng.randrange(ESCAPED_EVERY) == 0:
        return rng.choice(_ESCAPED_WORDS)
    return rng.choice(_WORDS)


def _phrase(rng: random.Random, n: int) -> str:
    return " ".join(_word(rng) for _ in range(n))


def _ansi_line(rng: random.Random, n: int) -> str:
    kind = n % 8
    reset = _sgr(0)
    if kind == 0:  # pytest progress
        dots = "".join(
            rng.choice([f"{_sgr(32)}.{reset}"] * 8 + [f"{_sgr(31)}F{reset}"]) for _ in range(8)
        )
        return f"tests/test_{rng.choice(_WORDS)[:6]}.py {dots} {_sgr(32)}[{n % 100:3d}%]{reset}"
    if kind == 1:  # pytest failure
        return (
            f"{_sgr(1)}{_sgr(31)}E       assert {rng.randint(0, 999)} == {rng.randint(0, 999)}"
            f"{reset} - {_phrase(rng, 4)}"
        )
    if kind == 2:  # pip progress bar (final state)
        size = f"{rng.uniform(10, 900):.1f} kB"
        return (
            f"   {_sgr(38, 2, 249, 38, 114)}━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━{reset} "
            f"{_sgr(32)}{size}/{size}{reset} {_sgr(31)}{rng.uniform(1, 9):.1f} MB/s{reset} eta "
            f"{_sgr(36)}0:00:00{reset}"
        )
    if kind == 3:  # vite build output
        return (
            f"{_sgr(2)}dist/{_sgr(22)}{_sgr(36)}assets/{rng.choice(_PACKAGES)}-{n:x}.js{_sgr(39)}  "
            f"{_sgr(1)}{_sgr(2)}{rng.uniform(1, 300):.2f} kB{_sgr(22)}{_sgr(1)}{_sgr(22)} "
            f"{_sgr(2)}│ gzip: {rng.uniform(1, 90):.2f} kB{_sgr(22)}"
        )
    if kind == 4:  # git diff
        sign, colour = rng.choice([("+", 32), ("-", 31)])
        return f"{_sgr(colour)}{sign}    {_phrase(rng, 6)}{reset}{_sgr(41)} {reset}"
    if kind == 5:  # coloured log level, 256 colours
        level, colour = rng.choice([("ERROR", 196), ("WARN", 214), ("INFO", 33), ("DEBUG", 245)])
        return (
            f"{_sgr(38, 5, 245)}2024-05-01 12:{n % 60:02d}:{n % 59:02d}{reset} "
            f"{_sgr(1, 38, 5, colour)}{level:<5}{reset} {_sgr(38, 5, 109)}[main]{reset} "
            f"{_phrase(rng, 5)}"
        )
    if kind == 6:  # npm
        return (
            f"{_sgr(33)}npm{_sgr(39)} {_sgr(30, 43)}WARN{_sgr(0)} {_sgr(35)}deprecated{_sgr(39)} "
            f"{_phrase(rng, 5)}"
        )
    return (  # truecolour prompt-like line
        f"{_sgr(48, 2, 40, 44, 52)}{_sgr(38, 2, 220, 220, 170)} {rng.choice(_PACKAGES)} {reset}"
        f"{_sgr(4)}{_phrase(rng, 3)}{_sgr(24)} {_sgr(3)}{_phrase(rng, 2)}{_sgr(23)}"
    )


@dataclass(frozen=True)
class Corpus:
    name: str
    lines: list[str]
    text: str
    visible: list[str]


def make_corpora(n: int) -> list[Corpus]:
    rng = random.Random(6)
    ansi = [_ansi_line(rng, i) for i in range(n)]
    plain = [strip_ansi(line) for line in ansi]
    return [
        Corpus("ANSI-heavy", ansi, "\n".join(ansi) + "\n", plain),
        Corpus("plain", plain, "\n".join(plain) + "\n", plain),
    ]


# -- checking ------------------------------------------------------------------------------


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def check(name: str, corpus: Corpus, output: list[str]) -> None:
    """Raise ``RuntimeError`` unless ``output`` shows exactly the corpus's visible text."""
    expected = "\n".join(corpus.visible)
    if name == "rxsse":
        if len(output) != len(corpus.lines):
            raise RuntimeError(f"{name}: {len(output)} lines, expected {len(corpus.lines)}")
        got = "\n".join(visible_text(line) for line in output)
    elif name == "ansi2html":
        got = "\n".join(visible_text(part).rstrip("\n") for part in output)
    else:
        got = Text.from_ansi(corpus.text).plain.rstrip("\n")
    if got != expected:
        raise RuntimeError(f"{name} on {corpus.name}: visible text differs")


def time_best(converters: Sequence[Convert], corpus: Corpus, repeats: int) -> list[float]:
    best = [float("inf")] * len(converters)
    enabled = gc.isenabled()
    try:
        for _ in range(repeats):
            for index, convert in enumerate(converters):
                gc.collect()
                gc.disable()
                start = time.perf_counter()
                output = convert(corpus.text, corpus.lines)
                elapsed = time.perf_counter() - start
                if enabled:
                    gc.enable()
                del output
                best[index] = min(best[index], elapsed)
    finally:
        if enabled:
            gc.enable()
    return best


@dataclass(frozen=True)
class Row:
    corpus: str
    mode: str
    lines: int
    seconds: list[float]  # in NAMES order

    def rate(self, name: str) -> float:
        return self.lines / self.seconds[_INDEX[name]]

    def ratio(self, other: str) -> float:
        return self.seconds[_INDEX[other]] / self.seconds[_INDEX["rxsse"]]

    def met(self) -> bool | None:
        """Whether the target holds; ``None`` for whole-text rows (reported, not judged)."""
        if self.mode != "per line":
            return None
        return self.ratio("ansi2html") >= TARGETS[self.corpus]


def run(n: int, repeats: int) -> list[Row]:
    rows = []
    for corpus in make_corpora(n):
        for mode, converters in MODES.items():
            for name, convert in zip(NAMES, converters, strict=True):
                check(name, corpus, convert(corpus.text, corpus.lines))
            seconds = time_best(converters, corpus, repeats)
            rows.append(Row(corpus.name, mode, len(corpus.lines), seconds))
    return rows


# -- report ------------------------------------------------------------------------------------


def format_table(rows: Sequence[Row]) -> str:
    header = ["corpus", "calls", "lines", *(f"{name} lines/s" for name in NAMES)]
    header += ["rxsse/ansi2html", "rxsse/rich", "target"]
    align = ["---", "---"] + ["--:"] * (len(header) - 3) + [":-:"]
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    for row in rows:
        cells = [row.corpus, row.mode, f"{row.lines:,}", *(_rate(row.rate(n)) for n in NAMES)]
        cells += [
            f"{row.ratio('ansi2html'):.2f}x",
            f"{row.ratio('rich'):.1f}x",
            "info"
            if row.met() is None
            else f"≥{TARGETS[row.corpus]:g}x " + ("ok" if row.met() else "MISS"),
        ]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    """Generate the corpora, check every converter's visible text, time them, print a table."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.logs", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="small corpora, fewer repeats")
    parser.add_argument("--repeats", type=_positive_int, help="timed runs each (best is kept)")
    args = parser.parse_args(argv)
    n = QUICK_LINES if args.quick else FULL_LINES
    repeats = args.repeats or (QUICK_REPEATS if args.quick else FULL_REPEATS)
    started = time.perf_counter()
    rows = run(n, repeats)
    check = "C (rxsse._speedups)" if ansi._native is not None else "Python (no C extension)"
    print(
        f"## ANSI → HTML throughput{' (--quick)' if args.quick else ''}\n\n"
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"rxsse {_version('rxsse')}, ansi2html {_version('ansi2html')}, rich {_version('rich')}; "
        f"best of {repeats}; target = rxsse/ansi2html lines/s; plain-line check: {check}.\n"
    )
    print(format_table(rows))
    misses = [f"{row.corpus} / {row.mode}" for row in rows if row.met() is False]
    print(f"\nTargets missed: {', '.join(misses) if misses else 'none'}.")
    print(f"Total time {time.perf_counter() - started:.1f} s.")


if __name__ == "__main__":
    main()
