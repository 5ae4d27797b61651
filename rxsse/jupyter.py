"""Live views of observables in Jupyter (extra ``rxsse[jupyter]``).

``live(observable)`` subscribes on the kernel's running event loop, shows
**one output area** that updates in place, and returns a
:class:`LiveHandle` at once, so the kernel stays responsive::

    handle = live(from_url(url), TableView(n=10), name="ticks")
    ...
    handle.stop()            # or the Stop button
    await handle.wait(5.0)   # "stopped", "completed" or "error"

**Loop and threads.**  The subscription is made on the asyncio loop running
in the calling thread (in a notebook: the kernel's loop, on its main thread);
nothing here calls ``asyncio.run()`` or starts another loop there.  Called
where no loop runs (a plain script or terminal IPython), it uses rxsse's one
background loop thread (see :mod:`rxsse._loop`).  Items emitted on any other
thread are handed to that loop with ``call_soon_threadsafe`` in emission
order, so a view's ``on_next`` and ``render`` always run on the loop thread.

**Throttled rendering.**  Rx has no backpressure, so the view is never
rendered per event: each item only updates the view's state, and a render is
scheduled on a loop timer no sooner than ``1 / fps`` seconds (default
``fps=10``) after the previous one, showing the latest state.  Whatever the
event rate, there are at most ``fps`` renders per second (plus a final one
when the stream ends).  The status line above the view shows the state
(running / stopped / completed / error with its message), the count of
events received, and how many arrived since the previous render — the events
the view had fallen behind by and coalesced into this render.

**Stopping.**  ``handle.stop()`` or the Stop button disposes the subscription,
which cancels rxsse sources and closes their HTTP connections (the source's
task unwinds on the loop's next iterations).  Errors from the stream, and
exceptions raised by a view, end the view in state ``"error"`` and are shown
in the status line, never swallowed; the error is on ``handle.error``.

**Global state.**  The only module-level state is the registry of *named*
live views: ``live(..., name="x")`` stops the running view previously
started with ``name="x"``, so re-running a notebook cell replaces its view
instead of leaving the old stream running.  Unnamed views are not tracked.
Importing this module inside IPython also registers an HTML display
formatter for :class:`~rxsse.ServerSentEvent` (see
:func:`register_formatters`); ``rxsse/_event.py`` stays stdlib-only.

**Views** are small objects with ``on_next(item)``, which updates the view's
own state, and ``render() -> str``, which returns HTML for that state:
:class:`TableView` (the default), :class:`RateView` and :class:`HTMLView`.
Subclass :class:`View` for your own.  Widgets come from ``ipywidgets``; with
``widgets=False`` (or without ipywidgets) a plain IPython display handle is
updated in place instead, without a Stop button.
"""

from __future__ import annotations

import asyncio
import html
import math
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Generator, Mapping
from typing import Any, Literal, Protocol

from pydantic import BaseModel
from reactivex import Observable, abc

from rxsse._event import ServerSentEvent
from rxsse._loop import background_loop, running_loop
from rxsse.domain._html import MAX_CELL_CHARS, cell_text, model_values, table_html

__all__ = [
    "HTMLView",
    "LiveHandle",
    "LiveState",
    "RateView",
    "TableView",
    "View",
    "event_html",
    "live",
    "register_formatters",
]

LiveState = Literal["running", "stopped", "completed", "error"]
"""Where a live view is: still subscribed, stopped by the user, or ended by its stream."""


# -- views -------------------------------------------------------------------------


class View(ABC):
    """What a live output shows.

    ``on_next`` is called on the loop thread for every item and should only
    update state (cheaply); ``render`` is called at most ``fps`` times per
    second and returns HTML for the current state.  Escape every piece of
    text that comes from items.  A view that raises ends the live view in
    state ``"error"``.  ``refresh_interval`` (seconds, ``None`` = never)
    asks for a re-render even when no items arrive, for views whose picture
    changes with time alone.
    """

    refresh_interval: float | None = None

    @abstractmethod
    def on_next(self, item: Any) -> None:
        """Take one item into the view's state."""

    @abstractmethod
    def render(self) -> str:
        """HTML for the current state."""


