"""Run an ASGI app with uvicorn on a loopback port, inside the current loop.

:func:`serve_app` is how tests, notebooks and ``rxsse demo`` host the
emulator (or any Starlette app) without a subprocess: the server runs as a
task on the running event loop, binds before the context is entered (so
``port=0`` yields a free port), and on exit closes every open connection and
lets their responses end, so no task or socket outlives the block.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Generator
from typing import Any

import uvicorn

__all__ = ["serve_app"]


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its host program."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@contextlib.asynccontextmanager
async def serve_app(app: Any, *, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve ``app`` on ``host:port`` while the block runs; yield its base URL.

    ``port=0`` picks a free port.  Only loopback addresses are intended.
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=1,
        ws="none",
    )
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="rxsse-emulator-server")
    try:
        while not server.started:
            if task.done():
                task.result()  # raises the startup error
                raise RuntimeError("server stopped during startup")
            await asyncio.sleep(0.005)
        netloc = f"[{host}]" if ":" in host else host
        yield f"http://{netloc}:{bound_port}"
    finally:
        # Closing the transports makes every streaming response see a client
        # disconnect and end by itself; uvicorn's graceful shutdown then only
        # waits for those tasks (and cancels stragglers after one second).
        server.should_exit = True
        # Clients that were just disposed close their connections themselves;
        # give them a moment, then close whatever is left.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 0.5
        # uvicorn offers no event for this; poll its connection set briefly.
        while server.server_state.connections and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        for connection in list(server.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.close()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sock.close()
