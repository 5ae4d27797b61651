"""The ``rxsse`` command line.

Subcommands:

``rxsse demo``
    Starts the emulator in-process and shows every emulated service on one
    live terminal dashboard, each panel fed by a real rxsse pipeline over
    HTTP (needs ``rxsse[server,cli]``).  ``--duration S`` stops after S
    seconds; ``--plain`` prints lines instead of redrawing (the default when
    stdout is not a terminal); ``--faults`` injects disconnects and stalls.
    Ctrl-C stops it at once, with exit code 0.
``rxsse tail URL``
    Prints the events of any SSE endpoint as they arrive (``--json``
    pretty-prints JSON data), reconnecting as the spec says; ``--count N``
    stops after N events.  Exit code 0 on completion or Ctrl-C, 1 on error.
``rxsse emulate``
    Serves the emulated upstream services (needs ``rxsse[server]``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import Sequence

from rxsse._event import ServerSentEvent

__all__ = ["main"]


def _format_event(event: ServerSentEvent, pretty_json: bool) -> str:
    head = f"[{event.event}]" + (f" id={event.id}" if event.id else "")
    body = event.data
    if pretty_json:
        with contextlib.suppress(ValueError):
            body = json.dumps(json.loads(event.data), indent=2, ensure_ascii=False)
    return f"{head}\n{body}"


async def _tail(url: str, *, pretty_json: bool, count: int | None, headers: list[str]) -> int:
    from reactivex import operators as ops

    from rxsse.aio import to_async_iterable
    from rxsse.errors import RxSSEError
    from rxsse.sources.http import from_url

    extra = dict(h.split(":", 1) for h in headers)
    source = from_url(url, headers={k.strip(): v.strip() for k, v in extra.items()})
    if count is not None:
        source = source.pipe(ops.take(count))
    try:
        async for event in to_async_iterable(source):
            print(_format_event(event, pretty_json), flush=True)
    except RxSSEError as exc:
        print(f"rxsse tail: {exc}", file=sys.stderr)
        return 1
    return 0


def _emulate(host: str, port: int, seed: int) -> int:
    import uvicorn

    from rxsse.emulator import create_app

    print(f"rxsse emulator on http://{host}:{port} (Ctrl-C stops)", flush=True)
    uvicorn.run(create_app(seed=seed), host=host, port=port, log_level="warning")
    return 0


def _demo(duration: float | None, *, plain: bool, faults: bool) -> int:
    from rxsse.demo import run_demo

    try:
        asyncio.run(run_demo(duration=duration, plain=plain, faults=faults))
    except KeyboardInterrupt:
        print("rxsse demo: stopped", flush=True)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rxsse", description="Server-Sent Event streams as ReactiveX observables."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="live dashboard of the emulated services")
    demo.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    demo.add_argument("--plain", action="store_true", help="line output, no live redraw")
    demo.add_argument("--faults", action="store_true", help="inject disconnects and stalls")
    tail = commands.add_parser("tail", help="print the events of an SSE endpoint")
    tail.add_argument("url")
    tail.add_argument("--json", action="store_true", help="pretty-print JSON data")
    tail.add_argument("--count", type=int, default=None, help="stop after N events")
    tail.add_argument(
        "-H", "--header", action="append", default=[], help="extra request header 'Name: value'"
    )
    emulate = commands.add_parser("emulate", help="serve the emulated upstream services")
    emulate.add_argument("--host", default="127.0.0.1")
    emulate.add_argument("--port", type=int, default=8765)
    emulate.add_argument("--seed", type=int, default=0)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rxsse`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.command == "demo":
        return _demo(args.duration, plain=args.plain or not sys.stdout.isatty(), faults=args.faults)
    if args.command == "tail":
        try:
            return asyncio.run(
                _tail(args.url, pretty_json=args.json, count=args.count, headers=args.header)
            )
        except KeyboardInterrupt:
            return 0
    if args.command == "emulate":
        try:
            return _emulate(args.host, args.port, args.seed)
        except KeyboardInterrupt:
            return 0
    raise AssertionError(args.command)  # argparse rejects unknown commands


def console() -> None:
    """Console-script wrapper: exit with :func:`main`'s code."""
    sys.exit(main())


if __name__ == "__main__":
    console()