class TableView(View):
    """The latest ``n`` items as an HTML table, oldest first, with a ``#`` column.

    Columns follow the items: a pydantic model gives its field names (then
    computed fields), a :class:`~rxsse.ServerSentEvent` gives ``event``,
    ``id`` and ``data``, a mapping its keys, and anything else one ``value``
    column.  Items of different shapes share a table: the columns are the
    union in order of first appearance, and a missing value is an empty cell.
    Every cell is escaped text, cut at ``max_chars`` characters.
    """

    def __init__(self, n: int = 20, *, max_chars: int = MAX_CELL_CHARS) -> None:
        if n < 1:
            raise ValueError("n must be at least 1")
        self.n = n
        self.max_chars = max_chars
        self.seen = 0
        self._rows: deque[tuple[int, dict[str, object]]] = deque(maxlen=n)

    def on_next(self, item: Any) -> None:
        self.seen += 1
        self._rows.append((self.seen, _columns(item)))

    def render(self) -> str:
        if not self._rows:
            return '<div style="color:#888">waiting for items…</div>'
        columns: dict[str, None] = {}
        for _, row in self._rows:
            columns.update(dict.fromkeys(row))
        rows = [
            [str(seq), *(cell_text(row.get(c), self.max_chars) for c in columns)]
            for seq, row in self._rows
        ]
        shown = len(self._rows)
        caption = f"last {shown} of {self.seen:,} items" if self.seen > shown else None
        return table_html(["#", *columns], rows, caption=caption)


def _columns(item: Any) -> dict[str, object]:
    if isinstance(item, ServerSentEvent):  # a NamedTuple: before any tuple handling
        return {"event": item.event, "id": item.id, "data": item.data}
    if isinstance(item, BaseModel):
        return model_values(item)
    if isinstance(item, Mapping):
        return {str(key): value for key, value in item.items()}
    return {"value": item}


