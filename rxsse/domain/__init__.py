"""Pure domain models and reducers (stdlib + pydantic only; see design.md, section 2).

One module per domain.  :class:`HTMLReprMixin` gives a pydantic model a
``_repr_html_`` for notebooks.
"""

from rxsse.domain._html import HTMLReprMixin

__all__ = ["HTMLReprMixin"]
