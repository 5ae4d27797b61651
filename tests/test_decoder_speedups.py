"""The C decoder (``rxsse._speedups``) against the pure-Python one.

Every conformance and property test already runs against both (see
``tests/decoder_impls.py``); here the two are compared with each other
directly, event for event and error for error, and the selection rules of
:mod:`rxsse.decoder` are checked.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rxsse
from rxsse import ServerSentEvent
from rxsse.decoder import IMPLEMENTATION, PySSEDecoder
from rxsse.errors import EventTooLarge, LineTooLong, SSEProtocolError
from tests.decoder_impls import C_DECODER
from tests.test_decoder_properties import any_stream, chunkings, limits

needs_c = pytest.mark.skipif(C_DECODER is None, reason="the C extension is not built")

Result = tuple[list[ServerSentEvent], object, int, int, str, int | None]


def decode(
    cls: type[Any], chunks: Sequence[bytes], max_line: int, max_event: int, seed: str
) -> Result:
    """Events, and the error (type, limit, size) or the final state."""
    decoder = cls(max_line_size=max_line, max_event_size=max_event, last_event_id=seed)
    events: list[ServerSentEvent] = []
    try:
        for chunk in chunks:
            events += decoder.feed(chunk)
        events += decoder.close()
    except SSEProtocolError as exc:
        return events + exc.events, type(exc), exc.limit, exc.size, str(exc), None
    return events, None, 0, 0, decoder.last_event_id, decoder.retry


@needs_c
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stream=any_stream,
    data=st.data(),
    lims=limits,
    seed=st.sampled_from(["", "7", "é"]),
)
def test_c_and_python_agree_on_everything(
    stream: bytes, data: st.DataObject, lims: tuple[int | None, int | None], seed: str
) -> None:
    max_line = lims[0] or 1 << 24
    max_event = lims[1] or 1 << 24
    chunks = data.draw(chunkings(stream))
    assert C_DECODER is not None
    want = decode(PySSEDecoder, chunks, max_line, max_event, seed)
    got = decode(C_DECODER, chunks, max_line, max_event, seed)
    assert got == want
    assert all(type(event) is ServerSentEvent for event in got[0])


@needs_c
def test_c_decoder_errors_carry_limit_size_and_message() -> None:
    assert C_DECODER is not None
    decoder = C_DECODER(max_line_size=8)
    with pytest.raises(LineTooLong, match="max_line_size=8 bytes") as info:
        decoder.feed(b"data: 1\n\ndata: 123456789")
    assert (info.value.limit, info.value.size) == (8, 15)
    assert info.value.events == [ServerSentEvent(data="1")]
    decoder = C_DECODER(max_event_size=3)
    with pytest.raises(EventTooLarge, match="max_event_size=3 bytes") as too_large:
        decoder.feed(b"data: ab\ndata: c\n\n")
    assert (too_large.value.limit, too_large.value.size) == (3, 4)


@needs_c
def test_c_decoder_attributes_and_arguments() -> None:
    assert C_DECODER is not None
    decoder = C_DECODER(last_event_id="5", retry=10)
    assert (decoder.last_event_id, decoder.retry) == ("5", 10)
    decoder.retry = None
    decoder.last_event_id = "6"
    assert decoder.feed(b"data: x\n\n") == [ServerSentEvent(data="x", id="5")]
    with pytest.raises(TypeError):
        decoder.retry = "soon"
    with pytest.raises(TypeError):
        decoder.last_event_id = 7
    with pytest.raises(TypeError):
        C_DECODER(1024)  # the limits are keyword-only, as for PySSEDecoder
    with pytest.raises(ValueError, match="positive"):
        C_DECODER(max_line_size=0)
    assert decoder.feed(memoryview(b"data: y\n\n")[0:9]) == [ServerSentEvent(data="y", id="5")]
    with pytest.raises(TypeError):
        decoder.feed("data: text\n\n")


def test_sse_decoder_is_the_c_one_when_built() -> None:
    expected = "python" if C_DECODER is None else "c"
    if os.environ.get("RXSSE_NO_EXTENSIONS", "") not in ("", "0"):
        expected = "python"
    assert expected == IMPLEMENTATION
    assert (rxsse.SSEDecoder is PySSEDecoder) == (IMPLEMENTATION == "python")


@pytest.mark.skipif(os.environ.get("CI") != "true", reason="only CI promises a C compiler")
def test_ci_builds_the_c_decoder() -> None:
    # CI runs on a machine with a compiler: the extension must have been built
    # there, or the C decoder would go untested.
    assert C_DECODER is not None


def test_rxsse_no_extensions_selects_the_python_code() -> None:
    script = (
        "import rxsse.decoder as d, rxsse.domain.ansi as a; "
        "print(d.IMPLEMENTATION, d.SSEDecoder.__name__, "
        "a._ascii_html_safe is a._ascii_html_safe_py)"
    )
    env = {**os.environ, "RXSSE_NO_EXTENSIONS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["python", "PySSEDecoder", "True"]
