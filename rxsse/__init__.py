"""rxsse: Server-Sent Event streams as ReactiveX observables."""

from rxsse._event import ServerSentEvent
from rxsse.decoder import SSEDecoder

__all__ = ["ServerSentEvent", "SSEDecoder"]
__version__ = "0.1.0"
