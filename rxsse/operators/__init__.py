"""Rx operators over rxsse streams: thin wrappers around the pure domain reducers.

Every operator is a function returning ``Callable[[Observable[A]], Observable[B]]``
for use with ``pipe``; time-based ones take ``scheduler=None`` and run on
``reactivex.testing.TestScheduler`` in tests.  One module per domain.
"""

from rxsse.operators.deploy import deployment_progress, deployment_state
from rxsse.operators.llm import accumulate_chat, chat_metrics, text_deltas
from rxsse.operators.logs import ansi_to_html, detect_levels, log_lines
from rxsse.operators.messaging import (
    message_status,
    messaging_events,
    outbox,
    presence,
    throttle_typing,
    typing_users,
)
from rxsse.operators.sales import (
    LateSales,
    parse_sales,
    sales_events,
    sales_per_second,
    sales_totals,
    sales_windows,
    top_countries,
)

__all__: list[str] = [
    "accumulate_chat",
    "chat_metrics",
    "text_deltas",
    "message_status",
    "messaging_events",
    "outbox",
    "presence",
    "throttle_typing",
    "typing_users",
    "log_lines",
    "detect_levels",
    "ansi_to_html",
    "deployment_state",
    "deployment_progress",
    "LateSales",
    "parse_sales",
    "sales_events",
    "sales_per_second",
    "sales_totals",
    "sales_windows",
    "top_countries",
]
