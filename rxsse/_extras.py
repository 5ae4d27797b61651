"""A clear error when an optional feature's extra is not installed."""

from __future__ import annotations

import importlib.util

__all__ = ["require"]


def require(feature: str, extra: str, *modules: str) -> None:
    """Raise ``ImportError`` naming the extra to install if a module is missing."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise ImportError(
            f"{feature} needs {', '.join(missing)}: pip install 'rxsse[{extra}]'",
            name=missing[0],
        )
