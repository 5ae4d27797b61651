"""``/deploy/events`` (SSE, seed style) and ``/deploy/ndjson`` (NDJSON, Vercel style).

One emulated deployment, the same in both formats: queued, initializing, analyzing,
building (dependencies, compile, page data, functions), deploying, ready with a URL
and an alias, and one more alias assigned after READY.  Event times follow a
realistic plan of about nine seconds (deterministic per ``seed``); the stream is
paced by that plan divided by ``speed``.

Query parameters of both endpoints:

``outcome=ready|error|canceled``  how the deployment ends (default ``ready``;
                                  ``error`` is a TypeScript build error)
``speed=X``        plan time divided by X (default 1; ``0`` = no pauses at all)
``seed=K``         varies the timings, the deployment id and URL
``out_of_order=1`` state events arrive out of order: ANALYZING before INITIALIZING,
                   and a stale BUILDING after DEPLOYING (both must be ignored)
``replay=N``       after a reconnect, resend the N events before the resume point
                   (duplicates at the boundary, which clients must skip by id)

``/deploy/events`` also takes every fault of :mod:`rxsse.emulator.faults`
(``drop_after``, ``stall``, ``garbage``, …) and resumes after ``Last-Event-ID``
(204 once everything was sent).  Events: ``build-state`` (``state``,
``progress``, ``step``), ``log`` (``text``, ``level``, ``source``),
``creating-functions``, ``ready`` (``url``, ``aliases``), ``error`` (``code``,
``message``, ``details``), ``canceled``, ``alias-assigned``; every data object
carries ``at`` (seconds since the epoch).

``/deploy/ndjson`` sends ``application/x-ndjson`` lines shaped like Vercel's
deployment events (``type`` command/stdout/stderr/exit/delimiter/deployment-state,
``created`` in ms, ``payload.id``, ``payload.info.readyState``) with a keep-alive
line ``{}`` (no ``created``) every few events, and one invalid line with
``garbage=1``.  ``since=MS`` resumes at the events created at or after MS (so the
last event seen is sent again, as Vercel does); ``drop_after=N`` aborts each
connection after N new event lines (replays and keep-alives are not counted);
``status=NNN`` answers that status instead.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from rxsse._event import ServerSentEvent
from rxsse.emulator.faults import ConnectionDropped, Faults
from rxsse.emulator.streaming import int_param, stream_response

__all__ = ["PlannedEvent", "plan_deployment", "routes", "to_sse", "to_vercel"]

BASE_TIME = 1_767_225_600.0  # 2026-01-01T00:00:00Z: plan times are offsets from here
KEEPALIVE_EVERY = 4  # NDJSON: one keep-alive line after every this many events
_KEEPALIVE = b"{}\n"


@dataclass(frozen=True)
class PlannedEvent:
    """One event of the plan: ``offset`` seconds after the deployment was created."""

    offset: float
    kind: str  # state, log, functions, ready, error, canceled, alias, exit
    data: dict[str, Any] = field(default_factory=dict)


def plan_deployment(
    seed: int, *, outcome: str = "ready", out_of_order: bool = False
) -> list[PlannedEvent]:
    """The deployment's events in emission order, with realistic offsets."""
    rng = random.Random(f"deploy/{seed}")
    slug = f"{rng.getrandbits(36):09x}"
    events: list[PlannedEvent] = []
    clock = 0.0

    def at(seconds: float) -> float:
        nonlocal clock
        clock += seconds * rng.uniform(0.7, 1.3)
        return round(clock, 3)

    def state(name: str, seconds: float, progress: float | None = None, step: str = "") -> None:
        data: dict[str, Any] = {"state": name}
        if progress is not None:
            data["progress"] = progress
        if step:
            data["step"] = step
        events.append(PlannedEvent(at(seconds), "state", data))

    def log(text: str, seconds: float = 0.15, level: str = "info", source: str = "stdout") -> None:
        data = {"text": text, "level": level, "source": source}
        events.append(PlannedEvent(at(seconds), "log", data))

    state("QUEUED", 0.0, 0)
    early = [("INITIALIZING", 0.6, 5, "Cloning repository"), ("ANALYZING", 0.5, 10, "Analyzing")]
    if out_of_order:
        early.reverse()
    for name, seconds, progress, step in early:
        state(name, seconds, progress, step)
        if name == "INITIALIZING":
            log(f"Cloning github.com/acme/shop (Branch: main, Commit: {slug[:7]})", 0.2)
            log("Cloning completed: 412.311ms")
    log("Running build in Washington, D.C., USA (East) - iad1", source="delimiter")
    state("BUILDING", 0.4, 20, "Installing dependencies")
    log('Running "npm install"', source="command")
    log("npm WARN deprecated inflight@1.0.6: This module is not supported", 0.6, "warning")
    log("added 412 packages in 3s", 0.9)
    state("BUILDING", 0.2, 45, "Building")
    log('Running "npm run build"', source="command")
    log("> next build", 0.3)
    if outcome == "error":
        log("./app/checkout/page.tsx:14:7", 1.2, "error", "stderr")
        log("Type error: Property 'total' does not exist on type 'Cart'.", 0.05, "error", "stderr")
        events.append(PlannedEvent(at(0.1), "exit", {"code": 1}))
        details = {"file": "app/checkout/page.tsx", "line": 14, "column": 7}
        message = 'Command "npm run build" exited with 1'
        error = {"code": "BUILD_FAILED", "message": message, "details": details}
        events.append(PlannedEvent(at(0.3), "error", error))
        return events
    if outcome == "canceled":
        log("Creating an optimized production build ...", 0.8)
        events.append(PlannedEvent(at(0.7), "canceled", {}))
        return events
    log("✓ Compiled successfully", 1.6)
    state("BUILDING", 0.2, 70, "Collecting page data")
    log("Collecting page data ...", 0.1)
    log("✓ Generating static pages (12/12)", 0.9)
    functions = ["api/checkout", "api/hello", "api/search"]
    events.append(PlannedEvent(at(0.5), "functions", {"functions": functions}))
    events.append(PlannedEvent(at(0.1), "exit", {"code": 0}))
    state("DEPLOYING", 0.4, 85, "Uploading build outputs")
    if out_of_order:
        state("BUILDING", 0.05, 70, "Collecting page data")  # a stale event, arriving late
    log("Deploying outputs...", 0.3)
    state("DEPLOYING", 0.8, 95, "Assigning domains")
    url = f"https://shop-{slug}-acme.vercel.app"
    events.append(PlannedEvent(at(0.4), "ready", {"url": url, "aliases": ["shop.acme.dev"]}))
    events.append(PlannedEvent(at(0.5), "alias", {"alias": "www.shop.acme.dev"}))
    return events


