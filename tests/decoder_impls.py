"""Both SSE decoders, for tests that must hold for each.

:data:`DECODERS` holds the pure-Python :class:`rxsse.decoder.PySSEDecoder`
and, when the C extension is built, ``rxsse._speedups.SSEDecoder``.
:func:`each_decoder` makes a module-scoped, parametrized, autouse fixture
that rebinds the module's ``SSEDecoder`` name to each in turn, so every test
of that module runs once per implementation (module scope, because
Hypothesis refuses function-scoped fixtures).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from rxsse.decoder import PySSEDecoder

try:
    from rxsse._speedups import SSEDecoder as CSSEDecoder
except ImportError:  # not built: the pure-Python decoder is all there is
    C_DECODER: type[Any] | None = None
else:
    C_DECODER = CSSEDecoder

DECODERS = [pytest.param(PySSEDecoder, id="py")]
if C_DECODER is not None:
    DECODERS.append(pytest.param(C_DECODER, id="c"))


def each_decoder(module_name: str) -> Callable[..., Iterator[type[Any]]]:
    """An autouse fixture running the tests of ``module_name`` with each decoder."""

    @pytest.fixture(scope="module", params=DECODERS, autouse=True)
    def decoder_implementation(request: pytest.FixtureRequest) -> Iterator[type[Any]]:
        module = sys.modules[module_name]
        original = getattr(module, "SSEDecoder")  # noqa: B009 (a module of the caller's)
        setattr(module, "SSEDecoder", request.param)  # noqa: B010
        try:
            yield request.param
        finally:
            setattr(module, "SSEDecoder", original)  # noqa: B010

    return decoder_implementation
