"""The deployments demo panel against the emulator (fast speed, faults on)."""

from __future__ import annotations

import asyncio
import io

from rich.console import Console

from rxsse.demo import PANELS
from rxsse.demo.deploy_panel import DeployPanel


async def test_panel_follows_deployments_in_both_formats_with_faults(emulator: str) -> None:
    assert DeployPanel in PANELS
    panel = DeployPanel(speed=0, pause=0.2)
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(panel.render())
    assert "waiting for events" in console.file.getvalue()  # type: ignore[attr-defined]
    panel.start(emulator, faults=True)
    try:
        async with asyncio.timeout(20):
            while not (sum(panel.finished.values()) >= 3 and panel.state and panel.state.terminal):
                await asyncio.sleep(0.005)
        snapshot = panel.summary()
    finally:
        panel.stop()
    assert panel.finished.get("failed", 0) >= 1, panel.finished  # every third fails
    assert panel.finished.get("ready", 0) >= 2, panel.finished
    assert set(panel.finished) == {"failed", "ready"}  # never "disconnected"
    assert not panel.error
    assert "deployment=#" in snapshot
    assert "progress=100%" in snapshot or "BUILD_FAILED" in snapshot
    console.print(panel.render())
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "progress" in text
    assert "duplicates skipped" in text
    number = panel.number
    await asyncio.sleep(0.05)
    assert panel.number == number  # stopped: no further deployment is started
