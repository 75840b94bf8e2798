"""Every date-time the admin shows, in the viewer's zone, labelled, UTC on hover (issue 13 item 1).

``SessionPolicyMiddleware`` activates the signed-in person's zone (accounts/zones.py); Django's
admin would then print "Sept. 1, 2026, midnight" with no zone, or, where the zone was not
active, "Aug. 31, 2026, 10 p.m." for an instant the officer entered as 1 Sep 00:00 Paris. The
admin has no per-site formatter: its change lists (``admin_list``) and read-only fields
(``helpers``) call ``display_for_field`` / ``display_for_value`` by name, so ``install()``
wraps those names once (from ``AccountsConfig.ready``) and every ``DateTimeField`` and every
date-time a display method returns, in every registered admin, goes through ``when``:
``2026-09-01 00:00 CEST (Europe/Brussels)`` with the UTC instant in the ``title``. Dates
without a time (``DateField``) carry no zone and are left alone.

Date-time list filters ("Today", "Past 7 days") count days in the viewer's zone: their title
names it (``ZonedDateFieldListFilter``).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.contrib.admin import FieldListFilter
from django.contrib.admin.filters import DateFieldListFilter
from django.db import models
from django.utils import timezone

from .templatetags.local_time import when

_INSTALLED = "_lrp_zoned"
_filter_registered = False


def _zoned_field(original: Callable[..., Any]) -> Callable[..., Any]:
    def display_for_field(value: Any, field: Any, empty_value_display: str, *args: Any, **kwargs: Any) -> Any:
        if value is not None and isinstance(field, models.DateTimeField) and isinstance(value, datetime.datetime):
            return when(value)
        return original(value, field, empty_value_display, *args, **kwargs)

    setattr(display_for_field, _INSTALLED, True)
    return display_for_field


def _zoned_value(original: Callable[..., Any]) -> Callable[..., Any]:
    def display_for_value(value: Any, empty_value_display: str, *args: Any, **kwargs: Any) -> Any:
        if isinstance(value, datetime.datetime):
            return when(value)
        return original(value, empty_value_display, *args, **kwargs)

    setattr(display_for_value, _INSTALLED, True)
    return display_for_value


class ZonedDateFieldListFilter(DateFieldListFilter):
    """"Today", "Past 7 days" … are days in the viewer's zone: the title says which."""

    def __init__(self, field: Any, request: Any, params: Any, model: Any, model_admin: Any, field_path: str):
        super().__init__(field, request, params, model, model_admin, field_path)
        if isinstance(field, models.DateTimeField):
            self.title = f"{self.title} ({timezone.get_current_timezone_name()})"


def install() -> None:
    """Wrap the admin's display functions where the admin looks them up (idempotent)."""
    from django.contrib.admin import helpers
    from django.contrib.admin.templatetags import admin_list

    targets = [(helpers, "display_for_field", _zoned_field), (admin_list, "display_for_field", _zoned_field),
               (admin_list, "display_for_value", _zoned_value)]
    for module, name, wrap in targets:
        original = getattr(module, name)
        if not getattr(original, _INSTALLED, False):
            setattr(module, name, wrap(original))
    global _filter_registered
    if not _filter_registered:
        FieldListFilter.register(lambda f: isinstance(f, models.DateTimeField), ZonedDateFieldListFilter,
                                 take_priority=True)
        _filter_registered = True
