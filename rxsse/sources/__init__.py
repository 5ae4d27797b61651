"""Sources: where bytes come from (IO lives here and only here)."""

from rxsse.sources.http import from_url
from rxsse.sources.lifecycle import (
    Closed,
    Connecting,
    ConnectionEvent,
    Open,
    Reconnecting,
    ReconnectPolicy,
)
from rxsse.sources.ndjson import SkippedLine, from_ndjson_url
from rxsse.sources.replay import from_bytes

__all__ = [
    "Closed",
    "Connecting",
    "ConnectionEvent",
    "Open",
    "ReconnectPolicy",
    "Reconnecting",
    "SkippedLine",
    "from_bytes",
    "from_ndjson_url",
    "from_url",
]
