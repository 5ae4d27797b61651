"""What a dashboard panel is, and a small rate meter panels share."""

from __future__ import annotations

from collections import deque
from typing import Protocol

from rich.console import RenderableType

__all__ = ["Panel", "RateMeter"]


class Panel(Protocol):
    """One emulated service on the dashboard, fed by a real rxsse pipeline.

    ``start`` subscribes the panel's pipelines (on the running loop) against
    the emulator at ``base_url``; ``stop`` disposes them.  ``render`` returns
    the rich renderable for the live view; ``summary`` one line of text for
    ``--plain`` output.  All four are called on the loop thread.
    """

    title: str

    def start(self, base_url: str, *, faults: bool) -> None:
        """Subscribe the panel's pipelines."""

    def stop(self) -> None:
        """Dispose every subscription the panel made."""

    def render(self) -> RenderableType:
        """The panel's current state for the live dashboard."""

    def summary(self) -> str:
        """The panel's current state as one line of plain text."""


class RateMeter:
    """Events per second over a sliding window of ``window`` seconds.

    ``mark(now)`` records one event at loop time ``now`` (seconds);
    ``rate(now)`` is the count within ``(now - window, now]`` divided by the
    window, so it falls to zero when events stop.  Memory is bounded by the
    events of one window.
    """

    __slots__ = ("_times", "window")

    def __init__(self, window: float = 1.0) -> None:
        self.window = window
        self._times: deque[float] = deque()

    def mark(self, now: float) -> None:
        self._times.append(now)
        self._expire(now)

    def rate(self, now: float) -> float:
        self._expire(now)
        return len(self._times) / self.window

    def _expire(self, now: float) -> None:
        times = self._times
        horizon = now - self.window
        while times and times[0] <= horizon:
            times.popleft()
