"""JSON parsing for hot paths: orjson when installed (``rxsse[fast]``), else the stdlib.

:func:`loads` accepts exactly what :func:`json.loads` accepts and returns the
same values: orjson is tried first and, when it refuses a document (it is
stricter, e.g. about lone surrogate escapes, NaN and Infinity), the stdlib
parser decides, so results never depend on which parser is installed.
Invalid JSON raises ``ValueError`` (``json.JSONDecodeError``) either way.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["FAST", "first_loads", "loads"]

try:
    import orjson
except ImportError:  # pragma: no cover - exercised when the extra is absent
    orjson = None  # type: ignore[assignment]

FAST = orjson is not None
"""Whether the orjson fast path is available."""

_stdlib_loads = json.loads
first_loads: Any = orjson.loads if orjson is not None else json.loads
"""The fastest parser available, for hot paths that hand what it refuses
(``ValueError``) to :func:`loads` before giving up."""


if orjson is not None:
    _orjson_loads = orjson.loads
    _OrjsonError = orjson.JSONDecodeError

    def loads(text: str) -> Any:
        """Parse ``text``; see the module docstring."""
        try:
            return _orjson_loads(text)
        except _OrjsonError:
            return _stdlib_loads(text)

else:  # pragma: no cover - exercised when the extra is absent
    loads = _stdlib_loads
