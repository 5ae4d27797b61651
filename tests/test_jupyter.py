"""rxsse.jupyter: views, throttled rendering, lifecycle; notebooks in a real kernel."""

from __future__ import annotations

import asyncio
import enum
import itertools
import json
import math
import re
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from xml.etree import ElementTree

import nbformat as _nbformat
import pytest
import reactivex
from IPython.core.formatters import HTMLFormatter
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbformat import NotebookNode
from pydantic import BaseModel
from reactivex.subject import Subject

from rxsse import ServerSentEvent, from_async_iterable
from rxsse.domain import HTMLReprMixin
from rxsse.domain._html import cell_text, model_html
from rxsse.jupyter import (
    HTMLView,
    LiveHandle,
    RateView,
    TableView,
    View,
    _registered,
    _RenderScheduler,
    event_html,
    live,
    register_formatters,
)

nbformat: Any = _nbformat  # its reader and builders are untyped
ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


async def _until(predicate: Callable[[], bool], seconds: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


def _until_sync(predicate: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


def _headers(fragment: str) -> list[str]:
    return re.findall(r"<th[ >][^>]*>(.*?)</th>", fragment)


# -- views -----------------------------------------------------------------------------


class Order(BaseModel):
    id: int
    note: str


class Colour(enum.Enum):
    RED = "red"


def test_table_view_pydantic_models_render_fields_as_escaped_columns() -> None:
    view = TableView()
    view.on_next(Order(id=1, note="<script>alert(1)</script>"))
    view.on_next(Order(id=2, note="a & b"))
    out = view.render()
    assert ">#</th>" in out
    assert ">id</th>" in out
    assert ">note</th>" in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "<script>" not in out
    assert "a &amp; b" in out


def test_table_view_server_sent_events_render_event_id_data() -> None:
    view = TableView()
    view.on_next(ServerSentEvent("tick", '{"x": "<b>"}', "7"))
    out = view.render()
    assert _headers(out) == ["#", "event", "id", "data"]
    assert "{&quot;x&quot;: &quot;&lt;b&gt;&quot;}" in out
    assert ">tick</td>" in out
    assert ">7</td>" in out


def test_table_view_dicts_give_key_columns_and_other_values_one_column() -> None:
    view = TableView()
    view.on_next({"a": 1, "<k>": "v"})
    view.on_next(42)
    out = view.render()
    assert _headers(out) == ["#", "a", "&lt;k&gt;", "value"]  # union of the shapes seen
    assert ">42</td>" in out


def test_table_view_keeps_the_latest_n_and_says_so() -> None:
    view = TableView(n=20)
    for i in range(25):
        view.on_next({"i": i})
    out = view.render()
    assert out.count("<tr>") == 21  # header + 20 rows
    assert "last 20 of 25 items" in out
    assert ">6</td>" in out  # first row shown is item #6
    assert ">4</td>" not in out.split("<tbody>")[1].split("<td")[1]


def test_table_view_cuts_long_cells_and_waits_politely() -> None:
    assert "waiting" in TableView().render()
    view = TableView(max_chars=10)
    view.on_next("x" * 50)
    assert "x" * 9 + "…" in view.render()
    with pytest.raises(ValueError, match="n must be"):
        TableView(n=0)


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_rate_view_plots_events_per_second_as_svg() -> None:
    clock = FakeClock()
    view = RateView(window=30.0, bucket=1.0, clock=clock)
    for _ in range(5):  # 10 events per second for 5 s
        for _ in range(10):
            view.on_next(object())
            clock.now += 0.1
    out = view.render()
    assert "current <b>10.0</b> events/s" in out
    assert "50 events" in out
    assert out.count("<svg") == 1
    assert "</svg>" in out
    assert ">events/s</text>" in out  # y axis label
    assert ">-30 s</text>" in out
    assert ">now</text>" in out
    assert out.count("<rect") == 30  # one bar per bucket of the window
    svg = ElementTree.fromstring(out[out.index("<svg") :])  # well-formed
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert view.refresh_interval == 1.0


def test_rate_view_current_rate_before_a_full_bucket_and_decay() -> None:
    clock = FakeClock(1000.0)
    view = RateView(window=10.0, bucket=1.0, clock=clock)
    for _ in range(5):
        view.on_next(1)
        clock.now += 0.1
    series, rate = view.rates()
    assert rate == pytest.approx(10.0)
    assert sum(series) == 0
    clock.now += 60  # quiet: the window empties
    series, rate = view.rates()
    assert rate == 0.0
    assert max(series) == 0.0
    assert "current <b>0.0</b>" in view.render()
    with pytest.raises(ValueError, match="bucket"):
        RateView(window=1.0, bucket=2.0)


def test_html_view_is_bounded_and_trusts_only_strings() -> None:
    class Fancy:
        def _repr_html_(self) -> str:
            return "<i>fancy</i>"

    view = HTMLView(max_items=3)
    for i in range(5):
        view.on_next(f"<b>{i}</b>")
    out = view.render()
    assert "<b>4</b>" in out
    assert "<b>1</b>" not in out
    assert "2 earlier items not shown" in out
    assert view.dropped == 2
    view.on_next(Fancy())
    view.on_next(ServerSentEvent("message", "<img src=x>"))
    out = view.render()
    assert "<i>fancy</i>" in out
    assert "<img" not in out
    assert "&lt;img src=x&gt;" in out
    assert "overflow-y:auto" in out


class Inner(HTMLReprMixin, BaseModel):
    tokens: int


class Outer(HTMLReprMixin, BaseModel):
    title: str
    colour: Colour
    usage: Inner


def test_html_repr_mixin_renders_fields_escaped_and_nested() -> None:
    out = Outer(title="<h1>hi</h1>", colour=Colour.RED, usage=Inner(tokens=3))._repr_html_()
    assert ">Outer</caption>" in out
    assert ">title</td>" in out
    assert "&lt;h1&gt;hi&lt;/h1&gt;" in out
    assert "<h1>" not in out
    assert ">red</td>" in out
    assert ">Inner</caption>" in out  # nested table
    assert ">3</td>" in out
    assert model_html(Inner(tokens=1)) == Inner(tokens=1)._repr_html_()
    assert cell_text(None) == ""


def test_server_sent_event_html_formatter_registers_with_a_shell() -> None:
    formatter = HTMLFormatter()
    shell = SimpleNamespace(display_formatter=SimpleNamespace(formatters={"text/html": formatter}))
    assert register_formatters(shell) is True
    event = ServerSentEvent("tick", "<b>x</b>", "1", 500)
    out = formatter(event)
    assert out == event_html(event)
    assert "&lt;b&gt;x&lt;/b&gt;" in out
    assert ">retry</th>" in out
    assert register_formatters() is False  # no IPython shell in pytest


# -- render scheduling -------------------------------------------------------------------


class FakeTimers:
    """A virtual clock with ``call_later``; ``advance`` runs what falls due."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pending: list[FakeTimer] = []

    def clock(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[[], None]) -> FakeTimer:
        timer = FakeTimer(self.now + delay, callback)
        self.pending.append(timer)
        return timer

    def advance(self, seconds: float) -> None:
        target = self.now + seconds
        while True:
            due = [t for t in self.pending if t.when <= target and not t.cancelled]
            if not due:
                break
            timer = min(due, key=lambda t: t.when)
            self.pending.remove(timer)
            self.now = max(self.now, timer.when)
            timer.callback()
        self.now = target


class FakeTimer:
    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


def test_scheduler_coalesces_ten_thousand_requests_to_at_most_fps_renders() -> None:
    timers = FakeTimers()
    state = {"latest": -1}
    rendered: list[tuple[float, int]] = []
    scheduler = _RenderScheduler(
        0.1,
        lambda: rendered.append((timers.now, state["latest"])),
        clock=timers.clock,
        call_later=timers.call_later,
    )
    for i in range(10_000):  # one request every 0.5 ms: 5 s of virtual time
        state["latest"] = i
        scheduler.request()
        timers.advance(0.0005)
    timers.advance(1.0)
    assert len(rendered) <= 51
    assert len(rendered) >= 49  # it kept rendering while busy
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(rendered)]
    assert min(gaps) >= 0.1 - 1e-9
    assert rendered[-1][1] == 9_999  # the final state is shown
    assert not scheduler.pending


def test_scheduler_renders_at_once_after_a_quiet_spell() -> None:
    timers = FakeTimers()
    rendered: list[float] = []
    scheduler = _RenderScheduler(
        0.1, lambda: rendered.append(timers.now), clock=timers.clock, call_later=timers.call_later
    )
    scheduler.request()
    timers.advance(0)
    assert rendered == [0.0]
    timers.advance(5.0)
    scheduler.request()
    timers.advance(0)
    assert rendered == [0.0, 5.0]
    scheduler.request()
    scheduler.render_now()  # final render drops the pending one
    timers.advance(1.0)
    assert rendered == [0.0, 5.0, 5.0]


async def test_live_renders_at_most_fps_times_per_second_on_a_real_loop() -> None:
    subject: Subject[int] = Subject()
    handle = live(subject, TableView(n=5), display=False)
    loop = asyncio.get_running_loop()
    start = loop.time()
    for _ in range(50):  # 10,000 items in bursts
        for i in range(200):
            subject.on_next(i)
        await asyncio.sleep(0.01)
    elapsed = loop.time() - start
    running_renders = handle.renders
    handle.stop()
    assert handle.count == 10_000
    # the initial render, then at most one per 1/fps seconds (leading edge included)
    assert running_renders <= 1 + math.ceil(elapsed * 10) + 1
    assert running_renders >= 3
    assert handle.renders == running_renders + 1  # the final one
    assert handle.behind == 0
    assert "10,000 events received" in handle.html


# -- lifecycle -----------------------------------------------------------------------------


async def test_named_rerun_stops_the_previous_view() -> None:
    first: Subject[int] = Subject()
    second: Subject[int] = Subject()
    old = live(first, name="cell-1", display=False)
    first.on_next(1)
    new = live(second, name="cell-1", display=False)
    assert old.state == "stopped"
    assert not first.observers  # disposed
    assert new.running
    assert _registered() == ["cell-1"]
    other = live(reactivex.never(), name="cell-2", display=False)
    assert sorted(_registered()) == ["cell-1", "cell-2"]
    new.stop()
    other.stop()
    assert _registered() == []


async def test_stop_disposes_the_upstream_and_closes_it() -> None:
    closed: list[bool] = []

    async def numbers() -> AsyncIterator[int]:
        try:
            n = 0
            while True:
                yield n
                n += 1
                await asyncio.sleep(0.001)
        finally:
            closed.append(True)

    handle = live(from_async_iterable(numbers()), display=False)
    assert handle.running
    await _until(lambda: handle.count >= 5)
    handle.stop()
    assert handle.state == "stopped"
    assert not handle.running
    await _until(lambda: closed == [True])
    count = handle.count
    await asyncio.sleep(0.02)
    assert handle.count == count
    assert await handle.wait() == "stopped"
    handle.stop()  # idempotent
    assert "stopped" in handle.html


async def test_the_stop_button_disposes_the_subscription() -> None:
    subject: Subject[int] = Subject()
    handle = live(subject, display=False)
    assert subject.observers
    status_box, _body = handle.widget.children
    button = status_box.children[1]
    assert button.description == "Stop"
    button.click()
    assert handle.state == "stopped"
    assert not subject.observers
    assert button.disabled


async def test_stream_errors_are_shown_in_the_status() -> None:
    subject: Subject[int] = Subject()
    handle = live(subject, name="failing", display=False)
    subject.on_next(1)
    subject.on_error(ValueError("boom <b>"))
    assert handle.state == "error"
    assert isinstance(handle.error, ValueError)
    assert "ValueError: boom &lt;b&gt;" in handle.html
    assert "<b>error</b>" in handle.html
    assert "boom <b>" not in handle.html
    assert handle.widget.children[0].children[0].value in handle.html
    assert await handle == "error"
    assert _registered() == []


async def test_a_failing_view_ends_the_stream_with_its_error() -> None:
    class Fragile(View):
        def on_next(self, item: Any) -> None:
            if item == 2:
                raise KeyError("bad item")

        def render(self) -> str:
            return "ok"

    subject: Subject[int] = Subject()
    handle = live(subject, Fragile(), display=False)
    subject.on_next(1)
    subject.on_next(2)
    assert handle.state == "error"
    assert isinstance(handle.error, KeyError)
    assert not subject.observers
    assert "KeyError" in handle.html


async def test_completion_is_shown_and_awaitable() -> None:
    handle = live(reactivex.from_iterable([1, 2, 3]), display=False)
    assert handle.state == "completed"
    assert handle.count == 3
    assert await handle.wait(timeout=1.0) == "completed"
    assert "<b>completed</b>" in handle.html
    assert "3 events received" in handle.html
    assert ">3</td>" in handle.html
    never = live(reactivex.never(), display=False)
    assert await never.wait(timeout=0.01) == "running"
    never.stop()
    assert "LiveHandle" in repr(never)


async def test_items_from_other_threads_reach_the_view_on_the_loop_thread() -> None:
    seen: list[int] = []

    class ThreadSpy(View):
        def on_next(self, item: Any) -> None:
            seen.append(threading.get_ident())

        def render(self) -> str:
            return ""

    subject: Subject[int] = Subject()
    handle = live(subject, ThreadSpy(), display=False)

    def produce() -> None:
        for i in range(100):
            subject.on_next(i)
        subject.on_completed()

    thread = threading.Thread(target=produce)
    thread.start()
    await asyncio.to_thread(thread.join)
    assert await handle.wait(timeout=5.0) == "completed"
    assert handle.count == 100
    assert set(seen) == {threading.get_ident()}


def test_without_a_running_loop_the_background_loop_is_used() -> None:
    names: list[str] = []

    class ThreadName(View):
        def on_next(self, item: Any) -> None:
            names.append(threading.current_thread().name)

        def render(self) -> str:
            return ""

    subject: Subject[int] = Subject()
    handle = live(subject, ThreadName(), display=False)
    _until_sync(lambda: bool(subject.observers))
    for i in range(3):
        subject.on_next(i)
    _until_sync(lambda: handle.count == 3)
    handle.stop()
    _until_sync(lambda: handle.state == "stopped")
    assert names == ["rxsse-loop"] * 3
    _until_sync(lambda: not subject.observers)


def test_public_names() -> None:
    import rxsse.jupyter

    assert sorted(rxsse.jupyter.__all__) == [
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


def test_live_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="fps"):
        LiveHandle(reactivex.empty(), TableView(), name=None, fps=0, widgets=False)


# -- notebooks in a real kernel ------------------------------------------------------------


@pytest.fixture(scope="session")
def kernel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``python3`` kernelspec that runs this interpreter (the venv's python)."""
    root = tmp_path_factory.mktemp("kernels")
    spec = root / "python3"
    spec.mkdir()
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "Python 3 (rxsse tests)", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
    return root


def _execute(nb: NotebookNode, cwd: Path, kernel_dir: Path) -> NotebookNode:
    manager = AsyncKernelManager(
        kernel_name="python3",
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernel_dir)]),
    )
    client = NotebookClient(
        nb,
        km=manager,
        kernel_name="python3",
        timeout=60,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    return nb


@pytest.mark.timeout(180)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_in_a_real_kernel(path: Path, kernel_dir: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    _execute(nb, path.parent, kernel_dir)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors


_LIFECYCLE_CELLS = [
    """
import asyncio, gc, os
from contextlib import AsyncExitStack

import uvicorn

import rxsse
from rxsse import ServerSentEvent, from_url
from rxsse.emulator import running
from rxsse.jupyter import TableView, live
from rxsse.sources.lifecycle import Closed, Open

ROOT = os.path.dirname(rxsse.__file__)

def rxsse_tasks():
    found = []
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        if code is not None and code.co_filename.startswith(ROOT):
            found.append(task)
    return found

async def until(predicate, timeout=5.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)

stack = AsyncExitStack()
url = await stack.enter_async_context(running(port=0))
(server,) = [o for o in gc.get_objects() if isinstance(o, uvicorn.Server)]
assert not rxsse_tasks()
""",
    """
lifecycle = []
handle = live(
    from_url(f"{url}/events", params={"rate": 200}, lifecycle=lifecycle.append),
    TableView(n=5),
    name="lifecycle",
)
handle  # the handle's display hook must not show the view a second time
""",
    """
await until(lambda: handle.count >= 20)
assert handle.running
assert isinstance(lifecycle[-1], Open)
assert rxsse_tasks(), "the source's task should be running"
assert server.server_state.connections
handle.stop()
assert handle.state == "stopped"
await until(lambda: isinstance(lifecycle[-1], Closed))
await until(lambda: not rxsse_tasks())
await until(lambda: not server.server_state.connections)
assert lifecycle[-1].cause is None
print("clean", handle.count, handle.renders)
""",
    """
display(ServerSentEvent("tick", "<b>x</b>", "1"))
await stack.aclose()
""",
]


@pytest.mark.timeout(120)
def test_live_view_in_a_kernel_leaves_no_task_or_connection(
    kernel_dir: Path, tmp_path: Path
) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source.strip()) for source in _LIFECYCLE_CELLS]
    _execute(nb, tmp_path, kernel_dir)
    live_outputs = nb.cells[1].outputs
    widget_views = [o for o in live_outputs if "application/vnd.jupyter.widget-view+json" in o.data]
    assert len(live_outputs) == 1  # one output area, no echo of the handle
    assert len(widget_views) == 1
    assert nb.cells[2].outputs[0].text.startswith("clean")
    (event_output,) = nb.cells[3].outputs
    assert "&lt;b&gt;x&lt;/b&gt;" in event_output.data["text/html"]
