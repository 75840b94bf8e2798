"""Time zones offered next to every date-time: an IP time stamp is ambiguous by hours without
one (DESIGN.md §5), so the officer always states it; the default follows the authority's
country."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _

from accounts.zones import COUNTRY_ZONES, EXTRA_ZONES, zone_for_country

__all__ = ["ZONE_CHOICES", "localise", "zone_for_country"]

ZONE_CHOICES = [("", _("Choose a time zone"))] + [(z, z) for z in sorted({*COUNTRY_ZONES.values(), *EXTRA_ZONES})]


def localise(value: datetime | None, zone: str) -> str | None:
    """The wall-clock time the officer typed, in the zone they chose, as ISO 8601 with offset.

    Django parses the input as a time in the server's zone; only the wall-clock fields count.
    """
    if value is None:
        return None
    naive = value.replace(tzinfo=None)
    return naive.replace(tzinfo=ZoneInfo(zone)).isoformat()
