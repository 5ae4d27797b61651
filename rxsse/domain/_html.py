"""HTML rendering of domain values for notebooks (pure: stdlib + pydantic).

Every function here returns a fragment of HTML in which **all text taken
from values is escaped** with :func:`html.escape`, so a field holding
``"<script>"`` shows those characters instead of running them.  Nothing here
imports IPython: a notebook finds ``_repr_html_`` by itself, and
:mod:`rxsse.jupyter` reuses :func:`cell_text` and :func:`table_html` for its
table view.

Domain models opt in by inheriting :class:`HTMLReprMixin`::

    class Usage(HTMLReprMixin, BaseModel):
        input_tokens: int
        output_tokens: int

    Usage(input_tokens=3, output_tokens=5)  # last line of a cell → a table
"""

from __future__ import annotations

import enum
import html
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time

from pydantic import BaseModel

__all__ = [
    "MAX_CELL_CHARS",
    "HTMLReprMixin",
    "cell_text",
    "model_html",
    "model_values",
    "table_html",
]

MAX_CELL_CHARS = 200
"""Longest text shown in one table cell; longer text is cut and ends in ``…``."""

_MAX_DEPTH = 3
_TABLE_STYLE = "border-collapse:collapse;font-size:0.9em"
_CELL_STYLE = "text-align:left;vertical-align:top;padding:2px 8px"


def cell_text(value: object, max_chars: int = MAX_CELL_CHARS) -> str:
    """``value`` as escaped text for one table cell.

    ``None`` is an empty cell, a ``str`` is shown as is (not quoted), an enum
    member by its value, dates and times in ISO 8601, anything else with
    ``str()``.  Text longer than ``max_chars`` characters is cut and ends in
    ``…``; newlines are kept (cells use ``white-space: pre-wrap``).
    """
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value
    elif isinstance(value, enum.Enum):
        text = str(value.value)
    elif isinstance(value, (datetime, date, time)):
        text = value.isoformat()
    else:
        text = str(value)
    if len(text) > max_chars:
        text = text[: max(max_chars - 1, 0)] + "…"
    return html.escape(text)


def table_html(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    caption: str | None = None,
) -> str:
    """A plain HTML table.

    ``headers`` and ``caption`` are plain text and escaped here; the cells of
    ``rows`` must already be HTML (escape them with :func:`cell_text`).
    """
    parts = [f'<table class="rxsse-table" style="{_TABLE_STYLE}">']
    if caption:
        parts.append(
            f'<caption style="text-align:left;caption-side:top">{html.escape(caption)}</caption>'
        )
    if headers:
        parts.append("<thead><tr>")
        parts.extend(f'<th style="{_CELL_STYLE}">{html.escape(h)}</th>' for h in headers)
        parts.append("</tr></thead>")
    parts.append("<tbody>")
    for row in rows:
        parts.append("<tr>")
        parts.extend(f'<td style="{_CELL_STYLE};white-space:pre-wrap">{cell}</td>' for cell in row)
        parts.append("</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def model_values(model: BaseModel) -> dict[str, object]:
    """The model's declared fields, then its computed fields, in declaration order."""
    cls = type(model)
    names = [*cls.model_fields, *cls.model_computed_fields]
    return {name: getattr(model, name) for name in names}


def model_html(model: BaseModel, *, max_chars: int = MAX_CELL_CHARS) -> str:
    """One model as a two-column table (field, value), captioned with its class name.

    A field holding another model is shown as a nested table (three levels
    deep at most, then as text); every other value goes through
    :func:`cell_text`.
    """
    return _model_html(model, max_chars, _MAX_DEPTH)


def _model_html(model: BaseModel, max_chars: int, depth: int) -> str:
    rows: list[tuple[str, str]] = []
    for name, value in model_values(model).items():
        if isinstance(value, BaseModel) and depth > 1:
            cell = _model_html(value, max_chars, depth - 1)
        else:
            cell = cell_text(value, max_chars)
        rows.append((html.escape(name), cell))
    return table_html(("field", "value"), rows, caption=type(model).__name__)


class HTMLReprMixin:
    """Give a pydantic model a ``_repr_html_`` (its fields as a table).

    Put it before :class:`pydantic.BaseModel` in the bases:
    ``class Usage(HTMLReprMixin, BaseModel): ...``.  Jupyter then shows an
    instance at the end of a cell with :func:`model_html`; ``repr`` and
    ``str`` are pydantic's own.
    """

    __slots__ = ()

    def _repr_html_(self) -> str:
        if not isinstance(self, BaseModel):
            raise TypeError(f"HTMLReprMixin needs a pydantic model, got {type(self).__name__}")
        return model_html(self)
