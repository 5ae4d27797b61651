"""Decoder throughput: rxsse against httpx-sse and openai-python.

Run from the repository root with ``python -m benchmarks.decoder`` (add
``--quick`` for a smoke test on small corpora).  Three decoders read the
same bytes, in the same chunks:

``rxsse``
    ``SSEDecoder().feed(chunk)`` for every chunk, then ``close()``: the C
    decoder when the extension is built (the header says which ran; the
    targets apply to it);
``rxsse-py``
    the same with the pure-Python ``PySSEDecoder`` (reported, no target).
``httpx-sse``
    What ``httpx_sse.EventSource.iter_sse`` does to a response body, without
    the HTTP layer: bytes are decoded incrementally as UTF-8 (``errors=
    "replace"``, as ``httpx.Response.iter_text`` does), the text goes to
    ``httpx_sse._decoders.SSELineDecoder`` and every line, right-stripped of
    ``"\\n"``, to ``httpx_sse._decoders.SSEDecoder.decode``; the events that
    are not ``None`` are collected.
``openai``
    ``openai._streaming.SSEDecoder().iter_bytes(iter(chunks))``, fully
    consumed.

Each implementation collects its events into a list, as a consumer would.
The corpora are generated deterministically (fixed seeds), ~6 MB each
(256 KiB with ``--quick``):

``json``
    OpenAI ``chat.completion.chunk`` objects (~200 B), ``data: {...}\n\n``;
``json + id``
    the same, each block starting with an ``id: N`` line;
``multi-line data``
    5-10 ``data:`` lines of text per event (~440 B);
``json, CRLF``
    as ``json`` with ``\r\n`` line endings.

About one token in 50 is multi-byte UTF-8 (Latin-1, Greek, CJK, emoji).
Each corpus is fed in 64 KiB chunks and in 1-2 KiB chunks of varying size
(like network reads; those split lines, CRLF pairs and UTF-8 sequences
anywhere).  Before timing, every
decoder's output is checked against the events the generator wrote.  The
time of a decoder is the best of ``--repeats`` runs (the three decoders take
turns, garbage collection is off while a run is timed).  MB is 10**6 bytes.
"""

from __future__ import annotations

if not __package__:  # run as a file, `python benchmarks/NAME.py`: import from the repository
    # root instead of benchmarks/, where http.py would shadow the standard library's http
    import sys as _sys
    from pathlib import Path as _Path

    _sys.path[0] = str(_Path(__file__).resolve().parent.parent)

import argparse
import codecs
import gc
import json
import platform
import random
import string
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from httpx_sse._decoders import SSEDecoder as HttpxSSEDecoder
from httpx_sse._decoders import SSELineDecoder as HttpxSSELineDecoder
from openai._streaming import SSEDecoder as OpenAISSEDecoder

from benchmarks._common import positive_int as _positive_int
from benchmarks._common import rate as _rate
from benchmarks._common import version as _version
from rxsse import SSEDecoder
from rxsse.decoder import IMPLEMENTATION, PySSEDecoder

__all__ = ["main"]

MB = 1_000_000
FULL_CORPUS_BYTES = 6 * MB
QUICK_CORPUS_BYTES = 256 * 1024
FULL_REPEATS = 5
QUICK_REPEATS = 2
LARGE_CHUNK = 64 * 1024
SMALL_CHUNK_RANGE = (1024, 2048)

# rxsse/httpx-sse events/s the project aims for, per corpus (default 2x).
TARGETS = {"multi-line data": 3.0}
DEFAULT_TARGET = 2.0


class Event(Protocol):
    """The fields the three libraries' event types share."""

    @property
    def event(self) -> str | None: ...

    @property
    def data(self) -> str: ...

    @property
    def id(self) -> str | None: ...


Decode = Callable[[Sequence[bytes]], Sequence[Event]]


# -- the three decoders under test ------------------------------------------


