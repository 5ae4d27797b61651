"""Messaging operators: thin Rx wrappers around :mod:`rxsse.domain.messaging`.

Every rule (expiry, throttling, status ranks, receipts, retries, presence)
lives in the domain machines and is documented there; these functions only
give each subscription its own machine, feed it the scheduler's clock and
keep **one** timer per subscription at the machine's ``next_deadline``.

=========================  =====================================================
operator                   in → out
=========================  =====================================================
:func:`messaging_events`   ``ServerSentEvent`` → messaging events
:func:`typing_users`       messaging events → :class:`TypingUpdate`
:func:`throttle_typing`    keystrokes (and :class:`Submit`) → :class:`TypingSignal`
:func:`message_status`     messaging + outbox events → :class:`MessageState`
:func:`outbox`             :class:`Submit` / :class:`ManualRetry` → outbox events
:func:`presence`           messaging events → :class:`Presence`
=========================  =====================================================
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable
from typing import Any, Literal, TypeVar

import reactivex
from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, Disposable
from reactivex.scheduler import TimeoutScheduler, VirtualTimeScheduler

from rxsse._event import ServerSentEvent
from rxsse.domain.messaging import (
    Acked,
    AttemptFailed,
    ManualRetry,
    MessageState,
    MessagingEvent,
    Outbox,
    OutboxEffect,
    Presence,
    PresenceTracker,
    Retrying,
    RetryPolicy,
    SendAttempt,
    SendFailed,
    Sending,
    StatusBook,
    Submit,
    TypingSet,
    TypingSignal,
    TypingThrottle,
    TypingUpdate,
    parse_event,
)
from rxsse.errors import MessagingEventError

__all__ = [
    "OutboxEvent",
    "message_status",
    "messaging_events",
    "outbox",
    "presence",
    "throttle_typing",
    "typing_users",
]

_A = TypeVar("_A")
_B = TypeVar("_B")

OutboxEvent = Sending | Acked | AttemptFailed | SendFailed | Retrying
"""What :func:`outbox` emits (the client-side events :func:`message_status` understands)."""


def _clock(scheduler: abc.SchedulerBase) -> Callable[[], float]:
    """The scheduler's time in seconds, on the same basis as ``schedule_absolute(float)``."""
    to_seconds = scheduler.to_seconds
    if isinstance(scheduler, VirtualTimeScheduler):

        def virtual() -> float:
            clock = scheduler.clock
            return clock if type(clock) is float else to_seconds(clock)

        return virtual
    return lambda: to_seconds(scheduler.now)


class _Wakeup(abc.DisposableBase):
    """One timer for a machine with a ``next_deadline``: armed at most once at any moment.

    :meth:`arm` schedules the wake-up at ``deadline`` unless one is already
    due at or before it (a later deadline is reached by re-arming after the
    earlier wake-up fired), so however many deadlines a machine holds, one
    scheduled action exists.  ``fire(now)`` runs under ``lock`` (the owner's,
    which also guards every :meth:`arm`) and receives ``max(clock,
    deadline)``, so the machine always sees its deadline reached.  A
    wake-up that was replaced or disposed while it was already running on
    another thread does nothing.  Disposing cancels the timer for good.
    """

    __slots__ = ("_clock", "_disposed", "_fire", "_handle", "_lock", "_scheduler", "armed")

    def __init__(
        self,
        scheduler: abc.SchedulerBase,
        clock: Callable[[], float],
        fire: Callable[[float], None],
        lock: threading.RLock,
    ) -> None:
        self._scheduler = scheduler
        self._clock = clock
        self._fire = fire
        self._lock = lock
        self._handle: abc.DisposableBase | None = None
        self._disposed = False
        self.armed: float | None = None
        """When the scheduled wake-up is due (the very object given to :meth:`arm`), or ``None``."""

    def arm(self, deadline: float | None) -> None:
        """Be woken at ``deadline`` (``None``: not at all), keeping an earlier wake-up."""
        armed = self.armed
        if armed is not None:
            if deadline is not None and armed <= deadline:
                return
            handle = self._handle
            if handle is not None:
                handle.dispose()
        if deadline is None or self._disposed:
            self.armed = self._handle = None
            return
        self.armed = deadline
        self._handle = self._scheduler.schedule_absolute(deadline, self._run, deadline)

    def _run(self, _: abc.SchedulerBase, deadline: float | None) -> None:
        with self._lock:
            if deadline is None or self.armed is not deadline or self._disposed:
                return  # replaced or disposed while this action was starting
            self.armed = self._handle = None
            self._fire(max(self._clock(), deadline))

    def dispose(self) -> None:
        with self._lock:
            self._disposed = True
            handle = self._handle
            self.armed = self._handle = None
        if handle is not None:
            handle.dispose()


