"""Emulated upstream services for tests, notebooks and ``rxsse demo``.

``async with running(port=0) as url:`` serves the emulator on 127.0.0.1
inside the running event loop and yields its base URL; ``rxsse emulate
--port 8765`` serves it from the command line.  Needs ``rxsse[server]``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from rxsse._extras import require

require("rxsse.emulator", "server", "starlette", "uvicorn")

from rxsse.emulator.app import create_app
from rxsse.emulator.server import serve_app

__all__ = ["create_app", "running"]


@contextlib.asynccontextmanager
async def running(*, port: int = 0, host: str = "127.0.0.1", seed: int = 0) -> AsyncIterator[str]:
    """Serve the emulator while the block runs; yield its base URL."""
    async with serve_app(create_app(seed=seed), host=host, port=port) as url:
        yield url
