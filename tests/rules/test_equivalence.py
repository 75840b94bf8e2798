"""The engine's caches and lazy texts change no output (issue 9, rules per second).

First, the outputs of 2,000 corpus cases must be those captured on main before the
optimisation (tests/rules/equivalence_digests.json, one SHA-256 per case). A new rulebook may
change decisions on purpose, but digests of another rulebook pin nothing: the test then fails
and says how to re-capture them (capture_digests below), instead of passing silently.

The engine derives tables once per ProviderConfig object (config._tables), caches pure day
roll-overs per (local day, count, zone, holiday countries) and writes a deadline's English
explanation when it is first read. Each case of a seeded corpus (tests/rules/corpus.py: zones,
DST changes, holidays, seven configurations, every entry point) is computed twice: with every
cache warm and the same configuration objects, and with every cache emptied and a fresh copy
of the configuration (the straightforward path: nothing reused); the JSON must be identical.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import random
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from requests_app.rules import RULEBOOK_VERSION, LinkedRequest, ProviderConfig, calendars, deadlines, evaluate
from requests_app.rules import config as config_module
from requests_app.rules.checks import is_ip_address
from requests_app.rules.result import LazyText

from .corpus import cases, outputs

DIGESTS = Path(__file__).with_name("equivalence_digests.json")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def capture_digests(count: int = 2000) -> None:
    """Rewrite the digests from the engine as it is (run after a rulebook change)."""
    seed = 20261203
    digests = [_digest(out) for _, _, _, out in cases(count, seed=seed)]
    data = {"rulebook_version": RULEBOOK_VERSION, "seed": seed, "sha256_16": digests}
    DIGESTS.write_text(json.dumps(data, indent=0) + "\n")


def stale_digests_message(captured: str) -> str:
    """Why the digests of another rulebook pin nothing, and how to pin the new one."""
    return (
        f"{DIGESTS.name} holds the outputs of rulebook {captured}, the engine is rulebook "
        f"{RULEBOOK_VERSION}: the digests pin nothing until they are re-captured. Once the "
        "new rulebook's changes of decision are reviewed, run\n"
        "    .venv/bin/python -c 'from tests.rules.test_equivalence import capture_digests; "
        "capture_digests()'\n"
        f"and commit {DIGESTS.name} with the rulebook bump."
    )


def check_digests(data: dict[str, Any]) -> None:
    """The engine's outputs on the seeded corpus are those ``data`` recorded for this rulebook."""
    assert data["rulebook_version"] == RULEBOOK_VERSION, stale_digests_message(data["rulebook_version"])
    expected = data["sha256_16"]
    differ = [i for i, _, _, out in cases(len(expected), seed=data["seed"]) if _digest(out) != expected[i]]
    assert not differ, f"{len(differ)} of {len(expected)} cases changed, first {differ[:10]}"


def test_outputs_are_those_captured_before_the_optimisation() -> None:
    check_digests(json.loads(DIGESTS.read_text()))


def test_digests_of_another_rulebook_fail_and_say_how_to_recapture() -> None:
    # After a rulebook bump the old digests pin nothing: a skip would pass silently.
    data = json.loads(DIGESTS.read_text())
    with pytest.raises(AssertionError) as failure:
        check_digests({**data, "rulebook_version": "2026.11-r9"})
    message = str(failure.value)
    assert "rulebook 2026.11-r9" in message and f"rulebook {RULEBOOK_VERSION}" in message
    assert "capture_digests()" in message


def _cold() -> None:
    config_module._TABLES.clear()
    deadlines._day_roll.cache_clear()
    calendars.public_holidays.cache_clear()
    deadlines.zone_label.cache_clear()
    deadlines._day_text.cache_clear()


@pytest.mark.parametrize("seed", [1, 2])
def test_warm_caches_give_the_outputs_of_a_cold_engine(seed: int) -> None:
    for index, facts, config, warm in cases(150, seed=seed):
        _cold()
        fresh = replace(config, country_time_zones=dict(config.country_time_zones))
        cold = outputs(facts, fresh, random.Random(seed + index))
        assert cold == warm, index


def test_a_changed_setting_is_a_new_configuration_with_its_own_tables() -> None:
    # override_settings builds a new ProviderConfig (provider.provider_config): nothing
    # derived from the old one may leak into it.
    from .builders import facts

    request = facts(issuer=("judge", "PT"), enforcing_authority_notified=True, categories=("traffic",))
    brussels = evaluate(request, ProviderConfig())
    azores = evaluate(request, ProviderConfig(establishment_time_zone="Atlantic/Azores"))
    assert brussels.deadlines[0].time_zone == "Europe/Brussels"
    assert azores.deadlines[0].time_zone == "Atlantic/Azores"
    assert "Azores time" in azores.deadlines[0].explanation
    assert "Brussels time" in brussels.deadlines[0].explanation
    pt_only = ProviderConfig(country_time_zones={"PT": ("Europe/Lisbon",)})
    assert pt_only.for_issuer("PT").waiting_zones() == ("Europe/Brussels", "Europe/Lisbon")
    assert ProviderConfig().for_issuer("PT").waiting_zones() == (
        "Europe/Brussels",
        "Europe/Lisbon",
        "Atlantic/Madeira",
        "Atlantic/Azores",
    )


def test_explanations_are_written_once_and_read_as_text() -> None:
    from .builders import facts

    deadline = evaluate(facts(), ProviderConfig()).deadlines[0]
    text = deadline.explanation
    assert type(text) is str and text.startswith("Transmit at the latest: by ")
    assert deadline.explanation is text  # rendered once, kept
    assert replace(deadline).explanation == text and deadline == replace(deadline)
    assert not isinstance(deadline.to_dict()["explanation"], LazyText)


def test_the_extension_counts_reuse_their_per_zone_configurations() -> None:
    # Each Annex VI extension counted the 30 days with fresh per-zone copies of the
    # configuration: every evaluation added tables for them and pushed out the others.
    from .builders import T0, facts

    extension = facts(
        instrument="preservation_extension",
        issuer=("judge", "FR"),
        categories=("content",),
        linked=LinkedRequest("LRP-1", "epoc_pr", T0 - timedelta(days=55), "preserving"),
    )
    config = ProviderConfig()
    first = evaluate(extension, config)
    tables = len(config_module._TABLES)
    for _ in range(20):
        assert evaluate(extension, config) == first
    assert len(config_module._TABLES) == tables
    assert first.deadlines[0].kind == "preservation_expiry"


@pytest.mark.parametrize(
    "value",
    ["203.0.113.7", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5",
     "1.2.3.4 ", "1.2.3.٤", "+1.2.3.4", "2001:db8::1", "::ffff:1.2.3.4", "fe80::1%eth0", "", "x"],
)
def test_the_ipv4_shortcut_accepts_what_ipaddress_accepts(value: str) -> None:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        expected = False
    else:
        expected = True
    assert is_ip_address(value) is expected
