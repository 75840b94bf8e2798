"""A small model field for the list of requested data categories."""

from __future__ import annotations

from typing import Any

from django.db import models

from ..states import DataCategory

# Canonical order: the order of Art. 3(9)-(12). Storing sorted keeps equal lists equal.
CATEGORY_ORDER = [c.value for c in DataCategory]
_ONE = "(" + "|".join(CATEGORY_ORDER) + ")"
# Used by a CHECK constraint, so a value outside the vocabulary can never be stored.
# Empty is allowed: a DSA removal order asks for no data category.
CATEGORY_LIST_REGEX = rf"^$|^{_ONE}(,{_ONE})*$"


def canonical_categories(values: Any) -> list[str]:
    unique = set(values or [])
    return [c for c in CATEGORY_ORDER if c in unique] + sorted(unique - set(CATEGORY_ORDER))


class CategoryListField(models.CharField):
    """Stores a list of data categories as ``subscriber,traffic`` (portable, CHECK-able)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 64)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> list[str]:
        return self.to_python(value)

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if isinstance(value, list):
            return value
        return [v for v in (value or "").split(",") if v]

    def get_prep_value(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        return ",".join(canonical_categories(value))

    def value_to_string(self, obj: Any) -> str:
        return self.get_prep_value(self.value_from_object(obj))
