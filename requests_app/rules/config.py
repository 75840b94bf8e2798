"""The provider's configuration: everything that is policy or unverified law ([M]).

Statutory numbers read in the primary text ([V]: 10 days, 8 h, 96 h, 60 + 30 days, 90 + 90
days, 48 h) are constants in the rule modules; what domain.md marks [M] or calls a product
or policy decision lives here, so that counsel can change it without touching the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, TypeVar, cast

from accounts.country_zones import COUNTRY_TIME_ZONES

from .vocab import CATEGORIES, EU_MEMBER_STATES, IDENTIFICATION, SUBSCRIBER, iso_country

CALENDAR: Final = "calendar_days"
LATER_OF_1182: Final = "later_of_calendar_and_reg_1182_71"
# The same "latest local end" for a period of a law other than the Union's (18 U.S.C.
# § 2703(f)): counted as Fed. R. Crim. P. 45(a) counts a statute's days. [A]
LATER_OF_LOCAL_END: Final = "later_of_calendar_and_local_day_end"
DAY_RULE_MODES: Final = frozenset({CALENDAR, LATER_OF_1182, LATER_OF_LOCAL_END})
# Modes that wait for the end of the last local day (they share the arithmetic).
LOCAL_END_MODES: Final = frozenset({LATER_OF_1182, LATER_OF_LOCAL_END})

# Keys of ProviderConfig.day_rules: one per legal basis that has a day-based period.
EE_PRODUCTION: Final = "eevidence_production"  # our duty: Art. 10(3) 10 days
EE_EA_WINDOW: Final = "eevidence_ea_window"  # we wait on the EA: Art. 10(2) 10 days
EE_PRESERVATION: Final = "eevidence_preservation"  # we wait on the IA: Art. 11(1) 60 + 30 days
US_PRESERVATION_RULE: Final = "us_preservation"  # 18 U.S.C. § 2703(f)(2) 90 + 90 days
INTERNAL: Final = "internal"  # reminders and soft deadlines of our own


@dataclass(frozen=True, slots=True)
class DayRule:
    """How a period expressed in days is counted for one legal basis (domain.md §12.2).

    ``calendar_days``: the period ends exactly N x 24 h after the event, never later; used
    for our own duties. ``later_of_calendar_and_reg_1182_71``: we do not act before the later
    of that instant and the end under Reg. 1182/71 (day of the event not counted; the period
    ends at the end of its last day; a last day on a Saturday, Sunday or public holiday moves
    to the end of the next working day); used where we wait on an authority. [M] whether
    1182/71 applies to Reg. 2023/1543 at all: counsel decides, hence a setting.
    """

    mode: str = CALENDAR
    holiday_country: str | None = None  # None: the establishment's member state


_DEFAULT_DAY_RULE: Final = DayRule()
T = TypeVar("T")

# Civil time zones per country, for day periods (domain.md §13.2): where a country spans
# several zones, all are listed and the latest end applies where we wait on an authority.
# [P] a setting: counsel or operations may narrow or extend it.
# The map lives in a leaf module shared with the people-facing zones (accounts/zones.py).
DEFAULT_COUNTRY_TIME_ZONES: Final[Mapping[str, tuple[str, ...]]] = COUNTRY_TIME_ZONES


def _default_day_rules() -> Mapping[str, DayRule]:
    return MappingProxyType(
        {
            EE_PRODUCTION: DayRule(CALENDAR),
            EE_EA_WINDOW: DayRule(LATER_OF_1182),
            EE_PRESERVATION: DayRule(LATER_OF_1182),
            # 18 U.S.C. § 2703(f)(2): we wait on the governmental entity, so the 90 days never
            # end before the end of their last local day in our zone and every US zone, rolled
            # over weekends and legal holidays (Fed. R. Crim. P. 45(a)(1)(C), (a)(6)). [A]
            US_PRESERVATION_RULE: DayRule(LATER_OF_LOCAL_END),
            INTERNAL: DayRule(CALENDAR),
        }
    )


@dataclass(frozen=True, slots=True)
class NonEuPolicy:
    """What we disclose on a request that no binding instrument covers (R24, example 30).

    Default = Telegram ToS 8.3 [V]: "a valid order from the relevant judicial authorities
    that confirms you're a suspect ... may disclose your IP address and phone number".
    Phone number = subscriber data, IP address = identification data (domain.md §1.2).
    Everything else is redirected to MLAT / a CLOUD Act agreement (US-style practice, §3.5).
    """

    allowed_categories: frozenset[str] = frozenset({SUBSCRIBER, IDENTIFICATION})
    require_judicial_order: bool = True
    require_suspect: bool = True
    scope_note: str = "phone number and IP address only"
    redirect_to: str = "MLAT or a CLOUD Act agreement"


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """The provider's setup. Every field is a decision someone can cite."""

    # Member state of our designated establishment / legal representative (Dir. 2023/1544).
    establishment_country: str = "BE"
    # Dir. 2023/1544 Art. 4 / DSA Art. 11(3): languages we accept orders in.
    declared_languages: tuple[str, ...] = ("en", "fr", "de")
    # §13.2 [P]: the civil time zone of our establishment; day periods end at the end of
    # their last day there (and, where we wait on an authority, in the authority's zone).
    establishment_time_zone: str = "Europe/Brussels"
    country_time_zones: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_COUNTRY_TIME_ZONES)
    )
    # §13.2 [P]/[A]: where we wait on an authority, a last day that is a public holiday of
    # any of these countries (besides the rule's holiday country) moves to the next working
    # day; and, if ``issuer_holidays``, a public holiday of the issuing state too (the
    # latest plausible end: it protects the person and the provider).
    holiday_countries: tuple[str, ...] = ()
    issuer_holidays: bool = True
    # Reg. 1182/71 Art. 2(1), 3(4) [A] (rules/calendars.py): sub-national public holidays (a
    # German Land, a Spanish autonomous community, a Belgian community) count for an authority
    # of that region; where its region is not known, every region's count (the latest end).
    # ``establishment_region``: our establishment's region (None: every region's holidays).
    regional_holidays: bool = True
    establishment_region: str | None = None
    # Set by the engine for each request (not a setting): the issuing authority's country
    # and, where its record has one, its region (``holidays`` subdivision code).
    issuing_country: str | None = None
    issuing_region: str | None = None
    # §13.3 [S] Art. 34(2): the Regulation applies from this day (ISO date). [A] it applies
    # to an order once that day has begun both where our establishment is and in every zone
    # of the issuing state (an order received before 00:00 of that day in the issuer's zone
    # was issued before it applied there); False: the establishment's zone only.
    regulation_applies_from: str = "2026-08-18"
    applicability_in_issuer_zones: bool = True
    # §13.2 [A] Art. 11(1) "an additional 30-day period": also counted from the end of the
    # 60-day period as it ended (rolled over weekends and holidays); the later end applies.
    extension_from_period_end: bool = True
    # Member states bound by Reg. 2023/1543: all but Denmark; Ireland bound (§12.1 [S]).
    bound_member_states: frozenset[str] = EU_MEMBER_STATES - {"DK"}
    # Our own service's domains: channel/message URLs elsewhere are another provider's.
    provider_domains: tuple[str, ...] = ("t.me", "telegram.me")
    non_eu_policy: NonEuPolicy = NonEuPolicy()
    day_rules: Mapping[str, DayRule] = field(default_factory=_default_day_rules)
    # A deadline's warn_at is this fraction of its period after the start.
    warn_ratio: float = 0.8
    # Whether the SCA (18 U.S.C. §§ 2701-2713) binds us: it binds providers subject to US
    # jurisdiction (a US provider, or one with sufficient US contacts), which is a fact of the
    # provider's setup, not of a request. [A] Default False: our designated establishment is in
    # the Union and nothing in this configuration says we are a US person; True applies the
    # SCA ladder (R19-R22), its bars on foreign disclosure (§ 2702(a), (b)(9)) and the Art. 17
    # conflict flag on EU content orders. Setting PROVIDER_US_SCA_APPLIES.
    us_sca_applies: bool = False
    # 2703(f) provides one renewal; providers often accept more in practice [S].
    us_allow_further_renewals: bool = False
    # §13.7 [S]: 18 U.S.C. § 2523 executive agreements in force (United Kingdom 2022,
    # Australia 2024): contents may go to these countries' authorities under § 2702(b)(9).
    sca_2523_agreements: frozenset[str] = frozenset({"GB", "AU"})
    # § 2702(b)(9) [S]/[A]: contents only "pursuant to an order" subject to the agreement:
    # the order must be issued or validated by a judge or court (the protective reading).
    sca_2523_requires_court_order: bool = True
    # §13.7 [S]/[A]: where the SCA applies to us, an EPOC for contents from a member state
    # (no § 2523 agreement) may conflict with § 2702(a): flag it for the Art. 17 objection.
    sca_conflict_on_eu_content: bool = True
    # §13.7: records to a foreign (non-US) authority under § 2702(c)(6) are our policy.
    foreign_records_disclosure: bool = True
    # § 2702(b)(8)/(c)(4): which categories we may disclose voluntarily in an emergency.
    emergency_disclosure_categories: frozenset[str] = frozenset(CATEGORIES)
    # Internal targets for "without undue delay" / "promptly" (not statutory numbers).
    emergency_triage_hours: int = 1
    dsa_receipt_ack_hours: int = 24
    dsa_effect_report_hours: int = 72
    art18_referral_hours: int = 1
    # §12.4 [M]: remind the issuing authority at day 5, no automatic consequence.
    clarification_reminder_days: int = 5
    # §12.5 [M]: Art. 17 reasoned objection, soft deadline: warn at day 7, due at day 10.
    art17_warn_days: int = 7
    art17_due_days: int = 10

    def day_rule(self, key: str) -> DayRule:
        rule = self.day_rules.get(key)
        return _DEFAULT_DAY_RULE if rule is None else rule

    def holiday_country(self, rule: DayRule) -> str:
        return rule.holiday_country or self.establishment_country

    def zones_of(self, country: str | None) -> tuple[str, ...]:
        return tuple(self.country_time_zones.get((country or "").upper(), ()))

    def waiting_zones(self) -> tuple[str, ...]:
        """Zones whose end of day we wait for: our establishment's and the issuer's."""
        table = _tables(self)
        if table.waiting_zones is None:
            zones = [self.establishment_time_zone, *self.zones_of(self.issuing_country)]
            table.waiting_zones = tuple(dict.fromkeys(zones))
        return table.waiting_zones

    def waiting_holidays(self, rule: DayRule) -> tuple[str, ...]:
        """Calendar names (rules/calendars.py): ``BE-*``, ``DE-BY``, ``DE`` ...; computed once per
        configuration and rule holiday country (all that the result depends on)."""
        table = _tables(self)
        countries_of = table.waiting_holidays.get(rule.holiday_country)
        if countries_of is None:
            from .calendars import calendar_name

            regional = self.regional_holidays
            own_region = self.establishment_region if rule.holiday_country is None else None
            countries = [
                calendar_name(self.holiday_country(rule), own_region, regional=regional),
                *(calendar_name(c, None, regional=regional) for c in self.holiday_countries),
            ]
            if self.issuer_holidays and self.issuing_country:
                countries.append(calendar_name(self.issuing_country, self.issuing_region, regional=regional))
            countries_of = tuple(dict.fromkeys(countries))
            table.waiting_holidays[rule.holiday_country] = countries_of
        return countries_of

    def bound_states_iso(self) -> frozenset[str]:
        """``bound_member_states`` as ISO 3166-1 codes (settings may write EL/UK, §13.10)."""
        table = _tables(self)
        if table.bound_iso is None:
            table.bound_iso = frozenset(iso_country(c) for c in self.bound_member_states)
        return table.bound_iso

    def derived(self, compute: Callable[..., T], *args: Hashable) -> T:
        """``compute(self, *args)``, computed once per configuration object and ``args``: for
        tables the rules derive from settings (a ProviderConfig is frozen, so they never go
        stale). ``compute`` must be a pure function of the configuration and ``args``."""
        table = _tables(self)
        key = (compute, args)
        try:
            return cast(T, table.derived[key])
        except KeyError:
            value = table.derived[key] = compute(self, *args)
            return value

    def for_issuer(self, country: str | None, region: str | None = None) -> ProviderConfig:
        """This configuration for one request of an authority of ``country`` (``region``:
        its region where its record has one); derived once per configuration."""
        if country == self.issuing_country and region == self.issuing_region:
            return self
        table = _tables(self)
        derived = table.issuers.get((country, region))
        if derived is None:
            from dataclasses import replace

            derived = table.issuers[(country, region)] = replace(self, issuing_country=country, issuing_region=region)
        return derived

