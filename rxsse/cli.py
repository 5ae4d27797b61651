"""The ``rxsse`` command line.

Subcommands:

``rxsse demo``
    Shows rxsse at work.  With the core alone it decodes a built-in recorded
    stream, split into awkward chunks (inside UTF-8 sequences and between CR
    and LF), and prints the events and what the decoder tracked.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rxsse._event import ServerSentEvent
from rxsse.aio import to_iterator
from rxsse.sources.replay import from_bytes

__all__ = ["main"]

# A short stream in the shape of an OpenAI chat completion, with the hazards
# a real network delivers: a BOM, CRLF and bare CR line ends, a comment
# heartbeat, a retry hint, ids, a multi-line event and non-ASCII text.
DEMO_STREAM = (
    "\ufeff: rxsse demo stream\r\n"
    "retry: 1500\r\n\r\n"
    'id: 1\rdata: {"delta": "Héllo"}\r\r'
    'id: 2\ndata: {"delta": ", wörld"}\n\n'
    ": keep-alive\n\n"
    "event: summary\nid: 3\ndata: line one\ndata: line two\n\n"
    "data: [DONE]\n\n"
).encode()


def _awkward_chunks(data: bytes) -> list[bytes]:
    """Split every 5 bytes, which cuts UTF-8 sequences and CRLF pairs."""
    return [data[i : i + 5] for i in range(0, len(data), 5)]


def _describe(event: ServerSentEvent) -> str:
    return f"event={event.event!r:12} id={event.id!r:5} data={event.data!r}"


def run_decoder_demo() -> int:
    """Decode :data:`DEMO_STREAM` from 5-byte chunks and print the events."""
    chunks = _awkward_chunks(DEMO_STREAM)
    print(f"rxsse demo: decoding {len(DEMO_STREAM)} bytes delivered in {len(chunks)} chunks")
    count = 0
    for event in to_iterator(from_bytes(chunks)):
        count += 1
        print(f"  {count}. {_describe(event)}")
    print(f"{count} events; comments, the BOM and the retry-only block emit nothing")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rxsse", description="Server-Sent Event streams as ReactiveX observables."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="show rxsse decoding a stream")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rxsse`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.command == "demo":
        return run_decoder_demo()
    raise AssertionError(args.command)  # argparse rejects unknown commands


def console() -> None:
    """Console-script wrapper: exit with :func:`main`'s code."""
    sys.exit(main())


if __name__ == "__main__":
    console()
