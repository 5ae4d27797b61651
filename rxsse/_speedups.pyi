"""Type stub for the optional C extension (built from ``_speedups.c``)."""

from rxsse._event import ServerSentEvent

class SSEDecoder:
    last_event_id: str
    retry: int | None

    def __init__(
        self,
        *,
        max_line_size: int = ...,
        max_event_size: int = ...,
        last_event_id: str = ...,
        retry: int | None = ...,
    ) -> None: ...
    def feed(self, chunk: bytes | bytearray | memoryview) -> list[ServerSentEvent]: ...
    def close(self) -> list[ServerSentEvent]: ...

def ascii_html_safe(line: str) -> bool: ...
