"""Small helpers every benchmark module shares (formatting and argument parsing)."""

from __future__ import annotations

import argparse
from importlib import metadata

__all__ = ["positive_int", "rate", "version"]


def version(distribution: str) -> str:
    """The installed version of ``distribution``, or ``"?"``."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "?"


def rate(value: float, *, k_digits: int = 0) -> str:
    """A per-second rate for a table: ``1.23 M`` or ``456 k``."""
    return f"{value / 1e6:.2f} M" if value >= 1e6 else f"{value / 1e3:.{k_digits}f} k"


def positive_int(text: str) -> int:
    """``argparse`` type for a count of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value
