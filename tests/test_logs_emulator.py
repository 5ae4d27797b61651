"""The /logs emulator end to end: from_url + log_lines() over HTTP, faults, resume, the panel."""

from __future__ import annotations

import asyncio
import json

from rich.console import Console

from rxsse import ReconnectPolicy, collect, from_url
from rxsse.demo.logs_panel import LogsPanel
from rxsse.domain.logs import Level, LogLine, LogParser, LogView
from rxsse.emulator.logs import STEPS, run_events
from rxsse.operators.logs import log_lines
from rxsse.sources.lifecycle import Reconnecting

FAST = ReconnectPolicy(default_delay=0.001, jitter=0, max_attempts=50)


def key(line: LogLine) -> tuple[int, int, str, Level]:
    return (line.step, line.number, line.text, line.level)


def test_the_run_is_deterministic_and_numbered() -> None:
    events = run_events(3)
    assert events == run_events(3)
    assert [e.id for e in events] == [str(i) for i in range(1, len(events) + 1)]
    assert events[-1].event == "run-complete"
    assert json.loads(events[-1].data) == {"conclusion": "failure"}
    starts = [json.loads(e.data)["name"] for e in events if e.event == "step-start"]
    assert starts == [step.name for step in STEPS]


async def test_a_full_run_over_http(emulator: str) -> None:
    lines: list[LogLine] = await collect(
        from_url(f"{emulator}/logs", params={"rate": 0}, reconnect=FAST).pipe(log_lines())
    )
    parser = LogParser()
    expected = [line for event in run_events(7) for line in parser.feed(event)]
    assert [key(x) for x in lines] == [key(x) for x in expected]
    by_step: dict[int, list[int]] = {}
    for line in lines:
        by_step.setdefault(line.step, []).append(line.number)
    assert all(numbers == list(range(1, len(numbers) + 1)) for numbers in by_step.values())
    assert set(by_step) == {n for n, step in enumerate(STEPS, 1) if step.lines}

    view = LogView()
    view.extend(lines)
    counts = view.counts()
    assert counts[Level.ERROR] >= 6
    assert counts[Level.WARNING] >= 4
    assert counts[Level.NOTICE] >= 2
    errors = {x.text for x in view.filter(levels=["error"])}
    assert "Traceback (most recent call last):" in errors
    assert "KeyError: 'DATABASE_URL'" in errors
    assert "Process completed with exit code 1." in errors
    annotation = next(
        x
        for x in lines
        if x.command and x.command.name == "error" and x.command.source == "workflow"
    )
    assert annotation.command is not None
    assert annotation.command.properties["file"] == "tests/test_api.py"
    assert annotation.text == "assert 200 == 404\n  where 200 = response.status_code"

    script = next(x for x in lines if "test_escape" in x.text)
    assert "<script>" in script.text
    assert "<script>" not in script.html
    assert "&lt;script&gt;" in script.html
    link = next(x for x in lines if x.text.startswith("Full report"))
    assert 'href="https://ci.example.com/reports/1234?tab=tests&amp;run=7"' in link.html
    receiving = next(x for x in lines if x.text.startswith("Receiving objects"))
    assert receiving.text.startswith("Receiving objects: 100% (164/164)")
    grouped = [x for x in lines if x.group == "Operating System"]
    assert [x.text for x in grouped] == ["Operating System", "Ubuntu", "22.04.4", "LTS"]


async def test_drops_resume_with_last_event_id_and_lose_no_line(emulator: str) -> None:
    url = f"{emulator}/logs"
    clean = await collect(from_url(url, params={"rate": 0}).pipe(log_lines()))
    changes: list[object] = []
    faulty = await collect(
        from_url(
            url, params={"rate": 0, "drop_random": 15}, reconnect=FAST, lifecycle=changes.append
        ).pipe(log_lines())
    )
    assert [key(x) for x in faulty] == [key(x) for x in clean]
    assert sum(isinstance(c, Reconnecting) for c in changes) >= 3  # it did drop, and resume


async def test_steps_parameter_and_pacing(emulator: str) -> None:
    lines = await collect(
        from_url(f"{emulator}/logs", params={"rate": 2000, "steps": 1}).pipe(log_lines())
    )
    assert {x.step_name for x in lines} == {"Set up job"}
    assert len(lines) == 19


async def test_panel_renders_a_run(emulator: str) -> None:
    panel = LogsPanel()
    panel._url = f"{emulator}/logs?rate=0"
    panel._follow()
    try:
        for _ in range(500):
            if panel.state == "run complete":
                break
            await asyncio.sleep(0.01)
        assert panel.state == "run complete"
        console = Console(width=140)
        with console.capture() as captured:
            console.print(panel.render())
        out = captured.get()
        assert "error" in out
        assert "Complete job" in panel.summary()
        assert f"lines={panel.view.total}" in panel.summary()
    finally:
        panel.stop()
