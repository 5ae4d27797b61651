"""Deployment progress: build and deploy events reduced into one trustworthy state.

Pure domain code (stdlib + pydantic + :mod:`rxsse._event`): input adapters that turn
wire events into :class:`DeploymentEvent` values, and the reducer :func:`step` that folds
them into a :class:`DeploymentState`.  The Rx wrappers live in
:mod:`rxsse.operators.deploy`.

**State machine.**  The ranked states are::

    QUEUED → INITIALIZING → ANALYZING → BUILDING → DEPLOYING → READY

plus the terminal failures ``ERROR`` and any ``*_ERROR`` (``BUILD_ERROR``, …) and the
terminal ``CANCELED``.  ``READY`` is terminal too.  Rules, in the order :func:`step`
applies them:

* **Duplicates** (an event whose :attr:`DeploymentEvent.id` was seen before) are
  applied once; repeats only increase :attr:`DeploymentState.duplicates`.  They are
  normal at a reconnect boundary, so they are not anomalies.
* **Terminal states absorb** every later state change (it is ignored and recorded in
  :attr:`DeploymentState.anomalies`), except alias events (``alias-assigned``, alias
  errors), which update :attr:`~DeploymentState.aliases` /
  :attr:`~DeploymentState.alias_errors` without changing the status.  Logs keep
  arriving after a terminal state and are kept.
* **Forward skips are legal** (``QUEUED`` → ``READY``); a lower-ranked state after a
  higher one is ignored and recorded as an anomaly; the same rank again only updates
  progress and step.
* An unknown state matching ``*_ERROR`` is a failure; any other unknown state is
  recorded as an anomaly and leaves the status unchanged.
* ``progress`` is clamped to 0 to 100 and **never decreases**: it is the maximum of every
  accepted progress value and a floor per reached state (:data:`PROGRESS_FLOOR`;
  ``READY`` is 100).
* The end of the stream (:func:`end_of_stream`) before a terminal state sets
  :attr:`~DeploymentState.disconnected`: the outcome is ``"disconnected"``, never
  ``"failed"``: nobody told us the deployment failed.

Malformed input never raises: an event whose data cannot be understood becomes an
``invalid`` event, recorded as an anomaly with the reason; keep-alives become ``None``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from rxsse._event import ServerSentEvent
from rxsse.domain._html import HTMLReprMixin

__all__ = [
    "MAX_ANOMALIES",
    "PROGRESS_FLOOR",
    "RANKED_STATES",
    "Anomaly",
    "DeploymentError",
    "DeploymentEvent",
    "DeploymentProgress",
    "DeploymentState",
    "EventKind",
    "LogLevel",
    "LogLine",
    "Outcome",
    "PhaseSpan",
    "end_of_stream",
    "from_sse_event",
    "from_vercel_event",
    "is_failure",
    "is_terminal",
    "progress_of",
    "step",
    "to_deployment_event",
]

RANKED_STATES: tuple[str, ...] = (
    "QUEUED",
    "INITIALIZING",
    "ANALYZING",
    "BUILDING",
    "DEPLOYING",
    "READY",
)
"""The ordered, non-failure states; a later one may follow an earlier one, never back."""

_RANK = {name: index for index, name in enumerate(RANKED_STATES)}

PROGRESS_FLOOR: dict[str, float] = {
    "QUEUED": 0.0,
    "INITIALIZING": 5.0,
    "ANALYZING": 10.0,
    "BUILDING": 20.0,
    "DEPLOYING": 85.0,
    "READY": 100.0,
}
"""The least progress a reached state implies (streams without progress numbers)."""

MAX_ANOMALIES = 100
"""Anomalies kept per state; older ones are dropped and counted."""

LogLevel = Literal["info", "warning", "error"]
EventKind = Literal["state", "log", "functions", "alias", "alias-error", "end", "other", "invalid"]
Outcome = Literal["pending", "in-progress", "ready", "failed", "canceled", "disconnected"]

_FROZEN = ConfigDict(frozen=True)


def is_failure(state: str) -> bool:
    """``ERROR`` or any ``*_ERROR`` state."""
    return state == "ERROR" or state.endswith("_ERROR")


def is_terminal(state: str | None) -> bool:
    """``READY``, ``CANCELED`` or a failure: the deployment will not change any more."""
    return state is not None and (state in ("READY", "CANCELED") or is_failure(state))


class DeploymentError(HTMLReprMixin, BaseModel):
    """Why a deployment (or an alias assignment) failed."""

    model_config = _FROZEN
    code: str = "ERROR"
    message: str = ""
    details: Any = None


class LogLine(HTMLReprMixin, BaseModel):
    """One build log line; ``source`` is the wire type (``stdout``, ``command``, …)."""

    model_config = _FROZEN
    text: str
    level: LogLevel = "info"
    source: str = ""
    at: float | None = None


class Anomaly(HTMLReprMixin, BaseModel):
    """An event that was ignored (or only recorded), and why."""

    model_config = _FROZEN
    reason: str
    kind: str
    type: str = ""
    event_id: str = ""
    state: str | None = None
    at: float | None = None


class DeploymentEvent(BaseModel):
    """One normalized input of :func:`step`, whatever the wire format.

    ``id`` is the deduplication key (``""``: never deduplicated); ``at`` the
    event's time in seconds since the epoch, when known; ``type`` the wire event
    type, kept for anomalies.  Which other fields matter depends on ``kind``:
    ``state`` uses ``state`` (``None``: progress/step only), ``progress``,
    ``step``, ``url``, ``aliases`` and ``error``; ``log`` uses ``text``,
    ``level``, ``source`` and ``step``; ``functions`` uses ``functions``;
    ``alias`` uses ``aliases``; ``alias-error`` uses ``error`` and ``aliases``;
    ``other`` and ``invalid`` use ``text`` as the reason they are recorded.
    """

    model_config = _FROZEN
    kind: EventKind
    id: str = ""
    at: float | None = None
    type: str = ""
    state: str | None = None
    progress: float | None = None
    step: str | None = None
    text: str = ""
    level: LogLevel = "info"
    source: str = ""
    functions: tuple[str, ...] = ()
    url: str | None = None
    aliases: tuple[str, ...] = ()
    error: DeploymentError | None = None


class PhaseSpan(BaseModel):
    """A state the deployment was in, from ``start`` until ``end`` (``None``: still in it)."""

    model_config = _FROZEN
    state: str
    start: float | None
    end: float | None


class DeploymentState(HTMLReprMixin, BaseModel):
    """Everything known about one deployment, reduced from its events by :func:`step`.

    ``status`` is the last accepted state (``None`` before any), ``progress`` 0 to 100
    and never decreasing, ``step`` the current build step.  ``logs`` keeps the last
    ``max_logs`` lines (``logs_dropped`` counts the older ones dropped);
    ``anomalies`` the last :data:`MAX_ANOMALIES` ignored or odd events.  ``phases``
    maps each state entered to the time it was entered (``None`` if the event
    carried no time), in entry order.  ``counts`` counts unique events per kind,
    ``duplicates`` the repeats skipped.  ``revision`` increases whenever a field a
    viewer would see changed (everything but ``counts``, ``events`` and
    ``duplicates``), which is how operators emit only changed states.
    """

    model_config = _FROZEN
    status: str | None = None
    progress: float = 0.0
    step: str | None = None
    functions: tuple[str, ...] = ()
    logs: tuple[LogLine, ...] = ()
    logs_dropped: int = 0
    max_logs: int = Field(default=200, ge=1)
    url: str | None = None
    aliases: tuple[str, ...] = ()
    alias_errors: tuple[DeploymentError, ...] = ()
    error: DeploymentError | None = None
    phases: dict[str, float | None] = Field(default_factory=dict)
    started_at: float | None = None
    finished_at: float | None = None
    disconnected: bool = False
    anomalies: tuple[Anomaly, ...] = ()
    anomalies_dropped: int = 0
    counts: dict[str, int] = Field(default_factory=dict)
    events: int = 0
    duplicates: int = 0
    revision: int = 0
    seen: tuple[frozenset[str], ...] = Field(default=(), repr=False, exclude=True)

    @property
    def terminal(self) -> bool:
        """Whether the status is terminal (READY, CANCELED or a failure)."""
        return is_terminal(self.status)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def outcome(self) -> Outcome:
        """``ready``/``failed``/``canceled`` when terminal; ``disconnected`` when the
        stream ended before that; else ``pending`` (no state yet) or ``in-progress``."""
        status = self.status
        if status == "READY":
            return "ready"
        if status == "CANCELED":
            return "canceled"
        if status is not None and is_failure(status):
            return "failed"
        if self.disconnected:
            return "disconnected"
        return "pending" if status is None else "in-progress"

    def timeline(self) -> list[PhaseSpan]:
        """The phases entered, each ending where the next began (or at ``finished_at``)."""
        items = list(self.phases.items())
        spans = []
        for index, (state, start) in enumerate(items):
            if index + 1 < len(items):
                end = items[index + 1][1]
            elif is_terminal(state):
                end = start
            else:
                end = None
            spans.append(PhaseSpan(state=state, start=start, end=end))
        return spans

    def _repr_html_(self) -> str:
        from rxsse.domain._deploy_html import deployment_html

        return deployment_html(self)


class DeploymentProgress(HTMLReprMixin, BaseModel):
    """What a progress bar needs: percent, a label and the final URL or error."""

    model_config = _FROZEN
    percent: float
    status: str | None
    step: str | None
    outcome: Outcome
    url: str | None = None
    error: str | None = None

    @property
    def label(self) -> str:
        """``"BUILDING · Installing dependencies"``, ``"READY · https://…"``, …"""
        head = self.status or "WAITING"
        if self.outcome == "disconnected":
            head += " (disconnected)"
        tail = self.url if self.outcome == "ready" else self.error or self.step
        return f"{head} · {tail}" if tail else head


def progress_of(state: DeploymentState) -> DeploymentProgress:
    """The :class:`DeploymentProgress` view of a state."""
    error = state.error
    return DeploymentProgress(
        percent=round(state.progress, 1),
        status=state.status,
        step=state.step,
        outcome=state.outcome,
        url=state.url,
        error=f"{error.code}: {error.message}" if error is not None else None,
    )


# -- the reducer ---------------------------------------------------------------------------

_SEEN_CHUNK = 512


def _seen_contains(seen: tuple[frozenset[str], ...], key: str) -> bool:
    return any(key in chunk for chunk in reversed(seen))


def _seen_add(seen: tuple[frozenset[str], ...], key: str) -> tuple[frozenset[str], ...]:
    # Persistent set in chunks: adding copies at most one chunk, never the whole set.
    if seen and len(seen[-1]) < _SEEN_CHUNK:
        return (*seen[:-1], seen[-1] | {key})
    return (*seen, frozenset((key,)))


class _Update:
    """The field changes one event makes, applied at once with ``model_copy``."""

    __slots__ = ("changes", "state", "visible")

    def __init__(self, state: DeploymentState) -> None:
        self.state = state
        self.changes: dict[str, Any] = {}
        self.visible = False

    def get(self, name: str) -> Any:
        return self.changes[name] if name in self.changes else getattr(self.state, name)

    def set(self, name: str, value: Any) -> None:
        if self.get(name) != value:
            self.changes[name] = value
            self.visible = True

    def anomaly(self, event: DeploymentEvent, reason: str) -> None:
        record = Anomaly(
            reason=reason,
            kind=event.kind,
            type=event.type,
            event_id=event.id,
            state=event.state,
            at=event.at,
        )
        anomalies = (*self.get("anomalies"), record)
        if len(anomalies) > MAX_ANOMALIES:
            extra = len(anomalies) - MAX_ANOMALIES
            anomalies = anomalies[extra:]
            self.set("anomalies_dropped", self.get("anomalies_dropped") + extra)
        self.set("anomalies", anomalies)


def end_of_stream(at: float | None = None) -> DeploymentEvent:
    """The input that says the stream ended (completed or failed)."""
    return DeploymentEvent(kind="end", at=at)


def step(state: DeploymentState, event: DeploymentEvent) -> DeploymentState:
    """Fold one event into the state; returns a new state (or ``state`` if nothing changed).

    Never raises for any event: whatever cannot be applied is recorded as an
    anomaly (see the module docstring for the rules).
    """
    if event.kind == "end":
        if state.terminal or state.disconnected:
            return state
        return state.model_copy(update={"disconnected": True, "revision": state.revision + 1})
    if event.id and _seen_contains(state.seen, event.id):
        return state.model_copy(update={"duplicates": state.duplicates + 1})
    update = _Update(state)
    counts = dict(state.counts)
    counts[event.kind] = counts.get(event.kind, 0) + 1
    update.changes["counts"] = counts
    update.changes["events"] = state.events + 1
    if event.id:
        update.changes["seen"] = _seen_add(state.seen, event.id)
    if state.started_at is None and event.at is not None:
        update.set("started_at", event.at)
    _HANDLERS[event.kind](update, event)
    if update.visible:
        update.changes["revision"] = state.revision + 1
    return state.model_copy(update=update.changes)


def _apply_state(update: _Update, event: DeploymentEvent) -> None:
    current: str | None = update.state.status
    new = (event.state or "").strip().upper() or None
    if is_terminal(current):
        if new is None:
            update.anomaly(event, f"update after terminal state {current}: ignored")
        elif new == current:
            update.anomaly(event, f"{new} again: ignored")
        else:
            update.anomaly(event, f"{new} after terminal state {current}: ignored")
        return
    if new is not None and not (new in _RANK or new == "CANCELED" or is_failure(new)):
        update.anomaly(event, f"unknown state {new}: recorded, status unchanged")
        return
    if new is not None and new in _RANK and current in _RANK:
        assert current is not None
        if _RANK[new] < _RANK[current]:
            update.anomaly(event, f"{new} after {current}: regression ignored")
            return
    effective = new or current
    if new is not None and new != current:
        update.set("status", new)
        phases = dict(update.get("phases"))
        phases.setdefault(new, event.at)
        update.set("phases", phases)
        if is_terminal(new):
            update.set("finished_at", event.at)
    if event.step:
        update.set("step", event.step)
    _raise_progress(update, event, effective)
    if new == "READY":
        if event.url:
            update.set("url", event.url)
        _add_aliases(update, event.aliases)
    elif new is not None and is_failure(new):
        error = (
            event.error
            or update.get("error")
            or DeploymentError(code=new, message=f"the deployment entered {new}")
        )
        update.set("error", error)


def _raise_progress(update: _Update, event: DeploymentEvent, status: str | None) -> None:
    progress: float = update.get("progress")
    candidates = [progress, PROGRESS_FLOOR.get(status or "", 0.0)]
    value = event.progress
    if value is not None:
        if math.isnan(value):
            update.anomaly(event, "progress is NaN: ignored")
        else:
            candidates.append(min(max(value, 0.0), 100.0))
    update.set("progress", max(candidates))


def _add_aliases(update: _Update, aliases: tuple[str, ...]) -> None:
    known: tuple[str, ...] = update.get("aliases")
    fresh = tuple(dict.fromkeys(a for a in aliases if a and a not in known))
    if fresh:
        update.set("aliases", known + fresh)


def _apply_log(update: _Update, event: DeploymentEvent) -> None:
    line = LogLine(text=event.text, level=event.level, source=event.source, at=event.at)
    logs: tuple[LogLine, ...] = (*update.get("logs"), line)
    limit = update.state.max_logs
    if len(logs) > limit:
        update.set("logs_dropped", update.get("logs_dropped") + len(logs) - limit)
        logs = logs[len(logs) - limit :]
    update.set("logs", logs)
    if event.step and not update.state.terminal:
        update.set("step", event.step)


def _apply_functions(update: _Update, event: DeploymentEvent) -> None:
    known: tuple[str, ...] = update.get("functions")
    fresh = tuple(dict.fromkeys(f for f in event.functions if f and f not in known))
    if fresh:
        update.set("functions", known + fresh)
    if event.step and not update.state.terminal:
        update.set("step", event.step)


def _apply_alias(update: _Update, event: DeploymentEvent) -> None:
    _add_aliases(update, event.aliases)


def _apply_alias_error(update: _Update, event: DeploymentEvent) -> None:
    error = event.error or DeploymentError(code="ALIAS_ERROR", message=event.text)
    update.set("alias_errors", (*update.get("alias_errors"), error))


def _apply_other(update: _Update, event: DeploymentEvent) -> None:
    update.anomaly(event, event.text or f"unrecognised event type {event.type!r}: ignored")


def _apply_end(update: _Update, event: DeploymentEvent) -> None:  # pragma: no cover
    raise AssertionError("end events are handled by step itself")


_HANDLERS = {
    "state": _apply_state,
    "log": _apply_log,
    "functions": _apply_functions,
    "alias": _apply_alias,
    "alias-error": _apply_alias_error,
    "other": _apply_other,
    "invalid": _apply_other,
    "end": _apply_end,
}


# -- input adapters --------------------------------------------------------------------------

_KEEPALIVE_TYPES = frozenset({"ping", "keep-alive", "keepalive", "heartbeat"})
_LEVELS: dict[str, LogLevel] = {
    "info": "info",
    "log": "info",
    "debug": "info",
    "notice": "info",
    "warn": "warning",
    "warning": "warning",
    "error": "error",
    "err": "error",
    "fatal": "error",
    "critical": "error",
}


def _level(value: object, default: LogLevel) -> LogLevel:
    if isinstance(value, str):
        return _LEVELS.get(value.strip().lower(), default)
    return default


def _timestamp(value: object) -> float | None:
    """Seconds since the epoch from a number (seconds, or milliseconds when > 1e11)."""
    seconds = _number(value)
    if seconds is None or not math.isfinite(seconds):
        return None
    return seconds / 1000.0 if abs(seconds) > 1e11 else seconds


def _number(value: object) -> float | None:
    """A JSON number as a float; ``None`` for anything else (or an int too big for one)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _strings(*values: object) -> tuple[str, ...]:
    found: list[str] = []
    for value in values:
        if isinstance(value, str) and value:
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(v for v in value if isinstance(v, str) and v)
    return tuple(found)


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def _error_from(data: Mapping[str, Any], default_code: str) -> DeploymentError:
    code = _text(data.get("code")) or _text(data.get("errorCode")) or default_code
    message = (
        _text(data.get("message")) or _text(data.get("errorMessage")) or _text(data.get("text"))
    )
    return DeploymentError(code=code, message=message or "", details=data.get("details"))


