"""Rx operators for LLM token streams (thin wrappers over :mod:`rxsse.domain.llm`).

::

    events ──e1──e2──e3────e4──|        (ServerSentEvent from from_url)
    accumulate_chat()
           ──s1──s2──s3────s4──|        (ChatSnapshot, one per event that changed it)
    text_deltas()
           ──"He"─"llo"─────"!"─|       (visible text, empty deltas skipped)
    chat_metrics()
           ──m1──m2──m3────m4─mF|       (ChatMetrics per event, then the final one)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

import reactivex
from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, SingleAssignmentDisposable
from reactivex.scheduler import TimeoutScheduler

from rxsse._event import ServerSentEvent
from rxsse.domain.llm import INCOMPLETE_STATUSES, ChatAccumulator, ChatSnapshot
from rxsse.domain.llm_deltas import Provider, Text, adapter_for, detect_provider
from rxsse.domain.llm_metrics import ChatMetrics, MetricsState
from rxsse.errors import IncompleteStreamError, LLMProviderError

__all__ = ["accumulate_chat", "chat_metrics", "text_deltas"]

ProviderChoice = Provider | Literal["auto"]
Operator = Callable[[Observable[ServerSentEvent]], Observable[Any]]


def accumulate_chat(
    provider: ProviderChoice = "auto",
    *,
    on_incomplete: Literal["error", "complete"] = "error",
) -> Callable[[Observable[ServerSentEvent]], Observable[ChatSnapshot]]:
    """Accumulate a provider's stream into :class:`~rxsse.domain.llm.ChatSnapshot` values.

    Emits one snapshot per event that changed the state (pings, repeated
    ids and unknown events emit nothing).  When the terminal marker arrives
    the snapshot says how the response ended (``complete``, ``truncated``,
    ``filtered``, ``refused``) and the operator completes, disposing the
    upstream (so a reconnecting source does not ask for more).

    A stream that ends *before* its terminal marker never looks complete:
    the final snapshot is emitted with status ``no_terminal_marker`` or
    ``connection_lost``, then, with ``on_incomplete="error"`` (default), the
    operator fails with :class:`~rxsse.errors.IncompleteStreamError` whose
    ``partial`` is that snapshot (chained to the upstream error, if one ended
    the stream); with ``on_incomplete="complete"`` it completes and the status
    alone tells.  An error inside the stream (OpenAI ``{"error": ...}``,
    Anthropic ``error``, Responses ``response.failed``) emits the snapshot
    with status ``provider_error`` and fails with
    :class:`~rxsse.errors.LLMProviderError` (``body``, ``retryable``,
    ``partial``).
    """

    def operator(source: Observable[ServerSentEvent]) -> Observable[ChatSnapshot]:
        def subscribe(
            observer: abc.ObserverBase[ChatSnapshot], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            accumulator = ChatAccumulator(provider)
            upstream = SingleAssignmentDisposable()
            stopped = False

            def finish(cause: Exception | None) -> None:
                nonlocal stopped
                if stopped:
                    return
                stopped = True
                before = accumulator.snapshot()
                final = accumulator.finish()
                if final is not before:
                    observer.on_next(final)
                upstream.dispose()
                if final.status == "provider_error":
                    error = final.error
                    observer.on_error(
                        LLMProviderError(
                            f"provider error: {error.message if error else 'unknown'}",
                            body=error.body if error else None,
                            retryable=error.retryable if error else False,
                            partial=final,
                        )
                    )
                elif final.status in INCOMPLETE_STATUSES and on_incomplete == "error":
                    incomplete = IncompleteStreamError(
                        f"the stream ended before its terminal marker ({final.status})",
                        partial=final,
                    )
                    incomplete.__cause__ = cause
                    observer.on_error(incomplete)
                else:
                    observer.on_completed()

            feed, snapshot, emit = accumulator.feed, accumulator.snapshot, observer.on_next

            def on_next(event: ServerSentEvent) -> None:
                if stopped:
                    return
                if feed(event):
                    emit(snapshot())
                    if accumulator.terminal or accumulator.status == "provider_error":
                        finish(None)

            upstream.disposable = source.subscribe(
                on_next, finish, lambda: finish(None), scheduler=scheduler
            )
            return CompositeDisposable(upstream)

        return reactivex.create(subscribe)

    return operator


def text_deltas(
    provider: ProviderChoice = "auto", *, choice: int = 0
) -> Callable[[Observable[ServerSentEvent]], Observable[str]]:
    """The visible text of ``choice`` as it arrives; empty deltas are skipped.

    Only content text counts (not refusals, reasoning or tool arguments).
    The provider is detected per subscription from the first event that
    tells.  Completes when the upstream completes; errors pass through.
    """

    def operator(source: Observable[ServerSentEvent]) -> Observable[str]:
        def factory(_: abc.SchedulerBase) -> Observable[str]:
            chosen: list[Any] = [adapter_for(provider) if provider != "auto" else None]

            def texts(event: ServerSentEvent) -> Observable[str]:
                adapter = chosen[0]
                if adapter is None:
                    detected = detect_provider(event)
                    if detected is None:
                        return reactivex.empty()
                    adapter = chosen[0] = adapter_for(detected)
                found = [
                    d.text
                    for d in adapter(event)
                    if type(d) is Text and d.channel == "content" and d.choice == choice and d.text
                ]
                return reactivex.from_iterable(found)

            from reactivex import operators as ops

            return source.pipe(ops.concat_map(texts))

        return reactivex.defer(factory)

    return operator


def chat_metrics(
    provider: ProviderChoice = "auto", *, scheduler: abc.SchedulerBase | None = None
) -> Callable[[Observable[ServerSentEvent]], Observable[ChatMetrics]]:
    """Latency metrics of the stream, timed on ``scheduler``'s clock.

    ``t0`` is the subscription time.  Emits a
    :class:`~rxsse.domain.llm_metrics.ChatMetrics` after every event, and a
    final one with ``done=True`` (and the full ``inter_chunk_latencies``)
    when the upstream completes or fails; errors then pass through.  See
    :mod:`rxsse.domain.llm_metrics` for every definition.  Deterministic
    under ``reactivex.testing.TestScheduler``.
    """

    def operator(source: Observable[ServerSentEvent]) -> Observable[ChatMetrics]:
        def subscribe(
            observer: abc.ObserverBase[ChatMetrics], scheduler_: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            clock = scheduler or scheduler_ or TimeoutScheduler.singleton()
            started: datetime = clock.now
            state = MetricsState()
            chosen: list[Any] = [adapter_for(provider) if provider != "auto" else None]

            def elapsed() -> float:
                return (clock.now - started).total_seconds()

            def on_next(event: ServerSentEvent) -> None:
                adapter = chosen[0]
                if adapter is None:
                    detected = detect_provider(event)
                    if detected is not None:
                        adapter = chosen[0] = adapter_for(detected)
                state.observe(elapsed(), adapter(event) if adapter is not None else [])
                observer.on_next(state.metrics())

            def on_error(error: Exception) -> None:
                state.end(elapsed())
                observer.on_next(state.metrics(done=True))
                observer.on_error(error)

            def on_completed() -> None:
                state.end(elapsed())
                observer.on_next(state.metrics(done=True))
                observer.on_completed()

            return source.subscribe(on_next, on_error, on_completed, scheduler=scheduler_)

        return reactivex.create(subscribe)

    return operator
