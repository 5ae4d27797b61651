"""``rxsse demo``: the emulated services on one live terminal dashboard.

The demo starts the emulator in-process on a free loopback port, lets every
panel subscribe its real rxsse pipelines to it over HTTP, and shows the
panels in a rich ``Live`` view (or, with ``plain``, one line per panel per
second, for CI logs and pipes).  It stops after ``duration`` seconds or on
Ctrl-C; either way every subscription is disposed and the server closed
before it returns, so no task or port is left open.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from rxsse._extras import require

require("rxsse demo", "server,cli", "rich", "starlette", "uvicorn")

from rich.console import Console, Group, RenderableType
from rich.panel import Panel as Box
from rich.table import Table
from rich.text import Text

from rxsse.demo.deploy_panel import DeployPanel
from rxsse.demo.events_panel import EventsPanel
from rxsse.demo.llm_panel import LLMPanel
from rxsse.demo.logs_panel import LogsPanel
from rxsse.demo.messaging_panel import MessagingPanel
from rxsse.demo.panel import Panel, RateMeter
from rxsse.demo.sales_panel import SalesPanel
from rxsse.emulator import running

__all__ = ["PANELS", "Panel", "RateMeter", "render_frame", "run_demo"]

PANELS: list[Callable[[], Panel]] = [
    EventsPanel,
    LLMPanel,
    MessagingPanel,
    LogsPanel,
    SalesPanel,
    DeployPanel,
]
"""Factories of the dashboard's panels, in display order (one per service)."""

FRAME_INTERVAL = 0.125  # seconds between redraws of the live view
PLAIN_INTERVAL = 1.0  # seconds between lines in plain mode


def render_frame(
    panels: Sequence[Panel], *, elapsed: float, url: str, faults: bool, columns: int = 2
) -> Group:
    """One frame of the dashboard: a header, then the panels' boxes in a grid."""
    header = Text.assemble(
        ("rxsse demo", "bold cyan"),
        f"  emulator {url}  ",
        ("faults on" if faults else "faults off", "yellow" if faults else "dim"),
        f"  {elapsed:5.1f} s  (Ctrl-C to stop)",
    )
    grid = Table.grid(expand=True, padding=(0, 1))
    for _ in range(columns):
        grid.add_column(ratio=1)
    boxes: list[RenderableType] = [
        Box(panel.render(), title=panel.title, border_style="cyan") for panel in panels
    ]
    for start in range(0, len(boxes), columns):
        row = boxes[start : start + columns]
        grid.add_row(*row, *([""] * (columns - len(row))))
    return Group(header, grid)


async def run_demo(
    *,
    duration: float | None,
    plain: bool,
    faults: bool,
    console: Console | None = None,
    panels: Sequence[Panel] | None = None,
) -> None:
    """Run the dashboard until ``duration`` seconds passed (``None``: forever)."""
    from rich.live import Live

    console = console or Console(soft_wrap=plain, highlight=not plain)
    active = list(panels) if panels is not None else [factory() for factory in PANELS]
    loop = asyncio.get_running_loop()
    async with running(port=0) as url:
        started = loop.time()
        for panel in active:
            panel.start(url, faults=faults)
        try:
            if plain:
                console.print(f"rxsse demo: emulator at {url}, faults {'on' if faults else 'off'}")
                while duration is None or loop.time() - started < duration:
                    await asyncio.sleep(PLAIN_INTERVAL)
                    elapsed = loop.time() - started
                    for panel in active:
                        console.print(f"[{elapsed:5.1f}s] {panel.title}: {panel.summary()}")
            else:
                with Live(console=console, auto_refresh=False, transient=False) as live:
                    while duration is None or loop.time() - started < duration:
                        elapsed = loop.time() - started
                        columns = 2 if console.width < 200 else 3
                        frame = render_frame(
                            active, elapsed=elapsed, url=url, faults=faults, columns=columns
                        )
                        live.update(frame, refresh=True)
                        await asyncio.sleep(FRAME_INTERVAL)
        finally:
            for panel in active:
                panel.stop()
            await asyncio.sleep(0)  # let the cancelled sources unwind before the server stops
    console.print("rxsse demo: done; " + "; ".join(f"{p.title}: {p.summary()}" for p in active))