def _is_alias_code(code: str) -> bool:
    return "alias" in code.lower()


def from_sse_event(event: ServerSentEvent) -> DeploymentEvent | None:
    """Adapt one event of the seed's SSE deployment stream (``None`` for keep-alives).

    Event types: ``build-state`` / ``deployment-state`` (JSON ``state`` or
    ``readyState``, ``progress``, ``step``), ``log`` (JSON ``text``/``message``,
    ``level``, ``source``, or plain-text data), ``creating-functions`` (JSON
    ``functions``), ``ready`` (JSON ``url``, ``alias``/``aliases``), ``error``
    (``code``, ``message``, ``details``; a code mentioning "alias" is an alias
    error), ``canceled``, ``alias-assigned`` (``alias``/``aliases``) and
    ``alias-error``.  ``ping``/``heartbeat`` events are keep-alives.  Any JSON
    object may carry ``at``/``created``/``timestamp`` (seconds, or milliseconds).

    The deduplication key combines the SSE id with the type and data, because an
    SSE ``id`` is the stream's *last* event id and carries over to later events
    that set none; an event without any id is never deduplicated.
    """
    name = event.event
    if name in _KEEPALIVE_TYPES:
        return None
    key = f"{event.id}:{name}:{_digest(event.data)}" if event.id else ""
    try:
        parsed: Any = json.loads(event.data) if event.data.strip() else {}
    except ValueError:
        parsed = None
    if name == "log" and not isinstance(parsed, dict):
        return DeploymentEvent(kind="log", id=key, type=name, text=event.data, source="log")
    if name == "message" and isinstance(parsed, dict):
        return from_vercel_event(parsed)  # an NDJSON line; its own id is the dedupe key
    if not isinstance(parsed, dict):
        return DeploymentEvent(
            kind="invalid",
            id=key,
            type=name,
            text=f"{name} event data is not a JSON object: ignored",
        )
    data: dict[str, Any] = parsed
    at = _timestamp(data.get("at", data.get("created", data.get("timestamp"))))
    common: dict[str, Any] = {"id": key, "type": name, "at": at}
    if name in ("build-state", "deployment-state", "state"):
        state = _text(data.get("state")) or _text(data.get("readyState"))
        error = _error_from(data, state.upper()) if state and is_failure(state.upper()) else None
        return DeploymentEvent(
            kind="state",
            state=state,
            progress=_number(data.get("progress")),
            step=_text(data.get("step")),
            error=error if error and error.message else None,
            **common,
        )
    if name == "log":
        text = data.get("text", data.get("message", ""))
        source = _text(data.get("source")) or "log"
        default: LogLevel = "error" if source == "stderr" else "info"
        return DeploymentEvent(
            kind="log",
            text=text if isinstance(text, str) else json.dumps(text),
            level=_level(data.get("level"), default),
            source=source,
            step=_text(data.get("step")),
            **common,
        )
    if name == "creating-functions":
        return DeploymentEvent(
            kind="functions",
            functions=_strings(data.get("functions"), data.get("function")),
            step=_text(data.get("step")),
            **common,
        )
    if name == "ready":
        return DeploymentEvent(
            kind="state",
            state="READY",
            url=_text(data.get("url")),
            aliases=_strings(data.get("alias"), data.get("aliases")),
            **common,
        )
    if name == "error":
        error = _error_from(data, "ERROR")
        if _is_alias_code(error.code):
            return DeploymentEvent(kind="alias-error", error=error, **common)
        state = _text(data.get("state"))
        failed = state.upper() if state and is_failure(state.upper()) else "ERROR"
        return DeploymentEvent(kind="state", state=failed, error=error, **common)
    if name in ("canceled", "cancelled"):
        return DeploymentEvent(kind="state", state="CANCELED", **common)
    if name == "alias-assigned":
        return DeploymentEvent(
            kind="alias", aliases=_strings(data.get("alias"), data.get("aliases")), **common
        )
    if name in ("alias-error", "alias-failed"):
        return DeploymentEvent(
            kind="alias-error",
            error=_error_from(data, "ALIAS_ERROR"),
            aliases=_strings(data.get("alias"), data.get("aliases")),
            **common,
        )
    return DeploymentEvent(kind="other", **common)


