"""Deployment operators: events in, :class:`~rxsse.domain.deploy.DeploymentState` out.

Thin Rx wrappers around the pure reducer :func:`rxsse.domain.deploy.step`; every rule
(ranks, absorption, duplicates, progress) is documented there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reactivex
from reactivex import Observable, abc
from reactivex import operators as ops
from reactivex.scheduler import TimeoutScheduler

from rxsse.domain.deploy import (
    DeploymentEvent,
    DeploymentProgress,
    DeploymentState,
    end_of_stream,
    progress_of,
    step,
    to_deployment_event,
)

__all__ = ["deployment_progress", "deployment_state"]

_END = object()


def deployment_state(
    *,
    max_logs: int = 200,
    alias_grace: float = 0.0,
    scheduler: abc.SchedulerBase | None = None,
) -> Callable[[Observable[Any]], Observable[DeploymentState]]:
    """Reduce deployment events into :class:`DeploymentState` snapshots.

    ::

        events:  -Q--B--log--B(dup)--R----|
        states:  -s1-s2-s3-----------s4|        (completes after the terminal s4)

    Accepts :class:`~rxsse.ServerSentEvent` values (the seed's SSE types, or NDJSON
    lines from :func:`rxsse.sources.ndjson.from_ndjson_url`), parsed Vercel NDJSON
    objects (mappings) and :class:`DeploymentEvent` values; keep-alives are dropped.
    Each subscription starts from a fresh state with ``max_logs`` log lines kept.

    * A snapshot is emitted **only when the state changed** (its ``revision``):
      duplicates and keep-alives emit nothing.
    * After a terminal state the stream **completes** and unsubscribes upstream;
      with ``alias_grace > 0`` a READY deployment is watched that many more seconds
      (on ``scheduler``) for alias events, then completes.
    * When the source completes before a terminal state, one last snapshot with
      ``disconnected=True`` (outcome ``"disconnected"``) is emitted, then the stream
      completes; when the source errors, that snapshot is emitted and then the error
      is passed on.  Neither turns the deployment into a failure.
    * Events without a time are stamped with ``scheduler.now`` (default: the
      subscription's scheduler, else the timeout scheduler, i.e. wall-clock time).
    """
    if alias_grace < 0:
        raise ValueError("alias_grace must not be negative")

    def operator(source: Observable[Any]) -> Observable[DeploymentState]:
        def factory(scheduler_: abc.SchedulerBase | None) -> Observable[DeploymentState]:
            clock = scheduler or scheduler_ or TimeoutScheduler.singleton()

            def adapt(item: Any) -> DeploymentEvent | None:
                if item is _END:
                    return end_of_stream(clock.now.timestamp())
                event = to_deployment_event(item)
                if event is not None and event.at is None:
                    event = event.model_copy(update={"at": clock.now.timestamp()})
                return event

            def reduce(state: DeploymentState, event: DeploymentEvent | None) -> DeploymentState:
                return state if event is None else step(state, event)

            ending = reactivex.just(_END)
            marked = source.pipe(
                ops.catch(lambda error, _: reactivex.concat(ending, reactivex.throw(error))),
            )

            def revision(state: DeploymentState) -> int:
                return state.revision

            def changed(state: DeploymentState) -> bool:
                return state.revision > 0

            def goes_on(state: DeploymentState) -> bool:
                return not (state.terminal and (state.status != "READY" or alias_grace == 0))

            def is_ready(state: DeploymentState) -> bool:
                return state.status == "READY"

            states: Observable[DeploymentState] = reactivex.concat(marked, ending).pipe(
                ops.map(adapt),
                ops.scan(reduce, DeploymentState(max_logs=max_logs)),
                ops.distinct_until_changed(revision),
                ops.filter(changed),
            )
            bounded = states.pipe(ops.take_while(goes_on, inclusive=True))
            if alias_grace == 0:
                return bounded

            def linger(shared: Observable[DeploymentState]) -> Observable[DeploymentState]:
                ready = shared.pipe(
                    ops.filter(is_ready),
                    ops.take(1),
                    ops.flat_map(lambda _: reactivex.timer(alias_grace, scheduler=clock)),
                )
                return shared.pipe(ops.take_until(ready))

            return bounded.pipe(ops.publish(linger))

        return reactivex.defer(factory)

    return operator


def deployment_progress(
    *,
    alias_grace: float = 0.0,
    scheduler: abc.SchedulerBase | None = None,
) -> Callable[[Observable[Any]], Observable[DeploymentProgress]]:
    """Deployment events → :class:`DeploymentProgress` for a progress bar.

    The same reduction as :func:`deployment_state`, viewed as percent (never
    decreasing), status, step, outcome and the final URL or error; emitted only
    when that view changes (a new log line alone emits nothing).  Completes as
    :func:`deployment_state` does.
    """

    def operator(source: Observable[Any]) -> Observable[DeploymentProgress]:
        return source.pipe(
            deployment_state(max_logs=1, alias_grace=alias_grace, scheduler=scheduler),
            ops.map(progress_of),
            ops.distinct_until_changed(),
        )

    return operator
