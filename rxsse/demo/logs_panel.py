"""The CI logs panel: a live workflow run, coloured by level, with per-level counts."""

from __future__ import annotations

import asyncio

from reactivex import abc
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from rxsse.domain.logs import Level, LogLine, LogView
from rxsse.operators.logs import log_lines
from rxsse.sources.http import from_url
from rxsse.sources.lifecycle import ConnectionEvent, Reconnecting, ReconnectPolicy

__all__ = ["LEVEL_STYLES", "LogsPanel"]

RATE = 25  # log lines per second the emulator sends
FAULTS = "&drop_random=60"
SHOWN = 10  # newest lines on screen
RESTART_AFTER = 3.0  # seconds between the end of a run and the next one

LEVEL_STYLES: dict[Level, str] = {
    Level.ERROR: "bold red",
    Level.WARNING: "yellow",
    Level.NOTICE: "cyan",
    Level.INFO: "",
    Level.DEBUG: "dim",
}


class LogsPanel:
    """Subscribes ``/logs`` with ``from_url`` + ``log_lines()`` and shows the run as it streams.

    The newest lines are shown with their step and line number, coloured by
    level; the header counts lines per level and names the current step.
    When a run ends the panel waits a little and follows a new one.  With
    ``faults`` the emulator drops the connection at random points: the
    source resumes with ``Last-Event-ID`` and the numbering stays gap-free.
    """

    title = "logs · CI run"

    def __init__(self) -> None:
        self._subscription: abc.DisposableBase | None = None
        self._restart: asyncio.TimerHandle | None = None
        self._url = ""
        self.view = LogView(max_lines=2000)
        self.runs = 0
        self.reconnects = 0
        self.step = ""
        self.state = "idle"
        self.error = ""

    def start(self, base_url: str, *, faults: bool) -> None:
        self._url = f"{base_url}/logs?rate={RATE}" + (FAULTS if faults else "")
        self._follow()

    def _follow(self) -> None:
        self._restart = None
        self.view = LogView(max_lines=2000)
        self.runs += 1
        self.state = "streaming"
        source = from_url(
            self._url,
            reconnect=ReconnectPolicy(default_delay=0.2, max_delay=1.0, max_attempts=None),
            lifecycle=self._on_lifecycle,
        )
        self._subscription = source.pipe(log_lines()).subscribe(
            on_next=self._on_line, on_error=self._on_error, on_completed=self._on_completed
        )

    def stop(self) -> None:
        if self._restart is not None:
            self._restart.cancel()
            self._restart = None
        if self._subscription is not None:
            self._subscription.dispose()
            self._subscription = None

    def _on_line(self, line: LogLine) -> None:
        self.view.append(line)
        self.step = f"{line.step}. {line.step_name}"

    def _on_error(self, error: Exception) -> None:
        self.state = "failed"
        self.error = str(error)

    def _on_completed(self) -> None:
        self.state = "run complete"
        self._restart = asyncio.get_running_loop().call_later(RESTART_AFTER, self._follow)

    def _on_lifecycle(self, change: ConnectionEvent) -> None:
        if isinstance(change, Reconnecting):
            self.reconnects += 1

    def counts_text(self) -> Text:
        counts = self.view.counts()
        parts: list[tuple[str, str] | str] = []
        for level in Level:
            parts.append((f"{level.value} {counts[level]}", LEVEL_STYLES[level] or "bold"))
            parts.append("  ")
        return Text.assemble(*parts)

    def render(self) -> RenderableType:
        header = Table.grid(padding=(0, 2))
        header.add_column(style="dim")
        header.add_column()
        header.add_row("state", f"{self.state}  (run {self.runs}, reconnects {self.reconnects})")
        header.add_row("step", self.step or "-")
        header.add_row("levels", self.counts_text())
        if self.error:
            header.add_row("error", Text(self.error, style="red"))
        lines = Table.grid(padding=(0, 1))
        lines.add_column(style="dim", justify="right", no_wrap=True)
        lines.add_column(no_wrap=True, overflow="ellipsis", max_width=90)
        total = len(self.view)
        for line in self.view.range(max(total - SHOWN, 0), total):
            text = line.text.replace("\n", " ⏎ ")
            lines.add_row(f"{line.step}:{line.number}", Text(text, style=LEVEL_STYLES[line.level]))
        return Group(header, lines)

    def summary(self) -> str:
        counts = self.view.counts()
        levels = " ".join(f"{level.value}={counts[level]}" for level in Level)
        return (
            f"lines={self.view.total} {levels} step={self.step or '-'} run={self.runs} "
            f"reconnects={self.reconnects} state={self.state}"
        )
