"""The rxsse command line: demo dashboard, tail, emulate."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sys

from rich.console import Console

from rxsse.demo import render_frame, run_demo
from rxsse.demo.events_panel import EventsPanel
from rxsse.demo.panel import RateMeter


async def _run_cli(*args: str, limit: float = 60) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rxsse.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), limit)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_demo_plain_shows_events_from_the_pipeline() -> None:
    code, out, err = await _run_cli("demo", "--duration", "5", "--plain")
    assert code == 0, err
    assert "rxsse demo: emulator at http://127.0.0.1:" in out
    counts = [
        int(part.split("=")[1])
        for line in out.splitlines()
        if "events · generic stream" in line and line.startswith("[")
        for part in line.split()
        if part.startswith("events=")
    ]
    assert counts, out
    assert counts[-1] > 20, "the /events panel received events over HTTP"
    assert "gaps=0" in out
    assert "llm · chat completions: requests=" in out
    assert "Traceback" not in err


async def test_demo_with_faults_survives_disconnects() -> None:
    code, out, err = await _run_cli("demo", "--duration", "4", "--plain", "--faults")
    assert code == 0, err
    last = [line for line in out.splitlines() if line.startswith("rxsse demo: done")][-1]
    assert "gaps=0" in last
    assert "reconnects=0" not in last, "faults were injected and survived"
    assert "Traceback" not in err


async def test_sigint_exits_cleanly_without_a_traceback() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rxsse.cli",
        "demo",
        "--plain",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    async with asyncio.timeout(30):
        while b"events=" not in await process.stdout.readline():
            pass
    process.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(process.communicate(), 10)
    assert process.returncode == 0
    assert b"Traceback" not in err
    assert b"stopped" in out


async def test_one_dashboard_frame_renders_every_panel() -> None:
    console = Console(record=True, width=120, file=io.StringIO(), force_terminal=False)
    await run_demo(duration=1.5, plain=False, faults=False, console=console)
    text = console.export_text()
    assert "rxsse demo" in text
    assert "events · generic stream" in text
    assert "llm · chat completions" in text
    assert "last id" in text


def test_render_frame_offline() -> None:
    panel = EventsPanel()
    panel.count, panel.last_id, panel.reconnects = 42, "42", 3

    async def render() -> str:
        console = Console(record=True, width=100, file=io.StringIO())
        console.print(render_frame([panel], elapsed=1.0, url="http://x", faults=True))
        return console.export_text()

    text = asyncio.run(render())
    assert "events · generic stream" in text
    assert "42" in text
    assert "faults on" in text


def test_rate_meter_counts_a_sliding_window() -> None:
    meter = RateMeter(window=2.0)
    for t in (0.0, 0.5, 1.0, 1.5):
        meter.mark(t)
    assert meter.rate(1.5) == 2.0
    assert meter.rate(2.9) == 1.0  # the window (0.9, 2.9] holds 1.0 and 1.5
    assert meter.rate(10.0) == 0.0


async def test_tail_prints_events_pretty_json(emulator: str) -> None:
    code, out, err = await _run_cli(
        "tail", f"{emulator}/events?rate=0&count=5", "--json", "--count", "2"
    )
    assert code == 0, err
    assert "[tick] id=1" in out
    assert '  "n": 2,' in out
    assert "id=3" not in out


async def test_tail_reports_an_http_error_with_exit_code_1(emulator: str) -> None:
    code, _, err = await _run_cli("tail", f"{emulator}/events?status=503")
    assert code == 1
    assert "503" in err
    assert "Traceback" not in err
