"""Rx operators for CI live logs (thin wrappers over :mod:`rxsse.domain.logs` and ``.ansi``).

::

    events ──start──log──log──complete──|   (ServerSentEvent: step-start, log, step-complete)
    log_lines()
           ─────────l1───l2,l3──────────|   (LogLine: step, group, number, timestamp, level,
                                             text, html)
    lines  ──"ERROR: x"──"ok"──|
    detect_levels()
           ──(error, "ERROR: x")──(info, "ok")──|
    chunks ──"\\x1b[31mre"──"d\\nok\\n"──"tail"──|
    ansi_to_html()
           ───────────────"<span…>red</span>","<span…>ok</span>"──"<span…>tail</span>"|

Every subscription gets its own parser or converter (state is never shared
between subscribers).  An error upstream is passed on after the lines
already produced; an exception raised while converting (it would be a bug)
ends the stream through ``on_error``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from reactivex import Observable, abc
from reactivex import operators as ops
from reactivex.disposable import SingleAssignmentDisposable

from rxsse._event import ServerSentEvent
from rxsse.domain.ansi import AnsiConverter
from rxsse.domain.logs import (
    LEVEL_RULES,
    LevelledText,
    LevelRule,
    LogLine,
    LogParser,
    detect_level,
)

__all__ = ["ansi_to_html", "detect_levels", "log_lines"]

A = TypeVar("A")
B = TypeVar("B")
Feeder = tuple[Callable[[A], Sequence[B]], Callable[[], Sequence[B]]]


def _expanding(
    source: Observable[A],
    make: Callable[[], Feeder[A, B]],
    stop: Callable[[A], bool] | None = None,
) -> Observable[B]:
    """Per subscription: ``feed(item)`` → items to emit; ``flush()`` at completion.

    When ``stop(item)`` is true (after feeding it) the output completes and
    the upstream subscription is disposed.
    """

    def subscribe(
        observer: abc.ObserverBase[B], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        feed, flush = make()
        upstream = SingleAssignmentDisposable()
        done = False

        def finish() -> None:
            nonlocal done
            if done:
                return
            try:
                produced = flush()
            except Exception as error:
                done = True
                observer.on_error(error)
                return
            for value in produced:
                observer.on_next(value)
            done = True
            observer.on_completed()

        def on_next(item: A) -> None:
            nonlocal done
            if done:
                return
            try:
                produced = feed(item)
                stopping = stop is not None and stop(item)
            except Exception as error:
                done = True
                observer.on_error(error)
                upstream.dispose()
                return
            for value in produced:
                observer.on_next(value)
            if stopping:
                finish()
                upstream.dispose()

        def on_error(error: Exception) -> None:
            nonlocal done
            if not done:
                done = True
                observer.on_error(error)

        upstream.disposable = source.subscribe(on_next, on_error, finish, scheduler=scheduler)
        return upstream

    return Observable(subscribe)


def log_lines(
    *,
    rules: Sequence[LevelRule] = LEVEL_RULES,
    inline_styles: bool = False,
    max_line_chars: int = 65536,
    until: str | None = "run-complete",
) -> Callable[[Observable[ServerSentEvent]], Observable[LogLine]]:
    """SSE events of a CI run → :class:`~rxsse.domain.logs.LogLine` values.

    ``log`` events become one line each per carried line (numbered from 1
    per step), ``step-start``/``step-complete`` update the step state and
    emit nothing, other events are ignored; see
    :class:`~rxsse.domain.logs.LogParser` for the event shapes, groups,
    continuations, levels and the huge-line policy.  An event of type
    ``until`` (default ``run-complete``, the end of a run) completes the
    output and disposes the upstream, so a reconnecting source does not ask
    for more; with ``until=None`` the output ends when the upstream does.
    Empty upstream: empty output.  An upstream error is passed on after the
    lines already emitted.
    """

    def operator(source: Observable[ServerSentEvent]) -> Observable[LogLine]:
        def make() -> Feeder[ServerSentEvent, LogLine]:
            parser = LogParser(
                rules=rules, inline_styles=inline_styles, max_line_chars=max_line_chars
            )
            return parser.feed, list

        stop = None if until is None else (lambda event: event.event == until)
        return _expanding(source, make, stop)

    return operator


def detect_levels(
    rules: Sequence[LevelRule] = LEVEL_RULES,
) -> Callable[[Observable[str]], Observable[LevelledText]]:
    """Lines of text → ``LevelledText(level, text)`` by :func:`~rxsse.domain.logs.detect_level`.

    Stateless: one output per input, the text unchanged (ANSI is removed
    only to decide the level).
    """
    table = tuple(rules)

    def levelled(text: str) -> LevelledText:
        return LevelledText(detect_level(text, table), text)

    return ops.map(levelled)


def ansi_to_html(
    *,
    inline_styles: bool = False,
    max_line_chars: int = 1 << 20,
) -> Callable[[Observable[str]], Observable[str]]:
    """Chunks of terminal output → one safe HTML fragment per line.

    Chunks may split lines and escape sequences anywhere; a line is emitted
    when its ``\\n`` arrives and the last, unterminated line when the
    upstream completes (not when it fails).  Style carries across lines;
    each fragment is self-contained.  See
    :class:`~rxsse.domain.ansi.AnsiConverter` for every rule.
    """

    def operator(source: Observable[str]) -> Observable[str]:
        def make() -> Feeder[str, str]:
            converter = AnsiConverter(inline_styles=inline_styles, max_line_chars=max_line_chars)
            return converter.feed, converter.flush

        return _expanding(source, make)

    return operator