class _Tables:
    """What the engine derives from one ProviderConfig object, computed once for it
    (issue 9: a decision used to rebuild these, e.g. a ``replace`` of the whole
    configuration per request for the issuer's country)."""

    __slots__ = ("bound_iso", "config", "derived", "issuers", "waiting_holidays", "waiting_zones")

    def __init__(self, config: ProviderConfig) -> None:
        # Holding the configuration keeps its id() from being reused while the entry lives.
        self.config = config
        self.issuers: dict[tuple[str | None, str | None], ProviderConfig] = {}
        self.waiting_zones: tuple[str, ...] | None = None
        self.waiting_holidays: dict[str | None, tuple[str, ...]] = {}
        self.bound_iso: frozenset[str] | None = None
        self.derived: dict[tuple[Callable[..., object], tuple[Hashable, ...]], object] = {}


# Keyed by the configuration object: a ProviderConfig is frozen, so what is derived from it
# never goes stale; a changed setting (override_settings, provider.provider_config()) builds
# a new object and so new tables. (The object is not hashable: it holds mappings.)
_TABLES: dict[int, _Tables] = {}
_TABLES_MAX = 512


def _tables(config: ProviderConfig) -> _Tables:
    table = _TABLES.get(id(config))
    if table is not None and table.config is config:
        return table
    table = _Tables(config)
    if len(_TABLES) >= _TABLES_MAX:
        _TABLES.pop(next(iter(_TABLES)), None)  # the oldest; its tables are rebuilt if needed again
    _TABLES[id(config)] = table
    return table
