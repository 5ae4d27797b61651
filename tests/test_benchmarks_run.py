"""The benchmarks the issues name run, as files and as modules (smoke runs, no timings)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "command",
    [
        ["benchmarks/decoder.py", "--quick"],
        ["benchmarks/messaging.py", "--quick"],
        ["-m", "benchmarks.decoder", "--quick"],
    ],
    ids=" ".join,
)
def test_benchmark_runs_and_prints_its_table(command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, *command], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "| rxsse" in done.stdout or "| json" in done.stdout
