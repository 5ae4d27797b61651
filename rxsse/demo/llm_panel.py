"""The LLM panel: a chat completion streaming in, with TTFT and tokens/s.

Every few seconds the panel POSTs a streaming request to the emulator's
OpenAI-compatible ``/v1/chat/completions`` (paced at a realistic token
rate) and runs two pipelines over the one connection: ``accumulate_chat``
for the text and status, ``chat_metrics`` for the latencies.  With faults
on, every other request is cut before ``[DONE]``, and the panel shows that
rxsse reports it as incomplete instead of as a finished answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

from reactivex import abc
from reactivex import operators as ops
from reactivex.disposable import CompositeDisposable
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from rxsse.domain.llm import ChatSnapshot
from rxsse.domain.llm_metrics import ChatMetrics
from rxsse.errors import IncompleteStreamError
from rxsse.operators.llm import accumulate_chat, chat_metrics
from rxsse.sources.http import from_url

__all__ = ["LLMPanel"]

PROMPTS = [
    "Explain server-sent events in one paragraph",
    "Why do reconnecting streams need Last-Event-ID",
    "Describe backpressure between a fast producer and a slow consumer",
]
PAUSE = 1.5  # seconds between two requests


class LLMPanel:
    """Streams completions one after another and shows the latest."""

    title = "llm · chat completions"

    def __init__(self) -> None:
        self._subscription: abc.DisposableBase | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._base = ""
        self._faults = False
        self.requests = 0
        self.completed = 0
        self.incomplete = 0
        self.snapshot: ChatSnapshot | None = None
        self.metrics: ChatMetrics | None = None
        self.error = ""

    def start(self, base_url: str, *, faults: bool) -> None:
        self._base, self._faults = base_url, faults
        self._request()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._subscription is not None:
            self._subscription.dispose()
            self._subscription = None

    def _request(self) -> None:
        self._timer = None
        self.requests += 1
        query = "tokens_per_second=40&ttft=0.3&words=60"
        if self._faults and self.requests % 2 == 0:
            query += "&fault=cut&fault_after=25"
        body: dict[str, Any] = {
            "model": "emulated-gpt",
            "stream": True,
            "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": PROMPTS[self.requests % len(PROMPTS)]}],
        }
        events = from_url(
            f"{self._base}/v1/chat/completions?{query}", method="POST", json=body
        ).pipe(ops.share())
        self.snapshot, self.metrics, self.error = None, None, ""
        metrics = events.pipe(chat_metrics()).subscribe(self._on_metrics, lambda _: None)
        snapshots = events.pipe(accumulate_chat()).subscribe(
            self._on_snapshot, self._on_error, self._on_done
        )
        self._subscription = CompositeDisposable(snapshots, metrics)

    def _on_snapshot(self, snapshot: ChatSnapshot) -> None:
        self.snapshot = snapshot

    def _on_metrics(self, metrics: ChatMetrics) -> None:
        self.metrics = metrics

    def _on_done(self) -> None:
        self.completed += 1
        self._schedule()

    def _on_error(self, error: Exception) -> None:
        if isinstance(error, IncompleteStreamError):
            self.incomplete += 1
            self.snapshot = error.partial
        else:
            self.error = str(error)
        self._schedule()

    def _schedule(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(PAUSE, self._request)

    def render(self) -> RenderableType:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim")
        table.add_column(max_width=60)
        snap = self.snapshot
        status = snap.status if snap else "connecting"
        style = {"complete": "green", "connection_lost": "red", "no_terminal_marker": "red"}
        table.add_row("status", Text(status, style=style.get(status, "yellow")))
        text = snap.text if snap else ""
        table.add_row("text", Text(text[-180:] or "…", overflow="fold"))
        m = self.metrics
        if m is not None:
            ttft = f"{m.ttft * 1000:.0f} ms" if m.ttft is not None else "-"
            rate = m.output_tokens_per_second
            table.add_row("TTFT", ttft)
            table.add_row(
                "tokens/s",
                f"{rate:.1f}" if rate is not None else f"~{m.estimated_output_tokens} chunks",
            )
        table.add_row(
            "requests",
            f"{self.requests} ({self.completed} complete, {self.incomplete} cut & detected)",
        )
        if self.error:
            table.add_row("error", Text(self.error, style="red"))
        return table

    def summary(self) -> str:
        m = self.metrics
        ttft = f"{m.ttft * 1000:.0f}ms" if m and m.ttft is not None else "-"
        rate = m.output_tokens_per_second if m else None
        status = self.snapshot.status if self.snapshot else "connecting"
        chars = len(self.snapshot.text) if self.snapshot else 0
        return (
            f"requests={self.requests} complete={self.completed} incomplete={self.incomplete} "
            f"status={status} chars={chars} ttft={ttft} "
            f"tokens_per_s={'-' if rate is None else f'{rate:.1f}'}"
        )
