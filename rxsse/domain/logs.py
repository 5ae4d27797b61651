"""CI live logs: levels, runner lines, steps and groups, a view for virtual scrolling (pure).

The stream is shaped like GitHub Actions' live logs over SSE:

``step-start``
    data ``{"step": 3, "name": "Run tests"}`` (JSON; plain text is taken as
    the name of the next step number).
``log``
    data is either the raw log text (one or more lines, ``\\n``-separated,
    belonging to the step started last), or a JSON envelope
    ``{"step": 3, "lines": ["2024-05-01T12:34:56.1234567Z ...", ...]}`` (or
    ``"line": "..."``) — the envelope lets a line carry ``\\r``, which SSE
    data cannot.  An object is an envelope only when it has ``line`` or
    ``lines`` and no keys besides ``step``, ``line``, ``lines`` and ``id``, so
    a JSON log line is never mistaken for one.
``step-complete``
    data ``{"step": 3, "conclusion": "failure"}``.

Other event types are ignored.

**A raw line** (:func:`parse_line`) starts with the runner's timestamp
(``2024-05-01T12:34:56.1234567Z``, 0-7 fractional digits, kept to the
microsecond) and a space.  A line without one, after a line with one, is a
*continuation* of that line: it takes its timestamp and, unless its own
level is more specific than info, its level.  The body may be a runner
marker (``##[group]``, ``##[endgroup]``, ``##[section]``, ``##[command]``,
``##[error]``, ``##[warning]``, ``##[notice]``, ``##[debug]``) or a
workflow command (``::error file=a.py,line=3::msg``, ``::group::name``,
any ``::name props::msg``), exposed as :class:`Command` with the
``%25``/``%0D``/``%0A`` (and, in properties, ``%3A``/``%2C``) escapes
undone.

**Levels** (:func:`detect_level`) come from :data:`LEVEL_RULES`, an ordered
table: the first rule that answers wins, otherwise the level is info.  Pass
your own rules first (``rules=(my_rule, *LEVEL_RULES)``) to extend it.

**Steps and groups** (:class:`LogParser`): lines are numbered from 1 within
their step, in arrival order; filters never renumber them.  A group opens
with a group marker (its line is emitted, with ``group`` set to the group
name) and closes at the end marker (consumed, not emitted, not numbered), at
the next group marker (groups do not nest, as on GitHub) or when its step
completes; a stray end marker is ignored.

**Huge lines**: a line whose body (after the timestamp) is longer than
``max_line_chars`` becomes several lines with bodies of at most that length
(the later ones are continuations, never cut inside an escape sequence);
nothing is cut off.  Text decoded with ``errors="replace"`` shows its U+FFFD characters.

:class:`LogView` holds lines for a virtual-scrolling view: optional bounded
memory (the oldest lines are dropped), half-open ``range(start, end)``,
live filters by level, step and text, and per-level counts.
"""

from __future__ import annotations

import enum
import html
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict

from rxsse._event import ServerSentEvent
from rxsse.domain._html import HTMLReprMixin
from rxsse.domain.ansi import ANSI_CSS, AnsiConverter, split_long_line, strip_ansi

__all__ = [
    "LEVEL_RULES",
    "LOG_CSS",
    "Command",
    "Level",
    "LevelRule",
    "LevelledText",
    "LogFilter",
    "LogLine",
    "LogParser",
    "LogView",
    "ParsedLine",
    "Step",
    "detect_level",
    "level_rule",
    "lines_html",
    "parse_command",
    "parse_line",
]


class Level(enum.StrEnum):
    """Severity of a log line, most severe first."""

    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"
    INFO = "info"
    DEBUG = "debug"


_WORDS: Final[dict[str, Level]] = {
    **dict.fromkeys(
        ("error", "err", "fatal", "critical", "crit", "panic", "alert", "emerg", "emergency"),
        Level.ERROR,
    ),
    **dict.fromkeys(("severe", "failure", "failed"), Level.ERROR),
    **dict.fromkeys(("warning", "warn"), Level.WARNING),
    "notice": Level.NOTICE,
    **dict.fromkeys(("info", "information", "informational"), Level.INFO),
    **dict.fromkeys(("debug", "trace", "verbose", "dbg"), Level.DEBUG),
}


