"""``{% load local_time %}{{ value|when }}``: a time as the reader reads it (issue 13 item 1).

Shown in the reader's zone (the one ``SessionPolicyMiddleware`` activated, accounts/zones.py),
labelled with the zone's abbreviation and name, with the UTC instant on hover and in the
``datetime`` attribute: ``2026-09-15 00:00 CEST (Europe/Paris)``. ``when_text`` is the same
time for plain text and e-mails, where nothing hovers: UTC is written beside it
(``2026-09-15 00:00 CEST (Europe/Paris) · 2026-09-14 22:00 UTC``). Rendering an e-mail activates
the recipient's zone first (requests_app/notifications.py); the admin uses ``when`` for every
date-time it shows (accounts/admin_dates.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


def _instant(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)
    return None


def zone_label(local: datetime) -> str:
    zone = timezone.get_current_timezone()
    name = getattr(zone, "key", str(zone))
    abbreviation = local.tzname() or ""
    if name == "UTC" or abbreviation == name:
        return name
    return f"{abbreviation} ({name})"


@register.filter
def when(value: object, seconds: str = "") -> SafeString | str:
    instant = _instant(value)
    if instant is None:
        return "" if value is None else str(value)
    local = timezone.localtime(instant)
    shape = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    utc = instant.astimezone(UTC)
    return format_html('<time datetime="{}" title="{} UTC">{} {}</time>',
                       utc.strftime("%Y-%m-%dT%H:%M:%SZ"), utc.strftime(shape), local.strftime(shape),
                       zone_label(local))


@register.filter
def when_short(value: object) -> SafeString | str:
    """``when`` for a narrow column (the admin's queue): ``15 Sep 11:00 CEST``, the zone's name
    and the UTC instant on hover."""
    instant = _instant(value)
    if instant is None:
        return "" if value is None else str(value)
    local = timezone.localtime(instant)
    utc = instant.astimezone(UTC)
    abbreviation = local.tzname() or zone_label(local)
    return format_html('<time datetime="{}" title="{} {} · {} UTC">{} {}</time>',
                       utc.strftime("%Y-%m-%dT%H:%M:%SZ"), local.strftime("%Y-%m-%d %H:%M"), zone_label(local),
                       utc.strftime("%Y-%m-%d %H:%M"), local.strftime("%d %b %H:%M"), abbreviation)


def when_plain(value: object, seconds: str = "") -> str:
    """The time in the active zone, labelled, with UTC beside it; for text (no markup)."""
    instant = _instant(value)
    if instant is None:
        return "" if value is None else str(value)
    local = timezone.localtime(instant)
    shape = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    label = zone_label(local)
    if label == "UTC":
        return f"{local.strftime(shape)} UTC"
    return f"{local.strftime(shape)} {label} · {instant.astimezone(UTC).strftime(shape)} UTC"


@register.filter
def when_text(value: object, seconds: str = "") -> str:
    return when_plain(value, seconds)


@register.simple_tag
def now_when() -> SafeString | str:
    """The current instant, as ``when`` shows it."""
    return when(timezone.now())
