"""Each person's time zone (issue 13 item 1).

Every time shown to a person is in their own zone, labelled with it, with UTC beside it on
hover; the API stays in UTC. The zone is a profile setting (``User.time_zone``); empty means the
default: the zone of the authority's country for officers, the provider's establishment zone
for the legal team (the zone its deadlines are counted in: ``PROVIDER_ESTABLISHMENT_TIME_ZONE``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings

COUNTRY_ZONES = {
    "AT": "Europe/Vienna", "BE": "Europe/Brussels", "BG": "Europe/Sofia", "CY": "Asia/Nicosia",
    "CZ": "Europe/Prague", "DE": "Europe/Berlin", "DK": "Europe/Copenhagen", "EE": "Europe/Tallinn",
    "ES": "Europe/Madrid", "FI": "Europe/Helsinki", "FR": "Europe/Paris", "GB": "Europe/London",
    "GR": "Europe/Athens", "EL": "Europe/Athens", "HR": "Europe/Zagreb", "HU": "Europe/Budapest",
    "IE": "Europe/Dublin", "IT": "Europe/Rome", "LT": "Europe/Vilnius", "LU": "Europe/Luxembourg",
    "LV": "Europe/Riga", "MT": "Europe/Malta", "NL": "Europe/Amsterdam", "PL": "Europe/Warsaw",
    "PT": "Europe/Lisbon", "RO": "Europe/Bucharest", "SE": "Europe/Stockholm", "SI": "Europe/Ljubljana",
    "SK": "Europe/Bratislava", "US": "America/New_York", "UK": "Europe/London",
}
EXTRA_ZONES = ("UTC", "America/Chicago", "America/Denver", "America/Los_Angeles")


def zone_for_country(country: str) -> str:
    return COUNTRY_ZONES.get((country or "").upper(), "UTC")


@lru_cache(maxsize=1)
def known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_known_zone(name: str) -> bool:
    return name in known_zones()


def provider_zone() -> str:
    return str(settings.PROVIDER_RULES["ESTABLISHMENT_TIME_ZONE"])


def default_zone_for(user: Any) -> str:
    authority = getattr(user, "authority", None) if getattr(user, "authority_id", None) else None
    if authority is not None:
        return zone_for_country(authority.country)
    return provider_zone()


def zone_of(user: Any) -> ZoneInfo:
    """The zone a person reads times in: their own choice, else the default for them."""
    chosen = getattr(user, "time_zone", "") or ""
    return ZoneInfo(chosen if chosen and is_known_zone(chosen) else default_zone_for(user))