def _word_level(value: object) -> Level | None:
    """A level from a word (``"WARN"``) or a pino/bunyan number (``50``)."""
    if isinstance(value, str):
        return _WORDS.get(value.strip().lower())
    if isinstance(value, int) and not isinstance(value, bool):
        if value >= 50:
            return Level.ERROR
        if value >= 40:
            return Level.WARNING
        if value >= 30:
            return Level.INFO
        return Level.DEBUG
    return None


# -- the rule table -----------------------------------------------------------------------


@dataclass(frozen=True)
class LevelRule:
    """One row of the level table: ``match(text)`` returns a level or ``None`` (no opinion).

    ``text`` has its ANSI sequences removed already.  ``example`` is a line
    the rule answers, kept as documentation.
    """

    name: str
    match: Callable[[str], Level | None]
    example: str = ""


def level_rule(
    name: str,
    pattern: str,
    level: Level | None = None,
    *,
    words: Mapping[str, Level] | None = None,
    flags: int = 0,
    example: str = "",
) -> LevelRule:
    """A rule from a regular expression matched at the start of the text (``re.match``).

    With ``level``, a match means that level; without, the pattern's first
    group is looked up, lower-cased, in ``words`` and then among the level
    words (``ERR``, ``warn``, ``Notice``, ``fatal``, …); a group that is no
    level word gives no answer.
    """
    regex = re.compile(pattern, flags)
    table = {**_WORDS, **{k.lower(): v for k, v in (words or {}).items()}}

    if level is not None:
        fixed = level

        def match(text: str) -> Level | None:
            return fixed if regex.match(text) else None

    else:

        def match(text: str) -> Level | None:
            found = regex.match(text)
            return table.get(found.group(1).lower()) if found else None

    return LevelRule(name, match, example)


_JSON_LEVEL_KEYS: Final = ("level", "severity", "lvl", "levelname", "log.level")


def _json_level(text: str) -> Level | None:
    stripped = text.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return None
    try:
        value = json.loads(stripped)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    for key in _JSON_LEVEL_KEYS:
        if key in value:
            return _word_level(value[key])
    return None


_LOGFMT: Final = re.compile(r'(?:^|\s)(?:level|lvl|severity)=("?)([A-Za-z]+)\1(?=\s|$)')


def _logfmt_level(text: str) -> Level | None:
    found = _LOGFMT.search(text)
    return _word_level(found.group(2)) if found else None


_I = re.IGNORECASE
_LEVEL_WORD = r"(error|err|fatal|critical|warn|warning|notice|info|debug|trace)"
_UPPER_WORD = r"(ERROR|ERR|FATAL|CRITICAL|SEVERE|WARN|WARNING|NOTICE|INFO|DEBUG|TRACE)"
_STAMP = r"\s*\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]?"

