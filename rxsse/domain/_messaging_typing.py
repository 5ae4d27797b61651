"""Typing indicators, both sides, as sans-IO state machines (pure: no clock, no timers).

Time is always an argument (seconds, any monotonic origin) and each machine
says when it next needs to be woken (``next_deadline``), so an operator
needs exactly one timer per machine, however many users type.

:class:`TypingSet` (receive side) and :class:`TypingThrottle` (send side)
are mutable for speed, like :class:`rxsse.SSEDecoder`: a stream of a
hundred thousand typers cannot afford to copy its state per event.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from rxsse.domain._html import HTMLReprMixin
from rxsse.domain._messaging_events import MessageEvent, TypingEvent, TypingList

__all__ = ["TypingSet", "TypingSignal", "TypingThrottle", "TypingUpdate"]


_new_model = object.__new__
_set_attr = object.__setattr__


class TypingUpdate(HTMLReprMixin, BaseModel):
    """The users typing in ``conversation`` from time ``at`` on, in the order they started."""

    model_config = ConfigDict(frozen=True)

    conversation: str
    users: tuple[str, ...]
    at: float


_UPDATE_FIELDS = {"conversation", "users", "at"}  # shared: frozen models never change it


class TypingSignal(HTMLReprMixin, BaseModel):
    """An outbound typing signal: ``typing`` is what to tell the server at time ``at``."""

    model_config = ConfigDict(frozen=True)

    typing: bool
    at: float


class TypingSet:
    """Who is typing in each conversation, with expiry: the receive-side state machine.

    * ``TypingEvent(typing=True)`` at ``now`` adds the user with deadline
      ``now + expiry``, or moves an existing user's deadline there (a refresh;
      no change, so no update);
    * ``TypingEvent(typing=False)`` and a ``MessageEvent`` from the user
      remove the user at once;
    * ``TypingList`` replaces the conversation's set: listed users that were
      present keep their place and get a fresh deadline, new ones are added
      with deadline ``now + expiry``, the others are removed;
    * a user is present at time ``t`` iff ``t < deadline``: gone at exactly
      ``start + expiry``.  :meth:`expire` removes them; :meth:`apply` calls it
      first, so an event at exactly a deadline sees the user gone (a refresh
      at that instant removes and re-adds);
    * events about ``self_id`` are ignored, and ``self_id`` is dropped from
      full lists.

    Each method returns the :class:`TypingUpdate` of every conversation whose
    set changed, in the order the changes happened.

    Deadlines are always ``now + expiry`` with one ``expiry``, so they are
    made in time order and a FIFO queue keeps them sorted: the degenerate
    timer wheel (one slot), O(1) per event.  A refresh appends a new entry
    and marks the user's previous one stale (lazy deletion); stale entries
    are dropped when they reach the front, so :meth:`next_deadline` is always
    a real expiry and is the one wake-up a caller needs to schedule.  The
    queue holds at most the typing events of the last ``expiry`` seconds.  Should
    the clock ever step backwards, the entry is inserted in order instead.
    """

    __slots__ = ("_by_conversation", "_deadlines", "_queue", "_seq", "expiry", "self_id")

    def __init__(self, expiry: float = 3.0, self_id: str | None = None) -> None:
        if not expiry > 0:
            raise ValueError(f"expiry must be positive seconds, not {expiry!r}")
        self.expiry = float(expiry)
        self.self_id = self_id
        # (conversation, user) -> seq of the user's live queue entry
        self._deadlines: dict[tuple[str, str], int] = {}
        # conversation -> users in start order (dict as an ordered set)
        self._by_conversation: dict[str, dict[str, None]] = {}
        # (deadline, seq, key), sorted by deadline; an entry is live iff its seq is the key's
        self._queue: deque[tuple[float, int, tuple[str, str]]] = deque()
        self._seq = 0

    # -- queries ------------------------------------------------------------------

    def users(self, conversation: str) -> tuple[str, ...]:
        """Users typing in ``conversation`` now (as of the last call), in start order."""
        return tuple(self._by_conversation.get(conversation, ()))

    def conversations(self) -> dict[str, tuple[str, ...]]:
        """Every conversation with someone typing, and who."""
        return {c: tuple(users) for c, users in self._by_conversation.items()}

    def next_deadline(self) -> float | None:
        """The earliest deadline of a present user, or ``None`` when nobody types."""
        queue = self._queue
        deadlines = self._deadlines
        while queue:
            deadline, seq, key = queue[0]
            if deadlines.get(key) == seq:
                return deadline
            queue.popleft()  # stale: refreshed or removed since
        return None

    @property
    def queue_size(self) -> int:
        """Entries in the deadline queue (live ones plus stale ones not yet dropped)."""
        return len(self._queue)

    def __len__(self) -> int:
        """Number of (conversation, user) pairs typing."""
        return len(self._deadlines)

    # -- transitions --------------------------------------------------------------------

    def apply(self, event: object, now: float) -> list[TypingUpdate]:
        """Expire what is due at ``now``, then apply ``event``; other event types only expire."""
        queue = self._queue
        updates = self.expire(now) if queue and queue[0][0] <= now else []
        if type(event) is TypingEvent or isinstance(event, TypingEvent):
            user = event.user
            if user == self.self_id:
                return updates
            if event.typing:
                deadline = now + self.expiry
                key = (event.conversation, user)
                deadlines = self._deadlines
                if key in deadlines and not (queue and deadline < queue[-1][0]):
                    # A refresh in time order: the usual case, inlined.
                    self._seq = seq = self._seq + 1
                    queue.append((deadline, seq, key))
                    deadlines[key] = seq
                    return updates
                changed = self._start(event.conversation, user, deadline)
            else:
                changed = self._remove(event.conversation, event.user)
        elif isinstance(event, MessageEvent):
            changed = self._remove(event.conversation, event.sender)
        elif isinstance(event, TypingList):
            changed = self._replace(event.conversation, event.users, now)
        else:
            return updates
        if changed:
            updates.append(self._update(event.conversation, now))
        return updates

    def expire(self, now: float) -> list[TypingUpdate]:
        """Remove every user whose deadline is ``<= now``: one update per removal, by deadline."""
        queue = self._queue
        updates: list[TypingUpdate] = []
        deadlines = self._deadlines
        while queue and queue[0][0] <= now:
            deadline, seq, key = queue.popleft()
            if deadlines.get(key) != seq:
                continue  # stale
            conversation, user = key
            del deadlines[key]
            users = self._by_conversation[conversation]
            del users[user]
            if not users:
                del self._by_conversation[conversation]
            updates.append(self._update(conversation, deadline))
        return updates

    def clear(self) -> None:
        """Forget everything (no updates)."""
        self._deadlines.clear()
        self._by_conversation.clear()
        self._queue.clear()

    # -- internals ------------------------------------------------------------------------

    def _update(self, conversation: str, at: float) -> TypingUpdate:
        users = self._by_conversation.get(conversation)
        # The values are already of the declared types: skip validation (hot path).
        update = _new_model(TypingUpdate)
        _set_attr(
            update,
            "__dict__",
            {"conversation": conversation, "users": tuple(users) if users else (), "at": at},
        )
        _set_attr(update, "__pydantic_fields_set__", _UPDATE_FIELDS)
        _set_attr(update, "__pydantic_extra__", None)
        _set_attr(update, "__pydantic_private__", None)
        return update

    def _start(self, conversation: str, user: str, deadline: float) -> bool:
        key = (conversation, user)
        self._seq = seq = self._seq + 1
        queue = self._queue
        if queue and deadline < queue[-1][0]:  # the clock stepped backwards
            index = bisect.bisect_right(queue, deadline, key=lambda entry: entry[0])
            queue.insert(index, (deadline, seq, key))
        else:
            queue.append((deadline, seq, key))
        deadlines = self._deadlines
        refresh = key in deadlines
        deadlines[key] = seq  # on a refresh, the previous entry is now stale
        if refresh:
            return False
        users = self._by_conversation.get(conversation)
        if users is None:
            self._by_conversation[conversation] = {user: None}
        else:
            users[user] = None
        return True

    def _remove(self, conversation: str, user: str) -> bool:
        key = (conversation, user)
        if self._deadlines.pop(key, None) is None:
            return False
        users = self._by_conversation[conversation]
        del users[user]
        if not users:
            del self._by_conversation[conversation]
        return True

    def _replace(self, conversation: str, listed: Iterable[str], now: float) -> bool:
        wanted = dict.fromkeys(u for u in listed if u != self.self_id)
        before = tuple(self._by_conversation.get(conversation, ()))
        for user in before:
            if user not in wanted:
                self._remove(conversation, user)
        deadline = now + self.expiry
        for user in wanted:
            self._start(conversation, user, deadline)
        return tuple(self._by_conversation.get(conversation, ())) != before


class TypingThrottle:
    """Keystrokes → outbound typing signals: the send-side state machine for one composer.

    * the first keystroke while idle gives ``true`` at once;
    * with ``refresh=True`` a keystroke at least ``interval`` seconds after
      the last ``true`` gives another ``true`` (keystroke-driven: no timer);
      with ``refresh=False`` (edge-only, XMPP "composing") it gives nothing;
    * ``stop_after`` seconds after the last keystroke, ``false``;
    * :meth:`sent` (the message went out) gives ``false`` at once when typing;
      the next keystroke gives ``true`` at once;
    * never two ``false`` in a row, never ``false`` before a ``true``.

    At an instant where the stop deadline and a keystroke coincide, the
    deadline wins first (``false`` then ``true``).  :meth:`next_deadline`
    is the one wake-up a caller needs.
    """

    __slots__ = ("_deadline", "_last_true", "interval", "refresh", "stop_after")

    def __init__(
        self, interval: float = 2.0, stop_after: float = 3.0, refresh: bool = True
    ) -> None:
        if not interval > 0 or not stop_after > 0:
            raise ValueError(
                f"interval and stop_after must be positive seconds, not {interval!r}, "
                f"{stop_after!r}"
            )
        self.interval = float(interval)
        self.stop_after = float(stop_after)
        self.refresh = refresh
        self._last_true: float | None = None  # None = idle (last signal was false or none)
        self._deadline = 0.0

    @property
    def typing(self) -> bool:
        """Whether the last signal given was ``true``."""
        return self._last_true is not None

    def next_deadline(self) -> float | None:
        """When the pending ``false`` is due, or ``None`` when idle."""
        return self._deadline if self._last_true is not None else None

    def keystroke(self, now: float) -> list[TypingSignal]:
        """A key was pressed at ``now``."""
        signals = self.expire(now)
        last = self._last_true
        if last is None or (self.refresh and now - last >= self.interval):
            self._last_true = now
            signals.append(TypingSignal(typing=True, at=now))
        self._deadline = now + self.stop_after
        return signals

    def sent(self, now: float) -> list[TypingSignal]:
        """The message was sent at ``now``: ``false`` at once if typing."""
        signals = self.expire(now)
        if self._last_true is not None:
            self._last_true = None
            signals.append(TypingSignal(typing=False, at=now))
        return signals

    def expire(self, now: float) -> list[TypingSignal]:
        """``false`` (at the deadline) if typing and the stop deadline is ``<= now``."""
        if self._last_true is not None and self._deadline <= now:
            self._last_true = None
            return [TypingSignal(typing=False, at=self._deadline)]
        return []

    def close(self, now: float) -> list[TypingSignal]:
        """The composer closed: due signals, then ``false`` if still typing."""
        return self.sent(now)
