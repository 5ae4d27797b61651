"""rxsse: Server-Sent Event streams as ReactiveX observables.

The public surface is listed in ``__all__``; everything else is internal.
"""

from rxsse import errors
from rxsse._event import ServerSentEvent
from rxsse.aio import collect, from_async_iterable, to_async_iterable, to_iterator
from rxsse.decoder import SSEDecoder
from rxsse.sources.http import from_url
from rxsse.sources.lifecycle import ReconnectPolicy
from rxsse.sources.ndjson import from_ndjson_url
from rxsse.sources.replay import from_bytes

__all__ = [
    "ReconnectPolicy",
    "SSEDecoder",
    "ServerSentEvent",
    "collect",
    "errors",
    "from_async_iterable",
    "from_bytes",
    "from_ndjson_url",
    "from_url",
    "to_async_iterable",
    "to_iterator",
]
__version__ = "0.1.0"
