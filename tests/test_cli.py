"""The rxsse command line."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from rxsse.cli import main


def test_demo_prints_the_decoded_events(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "Héllo" in out
    assert "line one\\nline two" in out
    assert "4 events" in out


def test_console_script_module_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rxsse.cli", "demo"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "[DONE]" in result.stdout


async def _run_cli(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rxsse.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


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