def decode_rxsse(
    chunks: Sequence[bytes], decoder_class: type[PySSEDecoder] = SSEDecoder
) -> list[Event]:
    """rxsse: feed every chunk to one ``SSEDecoder``, then close it."""
    decoder = decoder_class()
    feed = decoder.feed
    events: list[Event] = []
    extend = events.extend
    for chunk in chunks:
        extend(feed(chunk))
    extend(decoder.close())
    return events


def decode_rxsse_py(chunks: Sequence[bytes]) -> list[Event]:
    """rxsse's pure-Python decoder, the fallback when the C extension is not built."""
    return decode_rxsse(chunks, PySSEDecoder)


def decode_httpx_sse(chunks: Sequence[bytes]) -> list[Event]:
    """httpx-sse: the decoding done by ``EventSource.iter_sse``."""
    text_decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    line_decoder = HttpxSSELineDecoder()
    decoder = HttpxSSEDecoder()
    events: list[Event] = []
    for chunk in chunks:
        text = text_decoder.decode(chunk)
        if not text:  # httpx's TextChunker drops empty text
            continue
        for line in line_decoder.decode(text):
            sse = decoder.decode(line.rstrip("\n"))
            if sse is not None:
                events.append(sse)
    text = text_decoder.decode(b"", True)
    lines = line_decoder.decode(text) if text else []
    for line in [*lines, *line_decoder.flush()]:
        sse = decoder.decode(line.rstrip("\n"))
        if sse is not None:
            events.append(sse)
    return events


def decode_openai(chunks: Sequence[bytes]) -> list[Event]:
    """openai-python: ``SSEDecoder().iter_bytes``, fully consumed."""
    return list(OpenAISSEDecoder().iter_bytes(iter(chunks)))


IMPLEMENTATIONS: tuple[tuple[str, Decode], ...] = (
    ("rxsse", decode_rxsse),
    ("rxsse-py", decode_rxsse_py),
    ("httpx-sse", decode_httpx_sse),
    ("openai", decode_openai),
)
_DESCRIBE = {
    "c": "the C decoder (rxsse._speedups)",
    "python": "the pure-Python decoder (the C extension is not built or is disabled)",
}
_INDEX = {name: index for index, (name, _) in enumerate(IMPLEMENTATIONS)}


# -- corpora ------------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    """A generated stream and the events it must decode to."""

    name: str
    payload: bytes
    data: list[str]
    ids: list[str]


# Mostly ASCII tokens; one in RARE_EVERY is multi-byte UTF-8 (Latin-1, Greek,
# CJK, emoji), so that small chunks split UTF-8 sequences and some chunks
# decode to wide strings, as in real model output.
_TOKENS = (
    *(" the", " a", " of", " and", " to", " in", " is", " that", " for", " it"),
    *(" stream", " event", " token", " model", " data", " server", " client"),
    *("ing", "ed", ".", ",", "\n", " (", ")", " 42", " 2024", ":"),
)
_RARE_TOKENS = (" café", " naïve", " über", " Ελληνικά", " 日本語", " 🙂", " —")
RARE_EVERY = 50


def _token(rng: random.Random) -> str:
    if rng.randrange(RARE_EVERY) == 0:
        return rng.choice(_RARE_TOKENS)
    return rng.choice(_TOKENS)


def _chat_chunk_json(rng: random.Random, completion: str, created: int) -> str:
    """One OpenAI ``chat.completion.chunk`` object, compact JSON (~200 B)."""
    chunk = {
        "id": completion,
        "object": "chat.completion.chunk",
        "created": created,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": {"content": _token(rng)}, "finish_reason": None}],
    }
    return json.dumps(chunk, separators=(",", ":"), ensure_ascii=False)


def _json_corpus(name: str, size: int, *, with_id: bool, newline: str) -> Corpus:
    rng = random.Random(1)
    parts: list[bytes] = []
    data: list[str] = []
    ids: list[str] = []
    total = 0
    completion = ""
    created = 1_718_000_000
    n = 0
    while total < size:
        if n % 64 == 0:  # a new completion every 64 events
            completion = "chatcmpl-" + "".join(rng.choices(string.ascii_letters, k=29))
            created += 1
        value = _chat_chunk_json(rng, completion, created)
        event_id = str(n) if with_id else ""
        lines = [f"id: {event_id}"] if with_id else []
        lines += [f"data: {value}", "", ""]
        block = newline.join(lines).encode()
        parts.append(block)
        data.append(value)
        ids.append(event_id)
        total += len(block)
        n += 1
    return Corpus(name, b"".join(parts), data, ids)


