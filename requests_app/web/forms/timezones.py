"""Time zones offered next to every date-time: an IP time stamp is ambiguous by hours without
one (DESIGN.md §5), so the officer always states it; the default follows the authority's
country."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _

COUNTRY_ZONES = {
    "AT": "Europe/Vienna", "BE": "Europe/Brussels", "BG": "Europe/Sofia", "CY": "Asia/Nicosia",
    "CZ": "Europe/Prague", "DE": "Europe/Berlin", "DK": "Europe/Copenhagen", "EE": "Europe/Tallinn",
    "ES": "Europe/Madrid", "FI": "Europe/Helsinki", "FR": "Europe/Paris", "GB": "Europe/London",
    "GR": "Europe/Athens", "HR": "Europe/Zagreb", "HU": "Europe/Budapest", "IE": "Europe/Dublin",
    "IT": "Europe/Rome", "LT": "Europe/Vilnius", "LU": "Europe/Luxembourg", "LV": "Europe/Riga",
    "MT": "Europe/Malta", "NL": "Europe/Amsterdam", "PL": "Europe/Warsaw", "PT": "Europe/Lisbon",
    "RO": "Europe/Bucharest", "SE": "Europe/Stockholm", "SI": "Europe/Ljubljana", "SK": "Europe/Bratislava",
    "US": "America/New_York",
}
EXTRA_ZONES = ("UTC", "America/Chicago", "America/Denver", "America/Los_Angeles")
ZONE_CHOICES = [("", _("Choose a time zone"))] + [(z, z) for z in sorted({*COUNTRY_ZONES.values(), *EXTRA_ZONES})]


def zone_for_country(country: str) -> str:
    return COUNTRY_ZONES.get((country or "").upper(), "UTC")


def localise(value: datetime | None, zone: str) -> str | None:
    """The wall-clock time the officer typed, in the zone they chose, as ISO 8601 with offset.

    Django parses the input as a time in the server's zone; only the wall-clock fields count.
    """
    if value is None:
        return None
    naive = value.replace(tzinfo=None)
    return naive.replace(tzinfo=ZoneInfo(zone)).isoformat()