LEVEL_RULES: tuple[LevelRule, ...] = (
    # 1. runner markers and workflow commands
    level_rule(
        "runner marker", r"##\[(error|warning|notice|debug)\]", example="##[error]Process failed"
    ),
    level_rule(
        "runner structure",
        r"##\[(?:group|endgroup|section|command)\]",
        Level.INFO,
        example="##[group]Run tests",
    ),
    level_rule(
        "workflow command",
        r"::(error|warning|notice|debug)(?: [^:]*)?::",
        example="::error file=a.py,line=3::boom",
    ),
    level_rule("workflow structure", r"::[a-z][a-z-]*(?: [^:]*)?::", Level.INFO),
    # 2. structured lines
    LevelRule("JSON level key", _json_level, '{"level":"error","msg":"db down"}'),
    LevelRule("logfmt level=", _logfmt_level, 'ts=... level=warn msg="slow"'),
    # 3. anchored tokens at the start of the message
    level_rule(
        "Python traceback",
        r"Traceback \(most recent call last\):",
        Level.ERROR,
        example="Traceback (most recent call last):",
    ),
    level_rule("Go panic", r"panic: ", Level.ERROR, example="panic: runtime error"),
    level_rule(
        "Rust panic",
        r"thread '[^']*' panicked at",
        Level.ERROR,
        example="thread 'main' panicked at src/main.rs:4:5:",
    ),
    level_rule("git fatal", r"\s*fatal: ", Level.ERROR, example="fatal: not a git repository"),
    level_rule(
        "npm",
        r"npm (ERR!|error|WARN|warn|notice)(?: |$)",
        words={"err!": Level.ERROR},
        example="npm ERR! code ELIFECYCLE",
    ),
    level_rule("pytest failure", r"(?:FAILED|ERROR) \S", Level.ERROR, example="FAILED t.py::t"),
    level_rule(
        "pytest verbose failure",
        r"\S+::\S+ (?:FAILED|ERROR)\b",
        Level.ERROR,
        example="tests/t.py::test_x FAILED [ 50%]",
    ),
    level_rule("pytest detail", r"E {3,}\S", Level.ERROR, example="E       assert 1 == 2"),
    level_rule(
        "pytest summary failed",
        r"=+ (?:.*\D)?[1-9]\d* (?:failed|errors?)\b",
        Level.ERROR,
        example="==== 1 failed, 41 passed in 3.2s ====",
    ),
    level_rule(
        "pytest summary warnings",
        r"=+ (?:.*\D)?[1-9]\d* warnings?\b",
        Level.WARNING,
        example="==== 41 passed, 2 warnings in 3.2s ====",
    ),
    level_rule("go test", r"(?:--- )?FAIL\b", Level.ERROR, example="--- FAIL: TestX (0.00s)"),
    level_rule(
        "klog",
        r"([EWIF])\d{4} \d{2}:\d{2}:\d{2}",
        words={"e": Level.ERROR, "f": Level.ERROR, "w": Level.WARNING, "i": Level.INFO},
        example="E0102 12:00:01.123 1 x.go:1] boom",
    ),
    level_rule(
        "apt",
        r"([EW]): ",
        words={"e": Level.ERROR, "w": Level.WARNING},
        example="E: Unable to locate package foo",
    ),
    level_rule(
        "compiler file:line",
        r"[^\s:]+(?:\(\d+,\d+\)|:\d+(?::\d+)?):? (error|warning|note)\b",
        words={"note": Level.NOTICE},
        example="src/a.ts(3,5): error TS2322: ...",
    ),
    level_rule(
        "eslint", r"\s+\d+:\d+\s+(error|warning)\s", example="  12:5  error  'x' is undefined"
    ),
    level_rule("rust diagnostic", r"(error|warning)\[[A-Z]?\d+\]:", example="error[E0425]: ..."),
    level_rule(
        "Python logging default",
        r"(CRITICAL|ERROR|WARNING|INFO|DEBUG):[\w.]*:",
        example="WARNING:root:disk almost full",
    ),
    level_rule(
        "Python logging format",
        r".*? - " + _UPPER_WORD + r" - ",
        example="2024-05-01 12:00:00,123 - app - ERROR - failed",
    ),
    level_rule(
        "timestamp then level",
        _STAMP + r"\s+(?:\[[^\]]*\]\s+)?" + _UPPER_WORD + r"\b",
        example="2024-05-01 12:00:00.123 ERROR [main] failed",
    ),
    level_rule(
        "bracketed level",
        r"\s*(?:\[[^\]]*\]\s*){0,3}?\[" + _LEVEL_WORD + r"\]",
        flags=_I,
        example="[ERROR] Failed to execute goal",
    ),
    level_rule("level word and colon", r"\s*" + _LEVEL_WORD + r":", flags=_I, example="error: x"),
    level_rule(
        "upper-case level word", r"\s*" + _UPPER_WORD + r"(?:\s|$)", example="ERROR  connection"
    ),
    level_rule("node warning", r"\(node:\d+\) \w*Warning:", Level.WARNING),
    level_rule("deprecation", r"\s*DEPRECATION: ", Level.WARNING, example="DEPRECATION: x"),
    level_rule(
        "Python warning class",
        r"(?:[\w.]+\.)?\w*Warning: ",
        Level.WARNING,
        example="DeprecationWarning: x is deprecated",
    ),
    level_rule(
        "exception class",
        r"(?:[\w.]+\.)?\w*(?:Error|Exception): ",
        Level.ERROR,
        example="KeyError: 'DATABASE_URL'",
    ),
    level_rule("fatal error", r"\s*FATAL ERROR\b", Level.ERROR),
    level_rule("Gradle failure", r"FAILURE: ", Level.ERROR, example="FAILURE: Build failed"),
)
"""The default level rules, in the order they are tried (first answer wins, else info).

Rules look only at the start of the message (after ANSI is removed), or at
explicit structure (JSON keys, ``level=``), so counts and identifiers such
as ``Found 0 errors``, ``error_count=0``, ``Errors: none``,
``ErrorHandler.java`` or ``TERRORIST.csv`` are info.
"""


