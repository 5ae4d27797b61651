"""Presence: online / away / offline per user, with last-active time (pure)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from rxsse.domain._html import HTMLReprMixin
from rxsse.domain._messaging_events import PresenceEvent, PresenceState

__all__ = ["Presence", "PresenceTracker"]


class Presence(HTMLReprMixin, BaseModel):
    """What is known about ``user``: ``state`` since ``since``, last active at ``last_active``.

    ``last_active`` is ``None`` until an event gave it or the user was seen online.
    """

    model_config = ConfigDict(frozen=True)

    user: str
    state: PresenceState
    since: float
    last_active: float | None


class PresenceTracker:
    """The presence of every user seen on a stream.

    * events are ordered per user by ``at``: one older than the last applied
      for that user is stale and ignored (streams reconnect and replay);
    * ``last_active`` only moves forward: it is the latest of the known value,
      the event's ``last_active`` and, when the state is ``online``, ``at``;
    * ``since`` is the ``at`` of the event that began the current state;
    * :meth:`apply` returns the user's new :class:`Presence` when the state or
      ``last_active`` changed, else ``None``.
    """

    __slots__ = ("_latest", "_presence")

    def __init__(self) -> None:
        self._presence: dict[str, Presence] = {}
        self._latest: dict[str, float] = {}  # user -> ``at`` of the newest event applied

    def get(self, user: str) -> Presence | None:
        """What is known about ``user``, or ``None``."""
        return self._presence.get(user)

    def all(self) -> dict[str, Presence]:
        """Every user's presence, in order of first appearance."""
        return dict(self._presence)

    def apply(self, event: object) -> Presence | None:
        """Fold one event in (non-presence events are ignored)."""
        if not isinstance(event, PresenceEvent):
            return None
        latest = self._latest.get(event.user)
        if latest is not None and event.at < latest:
            return None
        self._latest[event.user] = event.at
        known = self._presence.get(event.user)
        last = known.last_active if known is not None else None
        online_at = event.at if event.state is PresenceState.ONLINE else None
        for candidate in (event.last_active, online_at):
            if candidate is not None and (last is None or candidate > last):
                last = candidate
        if known is not None and known.state is event.state and known.last_active == last:
            return None
        since = known.since if known is not None and known.state is event.state else event.at
        presence = Presence(user=event.user, state=event.state, since=since, last_active=last)
        self._presence[event.user] = presence
        return presence
