"""The optional C extension ``rxsse._speedups``, if it is built and allowed.

:func:`speedups` returns the module, or ``None`` when the extension was not
built at install time (no C compiler) or when the environment variable
``RXSSE_NO_EXTENSIONS`` is set (to anything but ``""`` or ``"0"``) when rxsse
is imported.  Every user of the extension keeps a pure-Python equivalent
and picks one at import time; the tests run both.

This module imports only the standard library (the extension itself imports
only ``rxsse._event`` and ``rxsse.errors``).
"""

from __future__ import annotations

import os
from types import ModuleType

__all__ = ["speedups"]


def speedups() -> ModuleType | None:
    """``rxsse._speedups``, or ``None`` if it is not built or is disabled."""
    if os.environ.get("RXSSE_NO_EXTENSIONS", "") not in ("", "0"):
        return None
    try:
        import rxsse._speedups as _speedups
    except ImportError:
        return None
    return _speedups
