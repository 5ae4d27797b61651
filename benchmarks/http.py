"""HTTP throughput: rxsse ``from_url`` against httpx-sse, over loopback.

Run from the repository root with ``python -m benchmarks.http`` (add
``--quick`` for a smoke test with fewer events, ``--profile`` to append a
client-side cProfile of the two rxsse clients).  Every client reads the same
stream, ``/events?rate=0&count=N&size=100&batch=256`` (event *n* is
``event: tick``, ``id: n`` and ``{"n": n, "payload": "<100 chars>"}``, ~160 B
on the wire; 200,000 events, 20,000 with ``--quick``), from a server running
in **its own process**, so that the server's CPU is not charged to the
client.  Two servers serve that URL, one after the other:

``emulator``
    ``python -m rxsse.cli emulate`` (uvicorn + Starlette + ``rxsse.serve``),
    which builds, frames and writes the events as they are requested, 256
    events per write.
``replay``
    The emulator's response body, fetched once at start-up, served from
    memory in 64 KiB writes by uvicorn + Starlette (a ``StreamingResponse``):
    byte for byte the same stream over the same HTTP stack, with no per-event
    work left on the server.  It is there because a Python server that makes
    every event can be slower than a fast client; then the events/s of the
    emulator rows measure the server, and only the replay rows compare the
    clients.

The clients run on one asyncio loop in this process.  Each run gets a fresh
``httpx.AsyncClient`` that is created before the clock starts and closed
after it stops (creating one loads the CA certificates, 20-50 ms here, a fixed
cost that would blur the throughput of the fastest clients); ``from_url``
is handed it with ``client=``, the TCP connection is made inside the timed
region:

``raw drain``
    ``client.stream("GET", url)`` and ``aiter_raw()`` to the end, counting
    bytes: the upper bound of what the server and the HTTP layer deliver.
``rxsse subscribe``
    ``from_url(url, client=client, reconnect=False).subscribe(on_next=...)``
    counting events (and keeping the last) in ``on_next``, completion awaited
    through a future.
``rxsse async for``
    ``async for`` over ``to_async_iterable(from_url(url, client=client,
    reconnect=False))``.
``httpx-sse``
    ``async with aconnect_sse(client, "GET", url) as source: async for sse in
    source.aiter_sse()``.

Before timing, one untimed round checks that both servers send the same body
(SHA-256) and that every client gets exactly N events whose last one has the
expected type, ``id: N`` and data; every timed run checks the count and last
id again.  The clients take turns (the order rotates every round) and the
time of a client is the best of ``--repeats`` runs (garbage collection is off
while a run is timed).  Alongside the wall time the benchmark records the
client's CPU time (``time.process_time``) and the server process's (from
``/proc``, Linux only).  Client and server run in parallel, so the one that
spends more CPU per event sets the pace: a row whose server CPU µs/event is
at least its client's is marked **server-bound** (its events/s measure the
server; its client CPU µs/event still measure the client).  CPU time, unlike
wall time, hardly changes when other processes compete for the cores;
"client busy" (client CPU / wall time) shows how much they did.  MB is
10**6 bytes of response body.  The target is ``from_url`` events/s at least
1.5x httpx-sse's, judged on rows that are not server-bound.
"""

from __future__ import annotations

