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

from .country_zones import COUNTRY_ALIASES, COUNTRY_TIME_ZONES, primary_zone

# The zone a person of each country reads times in by default: the first zone of the one
# country → zones map (accounts/country_zones.py), which the rules engine counts day periods in.
COUNTRY_ZONES: dict[str, str] = {
    **{country: zones[0] for country, zones in COUNTRY_TIME_ZONES.items()},
    **{alias: COUNTRY_TIME_ZONES[country][0] for alias, country in COUNTRY_ALIASES.items()},
}
EXTRA_ZONES = ("UTC", "America/Chicago", "America/Denver", "America/Los_Angeles")


def zone_for_country(country: str | None) -> str:
    return primary_zone(country) or "UTC"


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


def default_zone_label(user: Any) -> str:
    """What "Default" means for this person, named: the zone and where it comes from, so that
    nobody has to guess which zone an unset choice resolves to (issue 13 item 1)."""
    from django.utils.translation import gettext

    zone = default_zone_for(user)
    if getattr(user, "authority_id", None):
        return gettext("Default (%(zone)s, from your authority's country)") % {"zone": zone}
    return gettext("Default (%(zone)s, the provider's zone)") % {"zone": zone}


def zone_of(user: Any) -> ZoneInfo:
    """The zone a person reads times in: their own choice, else the default for them."""
    chosen = getattr(user, "time_zone", "") or ""
    return ZoneInfo(chosen if chosen and is_known_zone(chosen) else default_zone_for(user))


def zone_for_address(address: str, *, legal_team: bool) -> ZoneInfo:
    """The zone of whoever reads an e-mail sent to ``address``: the zone of the active user
    with that address (their own choice, else their default), else the provider's zone for
    the legal team's own addresses (on call), else UTC (an outside sender)."""
    from django.contrib.auth import get_user_model

    user = (get_user_model().objects.select_related("authority")
            .filter(email__iexact=address, is_active=True).order_by("pk").first())
    if user is not None:
        return zone_of(user)
    return ZoneInfo(provider_zone() if legal_team else "UTC")
