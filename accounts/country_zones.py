"""The civil time zones of each country: one map for the whole project (issue 13 item 1).

A leaf: it imports nothing of Django or of the project, so that the pure rules engine
(``requests_app/rules/config.py``: the end of a day period in the issuer's zones, domain.md
§13.2) and the people-facing side (``accounts/zones.py``: the zone a person reads times in,
defaulting to their authority's country) read the same map and cannot diverge.

Where a country spans several zones, all are listed; the first is its capital's, the one a
person of that country reads times in by default. The rules engine uses all of them (the
latest end applies where we wait on an authority).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

# [P] a setting: counsel or operations may narrow or extend it (ProviderConfig.country_time_zones).
COUNTRY_TIME_ZONES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "AT": ("Europe/Vienna",), "BE": ("Europe/Brussels",), "BG": ("Europe/Sofia",),
        "CY": ("Asia/Nicosia",), "EL": ("Europe/Athens",), "CZ": ("Europe/Prague",), "DE": ("Europe/Berlin",),
        "DK": ("Europe/Copenhagen",), "EE": ("Europe/Tallinn",), "ES": ("Europe/Madrid", "Atlantic/Canary"),
        "FI": ("Europe/Helsinki",), "FR": ("Europe/Paris",), "GR": ("Europe/Athens",),
        "HR": ("Europe/Zagreb",), "HU": ("Europe/Budapest",), "IE": ("Europe/Dublin",),
        "IT": ("Europe/Rome",), "LT": ("Europe/Vilnius",), "LU": ("Europe/Luxembourg",),
        "LV": ("Europe/Riga",), "MT": ("Europe/Malta",), "NL": ("Europe/Amsterdam",),
        "PL": ("Europe/Warsaw",), "PT": ("Europe/Lisbon", "Atlantic/Madeira", "Atlantic/Azores"),
        "RO": ("Europe/Bucharest",), "SE": ("Europe/Stockholm",), "SI": ("Europe/Ljubljana",),
        "SK": ("Europe/Bratislava",), "GB": ("Europe/London",), "AU": (
            "Australia/Sydney", "Australia/Adelaide", "Australia/Brisbane", "Australia/Darwin",
            "Australia/Perth"),
        "US": ("America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
               "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu"),
    }
)

# Codes some registrations carry for a country of the map (ISO 3166 has GB, not UK). Only the
# people-facing default reads these; the rules engine sees the map as it is.
COUNTRY_ALIASES: Final[Mapping[str, str]] = MappingProxyType({"UK": "GB"})


def primary_zone(country: str | None) -> str | None:
    """The zone a person of ``country`` reads times in by default (its capital's), or None."""
    code = (country or "").upper()
    zones = COUNTRY_TIME_ZONES.get(COUNTRY_ALIASES.get(code, code), ())
    return zones[0] if zones else None
