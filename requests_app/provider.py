"""The provider's configuration for the rules, from settings (shown read-only in the admin).

Changing it recomputes the deadlines of open requests: ``config_fingerprint`` is compared
with the one stored when deadlines were last computed (``services.deadlines.recompute_stale``, run by
the task ``tasks.recompute_deadlines`` and the ``recompute_deadlines`` command).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from functools import lru_cache
from typing import Any

from django.conf import settings

from .rules import DayRule, NonEuPolicy, ProviderConfig
from .rules.config import _default_day_rules


def _build(raw: dict[str, Any]) -> ProviderConfig:
    day_rules = dict(_default_day_rules())
    for key, rule in (raw.get("DAY_RULES") or {}).items():
        day_rules[key] = DayRule(mode=rule["mode"], holiday_country=rule.get("holiday_country"))
    policy_fields: dict[str, Any] = {k: (frozenset(v) if k == "allowed_categories" else v)
                                     for k, v in (raw.get("NON_EU_POLICY") or {}).items()}
    policy = NonEuPolicy(**policy_fields)
    config = ProviderConfig(
        establishment_country=raw.get("ESTABLISHMENT_COUNTRY", "BE"),
        declared_languages=tuple(raw.get("DECLARED_LANGUAGES", ("en", "fr", "de"))),
        provider_domains=tuple(settings.PROVIDER_DOMAINS),
        non_eu_policy=policy,
        day_rules=day_rules,
        establishment_time_zone=raw.get("ESTABLISHMENT_TIME_ZONE") or "Europe/Brussels",
        holiday_countries=tuple(raw.get("HOLIDAY_COUNTRIES") or ()),
        issuer_holidays=bool(raw.get("ISSUER_HOLIDAYS", True)),
        regional_holidays=bool(raw.get("REGIONAL_HOLIDAYS", True)),
        establishment_region=raw.get("ESTABLISHMENT_REGION") or None,
        us_sca_applies=bool(raw.get("US_SCA_APPLIES", False)),
        sca_2523_agreements=frozenset(raw.get("SCA_2523_AGREEMENTS") or ("GB", "AU")),
    )
    if raw.get("COUNTRY_TIME_ZONES"):
        from dataclasses import replace

        zones = {**config.country_time_zones,
                 **{k.upper(): tuple(v) for k, v in raw["COUNTRY_TIME_ZONES"].items()}}
        config = replace(config, country_time_zones=zones)
    if raw.get("BOUND_MEMBER_STATES"):
        from dataclasses import replace

        config = replace(config, bound_member_states=frozenset(raw["BOUND_MEMBER_STATES"]))
    return config


@lru_cache(maxsize=1)
def _cached(serialised: str) -> ProviderConfig:
    return _build(json.loads(serialised))


def provider_config() -> ProviderConfig:
    return _cached(json.dumps(settings.PROVIDER_RULES, sort_keys=True, default=list))


def config_as_dict(config: ProviderConfig | None = None) -> dict[str, Any]:
    config = config or provider_config()
    data = asdict(config)
    data["day_rules"] = {k: asdict(v) for k, v in config.day_rules.items()}
    data["country_time_zones"] = {k: list(v) for k, v in config.country_time_zones.items()}
    return json.loads(json.dumps(data, default=lambda o: sorted(o) if isinstance(o, frozenset | set) else str(o)))


def config_fingerprint(config: ProviderConfig | None = None) -> str:
    return hashlib.sha256(json.dumps(config_as_dict(config), sort_keys=True).encode()).hexdigest()[:16]