def _multiline_corpus(name: str, size: int) -> Corpus:
    rng = random.Random(2)
    parts: list[bytes] = []
    data: list[str] = []
    total = 0
    while total < size:
        lines = [
            "".join(_token(rng) for _ in range(rng.randint(8, 20))).strip().replace("\n", " ")
            for _ in range(rng.randint(5, 10))
        ]
        block = "".join(f"data: {line}\n" for line in lines).encode() + b"\n"
        parts.append(block)
        data.append("\n".join(lines))
        total += len(block)
    return Corpus(name, b"".join(parts), data, [""] * len(data))


def make_corpora(size: int) -> list[Corpus]:
    """The four corpora, each at least ``size`` bytes."""
    return [
        _json_corpus("json", size, with_id=False, newline="\n"),
        _json_corpus("json + id", size, with_id=True, newline="\n"),
        _multiline_corpus("multi-line data", size),
        _json_corpus("json, CRLF", size, with_id=False, newline="\r\n"),
    ]


def chunk_fixed(payload: bytes, size: int) -> list[bytes]:
    """``payload`` in chunks of ``size`` bytes."""
    return [payload[i : i + size] for i in range(0, len(payload), size)]


def chunk_varying(payload: bytes, low: int, high: int, seed: int = 3) -> list[bytes]:
    """``payload`` in chunks of random sizes in ``[low, high]`` (fixed seed)."""
    rng = random.Random(seed)
    chunks = []
    pos = 0
    while pos < len(payload):
        step = rng.randint(low, high)
        chunks.append(payload[pos : pos + step])
        pos += step
    return chunks


def chunkings(payload: bytes) -> list[tuple[str, list[bytes]]]:
    low, high = SMALL_CHUNK_RANGE
    return [
        (f"{LARGE_CHUNK // 1024} KiB", chunk_fixed(payload, LARGE_CHUNK)),
        (f"{low // 1024}-{high // 1024} KiB", chunk_varying(payload, low, high)),
    ]


# -- checking and timing ------------------------------------------------------


def check(name: str, corpus: Corpus, events: Sequence[Event]) -> None:
    """Raise ``RuntimeError`` unless ``events`` are exactly the corpus's events."""
    where = f"{name} on corpus {corpus.name!r}"
    if len(events) != len(corpus.data):
        raise RuntimeError(f"{where}: {len(events)} events, expected {len(corpus.data)}")
    for index, (event, data, event_id) in enumerate(
        zip(events, corpus.data, corpus.ids, strict=True)
    ):
        # openai reports a missing type or id as None, the others as "message"/"".
        if (
            event.data != data
            or (event.id or "") != event_id
            or (event.event or "message") != "message"
        ):
            raise RuntimeError(f"{where}: event {index} differs: {event!r}")


def time_best(decoders: Sequence[Decode], chunks: Sequence[bytes], repeats: int) -> list[float]:
    """Best wall time of each decoder over ``repeats`` rounds (taking turns)."""
    best = [float("inf")] * len(decoders)
    gc_was_enabled = gc.isenabled()
    try:
        for _ in range(repeats):
            for index, decode in enumerate(decoders):
                gc.collect()
                gc.disable()
                start = time.perf_counter()
                events = decode(chunks)
                elapsed = time.perf_counter() - start
                if gc_was_enabled:
                    gc.enable()
                del events
                best[index] = min(best[index], elapsed)
    finally:
        if gc_was_enabled:
            gc.enable()
    return best


