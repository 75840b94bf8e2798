"""Public-holiday calendars for day periods, national and sub-national (domain.md §13.2).

Reg. (EEC, Euratom) No 1182/71 Art. 2(1): "public holidays" are "all days designated as such
in the Member State or in the Community institution in which an action is to be taken";
Art. 3(4): a period whose last day is a public holiday, a Sunday or a Saturday ends with the
expiry of the last hour of the following working day. A day designated a public holiday by a
region of that member state (a German Land, a Spanish autonomous community, a Belgian
community) is a public holiday for an authority of that region. [A] Where we wait on an
authority we never act before the latest plausible end, so:

- the authority's region is known: the national calendar and that region's;
- it is not known: the national calendar and *every* region's (any region could be the
  authority's); the same for our own establishment unless its region is configured.

A calendar is named by a string: ``"DE"`` (national only), ``"DE-BY"`` (national and
Bavaria, the region codes of the ``holidays`` package) or ``"DE-*"`` (national and every
region). The same reading serves 18 U.S.C. § 2703(f) periods (Fed. R. Crim. P. 45(a)(6):
"legal holiday" includes a day declared a holiday by the state), with US states as regions.
Our own duties never use a calendar: they end at receipt + N x 24 h.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Final

import holidays

EVERY_REGION: Final = "*"

# Community holidays the ``holidays`` package does not carry (Belgium: decree days of the
# Flemish Community, 11 July; the French Community, 27 September; the German-speaking
# Community, 15 November). [S] Counted where the region is that community, or unknown.
EXTRA_REGIONAL_HOLIDAYS: Final[dict[str, dict[str, tuple[tuple[int, int], ...]]]] = {
    "BE": {"Flemish": ((7, 11),), "French": ((9, 27),), "German": ((11, 15),)},
}


def calendar_name(country: str, region: str | None, *, regional: bool) -> str:
    """The calendar of an authority of ``country`` in ``region`` (None: not known);
    ``regional=False``: the national calendar only (the setting off)."""
    country = country.upper()
    if "-" in country:  # already a calendar name
        return country
    if not regional:
        return country
    if region:
        return f"{country}-{region}"
    return f"{country}-{EVERY_REGION}"


def split(name: str) -> tuple[str, str]:
    """``"DE-BY"`` → ``("DE", "BY")``; ``"DE"`` → ``("DE", "")``."""
    country, _, region = name.partition("-")
    return country.upper(), region


def _package_regions(country: str) -> tuple[str, ...]:
    try:
        return tuple(holidays.country_holidays(country).subdivisions)
    except NotImplementedError:
        return ()


def _region_days(country: str, region: str, year: int) -> set[date]:
    days: set[date] = set()
    if region in _package_regions(country):
        days |= set(holidays.country_holidays(country, subdiv=region, years=year).keys())
    for month, day in EXTRA_REGIONAL_HOLIDAYS.get(country, {}).get(region, ()):
        days.add(date(year, month, day))
    return days


def regions_of(country: str) -> tuple[str, ...]:
    """Every region with a calendar of its own: the package's and the extra ones."""
    extra = tuple(EXTRA_REGIONAL_HOLIDAYS.get(country.upper(), {}))
    return tuple(dict.fromkeys((*_package_regions(country.upper()), *extra)))


@lru_cache(maxsize=512)
def public_holidays(name: str, year: int) -> frozenset[date]:
    """The public holidays of calendar ``name`` in ``year``. An unknown region counts as not
    known (every region): the protective reading where we wait."""
    country, region = split(name)
    try:
        days = set(holidays.country_holidays(country, years=year).keys())
    except NotImplementedError:  # no calendar for this country: weekends only
        return frozenset()
    if not region:
        return frozenset(days)
    known = regions_of(country)
    for each in known if region == EVERY_REGION or region not in known else (region,):
        days |= _region_days(country, each, year)
    return frozenset(days)


def label(name: str) -> str:
    """``"DE-*"`` → ``"DE (every region)"`` for the English explanation."""
    country, region = split(name)
    if region == EVERY_REGION:
        return f"{country} (every region)"
    return name
