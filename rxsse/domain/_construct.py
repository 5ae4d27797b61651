"""Building frozen pydantic models from values already known to be valid.

Hot paths (the LLM accumulator's snapshots, typing updates) create many
small frozen models whose field values they produced themselves.
:func:`build` does what ``model_construct`` does for a model given every
declared field, minus its per-field work: it sets the instance slots
through their descriptors.  Use it only when ``fields`` holds every
declared field with a value of the declared type; validation is skipped.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["build"]

_M = TypeVar("_M", bound=BaseModel)

_new = object.__new__
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


class _FieldsSets(dict[type[BaseModel], set[str]]):
    """Model class → the set of its field names, computed on first use.

    One set per class is shared by every instance built here: frozen
    models never change their fields set (``model_copy`` copies it).
    """

    def __missing__(self, cls: type[BaseModel]) -> set[str]:
        names = self[cls] = set(cls.model_fields)
        return names


_FIELDS_SETS = _FieldsSets()


def build(cls: type[_M], fields: dict[str, Any], private: dict[str, Any] | None = None) -> _M:
    """A ``cls`` instance whose ``__dict__`` is ``fields`` (not copied), without validation."""
    model = _new(cls)
    _set_dict(model, fields)
    _set_fields_set(model, _FIELDS_SETS[cls])
    _set_extra(model, None)
    _set_private(model, private)
    return model
