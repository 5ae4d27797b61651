"""HTML and SVG views of a :class:`~rxsse.domain.deploy.DeploymentState` (pure, escaped).

:func:`deployment_html` is the state's ``_repr_html_``: a progress bar, the status and
step, the URL or the error, and a short table of counts.  :func:`timeline_svg` draws
the phases as horizontal bars on a time axis (an inline SVG, so notebooks need no
plotting library).  All text taken from values is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import html

from rxsse.domain._html import cell_text, table_html
from rxsse.domain.deploy import DeploymentState, is_failure

__all__ = ["deployment_html", "timeline_svg"]

_COLOURS = {
    "QUEUED": "#9e9e9e",
    "INITIALIZING": "#90caf9",
    "ANALYZING": "#64b5f6",
    "BUILDING": "#ffb74d",
    "DEPLOYING": "#ba68c8",
    "READY": "#66bb6a",
    "CANCELED": "#757575",
}
_FAILURE_COLOUR = "#e53935"
_OTHER_COLOUR = "#bdbdbd"


def _colour(state: str) -> str:
    if is_failure(state):
        return _FAILURE_COLOUR
    return _COLOURS.get(state, _OTHER_COLOUR)


def deployment_html(state: DeploymentState, *, last_logs: int = 5) -> str:
    """A compact HTML card for one state: progress bar, status, step, URL or error."""
    outcome = state.outcome
    colour = _colour(state.status) if state.status else _OTHER_COLOUR
    width = max(0.0, min(state.progress, 100.0))
    bar = (
        '<div style="width:24em;background:#eee;border-radius:3px;height:0.9em">'
        f'<div style="width:{width:.1f}%;background:{colour};height:100%;border-radius:3px">'
        "</div></div>"
    )
    head = (
        f"<b>{html.escape(state.status or 'WAITING')}</b> {width:.0f}% "
        f"<i>({html.escape(outcome)})</i>"
    )
    rows = [
        ("step", cell_text(state.step)),
        ("url", cell_text(state.url)),
        ("aliases", cell_text(", ".join(state.aliases))),
        ("functions", cell_text(", ".join(state.functions))),
        ("events", cell_text(f"{state.events} ({state.duplicates} duplicates skipped)")),
        ("anomalies", cell_text(len(state.anomalies) + state.anomalies_dropped)),
    ]
    if state.error is not None:
        rows.append(("error", cell_text(f"{state.error.code}: {state.error.message}")))
    for alias_error in state.alias_errors:
        rows.append(("alias error", cell_text(f"{alias_error.code}: {alias_error.message}")))
    for line in state.logs[-last_logs:] if last_logs > 0 else ():
        rows.append((f"log ({line.level})", cell_text(line.text)))
    table = table_html(("field", "value"), rows, caption="DeploymentState")
    return f'<div class="rxsse-deployment">{head}{bar}{table}</div>'


def timeline_svg(
    state: DeploymentState, *, width: int = 640, row_height: int = 22, now: float | None = None
) -> str:
    """The phases of ``state`` as a Gantt-style SVG: one row per phase, time on x.

    A phase lasts until the next one began; the last, non-terminal phase lasts until
    ``now`` (default: the latest time known).  Phases without a time are not drawn.
    """
    spans = [span for span in state.timeline() if span.start is not None]
    label_width = 110
    height = row_height * max(len(spans), 1) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="12">'
    ]
    if not spans:
        parts.append(f'<text x="4" y="{row_height}">no phases yet</text></svg>')
        return "".join(parts)
    starts = [span.start for span in spans if span.start is not None]
    ends = [span.end for span in spans if span.end is not None]
    origin = min(starts)
    latest = max([*starts, *ends, *([now] if now is not None else [])])
    total = max(latest - origin, 1e-9)
    plot = width - label_width - 10
    for row, span in enumerate(spans):
        assert span.start is not None
        end = span.end if span.end is not None else latest
        x = label_width + (span.start - origin) / total * plot
        w = max((end - span.start) / total * plot, 2.0)
        y = row * row_height + 4
        name = html.escape(span.state)
        parts.append(f'<text x="4" y="{y + row_height - 9}">{name}</text>')
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_height - 6}" '
            f'fill="{_colour(span.state)}"><title>{name}: {end - span.start:.2f} s</title></rect>'
        )
        parts.append(
            f'<text x="{min(x + w + 4, width - 40):.1f}" y="{y + row_height - 9}" '
            f'fill="#555">{end - span.start:.1f} s</text>'
        )
    axis_y = len(spans) * row_height + 8
    parts.append(
        f'<line x1="{label_width}" y1="{axis_y}" x2="{label_width + plot}" y2="{axis_y}" '
        'stroke="#888"/>'
    )
    parts.append(f'<text x="{label_width}" y="{axis_y + 16}">0 s</text>')
    parts.append(
        f'<text x="{label_width + plot}" y="{axis_y + 16}" text-anchor="end">{total:.1f} s</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