class RateView(View):
    """Events per second over a sliding window, as an inline SVG bar chart.

    Items are counted in buckets of ``bucket`` seconds by arrival time
    (``clock``, default :func:`time.monotonic`; inject one for tests); the
    chart shows the complete buckets of the last ``window`` seconds as
    events/s, with a labelled y axis (events/s) and x axis (seconds ago).
    The readout above it gives the **current rate** (the last complete
    bucket; before the first bucket is complete, the events so far divided by
    the time since the first), the peak in the window, and the total.  The
    view re-renders every ``bucket`` seconds by itself, so the chart decays
    when the stream goes quiet.  Memory is bounded by the number of buckets.
    """

    def __init__(
        self,
        window: float = 30.0,
        bucket: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        width: int = 480,
        height: int = 160,
    ) -> None:
        if bucket <= 0 or window < bucket:
            raise ValueError("need 0 < bucket <= window")
        self.window = window
        self.bucket = bucket
        self.refresh_interval = bucket
        self.clock = clock
        self.width = width
        self.height = height
        self.total = 0
        self._buckets = max(1, round(window / bucket))
        self._counts: deque[list[int]] = deque()  # [bucket index, count], ascending
        self._first: float | None = None

    def on_next(self, item: Any) -> None:
        now = self.clock()
        if self._first is None:
            self._first = now
        index = math.floor(now / self.bucket)
        if self._counts and self._counts[-1][0] == index:
            self._counts[-1][1] += 1
        else:
            self._counts.append([index, 1])
        self.total += 1
        self._prune(index)

    def _prune(self, current: int) -> None:
        while self._counts and self._counts[0][0] < current - self._buckets:
            self._counts.popleft()

    def rates(self) -> tuple[list[float], float]:
        """The window's complete buckets (oldest first) in events/s, and the current rate."""
        now = self.clock()
        current = math.floor(now / self.bucket)
        self._prune(current)
        counts = {index: count for index, count in self._counts}
        indexes = range(current - self._buckets, current)
        series = [counts.get(i, 0) / self.bucket for i in indexes]
        first = self._first
        if first is not None and math.floor(first / self.bucket) >= current:
            elapsed = now - first
            rate = counts.get(current, 0) / elapsed if elapsed > 0 else 0.0
        else:
            rate = series[-1]
        return series, rate

    def render(self) -> str:
        series, rate = self.rates()
        peak = max(series)
        readout = (
            f'<div style="font-size:0.9em">current <b>{_fmt(rate)}</b> events/s'
            f" · peak {_fmt(peak)} events/s in the last {self.window:g} s"
            f" · {self.total:,} events</div>"
        )
        return readout + self._svg(series, rate)

    def _svg(self, series: list[float], rate: float) -> str:
        w, h = self.width, self.height
        left, right, top, bottom = 48, 10, 12, 30
        pw, ph = w - left - right, h - top - bottom
        ymax = _nice_ceiling(max([*series, rate]))
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}" style="font-family:sans-serif;font-size:10px">',
            f"<title>events per second, current {_fmt(rate)}</title>",
        ]
        for fraction in (0.0, 0.5, 1.0):  # y grid and labels
            y = top + ph * (1 - fraction)
            parts.append(
                f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" '
                f'stroke="#ddd" stroke-width="1"/>'
                f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end" fill="#555">'
                f"{_fmt(ymax * fraction)}</text>"
            )
        slot = pw / len(series)
        for k, value in enumerate(series):
            bar = ph * value / ymax
            parts.append(
                f'<rect x="{left + k * slot + slot * 0.1:.1f}" y="{top + ph - bar:.1f}" '
                f'width="{slot * 0.8:.1f}" height="{bar:.1f}" fill="#4c78a8"/>'
            )
        axis_y = top + ph
        parts.append(
            f'<line x1="{left}" y1="{axis_y}" x2="{left + pw}" y2="{axis_y}" stroke="#333"/>'
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{axis_y}" stroke="#333"/>'
        )
        for fraction, label in (
            (0.0, f"-{self.window:g} s"),
            (0.5, f"-{self.window / 2:g} s"),
            (1.0, "now"),
        ):
            anchor = "start" if fraction == 0 else "end" if fraction == 1 else "middle"
            parts.append(
                f'<text x="{left + pw * fraction:.1f}" y="{axis_y + 14}" '
                f'text-anchor="{anchor}" fill="#555">{label}</text>'
            )
        parts.append(
            f'<text x="12" y="{top + ph / 2:.1f}" text-anchor="middle" fill="#555" '
            f'transform="rotate(-90 12 {top + ph / 2:.1f})">events/s</text>'
            f'<text x="{left + pw}" y="{top + 10}" text-anchor="end" fill="#222">'
            f"{_fmt(rate)}/s</text></svg>"
        )
        return "".join(parts)


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2 or 5 times 10**k that is at least ``value`` (1 for 0)."""
    if value <= 1:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return float(step * magnitude)
    return float(10 * magnitude)  # pragma: no cover - unreachable


class HTMLView(View):
    """Preformatted HTML items appended to a scrolling, bounded container.

    For content the caller vouches is safe HTML (log lines already converted
    from ANSI, for instance): a ``str`` item is inserted **as is**.  Any other
    item is shown through its ``_repr_html_`` if it has one, else escaped
    ``str(item)``.  Only the newest ``max_items`` items are kept; a note above
    them counts the dropped ones.  The container keeps its newest line in
    view (monospace, ``white-space: pre-wrap``, at most ``height`` tall).
    """

    def __init__(self, max_items: int = 500, *, height: str = "24em") -> None:
        if max_items < 1:
            raise ValueError("max_items must be at least 1")
        self.max_items = max_items
        self.height = height
        self.seen = 0
        self._items: deque[str] = deque(maxlen=max_items)

    @property
    def dropped(self) -> int:
        """How many items no longer fit and were discarded."""
        return self.seen - len(self._items)

    def on_next(self, item: Any) -> None:
        if isinstance(item, str):
            fragment = item
        else:
            to_html = getattr(item, "_repr_html_", None)
            fragment = to_html() if callable(to_html) else html.escape(str(item))
        self.seen += 1
        self._items.append(fragment)

    def render(self) -> str:
        note = (
            f'<div style="color:#888">… {self.dropped:,} earlier items not shown</div>'
            if self.dropped
            else ""
        )
        body = "".join(f"<div>{fragment}</div>" for fragment in self._items)
        height = html.escape(self.height, quote=True)
        # column-reverse keeps the scroll position pinned to the newest line
        return (
            f'<div style="max-height:{height};overflow-y:auto;display:flex;'
            f'flex-direction:column-reverse;border:1px solid #ddd;padding:4px">'
            f'<div style="font-family:monospace;white-space:pre-wrap">{note}{body}</div></div>'
        )


# -- rendering schedule ------------------------------------------------------------------


class _Cancellable(Protocol):
    def cancel(self) -> None: ...


class _RenderScheduler:
    """Coalesce render requests into at most one render per ``interval``.

    ``request()`` is cheap and idempotent while a render is pending: the first
    request after a render schedules one (via ``call_later``) for
    ``max(now, last_render + interval)``; later requests ride along.  The
    render then shows whatever the state is by then.  ``clock`` and
    ``call_later`` are injected (the loop's in production), so tests can
    drive it with a fake clock.
    """

    def __init__(
        self,
        interval: float,
        render: Callable[[], None],
        *,
        clock: Callable[[], float],
        call_later: Callable[[float, Callable[[], None]], _Cancellable],
    ) -> None:
        self.interval = interval
        self._render = render
        self._clock = clock
        self._call_later = call_later
        self._last = -math.inf
        self._pending: _Cancellable | None = None

    @property
    def pending(self) -> bool:
        """Whether a render is scheduled."""
        return self._pending is not None

    def request(self) -> None:
        """Ask for a render of the latest state, within the rate limit."""
        if self._pending is not None:
            return
        delay = max(0.0, self._last + self.interval - self._clock())
        self._pending = self._call_later(delay, self._fire)

    def _fire(self) -> None:
        self._pending = None
        self._last = self._clock()
        self._render()

    def render_now(self) -> None:
        """Render at once (the final render), dropping a pending one."""
        self.cancel()
        self._last = self._clock()
        self._render()

    def cancel(self) -> None:
        """Drop a pending render."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.cancel()


# -- output surfaces ---------------------------------------------------------------------


class _Surface:
    """Where rendered HTML goes; this base keeps it nowhere (no IPython)."""

    widget: Any = None

    def show(self, status: str, body: str) -> None:
        """Replace what the output area shows."""

    def finish(self) -> None:
        """The view stopped: disable controls."""

    def display(self) -> None:
        """Put the output area (again) into the current cell's output."""


class _WidgetSurface(_Surface):
    """ipywidgets: ``VBox([HBox([status, Stop]), body])``."""

    def __init__(self, on_stop: Callable[[], None]) -> None:
        import ipywidgets

        self.status = ipywidgets.HTML(value="")
        self.button = ipywidgets.Button(
            description="Stop", icon="stop", tooltip="Dispose the subscription"
        )
        self.button.on_click(lambda _button: on_stop())
        self.body = ipywidgets.HTML(value="")
        self.widget = ipywidgets.VBox([ipywidgets.HBox([self.status, self.button]), self.body])

    def show(self, status: str, body: str) -> None:
        if self.status.value != status:
            self.status.value = status
        if self.body.value != body:
            self.body.value = body

    def finish(self) -> None:
        self.button.disabled = True

    def display(self) -> None:
        _ipython_display().display(self.widget)


class _DisplayHandleSurface(_Surface):
    """Plain IPython: one ``display_id`` output updated in place."""

    def __init__(self) -> None:
        self._display = _ipython_display()
        self._handle = self._display.DisplayHandle()
        self._html = ""

    def show(self, status: str, body: str) -> None:
        self._html = f"<div>{status}</div>{body}"
        self._handle.update(self._display.HTML(self._html))

    def display(self) -> None:
        self._handle.display(self._display.HTML(self._html))


def _ipython_display() -> Any:
    """``IPython.display`` (untyped, hence ``Any``)."""
    import IPython.display

    return IPython.display


def _shell() -> Any:
    """The running IPython shell, or ``None``."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is part of the extra
        return None
    return get_ipython()


def _make_surface(on_stop: Callable[[], None], widgets: bool) -> _Surface:
    if widgets:
        try:
            return _WidgetSurface(on_stop)
        except ImportError:
            pass
    if _shell() is not None:
        return _DisplayHandleSurface()
    return _Surface()


# -- the handle --------------------------------------------------------------------------

_STATE_COLOURS: dict[str, str] = {
    "running": "#2a9d3a",
    "stopped": "#888888",
    "completed": "#3367d6",
    "error": "#c62828",
}

_registry_lock = threading.Lock()
_registry: dict[str, LiveHandle] = {}
"""Running live views by name (the module's only global state)."""


class LiveHandle:
    """A running live view; made by :func:`live`.

    Attributes (read them from any thread): ``count`` (items received),
    ``state`` (:data:`LiveState`), ``running``, ``error`` (the exception that
    ended it, if any), ``renders`` (how many times the output was drawn),
    ``behind`` (items received since the last render), ``name``, ``view``,
    ``widget`` (the ipywidgets ``VBox``, or ``None``) and ``html`` (the last
    status line and view rendered).  ``await handle`` is ``await
    handle.wait()``.
    """

    def __init__(
        self,
        observable: Observable[Any],
        view: View,
        *,
        name: str | None,
        fps: float,
        widgets: bool,
    ) -> None:
        if fps <= 0:
            raise ValueError("fps must be positive")
        self.name = name
        self.view = view
        self.count = 0
        self.renders = 0
        self.state: LiveState = "running"
        self.error: Exception | None = None
        self.html = ""
        self._observable = observable
        self._rendered_count = 0
        self._subscription: abc.DisposableBase | None = None
        self._refresh: asyncio.TimerHandle | None = None
        self._shown_in: int | None = None
        loop = running_loop()
        self._loop = loop if loop is not None else background_loop()
        self._done: asyncio.Future[LiveState] = self._loop.create_future()
        self._scheduler = _RenderScheduler(
            1.0 / fps, self._render, clock=self._loop.time, call_later=self._loop.call_later
        )
        self._surface = _make_surface(self.stop, widgets)

    # -- public ----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the subscription is still live."""
        return self.state == "running"

    @property
    def behind(self) -> int:
        """Items received since the last render (not yet shown)."""
        return self.count - self._rendered_count

    @property
    def widget(self) -> Any:
        """The ipywidgets container, or ``None`` without ipywidgets."""
        return self._surface.widget

    def stop(self) -> None:
        """Dispose the subscription; the view then shows state ``"stopped"``.

        Idempotent, and a no-op once the stream has completed or failed.
        On the loop thread it takes effect before returning; from another
        thread it is handed to the loop and returns at once.
        """
        self._on_loop(self._finish, "stopped", None)

    async def wait(self, timeout: float | None = None) -> LiveState:  # noqa: ASYNC109
        """Wait until the view is no longer running and return its final state.

        With ``timeout`` (seconds) it returns the state when the time is up,
        ``"running"`` if the stream is still going (it is not stopped).  The
        stream's error is not raised: it is on :attr:`error` and in the view.
        """
        if running_loop() is not self._loop:
            future = asyncio.run_coroutine_threadsafe(self.wait(timeout), self._loop)
            return await asyncio.wrap_future(future)
        await asyncio.wait({self._done}, timeout=timeout)
        return self.state

    def __await__(self) -> Generator[Any, None, LiveState]:
        return self.wait().__await__()

    def __repr__(self) -> str:
        name = f" {self.name!r}" if self.name is not None else ""
        return f"<LiveHandle{name} {self.state}: {self.count} events>"

    def _ipython_display_(self) -> None:
        """Show the live output again, unless this cell already shows it."""
        if self._shown_in is None or self._shown_in != _execution_count():
            self._show()

    # -- loop side -------------------------------------------------------------------

    def _on_loop(self, callback: Callable[..., None], *args: Any) -> None:
        if running_loop() is self._loop:
            callback(*args)
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(callback, *args)

    def _show(self) -> None:
        if _shell() is not None:
            self._shown_in = _execution_count()
            self._surface.display()

    def _start(self) -> None:
        self._scheduler.render_now()  # the first picture: "waiting for items"
        try:
            subscription = self._observable.subscribe(
                on_next=self._on_next, on_error=self._on_error, on_completed=self._on_completed
            )
        except Exception as exc:
            self._finish("error", exc)
            return
        if self.running:
            self._subscription = subscription
        else:  # the stream ended (or a view failed) during subscribe
            subscription.dispose()

    def _on_next(self, item: Any) -> None:
        if running_loop() is not self._loop:
            self._on_loop(self._on_next, item)
            return
        if not self.running:
            return
        self.count += 1
        try:
            self.view.on_next(item)
        except Exception as exc:
            self._finish("error", exc)
            return
        self._scheduler.request()

    def _on_error(self, error: Exception) -> None:
        self._on_loop(self._finish, "error", error)

    def _on_completed(self) -> None:
        self._on_loop(self._finish, "completed", None)

    def _finish(self, state: LiveState, error: Exception | None) -> None:
        if not self.running:
            return
        self.state = state
        self.error = error
        subscription, self._subscription = self._subscription, None
        if self._refresh is not None:
            self._refresh.cancel()
            self._refresh = None
        try:
            if subscription is not None:
                subscription.dispose()
        finally:
            self._scheduler.render_now()
            self._surface.finish()
            if not self._done.done():
                self._done.set_result(state)
            if self.name is not None:
                with _registry_lock:
                    if _registry.get(self.name) is self:
                        del _registry[self.name]

    def _render(self) -> None:
        try:
            body = self.view.render()
        except Exception as exc:
            if self.running:
                self._finish("error", exc)  # renders again, now with the error
                return
            body = f"<pre>{html.escape(f'{type(exc).__name__}: {exc}')}</pre>"
        behind = self.count - self._rendered_count
        self._rendered_count = self.count
        self.renders += 1
        status = self._status(behind)
        self.html = f"<div>{status}</div>{body}"
        self._surface.show(status, body)
        interval = self.view.refresh_interval
        if self.running and interval is not None and self._refresh is None:
            self._refresh = self._loop.call_later(interval, self._refresh_due)

    def _refresh_due(self) -> None:
        self._refresh = None
        if self.running:
            self._scheduler.request()

    def _status(self, behind: int) -> str:
        colour = _STATE_COLOURS[self.state]
        parts = [f'<span style="color:{colour}">●</span> <b>{self.state}</b>']
        if self.name is not None:
            parts.append(f"<code>{html.escape(self.name)}</code>")
        parts.append(f"{self.count:,} events received")
        parts.append(f"{behind:,} since last render")
        text = " · ".join(parts)
        if self.error is not None:
            message = html.escape(f"{type(self.error).__name__}: {self.error}")
            text += f'<div style="color:{colour};white-space:pre-wrap"><code>{message}</code></div>'
        return f'<div class="rxsse-live-status" style="font-size:0.9em">{text}</div>'


def _execution_count() -> int | None:
    shell = _shell()
    count = getattr(shell, "execution_count", None)
    return count if isinstance(count, int) else None


def live(
    observable: Observable[Any],
    view: View | None = None,
    *,
    name: str | None = None,
    fps: float = 10.0,
    display: bool = True,
    widgets: bool = True,
) -> LiveHandle:
    """Show ``observable`` live in the notebook; return its :class:`LiveHandle` at once.

    ``view`` decides what is drawn (default: a new :class:`TableView`).
    ``name`` registers the view so that a later ``live(..., name=name)`` —
    typically the same cell run again — stops this one first.  ``fps``
    bounds renders per second (events are coalesced, never rendered one by
    one).  ``display=False`` does not put the output into the cell (show it
    later by evaluating the handle).  ``widgets=False`` uses a plain display
    handle instead of ipywidgets (no Stop button).

    Must be called where the items' loop runs (see the module docstring):
    the subscription happens on the running loop before this returns, or on
    rxsse's background loop when none runs here.
    """
    handle = LiveHandle(
        observable, view if view is not None else TableView(), name=name, fps=fps, widgets=widgets
    )
    if name is not None:
        with _registry_lock:
            previous = _registry.get(name)
            _registry[name] = handle
        if previous is not None:
            previous.stop()
    handle._on_loop(handle._start)
    if display:
        handle._show()
    return handle


# -- display formatters ------------------------------------------------------------------


def event_html(event: ServerSentEvent) -> str:
    """A :class:`~rxsse.ServerSentEvent` as a one-row HTML table (escaped)."""
    headers = ["event", "id", "data"]
    cells = [cell_text(event.event), cell_text(event.id), cell_text(event.data, 2000)]
    if event.retry is not None:
        headers.append("retry")
        cells.append(cell_text(event.retry))
    return table_html(headers, [cells])


def register_formatters(shell: Any = None) -> bool:
    """Register HTML display formatters with IPython; return whether a shell was found.

    Called when this module is imported; ``shell`` defaults to the running
    IPython shell.  Registers :func:`event_html` for
    :class:`~rxsse.ServerSentEvent` in ``display_formatter.formatters
    ["text/html"]`` (``_event.py`` itself stays stdlib-only).
    """
    if shell is None:
        shell = _shell()
    if shell is None:
        return False
    formatter = shell.display_formatter.formatters["text/html"]
    formatter.for_type(ServerSentEvent, event_html)
    return True


def _registered() -> list[str]:
    """Names of the running named views (for tests and debugging)."""
    with _registry_lock:
        return list(_registry)


register_formatters()