def detect_level(text: str, rules: Sequence[LevelRule] = LEVEL_RULES) -> Level:
    """The level of one line of log text (ANSI is removed first); see :data:`LEVEL_RULES`."""
    if "\x1b" in text or "\r" in text:
        text = strip_ansi(text)
    for rule in rules:
        level = rule.match(text)
        if level is not None:
            return level
    return Level.INFO


class LevelledText(NamedTuple):
    """A line of text with its detected level (what ``detect_levels()`` emits)."""

    level: Level
    text: str


# -- runner lines -------------------------------------------------------------------------

_TIMESTAMP: Final = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,7}))?Z ")
_RUNNER: Final = re.compile(r"##\[(group|endgroup|section|command|error|warning|notice|debug)\]")
_WORKFLOW: Final = re.compile(r"::([a-z][a-z0-9-]*)(?: ([^:]*))?::")
_UNESCAPE_DATA: Final = re.compile(r"%(25|0[dDaA])")
_UNESCAPE_PROPERTY: Final = re.compile(r"%(25|0[dDaA]|3[aA]|2[cC])")
_ESCAPES: Final = {"25": "%", "0D": "\r", "0A": "\n", "3A": ":", "2C": ","}


def _unescape(pattern: re.Pattern[str], text: str) -> str:
    if "%" not in text:
        return text
    return pattern.sub(lambda m: _ESCAPES[m.group(1).upper()], text)


class Command(BaseModel):
    """A runner marker (``source="runner"``) or a workflow command (``source="workflow"``).

    ``name`` is ``group``, ``endgroup``, ``error``, ``warning``, … (any
    lower-case workflow command name is accepted); ``properties`` are the
    workflow command's ``key=value`` pairs (``file``, ``line``, ``col``,
    ``title``, …) and ``message`` is the text after the marker, unescaped.
    """

    model_config = ConfigDict(frozen=True)

    source: Literal["runner", "workflow"]
    name: str
    properties: dict[str, str] = {}
    message: str = ""


class ParsedLine(NamedTuple):
    """One raw line split into its parts (see :func:`parse_line`)."""

    timestamp: datetime | None
    body: str
    command: Command | None


def _timestamp(match: re.Match[str]) -> datetime:
    year, month, day, hour, minute, second, fraction = match.groups()
    micro = int((fraction or "0").ljust(6, "0")[:6])
    return datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=UTC
    )


def parse_command(body: str) -> Command | None:
    """The runner marker or workflow command at the start of ``body`` (ANSI allowed before it)."""
    if body.startswith("\x1b"):
        body = strip_ansi(body)
    if body.startswith("##["):
        match = _RUNNER.match(body)
        if match:
            return Command(source="runner", name=match.group(1), message=body[match.end() :])
    elif body.startswith("::"):
        match = _WORKFLOW.match(body)
        if match:
            properties: dict[str, str] = {}
            for pair in (match.group(2) or "").split(","):
                key, sep, value = pair.partition("=")
                if sep and key.strip():
                    properties[key.strip()] = _unescape(_UNESCAPE_PROPERTY, value)
            message = _unescape(_UNESCAPE_DATA, body[match.end() :])
            return Command(
                source="workflow", name=match.group(1), properties=properties, message=message
            )
    return None


