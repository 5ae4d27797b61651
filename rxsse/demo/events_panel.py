"""The generic ``/events`` panel: rate, last id, reconnects, faults survived."""

from __future__ import annotations

import asyncio

from reactivex import abc
from rich.console import RenderableType
from rich.table import Table

from rxsse._event import ServerSentEvent
from rxsse.demo.panel import RateMeter
from rxsse.sources.http import from_url
from rxsse.sources.lifecycle import Closed, ConnectionEvent, Open, Reconnecting, ReconnectPolicy

__all__ = ["EventsPanel"]

RATE = 50  # events per second the emulator sends
FAULTS = "&drop_random=200&stall=4&stall_after=120"


class EventsPanel:
    """Subscribes ``/events`` with ``from_url`` and shows what arrives.

    With ``faults`` the emulator drops connections at random points and
    stalls now and then; the panel shows the reconnects and that the ids
    stay gap-free (``gaps`` counts ids that were skipped or repeated).
    """

    title = "events · generic stream"

    def __init__(self) -> None:
        self._subscription: abc.DisposableBase | None = None
        self._meter = RateMeter(window=2.0)
        self.count = 0
        self.last_id = ""
        self.gaps = 0
        self.reconnects = 0
        self.drops = 0
        self.stalls = 0
        self.state = "idle"
        self.error = ""

    def start(self, base_url: str, *, faults: bool) -> None:
        url = f"{base_url}/events?rate={RATE}&size=24" + (FAULTS if faults else "")
        source = from_url(
            url,
            reconnect=ReconnectPolicy(default_delay=0.25, max_delay=2.0, max_attempts=None),
            idle_timeout=1.0,
            lifecycle=self._on_lifecycle,
        )
        self._subscription = source.subscribe(on_next=self._on_event, on_error=self._on_error)

    def stop(self) -> None:
        if self._subscription is not None:
            self._subscription.dispose()
            self._subscription = None

    def _on_event(self, event: ServerSentEvent) -> None:
        self.count += 1
        if self.last_id.isdigit() and event.id != str(int(self.last_id) + 1):
            self.gaps += 1
        self.last_id = event.id
        self._meter.mark(asyncio.get_running_loop().time())

    def _on_error(self, error: Exception) -> None:
        self.state = "failed"
        self.error = str(error)

    def _on_lifecycle(self, change: ConnectionEvent) -> None:
        if isinstance(change, Open):
            self.state = "open"
        elif isinstance(change, Reconnecting):
            self.state = f"reconnecting in {change.delay:.2f} s"
            self.reconnects += 1
            if type(change.cause).__name__ == "StreamStalled":
                self.stalls += 1
            elif change.cause is not None:
                self.drops += 1
        elif isinstance(change, Closed) and self.state != "failed":
            self.state = "closed"

    def rate(self) -> float:
        """Events per second over the last two seconds."""
        return self._meter.rate(asyncio.get_running_loop().time())

    def render(self) -> RenderableType:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim")
        table.add_column()
        table.add_row("state", self.state)
        table.add_row("events", f"{self.count:,}  ({self.rate():.0f}/s)")
        table.add_row("last id", self.last_id or "-")
        table.add_row("gaps", f"[{'red' if self.gaps else 'green'}]{self.gaps}[/]")
        table.add_row(
            "reconnects", f"{self.reconnects}  (drops {self.drops}, stalls {self.stalls})"
        )
        if self.error:
            table.add_row("error", f"[red]{self.error}[/]")
        return table

    def summary(self) -> str:
        return (
            f"events={self.count} rate={self.rate():.0f}/s last_id={self.last_id or '-'} "
            f"gaps={self.gaps} reconnects={self.reconnects} drops={self.drops} "
            f"stalls={self.stalls} state={self.state}"
        )
