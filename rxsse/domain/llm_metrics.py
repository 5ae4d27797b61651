"""Latency and throughput of one LLM response stream (pure; times in seconds).

Definitions (``t0`` is when the request was made, i.e. the subscription):

``ttfb``                 time to first byte: the first event of any kind - t0
``ttft``                 time to first token: the first event carrying a
                         non-empty *visible* delta (content or refusal text;
                         reasoning and tool-call arguments do not count) - t0,
                         as vLLM, LLMPerf and GenAI-Perf define it
``inter_chunk_latencies`` the gaps between successive visible-text events,
                         from the first token on (vLLM's "ITL" list)
``e2e``                  end-to-end latency: the terminal marker (or the end
                         of the stream, if the marker never came) - t0
``output_tokens``        the provider's count from usage (``completion_tokens``
                         or ``output_tokens``); ``None`` until usage arrives
``tpot``                 time per output token after the first:
                         (e2e - ttft) / (output_tokens - 1) (vLLM TPOT,
                         GenAI-Perf "inter token latency")
``itl``                  mean inter-token latency over the whole request:
                         e2e / output_tokens (LLMPerf)
``output_tokens_per_second`` output_tokens / e2e

The token-based metrics are ``None`` while the token count is unknown
(``estimated_output_tokens`` counts visible-text events as a rough stand-in
and is never used in the formulas).  Every value is a pure function of the
event times fed to :class:`MetricsState`, so a virtual clock makes it exact.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from rxsse.domain._html import HTMLReprMixin
from rxsse.domain.llm_deltas import Delta, Terminal, Text, Usage

__all__ = ["ChatMetrics", "MetricsState"]


class ChatMetrics(HTMLReprMixin, BaseModel):
    """Metrics so far; ``done`` marks the final value (module docstring)."""

    model_config = ConfigDict(frozen=True)

    events: int = 0
    visible_chunks: int = 0
    ttfb: float | None = None
    ttft: float | None = None
    e2e: float | None = None
    last_chunk_gap: float | None = None
    mean_chunk_gap: float | None = None
    max_chunk_gap: float | None = None
    inter_chunk_latencies: tuple[float, ...] | None = None
    output_tokens: int | None = None
    estimated_output_tokens: int = 0
    tpot: float | None = None
    itl: float | None = None
    output_tokens_per_second: float | None = None
    done: bool = False


class MetricsState:
    """Reducer state: feed ``(elapsed seconds, deltas of one event)``."""

    __slots__ = (
        "_gap_max",
        "_gap_sum",
        "_gaps",
        "_last_visible",
        "e2e",
        "events",
        "output_tokens",
        "ttfb",
        "ttft",
        "visible",
    )

    def __init__(self) -> None:
        self.events = 0
        self.visible = 0
        self.ttfb: float | None = None
        self.ttft: float | None = None
        self.e2e: float | None = None
        self.output_tokens: int | None = None
        self._gaps: list[float] = []
        self._gap_sum = 0.0
        self._gap_max = 0.0
        self._last_visible: float | None = None

    def observe(self, elapsed: float, deltas: list[Delta]) -> None:
        """Record one event that arrived ``elapsed`` seconds after ``t0``."""
        self.events += 1
        if self.ttfb is None:
            self.ttfb = elapsed
        visible = False
        for delta in deltas:
            kind = type(delta)
            if kind is Text:
                assert isinstance(delta, Text)
                if delta.text and delta.channel != "reasoning":
                    visible = True
            elif kind is Usage:
                assert isinstance(delta, Usage)
                tokens = _output_tokens(delta.usage)
                if tokens is not None:
                    self.output_tokens = tokens
            elif kind is Terminal and self.e2e is None:
                self.e2e = elapsed
        if visible:
            self.visible += 1
            if self.ttft is None:
                self.ttft = elapsed
            else:
                assert self._last_visible is not None
                gap = elapsed - self._last_visible
                self._gaps.append(gap)
                self._gap_sum += gap
                self._gap_max = max(self._gap_max, gap)
            self._last_visible = elapsed

    def end(self, elapsed: float) -> None:
        """The stream ended ``elapsed`` seconds after ``t0`` (no marker needed)."""
        if self.e2e is None:
            self.e2e = elapsed

    def metrics(self, *, done: bool = False) -> ChatMetrics:
        gaps = self._gaps
        tokens = self.output_tokens
        e2e, ttft = self.e2e, self.ttft
        tpot = itl = rate = None
        if tokens is not None and e2e is not None:
            if tokens > 1 and ttft is not None:
                tpot = (e2e - ttft) / (tokens - 1)
            if tokens > 0:
                itl = e2e / tokens
            if e2e > 0:
                rate = tokens / e2e
        return ChatMetrics(
            events=self.events,
            visible_chunks=self.visible,
            ttfb=self.ttfb,
            ttft=ttft,
            e2e=e2e,
            last_chunk_gap=gaps[-1] if gaps else None,
            mean_chunk_gap=self._gap_sum / len(gaps) if gaps else None,
            max_chunk_gap=self._gap_max if gaps else None,
            inter_chunk_latencies=tuple(gaps) if done else None,
            output_tokens=tokens,
            estimated_output_tokens=self.visible,
            tpot=tpot,
            itl=itl,
            output_tokens_per_second=rate,
            done=done,
        )


def _output_tokens(usage: dict[str, Any]) -> int | None:
    for key in ("completion_tokens", "output_tokens"):
        value = usage.get(key)
        if isinstance(value, int):
            return value
    return None