def _each(step: Callable[[_A], Iterable[_B]]) -> Callable[[Observable[_A]], Observable[_B]]:
    """Emit every output of ``step(item)`` in order; an exception in ``step`` ends with on_error."""

    def operator(source: Observable[_A]) -> Observable[_B]:
        def subscribe(
            observer: abc.ObserverBase[_B], scheduler_: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            def on_next(item: _A) -> None:
                try:
                    outputs = step(item)
                except Exception as error:
                    observer.on_error(error)
                    return
                for output in outputs:
                    observer.on_next(output)

            return source.subscribe(
                on_next, observer.on_error, observer.on_completed, scheduler=scheduler_
            )

        return Observable(subscribe)

    return operator


# -- parsing ---------------------------------------------------------------------------------


def messaging_events(
    on_invalid: Literal["raise", "skip"] = "raise",
) -> Callable[[Observable[ServerSentEvent]], Observable[MessagingEvent]]:
    """``ServerSentEvent`` → messaging events (:func:`rxsse.domain.messaging.parse_event`).

    SSE types that are not messaging types are skipped.  A malformed event
    of a known type ends the stream with
    :class:`~rxsse.errors.MessagingEventError` (``on_invalid="raise"``), or is
    dropped (``"skip"``); either way the good events before it were emitted.
    """
    if on_invalid not in ("raise", "skip"):
        raise ValueError(f"on_invalid must be 'raise' or 'skip', not {on_invalid!r}")

    def parse(event: ServerSentEvent) -> Iterable[MessagingEvent]:
        try:
            parsed = parse_event(event)
        except MessagingEventError:
            if on_invalid == "raise":
                raise
            return ()
        return () if parsed is None else (parsed,)

    return _each(parse)


# -- typing, receive side ---------------------------------------------------------------------


class _TypingUsers(abc.ObserverBase[Any]):
    """One subscription of :func:`typing_users`: the machine, its clock and its one wake-up.

    An observer object rather than three callbacks, so the source calls
    :meth:`on_next` without an extra wrapper: this is the hot path.
    """

    __slots__ = ("clock", "emit", "horizon", "lock", "machine", "observer", "wakeup")

    def __init__(
        self,
        observer: abc.ObserverBase[TypingUpdate],
        scheduler: abc.SchedulerBase,
        machine: TypingSet,
    ) -> None:
        self.observer = observer
        self.emit = observer.on_next
        self.machine = machine
        self.horizon = machine.expiry
        self.clock = _clock(scheduler)
        self.lock = threading.RLock()
        self.wakeup = _Wakeup(scheduler, self.clock, self._fire, self.lock)

    def _fire(self, now: float) -> None:  # called by the wake-up, under self.lock
        emit = self.emit
        for update in self.machine.expire(now):
            emit(update)
        self.wakeup.arm(self.machine.next_deadline())

    def on_next(self, value: Any) -> None:
        with self.lock:
            now = self.clock()
            emit = self.emit
            for update in self.machine.apply(value, now):
                emit(update)
            # A wake-up armed no later than any deadline this event can have made stays;
            # when it fires it re-arms at the then earliest deadline.
            armed = self.wakeup.armed
            if armed is None or now + self.horizon < armed:
                self.wakeup.arm(self.machine.next_deadline())

    def on_error(self, error: Exception) -> None:
        with self.lock:
            self.wakeup.dispose()
            self.observer.on_error(error)

    def on_completed(self) -> None:
        with self.lock:
            self.wakeup.dispose()
            self.observer.on_completed()


def typing_users(
    expiry: float = 3.0,
    self_id: str | None = None,
    scheduler: abc.SchedulerBase | None = None,
) -> Callable[[Observable[Any]], Observable[TypingUpdate]]:
    """Messaging events → who is typing, per conversation, with expiry.

    ::

        events:  -T(a)-----T(a)---------------M(a)--T(b)---------------
        out:     -[a]--------------------------[]---[b]------(3 s)-[]--

    Semantics are :class:`~rxsse.domain.messaging.TypingSet`'s: ``typing:
    true`` adds a user or extends their deadline to ``now + expiry`` (no
    emission when already present); ``typing: false`` or a message from the
    user removes them at once; a ``TypingList`` replaces the set; a user is
    gone at exactly ``start + expiry`` (``now`` is ``scheduler``'s clock);
    ``self_id`` is never shown.  One :class:`TypingUpdate` per change of a
    conversation's set; other event types are ignored.

    Timers: one scheduled wake-up per subscription, at the earliest deadline
    of the machine's deadline queue, whatever the number of users or events.  Disposal
    cancels it; completion or error cancels it too (users still typing then
    are not reported as gone) and is passed on.  ``scheduler`` defaults to the
    subscription's scheduler, else the timeout scheduler.
    """
    TypingSet(expiry, self_id)  # validate arguments at call time

    def operator(source: Observable[Any]) -> Observable[TypingUpdate]:
        def subscribe(
            observer: abc.ObserverBase[TypingUpdate], scheduler_: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            sched = scheduler or scheduler_ or TimeoutScheduler.singleton()
            upstream = _TypingUsers(observer, sched, TypingSet(expiry, self_id))
            subscription = source.subscribe(upstream, scheduler=scheduler_)
            return CompositeDisposable(subscription, upstream.wakeup)

        return Observable(subscribe)

    return operator


# -- typing, send side ----------------------------------------------------------------------------


def throttle_typing(
    interval: float = 2.0,
    stop_after: float = 3.0,
    refresh: bool = True,
    scheduler: abc.SchedulerBase | None = None,
) -> Callable[[Observable[Any]], Observable[TypingSignal]]:
    """Keystrokes → outbound typing signals (:class:`~rxsse.domain.messaging.TypingThrottle`).

    ::

        keys:  -k-k-k-k-k-k-k-k-k-S-k----------------
        out:   -t-------t---------f-t------(3 s)-f---   (interval 2, t = true, f = false)

    Every item is a keystroke except a :class:`~rxsse.domain.messaging.Submit`
    (the message was sent).  ``true`` at the first keystroke, again at most
    every ``interval`` seconds while keys keep coming (``refresh=False``:
    only the first), ``false`` ``stop_after`` seconds after the last key or at
    once on send; never two ``false`` in a row, never ``false`` first.  When
    the keystrokes complete while typing, a final ``false`` is emitted before
    completing.  One timer (the stop deadline) per subscription; disposal
    cancels it.
    """
    TypingThrottle(interval, stop_after, refresh)  # validate arguments at call time

    def operator(source: Observable[Any]) -> Observable[TypingSignal]:
        def subscribe(
            observer: abc.ObserverBase[TypingSignal], scheduler_: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            sched = scheduler or scheduler_ or TimeoutScheduler.singleton()
            clock = _clock(sched)
            machine = TypingThrottle(interval, stop_after, refresh)
            lock = threading.RLock()

            def emit(signals: Iterable[TypingSignal]) -> None:
                for signal in signals:
                    observer.on_next(signal)
                wakeup.arm(machine.next_deadline())

            def fire(now: float) -> None:  # called by the wake-up, under lock
                emit(machine.expire(now))

            wakeup = _Wakeup(sched, clock, fire, lock)

            def on_next(item: Any) -> None:
                with lock:
                    now = clock()
                    emit(machine.sent(now) if isinstance(item, Submit) else machine.keystroke(now))

            def on_error(error: Exception) -> None:
                with lock:
                    wakeup.dispose()
                    observer.on_error(error)

            def on_completed() -> None:
                with lock:
                    wakeup.dispose()
                    for signal in machine.close(clock()):
                        observer.on_next(signal)
                    observer.on_completed()

            subscription = source.subscribe(on_next, on_error, on_completed, scheduler=scheduler_)
            return CompositeDisposable(subscription, wakeup)

        return Observable(subscribe)

    return operator


# -- status, presence --------------------------------------------------------------------------


def message_status() -> Callable[[Observable[Any]], Observable[MessageState]]:
    """Messaging and outbox events → :class:`MessageState` of each message that changed.

    ::

        events:  -Sending(c1)--Acked(c1, seq 5)--Receipt(u, 5)--Receipt(u, 5)--
        out:     -[c1 sending]-[c1 sent]---------[c1 read]----------------------

    The rules are :class:`~rxsse.domain.messaging.StatusBook`'s: statuses only
    move forward (``sending → sent → delivered → read``, ``failed`` only from
    ``sending``, back to ``sending`` only on a manual retry), receipts count
    "up to and including", early receipts wait for the ack, the echo merges
    with the optimistic message by ``client_id``.  Duplicates emit nothing.
    Feed it the merge of the stream's events and :func:`outbox`'s.
    """

    def operator(source: Observable[Any]) -> Observable[MessageState]:
        def factory(_: abc.SchedulerBase | None) -> Observable[MessageState]:
            return source.pipe(_each(StatusBook().apply))

        return reactivex.defer(factory)

    return operator


def presence() -> Callable[[Observable[Any]], Observable[Presence]]:
    """Messaging events → :class:`Presence` of each user whose presence changed.

    Stale events (older ``at`` than the user's last) and repeats emit nothing;
    see :class:`~rxsse.domain.messaging.PresenceTracker`.  Other types are ignored.
    """

    def operator(source: Observable[Any]) -> Observable[Presence]:
        def factory(_: abc.SchedulerBase | None) -> Observable[Presence]:
            tracker = PresenceTracker()

            def step(event: Any) -> Iterable[Presence]:
                changed = tracker.apply(event)
                return () if changed is None else (changed,)

            return source.pipe(_each(step))

        return reactivex.defer(factory)

    return operator


# -- outbox --------------------------------------------------------------------------------------


def outbox(
    send: Callable[[SendAttempt], Observable[Acked]],
    *,
    policy: RetryPolicy | None = None,
    sender: str = "me",
    rng: random.Random | None = None,
    client_ids: Callable[[], str] | None = None,
    scheduler: abc.SchedulerBase | None = None,
) -> Callable[[Observable[Submit | ManualRetry]], Observable[OutboxEvent]]:
    """Send commands → optimistic sends with a retry queue (see :class:`Outbox`).

    ::

        commands:  -Submit(a)-Submit(b)-----------------------------
        send(a):    ----x                 (fails)   ----ack
        send(b):                                         ----ack
        out:       -Sending(a)-Sending(b)-AttemptFailed(a)-Acked(a)-Acked(b)

    For every :class:`SendAttempt` the machine asks for, ``send(attempt)`` is
    subscribed; its first item (an :class:`Acked`) acknowledges the message,
    an error, completion without an item, or no answer within
    ``policy.timeout`` seconds fails the attempt (the late answer's
    subscription is disposed, so it is ignored).  Retries reuse the
    ``client_id`` (idempotent on a server that deduplicates by it), wait an
    exponential backoff with jitter, keep FIFO order per conversation, and
    give up with :class:`SendFailed` after ``policy.max_attempts``;
    :class:`ManualRetry` retries a failed message.  Emits the client-side
    events only (for :func:`message_status`).  When the commands complete, the
    output completes once nothing is in flight or waiting; an error in the
    commands is passed on at once.  Timers: one for the earliest backoff,
    plus one timeout per attempt in flight (at most one per conversation);
    disposal cancels them and every request in flight.
    """
    chosen = policy or RetryPolicy()

    def operator(source: Observable[Submit | ManualRetry]) -> Observable[OutboxEvent]:
        def subscribe(
            observer: abc.ObserverBase[OutboxEvent], scheduler_: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            sched = scheduler or scheduler_ or TimeoutScheduler.singleton()
            clock = _clock(sched)
            machine = Outbox(chosen, sender=sender, rng=rng, client_ids=client_ids)
            lock = threading.RLock()
            in_flight: dict[str, CompositeDisposable] = {}
            state = {"source_done": False, "stopped": False}

            def handle(effects: list[OutboxEffect]) -> None:
                for effect in effects:
                    if isinstance(effect, SendAttempt):
                        start(effect)
                    elif not state["stopped"]:
                        observer.on_next(effect)
                wakeup.arm(machine.next_deadline())
                maybe_complete()

            def maybe_complete() -> None:
                idle = not in_flight and machine.next_deadline() is None
                if state["source_done"] and not state["stopped"] and idle:
                    state["stopped"] = True
                    observer.on_completed()

            def fire(now: float) -> None:  # called by the wake-up, under lock
                handle(machine.expire(now))

            wakeup = _Wakeup(sched, clock, fire, lock)

            def start(attempt: SendAttempt) -> None:
                client_id = attempt.client_id
                holder = CompositeDisposable()
                in_flight[client_id] = holder
                answered = [False]

                def settle(outcome: Callable[[float], list[OutboxEffect]]) -> None:
                    with lock:
                        if answered[0]:
                            return
                        answered[0] = True
                        in_flight.pop(client_id, None)
                        holder.dispose()
                        handle(outcome(clock()))

                def on_ack(ack: Acked) -> None:
                    settle(
                        lambda now: machine.acked(client_id, ack.id, ack.seq, ack.recipients, now)
                    )

                def on_fail(reason: str) -> None:
                    settle(lambda now: machine.failed(client_id, reason, now))

                def on_timeout(_: abc.SchedulerBase, __: Any = None) -> None:
                    on_fail(f"no answer within {chosen.timeout:g} s")

                holder.add(sched.schedule_relative(chosen.timeout, on_timeout))
                try:
                    request = send(attempt)
                except Exception as error:
                    on_fail(f"{type(error).__name__}: {error}")
                    return
                subscription = request.subscribe(
                    on_next=on_ack,
                    on_error=lambda error: on_fail(f"{type(error).__name__}: {error}"),
                    on_completed=lambda: on_fail("no acknowledgement"),
                    scheduler=scheduler_,
                )
                if answered[0]:
                    subscription.dispose()
                else:
                    holder.add(subscription)

            def on_next(command: Submit | ManualRetry) -> None:
                with lock:
                    now = clock()
                    if isinstance(command, Submit):
                        handle(machine.submit(command, now))
                    elif isinstance(command, ManualRetry):
                        handle(machine.retry(command, now))

            def on_error(error: Exception) -> None:
                with lock:
                    stop()
                    observer.on_error(error)

            def on_completed() -> None:
                with lock:
                    state["source_done"] = True
                    maybe_complete()

            def stop() -> None:
                state["stopped"] = True
                wakeup.dispose()
                for holder in list(in_flight.values()):
                    holder.dispose()
                in_flight.clear()

            subscription = source.subscribe(on_next, on_error, on_completed, scheduler=scheduler_)
            return CompositeDisposable(subscription, Disposable(lambda: stop()))

        return Observable(subscribe)

    return operator
