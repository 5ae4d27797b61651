"""Shared fixtures: a real emulator on 127.0.0.1 for network tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from rxsse.emulator import running


@pytest.fixture
async def emulator() -> AsyncIterator[str]:
    """Base URL of a fresh emulator served by uvicorn on a free loopback port."""
    async with running(seed=7) as url:
        yield url