def parse_line(raw: str) -> ParsedLine:
    """Split the runner's timestamp off ``raw`` and recognise a marker or command.

    A timestamp that is not a real date (month 13) is left in the body.
    """
    timestamp = None
    body = raw
    match = _TIMESTAMP.match(raw)
    if match:
        try:
            timestamp = _timestamp(match)
            body = raw[match.end() :]
        except ValueError:
            timestamp = None
    command = parse_command(body) if body[:1] in ("#", ":", "\x1b") else None
    return ParsedLine(timestamp, body, command)


# -- models --------------------------------------------------------------------------------


class LogLine(HTMLReprMixin, BaseModel):
    """One line of a CI log, ready to show.

    ``step`` and ``step_name`` say which step it belongs to (0 and ``""``
    before any step started); ``number`` is 1-based within the step;
    ``group`` the name of the group it is in (the group's own header line
    included).  ``text`` is the visible text (ANSI removed, ``\\r`` progress
    reduced, a marker or command replaced by its message) and ``html`` the
    same text as safe HTML (:mod:`rxsse.domain.ansi`).  ``raw`` is the line
    as received, timestamp included.
    """

    model_config = ConfigDict(frozen=True)

    step: int
    step_name: str = ""
    number: int
    group: str | None = None
    timestamp: datetime | None = None
    level: Level = Level.INFO
    text: str
    html: str
    command: Command | None = None
    continuation: bool = False
    raw: str = ""


StepStatus = Literal["queued", "in_progress", "completed"]


class Step(HTMLReprMixin, BaseModel):
    """A step of the run as known so far: status, conclusion, line count, per-level counts."""

    model_config = ConfigDict(frozen=True)

    number: int
    name: str = ""
    status: StepStatus = "in_progress"
    conclusion: str | None = None
    lines: int = 0
    counts: dict[Level, int] = {}


@dataclass
class _StepState:
    number: int
    name: str
    converter: AnsiConverter
    status: StepStatus = "in_progress"
    conclusion: str | None = None
    lines: int = 0
    group: str | None = None
    last_timestamp: datetime | None = None
    last_level: Level = Level.INFO
    counts: dict[Level, int] = field(default_factory=dict)

    def snapshot(self) -> Step:
        return Step(
            number=self.number,
            name=self.name,
            status=self.status,
            conclusion=self.conclusion,
            lines=self.lines,
            counts=dict(self.counts),
        )


_ENVELOPE_KEYS: Final = frozenset({"step", "line", "lines", "id"})
_LEVEL_COMMANDS: Final = {
    "error": Level.ERROR,
    "warning": Level.WARNING,
    "notice": Level.NOTICE,
    "debug": Level.DEBUG,
}


