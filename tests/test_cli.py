"""The rxsse command line."""

from __future__ import annotations

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
