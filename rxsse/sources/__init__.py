"""Sources: where bytes come from (IO lives here and only here)."""

from rxsse.sources.replay import from_bytes

__all__ = ["from_bytes"]
