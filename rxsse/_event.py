"""The immutable value every SSE stream is made of.

This module imports only the standard library and :mod:`rxsse.errors`.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from rxsse.errors import EventDataNotJSON

__all__ = ["ServerSentEvent"]


class ServerSentEvent(NamedTuple):
    """One dispatched Server-Sent Event.

    Fields:

    ``event``
        The event type; ``"message"`` when the stream gave none (or gave an
        empty ``event:`` field), as the WHATWG spec says.
    ``data``
        The data buffer with exactly one trailing line feed removed; several
        ``data:`` lines are joined with ``"\\n"``.
    ``id``
        The stream's *last event ID* at the moment of dispatch: the most
        recent ``id:`` field seen on this stream or an earlier connection of
        the same source, ``""`` if none was ever set.  It is not reset between
        events.
    ``retry``
        The reconnection time in milliseconds set by a valid ``retry:`` field
        inside this event's block, else ``None``.  The stream-wide value lives
        on :attr:`rxsse.SSEDecoder.retry`.

    The value is a :class:`typing.NamedTuple` (slots, no ``__dict__``), so it
    is immutable and cheap to create on the hot path.  Equality is by value
    and by type: an event never equals a plain tuple.
    """

    event: str = "message"
    data: str = ""
    id: str = ""
    retry: int | None = None

    def json(self) -> Any:
        """Parse ``data`` as JSON.

        Raises :class:`rxsse.errors.EventDataNotJSON` (a ``ValueError``) with
        the event attached when ``data`` is not valid JSON.
        """
        try:
            return json.loads(self.data)
        except json.JSONDecodeError as exc:
            preview = self.data if len(self.data) <= 80 else self.data[:77] + "..."
            raise EventDataNotJSON(
                f"event {self.event!r} (id {self.id!r}) has non-JSON data {preview!r}: {exc.msg}",
                event=self,
            ) from exc

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ServerSentEvent) and tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return tuple.__hash__(self)

    def __repr__(self) -> str:
        parts = [f"event={self.event!r}", f"data={self.data!r}"]
        if self.id:
            parts.append(f"id={self.id!r}")
        if self.retry is not None:
            parts.append(f"retry={self.retry!r}")
        return f"ServerSentEvent({', '.join(parts)})"