def _json_object(data: str) -> dict[str, Any] | None:
    if not data.startswith("{"):
        return None
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _step_number(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


class LogParser:
    """The stateful converter from SSE events (or raw lines) to :class:`LogLine` values.

    ``feed(event)`` returns the lines a ``log`` event carried and updates
    step state on ``step-start``/``step-complete``; ``feed_lines(text,
    step=None)`` does the same for raw text of your own.  ``steps()`` is a
    snapshot of every step seen.  Each step has its own ANSI converter, so a
    colour left open by one step never leaks into the next.  ``rules`` is the
    level table (:data:`LEVEL_RULES` by default); ``inline_styles`` is passed
    to :class:`~rxsse.domain.ansi.AnsiConverter`.
    """

    def __init__(
        self,
        *,
        rules: Sequence[LevelRule] = LEVEL_RULES,
        inline_styles: bool = False,
        max_line_chars: int = 65536,
    ) -> None:
        if max_line_chars < 1:
            raise ValueError("max_line_chars must be at least 1")
        self.rules = tuple(rules)
        self.inline_styles = inline_styles
        self.max_line_chars = max_line_chars
        self._steps: dict[int, _StepState] = {}
        self._current: int | None = None

    # -- steps --------------------------------------------------------------------------

    def steps(self) -> list[Step]:
        """Every step seen so far, by number."""
        return [self._steps[n].snapshot() for n in sorted(self._steps)]

    def _step(self, number: int | None, name: str | None = None) -> _StepState:
        if number is None:
            number = self._current if self._current is not None else 0
        state = self._steps.get(number)
        if state is None:
            converter = AnsiConverter(inline_styles=self.inline_styles)
            state = _StepState(number, name or "", converter)
            self._steps[number] = state
        elif name:
            state.name = name
        return state

    def start_step(self, number: int | None = None, name: str = "") -> Step:
        """Start step ``number`` (default: one after the highest seen) and make it current."""
        if number is None:
            number = max(self._steps, default=0) + 1
        state = self._step(number, name)
        state.status = "in_progress"
        self._current = number
        return state.snapshot()

    def complete_step(self, number: int | None = None, conclusion: str | None = None) -> Step:
        """Complete step ``number`` (default: the current one); closes its open group."""
        state = self._step(number)
        state.status = "completed"
        state.conclusion = conclusion
        state.group = None
        return state.snapshot()

    # -- events -------------------------------------------------------------------------

    def feed(self, event: ServerSentEvent) -> list[LogLine]:
        """Take one SSE event; return the log lines it carried (see the module docstring)."""
        kind = event.event
        if kind == "log":
            envelope = _json_object(event.data)
            if envelope is not None and envelope.keys() <= _ENVELOPE_KEYS:
                lines = envelope.get("lines")
                line = envelope.get("line")
                step = _step_number(envelope.get("step"))
                if isinstance(lines, list) and all(isinstance(x, str) for x in lines):
                    return self.feed_lines(lines, step=step)
                if isinstance(line, str):
                    return self.feed_lines([line], step=step)
            return self.feed_lines(event.data.split("\n"))
        if kind == "step-start":
            info = _json_object(event.data)
            if info is None:
                self.start_step(None, event.data.strip())
            else:
                name = info.get("name")
                self.start_step(
                    _step_number(info.get("step")), name if isinstance(name, str) else ""
                )
            return []
        if kind == "step-complete":
            info = _json_object(event.data) or {}
            conclusion = info.get("conclusion")
            self.complete_step(
                _step_number(info.get("step")),
                conclusion if isinstance(conclusion, str) else None,
            )
            return []
        return []

    def feed_lines(self, lines: Iterable[str] | str, *, step: int | None = None) -> list[LogLine]:
        """Raw lines (or text, split at ``\\n``) for ``step`` (default: the current step)."""
        if isinstance(lines, str):
            lines = lines.split("\n")
        state = self._step(step)
        out: list[LogLine] = []
        limit = self.max_line_chars
        for raw in lines:
            if len(raw) <= limit:
                self._line(state, raw, out, forced_continuation=False)
            else:
                stamp = _TIMESTAMP.match(raw)
                prefix = raw[: stamp.end()] if stamp else ""
                pieces = split_long_line(raw[len(prefix) :], limit)
                pieces[0] = prefix + pieces[0]
                for index, piece in enumerate(pieces):
                    self._line(state, piece, out, forced_continuation=index > 0)
        return out

    def _line(
        self, state: _StepState, raw: str, out: list[LogLine], *, forced_continuation: bool
    ) -> None:
        timestamp, body, command = parse_line(raw)
        continuation = False
        if forced_continuation or (timestamp is None and state.last_timestamp is not None):
            continuation = True
            timestamp = state.last_timestamp
        display = body
        group = state.group
        if command is not None:
            name = command.name
            if name == "endgroup":
                state.group = None
                return
            display = command.message
            if name == "group":
                group = state.group = command.message
        level = detect_level(body, self.rules)
        if command is not None and command.name in _LEVEL_COMMANDS:
            level = _LEVEL_COMMANDS[command.name]
        if continuation and level is Level.INFO:
            level = state.last_level
        if "\r" in display and command is not None:  # %0D in a command message
            display = display.replace("\r\n", "\n").replace("\r", "\n")
        html_text, text = state.converter.convert_with_text(display)
        state.lines += 1
        state.counts[level] = state.counts.get(level, 0) + 1
        if not continuation:
            state.last_timestamp = timestamp
            state.last_level = level
        out.append(
            LogLine.model_construct(
                step=state.number,
                step_name=state.name,
                number=state.lines,
                group=group,
                timestamp=timestamp,
                level=level,
                text=text,
                html=html_text,
                command=command,
                continuation=continuation,
                raw=raw,
            )
        )


# -- the view --------------------------------------------------------------------------------


class _Filter(NamedTuple):
    levels: frozenset[Level] | None
    steps: frozenset[int] | None
    needle: str | None
    regex: re.Pattern[str] | None

    def accepts(self, line: LogLine) -> bool:
        if self.levels is not None and line.level not in self.levels:
            return False
        if self.steps is not None and line.step not in self.steps:
            return False
        if self.needle is not None and self.needle not in line.text.casefold():
            return False
        return self.regex is None or self.regex.search(line.text) is not None


class LogView:
    """Log lines held for a virtual-scrolling view.

    ``append``/``extend`` add lines in arrival order.  With ``max_lines``
    only the newest lines are held (the oldest are dropped; ``dropped``
    counts them); otherwise memory grows with the log.  Positions are
    0-based over the lines **currently held**: ``len(view)`` of them, and
    ``range(start, end)`` returns lines ``start`` to ``end - 1`` (half-open,
    clamped to what is held, like a slice), each with its original step and
    line number.  ``counts()`` gives the held lines per level.

    ``filter(levels=..., steps=..., text=..., regex=...)`` returns a live
    :class:`LogFilter` over this view with the same interface; it catches up
    with new and dropped lines whenever it is read, and never renumbers a
    line.
    """

    def __init__(self, max_lines: int | None = None) -> None:
        if max_lines is not None and max_lines < 1:
            raise ValueError("max_lines must be at least 1")
        self.max_lines = max_lines
        self._buffer: list[LogLine] = []
        self._head = 0  # index in _buffer of the oldest held line
        self._offset = 0  # sequence number of the oldest held line
        self._counts: dict[Level, int] = dict.fromkeys(Level, 0)

    @property
    def dropped(self) -> int:
        """Lines dropped to respect ``max_lines``."""
        return self._offset

    @property
    def total(self) -> int:
        """Lines ever appended (held + dropped)."""
        return self._offset + len(self)

    def __len__(self) -> int:
        return len(self._buffer) - self._head

    def append(self, line: LogLine) -> None:
        """Add one line (dropping the oldest held line if the view is full)."""
        self._buffer.append(line)
        self._counts[line.level] += 1
        if self.max_lines is not None and len(self) > self.max_lines:
            old = self._buffer[self._head]
            self._counts[old.level] -= 1
            self._head += 1
            self._offset += 1
            if self._head > 1024 and self._head * 2 > len(self._buffer):
                del self._buffer[: self._head]
                self._head = 0

    def extend(self, lines: Iterable[LogLine]) -> None:
        """Add several lines in order."""
        for line in lines:
            self.append(line)

    def range(self, start: int, end: int) -> list[LogLine]:
        """Held lines ``start <= i < end`` (clamped; negative positions are an error)."""
        if start < 0 or end < 0:
            raise ValueError("positions are 0-based and not negative")
        head = self._head
        return self._buffer[head + start : head + max(start, end)]

    def __iter__(self) -> Iterator[LogLine]:
        return iter(self._buffer[self._head :])

    def counts(self) -> dict[Level, int]:
        """Held lines per level (every level present, most severe first)."""
        return dict(self._counts)

    def filter(
        self,
        *,
        levels: Iterable[Level | str] | None = None,
        steps: Iterable[int] | None = None,
        text: str | None = None,
        regex: str | re.Pattern[str] | None = None,
    ) -> LogFilter:
        """A live filtered view: lines whose level is in ``levels``, step in ``steps``,
        visible text containing ``text`` (case-insensitive) and matching ``regex``."""
        return LogFilter(
            self,
            _Filter(
                frozenset(Level(x) for x in levels) if levels is not None else None,
                frozenset(steps) if steps is not None else None,
                text.casefold() if text else None,
                re.compile(regex) if isinstance(regex, str) else regex,
            ),
        )

    def _at(self, sequence: int) -> LogLine:
        return self._buffer[self._head + sequence - self._offset]

    def html(self, start: int = 0, end: int | None = None, **options: Any) -> str:
        """Lines ``start``-``end`` as one HTML block (see :func:`lines_html`)."""
        return lines_html(self.range(start, len(self) if end is None else end), **options)

    def _repr_html_(self) -> str:
        return self.html(max(len(self) - 200, 0))


class LogFilter:
    """A live filtered :class:`LogView` (see :meth:`LogView.filter`)."""

    def __init__(self, view: LogView, rule: _Filter) -> None:
        self._view = view
        self._rule = rule
        self._sequences: list[int] = []
        self._levels: list[Level] = []
        self._head = 0
        self._scanned = 0  # sequence number of the next line to look at
        self._counts: dict[Level, int] = dict.fromkeys(Level, 0)

    def _sync(self) -> None:
        view = self._view
        first = view._offset
        sequences, levels, counts = self._sequences, self._levels, self._counts
        head = self._head
        while head < len(sequences) and sequences[head] < first:
            counts[levels[head]] -= 1
            head += 1
        start = max(self._scanned, first)
        accepts = self._rule.accepts
        for sequence in range(start, view.total):
            line = view._at(sequence)
            if accepts(line):
                sequences.append(sequence)
                levels.append(line.level)
                counts[line.level] += 1
        self._scanned = view.total
        if head > 1024 and head * 2 > len(sequences):
            del sequences[:head]
            del levels[:head]
            head = 0
        self._head = head

    def __len__(self) -> int:
        self._sync()
        return len(self._sequences) - self._head

    def range(self, start: int, end: int) -> list[LogLine]:
        """Matching held lines ``start <= i < end`` (positions among the matches)."""
        if start < 0 or end < 0:
            raise ValueError("positions are 0-based and not negative")
        self._sync()
        head = self._head
        at = self._view._at
        return [at(s) for s in self._sequences[head + start : head + max(start, end)]]

    def __iter__(self) -> Iterator[LogLine]:
        return iter(self.range(0, len(self)))

    def counts(self) -> dict[Level, int]:
        """Matching held lines per level."""
        self._sync()
        return dict(self._counts)

    def html(self, start: int = 0, end: int | None = None, **options: Any) -> str:
        """Matching lines ``start``-``end`` as one HTML block (see :func:`lines_html`)."""
        return lines_html(self.range(start, len(self) if end is None else end), **options)

    def _repr_html_(self) -> str:
        return self.html(max(len(self) - 200, 0))


# -- HTML for a block of lines --------------------------------------------------------------

_LEVEL_COLOURS: Final[Mapping[Level, str]] = {
    Level.ERROR: "#f85149",
    Level.WARNING: "#d29922",
    Level.NOTICE: "#58a6ff",
    Level.INFO: "transparent",
    Level.DEBUG: "#8b949e",
}

LOG_CSS: Final = (
    ANSI_CSS + "\n.rxsse-log{font-family:monospace;white-space:pre-wrap;background:#1e1e1e;"
    "color:#e6e6e6;--ansi-fg:#e6e6e6;--ansi-bg:#1e1e1e;padding:4px;font-size:12px}"
    "\n.rxsse-log .ln{display:inline-block;min-width:4em;color:#8b949e;user-select:none}"
    "\n.rxsse-log .grp{color:#8b949e}"
    + "".join(
        f"\n.rxsse-log .lvl-{level.value}{{border-left:3px solid {colour};padding-left:4px}}"
        for level, colour in _LEVEL_COLOURS.items()
    )
)
"""Stylesheet for :func:`lines_html` (includes :data:`~rxsse.domain.ansi.ANSI_CSS`)."""


def lines_html(lines: Iterable[LogLine], *, stylesheet: bool = True) -> str:
    """A block of lines as HTML: a row per line with its number and a level-coloured edge.

    Line HTML comes from the converter (already safe); step names, groups and
    numbers are escaped here.  ``stylesheet`` prepends :data:`LOG_CSS`.
    """
    rows = []
    for line in lines:
        group = (
            f'<span class="grp">▸ {html.escape(line.group)}: </span>'
            if line.group and not (line.command and line.command.name == "group")
            else ""
        )
        rows.append(
            f'<div class="lvl-{line.level.value}"><span class="ln">{line.step}:{line.number}'
            f"</span>{group}{line.html}</div>"
        )
    style = f"<style>{LOG_CSS}</style>" if stylesheet else ""
    return f'{style}<div class="rxsse-log">{"".join(rows)}</div>'