def from_vercel_event(obj: Any) -> DeploymentEvent | None:
    """Adapt one object of Vercel's NDJSON deployment events (``None`` for keep-alives).

    A line without ``created`` is a keep-alive and is dropped.  ``type`` selects:
    ``deployment-state`` (the state from ``payload.info.readyState``, else
    ``payload.value``; a failure takes ``errorCode``/``errorMessage`` when present,
    READY takes ``payload.info.url``/``payload.url`` and ``alias``/``aliases`` when
    present); ``command`` (a log line that also becomes the current step),
    ``stdout``/``stderr`` (log lines; ``stderr`` defaults to level error);
    ``exit`` (a log line, level error for a non-zero ``exitCode``); ``delimiter``
    (a step boundary: a log line and the current step); ``fatal`` (the deployment
    failed: state ``ERROR`` with the text as the message).  ``level`` (top level or
    in ``payload``) overrides the default log level.  The deduplication key is
    ``payload.id`` (else ``payload.serial``, else a digest of type, time and text).
    """
    if not isinstance(obj, Mapping):
        return DeploymentEvent(
            kind="invalid", type="", text="deployment event is not a JSON object: ignored"
        )
    created = obj.get("created")
    if created is None:
        return None
    kind_name = obj.get("type")
    name = kind_name if isinstance(kind_name, str) else ""
    raw_payload = obj.get("payload")
    payload: Mapping[str, Any] = raw_payload if isinstance(raw_payload, Mapping) else {}
    raw_info = payload.get("info", obj.get("info"))
    info: Mapping[str, Any] = raw_info if isinstance(raw_info, Mapping) else {}
    at = _timestamp(created) or _timestamp(payload.get("date"))
    text_value = payload.get("text", obj.get("text", ""))
    text = text_value if isinstance(text_value, str) else ""
    raw_id = payload.get("id", obj.get("id")) or payload.get("serial")
    ident = str(raw_id) if raw_id not in (None, "") else _digest(f"{name}\x1f{created}\x1f{text}")
    common: dict[str, Any] = {"id": f"vercel:{ident}", "type": name, "at": at}
    level_value = obj.get("level", payload.get("level"))
    if name == "deployment-state":
        state = _text(info.get("readyState")) or _text(payload.get("value"))
        if state is None:
            return DeploymentEvent(
                kind="invalid", text="deployment-state without a readyState: ignored", **common
            )
        upper = state.upper()
        error = None
        if is_failure(upper):
            error = _error_from({**info, **payload}, upper)
        return DeploymentEvent(
            kind="state",
            state=upper,
            url=_text(info.get("url")) or _text(payload.get("url")),
            aliases=_strings(info.get("alias"), info.get("aliases"), payload.get("aliases")),
            error=error,
            **common,
        )
    if name in ("stdout", "stderr", "command", "delimiter", "exit"):
        default: LogLevel = "error" if name == "stderr" else "info"
        if name == "exit":
            code = payload.get("exitCode", info.get("exitCode"))
            if isinstance(code, int) and code != 0:
                default = "error"
            text = text or f"exit code {code}"
        return DeploymentEvent(
            kind="log",
            text=text,
            level=_level(level_value, default),
            source=name,
            step=(text.strip() or None) if name in ("command", "delimiter") else None,
            **common,
        )
    if name == "fatal":
        error = DeploymentError(
            code=_text(payload.get("errorCode")) or "FATAL",
            message=text,
            details=payload.get("info"),
        )
        return DeploymentEvent(kind="state", state="ERROR", error=error, **common)
    return DeploymentEvent(kind="other", **common)


def to_deployment_event(item: object) -> DeploymentEvent | None:
    """Adapt any supported input: a :class:`DeploymentEvent` (as is), a
    :class:`~rxsse.ServerSentEvent` (:func:`from_sse_event`; a ``message`` event
    whose data is a Vercel object goes through :func:`from_vercel_event`), or a
    mapping (a parsed Vercel NDJSON line).  Anything else is an ``invalid`` event.
    """
    if isinstance(item, DeploymentEvent):
        return item
    if isinstance(item, ServerSentEvent):
        return from_sse_event(item)
    if isinstance(item, Mapping):
        return from_vercel_event(item)
    return DeploymentEvent(kind="invalid", text=f"unsupported input {type(item).__name__}: ignored")
