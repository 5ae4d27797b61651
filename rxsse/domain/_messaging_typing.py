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

from rxsse.domain._construct import build
from rxsse.domain._html import HTMLReprMixin
from rxsse.domain._messaging_events import MessageEvent, TypingEvent, TypingList

__all__ = ["TypingSet", "TypingSignal", "TypingThrottle", "TypingUpdate"]


class TypingUpdate(HTMLReprMixin, BaseModel):
    """The users typing in ``conversation`` from time ``at`` on, in the order they started."""

    model_config = ConfigDict(frozen=True)

    conversation: str
    users: tuple[str, ...]
    at: float


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
    and leaves the previous one stale (lazy deletion); stale entries are
    dropped when they reach the front, so :meth:`next_deadline` is always a
    real expiry and is the one wake-up a caller needs to schedule.  An entry
    is live iff its deadline *is* (by identity) the deadline stored for the
    user: every event makes a new float, so of two refreshes at one instant
    only the later entry is live.  The queue holds at most the typing events
    of the last ``expiry`` seconds.  Should the clock ever step backwards,
    the entry is inserted in order instead.
    """

    __slots__ = ("_conversations", "_pairs", "_queue", "expiry", "self_id")

    def __init__(self, expiry: float = 3.0, self_id: str | None = None) -> None:
        if not expiry > 0:
            raise ValueError(f"expiry must be positive seconds, not {expiry!r}")
        self.expiry = float(expiry)
        self.self_id = self_id
        # conversation -> {user: deadline}, users in start order (a refresh
        # replaces the value, which keeps the order); no empty dicts
        self._conversations: dict[str, dict[str, float]] = {}
        # (deadline, conversation, user), sorted by deadline
        self._queue: deque[tuple[float, str, str]] = deque()
        self._pairs = 0

    # -- queries ------------------------------------------------------------------

    def users(self, conversation: str) -> tuple[str, ...]:
        """Users typing in ``conversation`` now (as of the last call), in start order."""
        return tuple(self._conversations.get(conversation, ()))

    def conversations(self) -> dict[str, tuple[str, ...]]:
        """Every conversation with someone typing, and who."""
        return {c: tuple(users) for c, users in self._conversations.items()}

    def next_deadline(self) -> float | None:
        """The earliest deadline of a present user, or ``None`` when nobody types."""
        queue = self._queue
        conversations = self._conversations
        while queue:
            deadline, conversation, user = queue[0]
            users = conversations.get(conversation)
            if users is not None and users.get(user) is deadline:
                return deadline
            queue.popleft()  # stale: refreshed or removed since
        return None

    @property
    def queue_size(self) -> int:
        """Entries in the deadline queue (live ones plus stale ones not yet dropped)."""
        return len(self._queue)

    def __len__(self) -> int:
        """Number of (conversation, user) pairs typing."""
        return self._pairs

    # -- transitions --------------------------------------------------------------------

    def apply(self, event: object, now: float) -> list[TypingUpdate]:
        """Expire what is due at ``now``, then apply ``event``; other event types only expire."""
        queue = self._queue
        updates = self.expire(now) if queue and queue[0][0] <= now else []
        if type(event) is TypingEvent or isinstance(event, TypingEvent):
            user = event.user
            if user == self.self_id:
                return updates
            conversation = event.conversation
            if event.typing:
                deadline = now + self.expiry
                users = self._conversations.get(conversation)
                if users is not None and user in users and deadline >= queue[-1][0]:
                    # A refresh in time order: the usual case, inlined.
                    users[user] = deadline
                    queue.append((deadline, conversation, user))
                    return updates
                changed = self._start(conversation, user, deadline)
            else:
                changed = self._remove(conversation, user)
        elif isinstance(event, MessageEvent):
            conversation = event.conversation
            changed = self._remove(conversation, event.sender)
        elif isinstance(event, TypingList):
            conversation = event.conversation
            changed = self._replace(conversation, event.users, now)
        else:
            return updates
        if changed:
            updates.append(_update(conversation, self._conversations.get(conversation, ()), now))
        return updates

    def expire(self, now: float) -> list[TypingUpdate]:
        """Remove every user whose deadline is ``<= now``: one update per removal, by deadline."""
        queue = self._queue
        conversations = self._conversations
        updates: list[TypingUpdate] = []
        while queue and queue[0][0] <= now:
            deadline, conversation, user = queue.popleft()
            users = conversations.get(conversation)
            if users is None or users.get(user) is not deadline:
                continue  # stale
            del users[user]
            if not users:
                del conversations[conversation]
            self._pairs -= 1
            updates.append(_update(conversation, users, deadline))
        return updates

    def clear(self) -> None:
        """Forget everything (no updates)."""
        self._conversations.clear()
        self._queue.clear()
        self._pairs = 0

    # -- internals ------------------------------------------------------------------------

    def _start(self, conversation: str, user: str, deadline: float) -> bool:
        queue = self._queue
        entry = (deadline, conversation, user)
        if queue and deadline < queue[-1][0]:  # the clock stepped backwards
            queue.insert(bisect.bisect_right(queue, deadline, key=_deadline_of), entry)
        else:
            queue.append(entry)
        users = self._conversations.get(conversation)
        if users is None:
            self._conversations[conversation] = {user: deadline}
        else:
            refresh = user in users
            users[user] = deadline  # on a refresh, the previous entry is now stale
            if refresh:
                return False
        self._pairs += 1
        return True

    def _remove(self, conversation: str, user: str) -> bool:
        users = self._conversations.get(conversation)
        if users is None or users.pop(user, None) is None:
            return False
        if not users:
            del self._conversations[conversation]
        self._pairs -= 1
        return True

    def _replace(self, conversation: str, listed: Iterable[str], now: float) -> bool:
        wanted = dict.fromkeys(u for u in listed if u != self.self_id)
        before = self.users(conversation)
        for user in before:
            if user not in wanted:
                self._remove(conversation, user)
        deadline = now + self.expiry
        for user in wanted:
            self._start(conversation, user, deadline)
        return self.users(conversation) != before


def _deadline_of(entry: tuple[float, str, str]) -> float:
    return entry[0]


def _update(conversation: str, users: Iterable[str], at: float) -> TypingUpdate:
    """The update of ``conversation``, whose users are now ``users`` (hot path: no validation)."""
    return build(TypingUpdate, {"conversation": conversation, "users": tuple(users), "at": at})


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