def to_sse(planned: PlannedEvent, index: int) -> ServerSentEvent:
    """The seed-style SSE event for the plan's event number ``index`` (id ``index + 1``)."""
    data: dict[str, Any] = {**planned.data, "at": BASE_TIME + planned.offset}
    name = {
        "state": "build-state",
        "log": "log",
        "functions": "creating-functions",
        "ready": "ready",
        "error": "error",
        "canceled": "canceled",
        "alias": "alias-assigned",
    }.get(planned.kind)
    if planned.kind == "exit":
        code = planned.data["code"]
        name = "log"
        level = "error" if code else "info"
        data = {"text": f"Build command exited with {code}", "level": level, "at": data["at"]}
    return ServerSentEvent(name or planned.kind, json.dumps(data), str(index + 1))


def _created_ms(planned: PlannedEvent, index: int) -> int:
    return int((BASE_TIME + planned.offset) * 1000) + index  # strictly increasing


def to_vercel(planned: PlannedEvent, index: int, seed: int) -> dict[str, Any] | None:
    """The Vercel-style NDJSON object for a planned event (``None``: no such event there)."""
    created = _created_ms(planned, index)
    deployment = f"dpl_{seed:04d}{random.Random(seed).getrandbits(40):010x}"
    payload: dict[str, Any] = {
        "id": f"evt_{seed}_{index}",
        "date": created,
        "deploymentId": deployment,
        "serial": f"{created}{index:06d}",
        "info": {"type": "build", "name": "bld_" + deployment[4:], "entrypoint": "."},
    }
    data = planned.data
    kind = planned.kind
    if kind == "state" or kind in ("ready", "error", "canceled"):
        ready_state = {"ready": "READY", "error": "ERROR", "canceled": "CANCELED"}.get(
            kind, data.get("state")
        )
        payload["info"] = {
            "type": "deployment-state",
            "name": deployment,
            "readyState": ready_state,
        }
        if kind == "ready":
            payload["info"]["url"] = data["url"]
            payload["info"]["aliases"] = data["aliases"]
        if kind == "error":
            payload["errorCode"] = data["code"]
            payload["errorMessage"] = data["message"]
        return {"type": "deployment-state", "created": created, "payload": payload}
    if kind == "log":
        payload["text"] = data["text"]
        line: dict[str, Any] = {"type": data["source"], "created": created, "payload": payload}
        if data["level"] == "warning":
            line["level"] = "warning"
        return line
    if kind == "exit":
        payload["text"] = ""
        payload["info"] = {**payload["info"], "exitCode": data["code"]}
        return {"type": "exit", "created": created, "payload": payload}
    if kind == "functions":
        payload["text"] = "Created serverless functions: " + ", ".join(data["functions"])
        return {"type": "stdout", "created": created, "payload": payload}
    return None  # alias assignments are not part of Vercel's build event stream


