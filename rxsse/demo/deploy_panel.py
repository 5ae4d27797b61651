"""The deployments panel: a progress bar, the current step, the final URL or error."""

from __future__ import annotations

import asyncio
from typing import Any

from reactivex import Observable, abc
from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from rxsse.domain.deploy import DeploymentState
from rxsse.operators.deploy import deployment_state
from rxsse.sources.http import from_url
from rxsse.sources.lifecycle import ReconnectPolicy
from rxsse.sources.ndjson import from_ndjson_url

__all__ = ["DeployPanel"]

SPEED = 2.0  # the emulated deployment (about nine seconds of plan) runs this much faster
PAUSE = 1.5  # seconds the finished deployment stays on screen before the next one
OUTCOMES = ("ready", "ready", "error")  # every third deployment fails its build
FAULTS = "&out_of_order=1&drop_after=6&replay=2"
_POLICY = ReconnectPolicy(default_delay=0.2, max_delay=1.0, max_attempts=None)
_STYLE = {"ready": "green", "failed": "red", "canceled": "yellow", "disconnected": "yellow"}


def _resume(value: Any) -> dict[str, Any] | None:
    return {"since": value["created"]} if isinstance(value, dict) and "created" in value else None


def _vercel_id(value: Any) -> object:
    payload = value.get("payload") if isinstance(value, dict) else None
    return payload.get("id") if isinstance(payload, dict) else None


class DeployPanel:
    """Follows emulated deployments one after another, alternating the two formats.

    Even-numbered deployments stream seed-style SSE (``/deploy/events``), odd ones
    Vercel-style NDJSON (``/deploy/ndjson``, resumed with ``since=``).  With
    ``faults`` the streams arrive out of order, drop, and replay events after each
    reconnect; the panel shows that the state stays right: duplicates skipped,
    anomalies ignored, progress never going back.  ``speed`` divides the plan's
    timing (``0``: no pauses); ``pause`` is the wait between deployments.
    """

    title = "deploy · build progress"

    def __init__(self, *, speed: float = SPEED, pause: float = PAUSE) -> None:
        self.speed = speed
        self.pause = pause
        self._subscription: abc.DisposableBase | None = None
        self._next: asyncio.TimerHandle | None = None
        self._base_url = ""
        self._faults = False
        self.number = 0
        self.format = "-"
        self.state: DeploymentState | None = None
        self.finished: dict[str, int] = {}
        self.error = ""

    def start(self, base_url: str, *, faults: bool) -> None:
        self._base_url = base_url
        self._faults = faults
        self._follow()

    def stop(self) -> None:
        if self._next is not None:
            self._next.cancel()
            self._next = None
        if self._subscription is not None:
            self._subscription.dispose()
            self._subscription = None

    def _source(self) -> Observable[Any]:
        outcome = OUTCOMES[self.number % len(OUTCOMES)]
        query = f"?speed={self.speed}&outcome={outcome}&seed={self.number}"
        if self._faults:
            query += FAULTS
        if self.number % 2 == 0:
            self.format = "SSE"
            return from_url(f"{self._base_url}/deploy/events{query}", reconnect=_POLICY)
        self.format = "NDJSON"
        return from_ndjson_url(
            f"{self._base_url}/deploy/ndjson{query}",
            reconnect=_POLICY,
            event_id=_vercel_id,
            resume=_resume,
            on_skip=lambda _: None,
        )

    def _follow(self) -> None:
        self._next = None
        self.number += 1
        self.state = None
        pipeline = self._source().pipe(deployment_state(max_logs=3))
        self._subscription = pipeline.subscribe(
            on_next=self._on_state, on_error=self._on_error, on_completed=self._on_done
        )

    def _on_state(self, state: DeploymentState) -> None:
        self.state = state

    def _on_error(self, error: Exception) -> None:
        self.error = f"{type(error).__name__}: {error}"
        self._on_done()

    def _on_done(self) -> None:
        if self.state is not None:
            outcome = self.state.outcome
            self.finished[outcome] = self.finished.get(outcome, 0) + 1
        self._subscription = None
        self._next = asyncio.get_running_loop().call_later(self.pause, self._follow)

    def render(self) -> RenderableType:
        state = self.state
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim")
        table.add_column()
        table.add_row("deployment", f"#{self.number} ({self.format})")
        if state is None:
            table.add_row("status", "waiting for events")
            return table
        outcome = state.outcome
        colour = _STYLE.get(outcome, "cyan")
        table.add_row("status", Text(f"{state.status or '-'}  ({outcome})", style=colour))
        bar = ProgressBar(total=100, completed=state.progress, width=30, complete_style=colour)
        table.add_row("progress", Group(bar, Text(f"{state.progress:.0f}%")))
        table.add_row("step", state.step or "-")
        if state.url:
            table.add_row("url", Text(state.url, style="green"))
        if state.error is not None:
            table.add_row("error", Text(f"{state.error.code}: {state.error.message}", style="red"))
        if state.logs:
            table.add_row("log", Text(state.logs[-1].text, overflow="ellipsis", no_wrap=True))
        table.add_row(
            "robustness", f"duplicates skipped {state.duplicates}, ignored {len(state.anomalies)}"
        )
        table.add_row("finished", self._finished())
        if self.error:
            table.add_row("last error", Text(self.error, style="red"))
        return table

    def _finished(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(self.finished.items())) or "-"

    def summary(self) -> str:
        state = self.state
        if state is None:
            return f"deployment=#{self.number} ({self.format}) waiting finished={self._finished()}"
        shown = state.url or (state.error.code if state.error else state.step or "-")
        return (
            f"deployment=#{self.number} ({self.format}) status={state.status} "
            f"progress={state.progress:.0f}% outcome={state.outcome} {shown} "
            f"duplicates={state.duplicates} anomalies={len(state.anomalies)} "
            f"finished={self._finished()}"
        )
