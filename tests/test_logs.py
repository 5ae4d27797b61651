"""rxsse.domain.logs: runner lines, commands, steps and groups, LogView."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from rxsse import ServerSentEvent
from rxsse.domain.logs import (
    Command,
    Level,
    LogLine,
    LogParser,
    LogView,
    Step,
    lines_html,
    parse_command,
    parse_line,
)

TS = "2024-05-01T12:34:56.1234567Z "


def start(step: int, name: str) -> ServerSentEvent:
    return ServerSentEvent("step-start", json.dumps({"step": step, "name": name}))


def log(*lines: str, step: int | None = None) -> ServerSentEvent:
    envelope: dict[str, object] = {"lines": list(lines)}
    if step is not None:
        envelope["step"] = step
    return ServerSentEvent("log", json.dumps(envelope))


def complete(step: int, conclusion: str = "success") -> ServerSentEvent:
    return ServerSentEvent("step-complete", json.dumps({"step": step, "conclusion": conclusion}))


def run(*events: ServerSentEvent, parser: LogParser | None = None) -> list[LogLine]:
    parser = parser or LogParser()
    return [line for event in events for line in parser.feed(event)]


# -- raw lines -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stamp", "body"),
    [
        (TS + "hello", datetime(2024, 5, 1, 12, 34, 56, 123456, tzinfo=UTC), "hello"),
        ("2024-05-01T12:34:56Z x", datetime(2024, 5, 1, 12, 34, 56, tzinfo=UTC), "x"),
        (
            "2024-05-01T12:34:56.5Z  two spaces",
            datetime(2024, 5, 1, 12, 34, 56, 500000, tzinfo=UTC),
            " two spaces",
        ),
        ("2024-05-01T12:34:56.1234567Z ", datetime(2024, 5, 1, 12, 34, 56, 123456, tzinfo=UTC), ""),
        ("2024-05-01T12:34:56.12345678Z x", None, "2024-05-01T12:34:56.12345678Z x"),  # 8 digits
        ("2024-13-01T12:34:56Z x", None, "2024-13-01T12:34:56Z x"),  # not a date
        ("2024-05-01T12:34:56Zx", None, "2024-05-01T12:34:56Zx"),  # no space
        ("no stamp", None, "no stamp"),
        ("", None, ""),
    ],
)
def test_timestamp_prefix(raw: str, stamp: datetime | None, body: str) -> None:
    parsed = parse_line(raw)
    assert parsed.timestamp == stamp
    assert parsed.body == body


@pytest.mark.parametrize(
    ("body", "command"),
    [
        ("##[group]Run tests", Command(source="runner", name="group", message="Run tests")),
        ("##[endgroup]", Command(source="runner", name="endgroup")),
        (
            "##[section]Starting: Build",
            Command(source="runner", name="section", message="Starting: Build"),
        ),
        (
            "##[command]/usr/bin/git init",
            Command(source="runner", name="command", message="/usr/bin/git init"),
        ),
        ("##[error]boom", Command(source="runner", name="error", message="boom")),
        ("##[warning]w", Command(source="runner", name="warning", message="w")),
        ("##[notice]n", Command(source="runner", name="notice", message="n")),
        ("##[debug]d", Command(source="runner", name="debug", message="d")),
        ("::group::Install", Command(source="workflow", name="group", message="Install")),
        ("::endgroup::", Command(source="workflow", name="endgroup")),
        (
            "::error file=src/a%2Cb.py,line=3,col=7,title=Bad%3A thing::first%0Asecond %25 done%0D",
            Command(
                source="workflow",
                name="error",
                properties={"file": "src/a,b.py", "line": "3", "col": "7", "title": "Bad: thing"},
                message="first\nsecond % done\r",
            ),
        ),
        (
            "::warning::%250A stays literal",
            Command(source="workflow", name="warning", message="%0A stays literal"),
        ),
        (
            "::notice title=T::x",
            Command(source="workflow", name="notice", properties={"title": "T"}, message="x"),
        ),
        ("::debug::d", Command(source="workflow", name="debug", message="d")),
        ("::add-mask::secret", Command(source="workflow", name="add-mask", message="secret")),
        ("\x1b[36;1m##[group]coloured", Command(source="runner", name="group", message="coloured")),
        ("##[bogus]x", None),
        (":: not a command", None),
        ("::Error::capitalised names are not commands", None),
        ("plain ##[error] later in the line", None),
    ],
)
def test_markers_and_workflow_commands(body: str, command: Command | None) -> None:
    assert parse_command(body) == command
    assert parse_line(TS + body).command == command


# -- steps, groups, numbering ---------------------------------------------------------------


def test_steps_number_lines_from_one_and_groups_open_and_close() -> None:
    parser = LogParser()
    lines = run(
        start(1, "Set up job"),
        log(TS + "Current runner version: '2.316.0'"),
        log(TS + "##[group]Operating System", TS + "Ubuntu", TS + "22.04.4"),
        log(TS + "##[endgroup]"),
        log(TS + "after the group"),
        complete(1),
        start(2, "Run tests"),
        log(TS + "::group::pytest", TS + "collected 2 items"),
        log(TS + "::group::second group closes the first", TS + "inside second"),
        complete(2, "failure"),
        log(TS + "late line for step 2", step=2),
        parser=parser,
    )
    got = [(x.step, x.step_name, x.number, x.group, x.text) for x in lines]
    assert got == [
        (1, "Set up job", 1, None, "Current runner version: '2.316.0'"),
        (1, "Set up job", 2, "Operating System", "Operating System"),
        (1, "Set up job", 3, "Operating System", "Ubuntu"),
        (1, "Set up job", 4, "Operating System", "22.04.4"),
        (1, "Set up job", 5, None, "after the group"),  # the endgroup line is not a line
        (2, "Run tests", 1, "pytest", "pytest"),
        (2, "Run tests", 2, "pytest", "collected 2 items"),
        (2, "Run tests", 3, "second group closes the first", "second group closes the first"),
        (2, "Run tests", 4, "second group closes the first", "inside second"),
        (2, "Run tests", 5, None, "late line for step 2"),  # completion closed the group
    ]
    assert parser.steps() == [
        Step(
            number=1,
            name="Set up job",
            status="completed",
            conclusion="success",
            lines=5,
            counts={Level.INFO: 5},
        ),
        Step(
            number=2,
            name="Run tests",
            status="completed",
            conclusion="failure",
            lines=5,
            counts={Level.INFO: 5},
        ),
    ]


def test_stray_end_group_is_ignored_and_lines_before_any_step_go_to_step_zero() -> None:
    lines = run(log(TS + "##[endgroup]"), log(TS + "::endgroup::"), log(TS + "orphan"))
    assert [(x.step, x.number, x.group, x.text) for x in lines] == [(0, 1, None, "orphan")]


def test_lines_for_a_named_step_keep_their_own_numbering() -> None:
    lines = run(
        start(1, "a"), start(2, "b"), log(TS + "x", step=1), log(TS + "y"), log(TS + "z", step=1)
    )
    assert [(x.step, x.number) for x in lines] == [(1, 1), (2, 1), (1, 2)]


def test_event_shapes_plain_text_and_unknown_events() -> None:
    parser = LogParser()
    lines = run(
        ServerSentEvent("step-start", "Checkout"),  # plain-text name: next step number
        ServerSentEvent("log", f"{TS}one\n{TS}two"),
        ServerSentEvent("log", '{"level":"error","msg":"a JSON log line, not an envelope"}'),
        ServerSentEvent("log", json.dumps({"line": TS + "single"})),
        ServerSentEvent("log", json.dumps({"line": 5})),  # not a string: shown as text
        ServerSentEvent("heartbeat", "{}"),
        ServerSentEvent("step-complete", "not json"),
        parser=parser,
    )
    assert [(x.step, x.text, x.level) for x in lines] == [
        (1, "one", Level.INFO),
        (1, "two", Level.INFO),
        (1, '{"level":"error","msg":"a JSON log line, not an envelope"}', Level.ERROR),
        (1, "single", Level.INFO),
        (1, '{"line": 5}', Level.INFO),
    ]
    (step,) = parser.steps()
    assert (step.name, step.status, step.conclusion) == ("Checkout", "completed", None)


def test_continuation_lines_take_timestamp_and_level_of_the_line_they_continue() -> None:
    lines = run(
        start(1, "t"),
        log(TS + "##[error]first line of an error", "  second line", "ERROR-free third"),
        log("2024-05-01T12:35:00Z next", "cont"),
    )
    stamps = [x.timestamp for x in lines]
    assert (
        stamps[0] == stamps[1] == stamps[2] == datetime(2024, 5, 1, 12, 34, 56, 123456, tzinfo=UTC)
    )
    assert [x.continuation for x in lines] == [False, True, True, False, True]
    assert [x.level for x in lines] == [
        Level.ERROR,
        Level.ERROR,
        Level.ERROR,
        Level.INFO,
        Level.INFO,
    ]


def test_a_stream_without_timestamps_has_no_continuations() -> None:
    lines = run(log("ERROR: a"), log("b"))
    assert [(x.continuation, x.level, x.timestamp) for x in lines] == [
        (False, Level.ERROR, None),
        (False, Level.INFO, None),
    ]


def test_levels_text_and_html_of_commands_and_ansi() -> None:
    lines = run(
        start(1, "t"),
        log(
            TS + "::error file=a.py,line=3::bad <b>%0Aworse",
            TS + "##[warning]careful",
            TS + "\x1b[31mFAILED\x1b[0m tests/t.py::test_x - assert 1 == 2",
            TS + "Downloading 10%\rDownloading 100%",
            TS + "::add-mask::secret",
        ),
    )
    assert [(x.level, x.text) for x in lines] == [
        (Level.ERROR, "bad <b>\nworse"),
        (Level.WARNING, "careful"),
        (Level.ERROR, "FAILED tests/t.py::test_x - assert 1 == 2"),
        (Level.INFO, "Downloading 100%"),
        (Level.INFO, "secret"),
    ]
    assert lines[0].html == "bad &lt;b&gt;\nworse"
    assert lines[0].command is not None
    assert lines[0].command.properties == {"file": "a.py", "line": "3"}
    assert lines[2].html.startswith('<span class="ansi-fg-1">FAILED</span>')
    assert lines[0].raw == TS + "::error file=a.py,line=3::bad <b>%0Aworse"


def test_colour_left_open_by_one_step_does_not_leak_into_the_next() -> None:
    lines = run(
        start(1, "a"),
        log(TS + "\x1b[31mred"),
        log(TS + "still red"),
        start(2, "b"),
        log(TS + "plain"),
    )
    assert "ansi-fg-1" in lines[1].html
    assert lines[2].html == "plain"


def test_command_message_carriage_returns_become_newlines() -> None:
    (line,) = run(log(TS + "::warning::a%0D%0Ab%0Dc"))
    assert line.text == "a\nb\nc"


def test_huge_lines_become_numbered_continuation_pieces() -> None:
    parser = LogParser(max_line_chars=10)
    lines = run(start(1, "t"), log(TS + "x" * 25), parser=parser)
    assert [len(x.raw) for x in lines] == [len(TS) + 10, 10, 5]
    assert "".join(x.raw for x in lines) == TS + "x" * 25
    assert len({x.timestamp for x in lines}) == 1
    assert lines[0].timestamp is not None
    assert [x.continuation for x in lines] == [False, True, True]
    assert [x.number for x in lines] == [1, 2, 3]
    with pytest.raises(ValueError, match="max_line_chars"):
        LogParser(max_line_chars=0)


def test_replacement_characters_from_invalid_utf8_are_kept() -> None:
    (line,) = run(ServerSentEvent("log", b"caf\xc3( \xff ok".decode("utf-8", "replace")))
    assert line.text == "caf\ufffd( \ufffd ok"


def test_feed_lines_for_own_text_and_manual_steps() -> None:
    parser = LogParser()
    parser.start_step(None, "first")
    parser.start_step(None, "second")
    lines = parser.feed_lines("a\nWARNING: b")
    assert [(x.step, x.step_name, x.level) for x in lines] == [
        (2, "second", Level.INFO),
        (2, "second", Level.WARNING),
    ]
    assert parser.complete_step().status == "completed"
    assert [s.number for s in parser.steps()] == [1, 2]


# -- LogView ------------------------------------------------------------------------------


def make_lines(n: int, step: int = 1) -> list[LogLine]:
    levels = [Level.INFO, Level.ERROR, Level.WARNING, Level.INFO, Level.DEBUG]
    return [
        LogLine(
            step=step, number=i + 1, level=levels[i % 5], text=f"line {i + 1}", html=f"line {i + 1}"
        )
        for i in range(n)
    ]


def test_range_is_half_open_and_clamped() -> None:
    view = LogView()
    view.extend(make_lines(10))
    assert len(view) == 10
    assert [x.number for x in view.range(2, 5)] == [3, 4, 5]
    assert view.range(5, 5) == []
    assert view.range(7, 3) == []
    assert [x.number for x in view.range(8, 100)] == [9, 10]
    assert view.range(100, 200) == []
    with pytest.raises(ValueError, match="negative"):
        view.range(-1, 2)
    assert [x.number for x in view] == list(range(1, 11))


def test_counts_per_level() -> None:
    view = LogView()
    view.extend(make_lines(10))
    assert view.counts() == {
        Level.ERROR: 2,
        Level.WARNING: 2,
        Level.NOTICE: 0,
        Level.INFO: 4,
        Level.DEBUG: 2,
    }


def test_bounded_view_drops_the_oldest_and_keeps_counts_and_numbers() -> None:
    view = LogView(max_lines=4)
    view.extend(make_lines(10))
    assert len(view) == 4
    assert view.dropped == 6
    assert view.total == 10
    assert [x.number for x in view.range(0, 4)] == [7, 8, 9, 10]
    assert view.counts() == {
        Level.ERROR: 1,
        Level.WARNING: 1,
        Level.NOTICE: 0,
        Level.INFO: 1,
        Level.DEBUG: 1,
    }
    with pytest.raises(ValueError, match="max_lines"):
        LogView(max_lines=0)


def test_bounded_view_memory_stays_bounded() -> None:
    view = LogView(max_lines=100)
    view.extend(make_lines(5000))
    assert len(view._buffer) <= 2 * 100 + 1100
    assert [x.number for x in view.range(0, 3)] == [4901, 4902, 4903]


def test_filters_keep_original_numbers_and_follow_new_lines() -> None:
    view = LogView()
    view.extend(make_lines(10))
    errors = view.filter(levels=[Level.ERROR, "warning"])
    assert [x.number for x in errors.range(0, 10)] == [2, 3, 7, 8]
    assert len(errors) == 4
    view.extend(make_lines(5, step=2))
    assert [(x.step, x.number) for x in errors.range(2, 10)] == [(1, 7), (1, 8), (2, 2), (2, 3)]
    assert errors.counts()[Level.ERROR] == 3
    text = view.filter(text="LINE 1")  # case-insensitive substring
    assert [(x.step, x.number) for x in text] == [(1, 1), (1, 10), (2, 1)]
    regex = view.filter(regex=r"^line [2-3]$", steps=[2])
    assert [(x.step, x.number) for x in regex] == [(2, 2), (2, 3)]
    both = view.filter(levels=["error"], text="7")
    assert [x.number for x in both] == [7]
    assert both.range(1, 5) == []


def test_filters_on_a_bounded_view_forget_dropped_lines() -> None:
    view = LogView(max_lines=5)
    errors = view.filter(levels=["error"])
    view.extend(make_lines(10))  # errors at 2 and 7; only 6-10 are held
    assert [x.number for x in errors] == [7]
    view.extend(make_lines(3, step=2))  # drops 6, 7, 8
    assert [(x.step, x.number) for x in errors] == [(2, 2)]
    assert errors.counts()[Level.ERROR] == 1
    with pytest.raises(ValueError, match="negative"):
        errors.range(0, -1)


def test_html_block_escapes_groups_and_includes_line_html() -> None:
    lines = run(start(3, "s"), log(TS + "::group::<img src=x>", TS + "\x1b[32mok\x1b[0m"))
    block = lines_html(lines)
    assert "&lt;img src=x&gt;" in block
    assert "<img" not in block
    assert '<span class="ansi-fg-2">ok</span>' in block
    assert block.startswith("<style>")
    assert '<span class="ln">3:2</span>' in block
    view = LogView()
    view.extend(lines)
    assert view.html(1) == lines_html(lines[1:])
    assert view._repr_html_() == lines_html(lines)
    assert view.filter(text="ok").html(stylesheet=False) == lines_html(lines[1:], stylesheet=False)
    assert "LogLine" in lines[0]._repr_html_()