@dataclass(frozen=True)
class Row:
    """The timings of one corpus in one chunking."""

    corpus: str
    chunking: str
    nbytes: int
    nevents: int
    seconds: list[float]  # one per implementation, in IMPLEMENTATIONS order

    def events_per_s(self, index: int) -> float:
        return self.nevents / self.seconds[index]

    def mb_per_s(self, index: int) -> float:
        return self.nbytes / MB / self.seconds[index]


def ratio(row: Row, other: str, name: str = "rxsse") -> float:
    """How many times faster ``name`` was than ``other`` on ``row``."""
    return row.seconds[_INDEX[other]] / row.seconds[_INDEX[name]]


def target_met(row: Row) -> bool:
    return ratio(row, "httpx-sse") >= TARGETS.get(row.corpus, DEFAULT_TARGET)


def run(size: int, repeats: int) -> list[Row]:
    """Check every decoder on every corpus and chunking, then time them."""
    rows = []
    names = [name for name, _ in IMPLEMENTATIONS]
    decoders = [decode for _, decode in IMPLEMENTATIONS]
    for corpus in make_corpora(size):
        for label, chunks in chunkings(corpus.payload):
            results = {name: decode(chunks) for name, decode in IMPLEMENTATIONS}
            for name in names:
                check(name, corpus, results[name])
            # Implied by the checks above, but the comparison that matters most.
            if [e.data for e in results["rxsse"]] != [e.data for e in results["httpx-sse"]]:
                raise RuntimeError(f"rxsse and httpx-sse disagree on {corpus.name!r}")
            del results
            seconds = time_best(decoders, chunks, repeats)
            rows.append(Row(corpus.name, label, len(corpus.payload), len(corpus.data), seconds))
    return rows


# -- report ---------------------------------------------------------------------


def format_table(rows: Sequence[Row]) -> str:
    names = [name for name, _ in IMPLEMENTATIONS]
    header = ["corpus", "chunks", "MB", "events"]
    for name in names:
        header += [f"{name} ev/s", f"{name} MB/s"]
    header += ["rxsse/httpx-sse", "rxsse/openai", "target", "rxsse-py/httpx-sse"]
    align = ["---", "---"] + ["--:"] * (len(header) - 4) + [":-:", "--:"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    for row in rows:
        cells = [row.corpus, row.chunking, f"{row.nbytes / MB:.2f}", f"{row.nevents:,}"]
        for index in range(len(names)):
            cells += [_rate(row.events_per_s(index)), f"{row.mb_per_s(index):.1f}"]
        target = TARGETS.get(row.corpus, DEFAULT_TARGET)
        cells += [
            f"{ratio(row, 'httpx-sse'):.2f}x",
            f"{ratio(row, 'openai'):.2f}x",
            f"≥{target:g}x {'ok' if target_met(row) else 'MISS'}",
            f"{ratio(row, 'httpx-sse', 'rxsse-py'):.2f}x",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Generate the corpora, check the decoders agree, time them, print a table."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.decoder", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="small corpora, fewer repeats")
    parser.add_argument(
        "--repeats", type=_positive_int, help="timed runs per decoder (best is kept)"
    )
    args = parser.parse_args(argv)
    size = QUICK_CORPUS_BYTES if args.quick else FULL_CORPUS_BYTES
    repeats = args.repeats or (QUICK_REPEATS if args.quick else FULL_REPEATS)

    started = time.perf_counter()
    rows = run(size, repeats)
    print(
        f"## SSE decoder throughput{' (--quick)' if args.quick else ''}\n\n"
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"rxsse {_version('rxsse')}, httpx-sse {_version('httpx-sse')}, "
        f"openai {_version('openai')}; best of {repeats}; MB = 10^6 bytes; "
        f"target = rxsse/httpx-sse events/s.\n\n"
        f"rxsse = {_DESCRIBE[IMPLEMENTATION]}; rxsse-py = the pure-Python decoder.\n"
    )
    print(format_table(rows))
    misses = [f"{row.corpus} / {row.chunking}" for row in rows if not target_met(row)]
    print(f"\nTargets missed: {', '.join(misses) if misses else 'none'}.")
    print(f"Total time {time.perf_counter() - started:.1f} s.")


if __name__ == "__main__":
    main()