@dataclass(frozen=True)
class _Options:
    seed: int
    outcome: str
    speed: float
    out_of_order: bool
    replay: int

    @classmethod
    def parse(cls, request: Request, default_seed: int) -> _Options:
        query = request.query_params
        outcome = query.get("outcome", "ready")
        if outcome not in ("ready", "error", "canceled"):
            raise ValueError(f"outcome must be ready, error or canceled, not {outcome!r}")
        speed = float(query.get("speed", "1"))
        if speed < 0:
            raise ValueError("speed must not be negative")
        return cls(
            seed=int_param(request, "seed", None) or default_seed,
            outcome=outcome,
            speed=speed,
            out_of_order=query.get("out_of_order", "") not in ("", "0", "false"),
            replay=max(int_param(request, "replay", 0) or 0, 0),
        )

    def plan(self) -> list[PlannedEvent]:
        return plan_deployment(self.seed, outcome=self.outcome, out_of_order=self.out_of_order)


async def _paced(plan: list[PlannedEvent], first: int, speed: float) -> AsyncIterator[int]:
    """Indices ``first, first + 1, …`` of ``plan``, each at its offset divided by ``speed``."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    origin = plan[first].offset if first < len(plan) else 0.0
    for index in range(first, len(plan)):
        if speed > 0:
            delay = started + (plan[index].offset - origin) / speed - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        else:
            await asyncio.sleep(0)
        yield index


def routes(seed: int) -> list[BaseRoute]:
    """The ``/deploy/events`` and ``/deploy/ndjson`` routes of an emulator seeded ``seed``."""

    async def sse_endpoint(request: Request) -> Response:
        try:
            options = _Options.parse(request, seed)
            faults = Faults.from_query(request.query_params, default_seed=seed)
        except ValueError as exc:
            return PlainTextResponse(f"bad query parameter: {exc}\n", status_code=400)
        plan = options.plan()
        last = request.headers.get("last-event-id", "")
        resumed = int(last) if last.isdigit() else 0
        if last and resumed >= len(plan):
            return Response(status_code=204)
        first = max(resumed - options.replay, 0) if last else 0

        async def events() -> AsyncIterator[ServerSentEvent]:
            async for index in _paced(plan, first, options.speed):
                yield to_sse(plan[index], index)

        return stream_response(request, events(), faults)

    async def ndjson_endpoint(request: Request) -> Response:
        try:
            options = _Options.parse(request, seed)
            since = int_param(request, "since", None)
            drop_after = int_param(request, "drop_after", None)
            status = int_param(request, "status", None)
        except ValueError as exc:
            return PlainTextResponse(f"bad query parameter: {exc}\n", status_code=400)
        if status is not None:
            return PlainTextResponse(f"emulated status {status}\n", status_code=status)
        garbage = request.query_params.get("garbage", "") not in ("", "0", "false")
        plan = options.plan()
        resume_at = 0
        if since is not None:
            created = [_created_ms(p, i) for i, p in enumerate(plan)]
            resume_at = next((i for i, ms in enumerate(created) if ms >= since), len(plan))
        first = max(resume_at - options.replay, 0)

        async def body() -> AsyncIterator[bytes]:
            sent = 0  # event lines at or after the resume point (replays excluded)
            async for index in _paced(plan, first, options.speed):
                for chunk in _ndjson_lines(plan, index, options.seed, garbage):
                    counts = index >= resume_at and chunk != _KEEPALIVE
                    if counts and drop_after is not None and sent >= drop_after:
                        raise ConnectionDropped(f"dropped after {sent} lines")
                    yield chunk
                    sent += counts

        return StreamingResponse(body(), media_type="application/x-ndjson")

    return [
        Route("/deploy/events", sse_endpoint),
        Route("/deploy/ndjson", ndjson_endpoint),
    ]


def _ndjson_lines(
    plan: list[PlannedEvent], index: int, seed: int, garbage: bool
) -> Iterator[bytes]:
    """The lines sent for the plan's event ``index``: the event, then maybe a keep-alive."""
    obj = to_vercel(plan[index], index, seed)
    if obj is not None:
        yield json.dumps(obj).encode() + b"\n"
    if index % KEEPALIVE_EVERY == KEEPALIVE_EVERY - 1:
        yield _KEEPALIVE
    if garbage and index == 2:
        yield b'{"type": "stdout", "created": \n'  # a line cut short by a broken proxy
