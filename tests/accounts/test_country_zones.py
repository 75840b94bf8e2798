"""One country → zones map for the whole project (issue 13 item 1): the rules engine counts day
periods in it and a person's default zone is read from it, so the two cannot diverge.

``accounts/country_zones.py`` is a leaf (standard library only), so that the pure rules engine
imports it; ``accounts/zones.COUNTRY_ZONES`` is derived from it, never written out again.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from accounts import country_zones
from accounts.country_zones import COUNTRY_ALIASES, COUNTRY_TIME_ZONES
from accounts.zones import COUNTRY_ZONES, is_known_zone, zone_for_country
from requests_app.rules.config import DEFAULT_COUNTRY_TIME_ZONES, ProviderConfig
from tests.test_app_boundaries import ROOT, imported_modules


def test_the_rules_engine_reads_the_one_map():
    assert DEFAULT_COUNTRY_TIME_ZONES is COUNTRY_TIME_ZONES
    assert dict(ProviderConfig().country_time_zones) == dict(COUNTRY_TIME_ZONES)


def test_a_persons_default_zone_is_the_first_zone_of_their_country():
    for country, zones in COUNTRY_TIME_ZONES.items():
        assert COUNTRY_ZONES[country] == zones[0] == zone_for_country(country) == zone_for_country(country.lower())
        assert ProviderConfig().zones_of(country)[0] == zone_for_country(country)
    for alias, country in COUNTRY_ALIASES.items():
        assert COUNTRY_ZONES[alias] == zone_for_country(alias) == COUNTRY_TIME_ZONES[country][0]
    assert set(COUNTRY_ZONES) == set(COUNTRY_TIME_ZONES) | set(COUNTRY_ALIASES)
    assert zone_for_country("AU") == "Australia/Sydney" and zone_for_country("UK") == "Europe/London"
    assert zone_for_country("ZZ") == zone_for_country("") == zone_for_country(None) == "UTC"


def test_every_zone_of_the_map_is_a_real_zone():
    assert all(is_known_zone(z) for zones in COUNTRY_TIME_ZONES.values() for z in zones)


def test_the_map_is_a_leaf():
    """Standard library only: no Django, no app of the project (the rules engine imports it)."""
    path = Path(country_zones.__file__)
    imported = imported_modules(path)
    assert imported, "the checker found no import at all"
    foreign = {m for m in imported if m.split(".")[0] not in sys.stdlib_module_names and m != "__future__"}
    assert foreign == set()


def _country_maps(path: Path) -> list[int]:
    """Lines of dict literals mapping country codes to zone names (``"FR": "Europe/Paris"`` or a tuple)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Dict):
            continue
        for key, value in zip(node.keys, node.values, strict=True):
            values = value.elts if isinstance(value, ast.Tuple | ast.List) else [value]
            if (isinstance(key, ast.Constant) and key.value == "FR"
                    and any(isinstance(v, ast.Constant) and v.value == "Europe/Paris" for v in values)):
                found.append(node.lineno)
    return found


def test_no_other_module_writes_a_country_zone_map():
    """A second hand-written map is how the two drifted apart (``UK`` in one, ``AU`` in the other)."""
    leaf = Path(country_zones.__file__).resolve()
    others = []
    for package in ("accounts", "requests_app", "audit", "outbox", "portal"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.resolve() != leaf and "migrations" not in path.parts and _country_maps(path):
                others.append(f"{path.relative_to(ROOT)}:{_country_maps(path)}")
    assert others == []
    assert _country_maps(leaf), "the check itself can find a map"
