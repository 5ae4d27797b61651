"""The emulator's ASGI application: one Starlette app, one module per service.

Each service module exposes ``routes(seed) -> list[Route]``; :data:`SERVICES`
lists them and :func:`create_app` mounts them all, so adding a service is
adding one module and one line.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from rxsse.emulator import deploy, events, llm
from rxsse.emulator import logs as logs_service
from rxsse.emulator import messaging as messaging_service
from rxsse.emulator import sales as sales_service

__all__ = ["SERVICES", "create_app"]

SERVICES: list[Callable[[int], list[BaseRoute]]] = [
    events.routes,
    llm.routes,
    messaging_service.routes,
    logs_service.routes,
    deploy.routes,
    sales_service.routes,
]
"""Route factories of the emulated services, each taking the emulator's seed."""


def create_app(*, seed: int = 0) -> Starlette:
    """Build the emulator app; ``seed`` makes every stream deterministic."""
    service_routes = [route for service in SERVICES for route in service(seed)]
    paths = sorted(getattr(route, "path", "") for route in service_routes)

    async def index(request: Request) -> Response:
        return PlainTextResponse("rxsse emulator: " + " ".join(paths) + "\n")

    return Starlette(routes=[Route("/", index), *service_routes])