if not __package__:  # run as a file, `python benchmarks/NAME.py`: import from the repository
    # root instead of benchmarks/, where http.py would shadow the standard library's http
    import sys as _sys
    from pathlib import Path as _Path

    _sys.path[0] = str(_Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import contextlib
import cProfile
import gc
import hashlib
import io
import json
import os
import platform
import pstats
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

import httpx
import httpx_sse

from benchmarks._common import positive_int as _positive_int
from benchmarks._common import rate as _rate
from benchmarks._common import version as _version
from rxsse import ServerSentEvent, from_url, to_async_iterable
from rxsse.emulator.events import payload_for

__all__ = ["main"]

MB = 1_000_000
FULL_EVENTS = 200_000
QUICK_EVENTS = 20_000
FULL_REPEATS = 5
QUICK_REPEATS = 2
PAYLOAD_SIZE = 100  # characters of payload per event: ~160-byte events on the wire
BATCH = 256  # events per server write
EVENT_TYPE = "tick"  # the emulator's default event type
REPLAY_CHUNK = 64 * 1024
TARGET = 1.5  # from_url / httpx-sse events/s
NEAR_RAW = 0.8  # a client this close to the raw drain's events/s may be held back
STARTUP_TIMEOUT = 60.0
ROOT = Path(__file__).resolve().parent.parent

RAW = "raw drain"
SUBSCRIBE = "rxsse subscribe"
ASYNC_FOR = "rxsse async for"
HTTPX_SSE = "httpx-sse"
FROM_URL_CLIENTS = (SUBSCRIBE, ASYNC_FOR)


class Event(Protocol):
    """The fields rxsse's and httpx-sse's event types share."""

    @property
    def event(self) -> str: ...

    @property
    def data(self) -> str: ...

    @property
    def id(self) -> str: ...


@dataclass(frozen=True)
class Received:
    """What one client run got: the number of events and the last one."""

    count: int
    last: tuple[str, str, str] | None  # (event type, id, data)

    @classmethod
    def of(cls, count: int, last: Event | None) -> Received:
        return cls(count, None if last is None else (last.event, last.id, last.data))


Consume = Callable[[httpx.AsyncClient, str], Awaitable[Received]]
"""A client under test: read the stream at the URL with the given httpx client."""

CLIENT_TIMEOUT = httpx.Timeout(30.0, read=None)


# -- the clients under test ---------------------------------------------------


async def drain_raw(client: httpx.AsyncClient, url: str) -> Received:
    """Read the body with ``aiter_raw`` and throw it away (the upper bound).

    ``count`` is the number of bytes read, not of events.
    """
    nbytes = 0
    async with client.stream("GET", url) as response:
        response.raise_for_status()
        async for chunk in response.aiter_raw():
            nbytes += len(chunk)
    return Received(nbytes, None)


async def consume_rxsse_subscribe(client: httpx.AsyncClient, url: str) -> Received:
    """``from_url(...).subscribe(on_next=...)``, completion awaited via a future."""
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    count = 0
    last: ServerSentEvent | None = None

    def on_next(event: ServerSentEvent) -> None:
        nonlocal count, last
        count += 1
        last = event

    def on_error(error: Exception) -> None:
        if not done.done():
            done.set_exception(error)

    def on_completed() -> None:
        if not done.done():
            done.set_result(None)

    subscription = from_url(url, client=client, reconnect=False).subscribe(
        on_next=on_next, on_error=on_error, on_completed=on_completed
    )
    try:
        await done
    finally:
        subscription.dispose()
    return Received.of(count, last)


async def consume_rxsse_async_for(client: httpx.AsyncClient, url: str) -> Received:
    """``async for`` over ``to_async_iterable(from_url(...))``."""
    count = 0
    last: ServerSentEvent | None = None
    async for event in to_async_iterable(from_url(url, client=client, reconnect=False)):
        count += 1
        last = event
    return Received.of(count, last)


async def consume_httpx_sse(client: httpx.AsyncClient, url: str) -> Received:
    """``httpx_sse.aconnect_sse`` and ``aiter_sse()``."""
    count = 0
    last: Event | None = None
    async with httpx_sse.aconnect_sse(client, "GET", url) as source:
        async for sse in source.aiter_sse():
            count += 1
            last = sse
    return Received.of(count, last)


CLIENTS: tuple[tuple[str, Consume], ...] = (
    (RAW, drain_raw),
    (SUBSCRIBE, consume_rxsse_subscribe),
    (ASYNC_FOR, consume_rxsse_async_for),
    (HTTPX_SSE, consume_httpx_sse),
)


# -- servers in their own processes -------------------------------------------


@dataclass(frozen=True)
class Server:
    """A server process and the URL of the stream it serves."""

    name: str
    description: str
    url: str
    pid: int


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _log_tail(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-2000:]


def _wait_until_answers(url: str, process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"server process exited with code {process.returncode}:\n{_log_tail(log)}"
            )
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"server did not answer {url} within {STARTUP_TIMEOUT} s")
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def server_process(
    name: str, description: str, args: Sequence[str], path_and_query: str
) -> Iterator[Server]:
    """Run ``python <args> --port <free port>``; yield once ``/`` answers 200.

    The process is terminated when the block ends, however it ends.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, *args, "--port", str(port)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            _wait_until_answers(base + "/", process, log)
            yield Server(name, description, base + path_and_query, process.pid)
        finally:
            _stop(process)


def serve_replay(source: str, port: int) -> None:
    """The replay server: fetch ``source`` once, serve its body at any path."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response, StreamingResponse
    from starlette.routing import Route

    response = httpx.get(source, timeout=httpx.Timeout(10.0, read=120.0))
    response.raise_for_status()
    body = response.content
    media_type = response.headers["content-type"]
    chunks = [body[i : i + REPLAY_CHUNK] for i in range(0, len(body), REPLAY_CHUNK)]

    async def chunk_iterator() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    async def events(request: Request) -> Response:
        return StreamingResponse(chunk_iterator(), media_type=media_type)

    async def index(request: Request) -> Response:
        return PlainTextResponse(f"replaying {len(body)} bytes from {source}\n")

    app = Starlette(routes=[Route("/", index), Route("/events", events)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def server_cpu(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` so far (Linux), else ``None``."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


# -- checking and timing --------------------------------------------------------


def expected_last(count: int) -> tuple[str, str, str]:
    """The emulator's event number ``count`` (seed 0), as (type, id, data)."""
    data = json.dumps({"n": count, "payload": payload_for(count, PAYLOAD_SIZE, 0)})
    return (EVENT_TYPE, str(count), data)


async def body_digest(url: str) -> tuple[int, str]:
    """Length and SHA-256 of the response body at ``url``."""
    digest = hashlib.sha256()
    nbytes = 0
    async with httpx.AsyncClient() as client, client.stream("GET", url) as response:
        response.raise_for_status()
        async for chunk in response.aiter_raw():
            digest.update(chunk)
            nbytes += len(chunk)
    return nbytes, digest.hexdigest()


def check(name: str, server: Server, received: Received, nevents: int, nbytes: int) -> None:
    """Raise ``RuntimeError`` unless a client got the whole stream."""
    where = f"{name} from the {server.name} server"
    if name == RAW:
        if received.count != nbytes:
            raise RuntimeError(f"{where}: {received.count} bytes, expected {nbytes}")
        return
    if received.count != nevents:
        raise RuntimeError(f"{where}: {received.count} events, expected {nevents}")
    if received.last is None or received.last[1] != str(nevents):
        raise RuntimeError(f"{where}: last event {received.last!r}, expected id {nevents}")


def check_fully(name: str, server: Server, received: Received, nevents: int) -> None:
    """``check`` plus the last event's type and data."""
    if received.count != nevents or received.last != expected_last(nevents):
        raise RuntimeError(
            f"{name} from the {server.name} server: {received.count} events, last "
            f"{received.last!r}; expected {nevents}, last {expected_last(nevents)!r}"
        )


@dataclass(frozen=True)
class Sample:
    """One timed run."""

    wall: float
    client_cpu: float
    server_cpu: float | None


async def timed(consume: Consume, server: Server) -> tuple[Received, Sample]:
    """Run ``consume`` once with a fresh httpx client, created before the clock starts."""
    gc_was_enabled = gc.isenabled()
    async with httpx.AsyncClient(timeout=CLIENT_TIMEOUT) as client:
        gc.collect()
        gc.disable()
        try:
            server_before = server_cpu(server.pid)
            cpu_before = time.process_time()
            start = time.perf_counter()
            received = await consume(client, server.url)
            wall = time.perf_counter() - start
            client_cpu = time.process_time() - cpu_before
            server_after = server_cpu(server.pid)
        finally:
            if gc_was_enabled:
                gc.enable()
    used = None if server_before is None or server_after is None else server_after - server_before
    return received, Sample(wall, client_cpu, used)


@dataclass
class Row:
    """The runs of one client against one server."""

    server: Server
    client: str
    nevents: int
    nbytes: int
    samples: list[Sample] = field(default_factory=list)

    @property
    def best(self) -> Sample:
        return min(self.samples, key=lambda sample: sample.wall)

    @property
    def events_per_s(self) -> float:
        return self.nevents / self.best.wall

    @property
    def mb_per_s(self) -> float:
        return self.nbytes / MB / self.best.wall

    @property
    def cpu_us_per_event(self) -> float:
        return min(sample.client_cpu for sample in self.samples) / self.nevents * 1e6

    @property
    def client_busy(self) -> float:
        return self.best.client_cpu / self.best.wall

    @property
    def server_busy(self) -> float | None:
        used = self.best.server_cpu
        return None if used is None else used / self.best.wall

    @property
    def server_cpu_us_per_event(self) -> float | None:
        used = self.best.server_cpu
        return None if used is None else used / self.nevents * 1e6

    @property
    def server_bound(self) -> bool:
        """The server spent more CPU per event than the client (busier, without /proc)."""
        server_cost = self.server_cpu_us_per_event
        if server_cost is None:
            return self.client_busy < 0.8
        return server_cost >= self.cpu_us_per_event


async def run_server(server: Server, nevents: int, nbytes: int, repeats: int) -> dict[str, Row]:
    """One checked, untimed round, then ``repeats`` timed rounds in rotating order."""
    for name, consume in CLIENTS:
        async with httpx.AsyncClient(timeout=CLIENT_TIMEOUT) as client:
            received = await consume(client, server.url)
        check(name, server, received, nevents, nbytes)
        if name != RAW:
            check_fully(name, server, received, nevents)
    rows = {name: Row(server, name, nevents, nbytes) for name, _ in CLIENTS}
    for round_ in range(repeats):
        shift = round_ % len(CLIENTS)
        for name, consume in CLIENTS[shift:] + CLIENTS[:shift]:
            received, sample = await timed(consume, server)
            check(name, server, received, nevents, nbytes)
            rows[name].samples.append(sample)
    return rows


def ratio(rows: dict[str, Row], name: str) -> float:
    """How many times more events/s ``name`` got than httpx-sse."""
    return rows[HTTPX_SSE].best.wall / rows[name].best.wall


def cpu_ratio(rows: dict[str, Row], name: str) -> float:
    """How many times less client CPU per event ``name`` used than httpx-sse."""
    return rows[HTTPX_SSE].cpu_us_per_event / rows[name].cpu_us_per_event


# -- report -----------------------------------------------------------------------


def _cost(value: float | None) -> str:
    return "?" if value is None else f"{value:.2f}"


def _percent(value: float | None) -> str:
    return "?" if value is None else f"{100 * value:.0f} %"


def _target_cell(rows: dict[str, Row], name: str) -> str:
    if name not in FROM_URL_CLIENTS:
        return ""
    if rows[name].server_bound or rows[HTTPX_SSE].server_bound:
        return "n/a (server-bound)"
    return "ok" if ratio(rows, name) >= TARGET else "MISS"


def format_table(rows: dict[str, Row]) -> str:
    header = [
        "client",
        "events/s",
        "MB/s",
        "vs httpx-sse",
        "client CPU µs/event",
        "CPU vs httpx-sse",
        "server CPU µs/event",
        "client busy",
        "bound by",
        f"target ≥{TARGET:g}x",
    ]
    align = ["---"] + ["--:"] * 8 + [":-:"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    for name, row in rows.items():
        cells = [
            f"{name} (upper bound)" if name == RAW else name,
            _rate(row.events_per_s),
            f"{row.mb_per_s:.1f}",
            f"{ratio(rows, name):.2f}x",
            f"{row.cpu_us_per_event:.2f}",
            f"{cpu_ratio(rows, name):.2f}x",
            _cost(row.server_cpu_us_per_event),
            _percent(row.client_busy),
            "server" if row.server_bound else "client",
            _target_cell(rows, name),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdict(rows: dict[str, Row]) -> str:
    """One paragraph on whether this server's rows measure the clients."""
    raw = rows[RAW]
    bound = [name for name, row in rows.items() if name != RAW and row.server_bound]
    fastest = max((row for name, row in rows.items() if name != RAW), key=lambda r: r.events_per_s)
    cheapest = min(
        (row for name, row in rows.items() if name != RAW), key=lambda r: r.cpu_us_per_event
    )
    share = fastest.events_per_s / raw.events_per_s
    server_cost = raw.server_cpu_us_per_event
    cost = "" if server_cost is None else f", {server_cost:.2f} server CPU µs/event"
    text = (
        f"Raw drain reaches {raw.mb_per_s:.1f} MB/s ({_rate(raw.events_per_s)} events/s, "
        f"server busy {_percent(raw.server_busy)}{cost}); the fastest SSE client "
        f"({fastest.client}) gets {100 * share:.0f} % of that."
    )
    if bound:
        return (
            f"{text} **The server looks like the bottleneck** for {', '.join(bound)}: "
            "the server process spent more CPU per event than the client, so those "
            "events/s measure the server, not the client (compare client CPU µs/event "
            f"instead; the server would have to cost less than {cheapest.cpu_us_per_event:.2f} "
            f"µs/event for {cheapest.client} to set the pace)."
        )
    if share >= NEAR_RAW:
        return (
            f"{text} The fastest client is close to the raw bound: the server or the "
            "transport may be limiting it."
        )
    return f"{text} Every SSE client was the bottleneck."


def print_report(
    results: Sequence[dict[str, Row]], nevents: int, nbytes: int, repeats: int, quick: bool
) -> None:
    print(
        f"## SSE over HTTP, loopback{' (--quick)' if quick else ''}\n\n"
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"rxsse {_version('rxsse')}, httpx {_version('httpx')}, "
        f"httpx-sse {_version('httpx-sse')}, uvicorn {_version('uvicorn')}; "
        f"{os.cpu_count()} CPUs; {nevents:,} events, {nbytes / MB:.1f} MB "
        f"({nbytes / nevents:.0f} B/event), batch={BATCH}; best of {repeats}; "
        f"MB = 10^6 bytes; busy = CPU time / wall time of the best run."
    )
    for rows in results:
        server = next(iter(rows.values())).server
        print(f"\n### Server: {server.name} ({server.description})\n")
        print(format_table(rows))
        print(f"\n{verdict(rows)}")
    print(f"\n### Target: from_url ≥ {TARGET:g}x httpx-sse events/s (rows not server-bound)\n")
    for name in FROM_URL_CLIENTS:
        parts = [
            f"{ratio(rows, name):.2f}x on the {rows[name].server.name} server "
            f"({'ok' if ratio(rows, name) >= TARGET else 'MISS'})"
            for rows in results
            if not (rows[name].server_bound or rows[HTTPX_SSE].server_bound)
        ]
        print(f"- {name}: {', '.join(parts) or 'not measured, the server was the bottleneck'}")


def print_profile(server: Server, top: int) -> None:
    """cProfile each rxsse client once against ``server`` (client side)."""
    for name, consume in CLIENTS:
        if name not in FROM_URL_CLIENTS:
            continue
        profiler = cProfile.Profile()

        async def profiled(
            consume: Consume = consume, profiler: cProfile.Profile = profiler
        ) -> None:
            async with httpx.AsyncClient(timeout=CLIENT_TIMEOUT) as client:
                profiler.enable()
                try:
                    await consume(client, server.url)
                finally:
                    profiler.disable()

        asyncio.run(profiled())
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.strip_dirs().sort_stats("tottime").print_stats(top)
        print(f"\n### cProfile: {name} from the {server.name} server (top {top} by tottime)\n")
        print("```")
        lines = out.getvalue().strip().splitlines()
        print(
            "\n".join(line for line in lines if not line.lstrip().startswith(("Ordered", "List")))
        )
        print("```")


# -- entry point ------------------------------------------------------------------


async def measure(
    servers: Sequence[Server], nevents: int, repeats: int
) -> tuple[list[dict[str, Row]], int]:
    sizes = {server.name: await body_digest(server.url) for server in servers}
    if len(set(sizes.values())) != 1:
        raise RuntimeError(f"the servers send different bodies: {sizes}")
    nbytes = next(iter(sizes.values()))[0]
    results = [await run_server(server, nevents, nbytes, repeats) for server in servers]
    return results, nbytes


def main(argv: list[str] | None = None) -> None:
    """Start the servers, check every client, time them, print the tables."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.http", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="fewer events, fewer repeats")
    parser.add_argument("--repeats", type=_positive_int, help="timed runs per client (best kept)")
    parser.add_argument("--events", type=_positive_int, help="events in the stream")
    parser.add_argument(
        "--profile", action="store_true", help="append a cProfile of the rxsse clients"
    )
    # Internal: the replay server's own process.
    parser.add_argument("--replay-from", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.replay_from is not None:
        serve_replay(args.replay_from, args.port)
        return

    nevents = args.events or (QUICK_EVENTS if args.quick else FULL_EVENTS)
    repeats = args.repeats or (QUICK_REPEATS if args.quick else FULL_REPEATS)
    path = f"/events?rate=0&count={nevents}&size={PAYLOAD_SIZE}&batch={BATCH}"

    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        emulator = stack.enter_context(
            server_process(
                "emulator", "`python -m rxsse.cli emulate`", ["-m", "rxsse.cli", "emulate"], path
            )
        )
        replay = stack.enter_context(
            server_process(
                "replay",
                "the emulator's body from memory, 64 KiB writes",
                ["-m", "benchmarks.http", "--replay-from", emulator.url],
                path,
            )
        )
        results, nbytes = asyncio.run(measure([emulator, replay], nevents, repeats))
        print_report(results, nevents, nbytes, repeats, args.quick)
        if args.profile:
            print_profile(replay, top=25)
    print(f"\nTotal time {time.perf_counter() - started:.1f} s.")


if __name__ == "__main__":
    main()
