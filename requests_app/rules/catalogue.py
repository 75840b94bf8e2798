"""The finding catalogue: every code the engine can emit, with its meaning and citation.

One entry per code. ``kind`` decides the route (see engine.py):
``reroute`` (another legal route), ``refuse`` (the law or our policy says no), ``clarify``
(the authority must complete or correct the request: Annex III clarification), ``review``
(a person must look; never an automatic refusal) and ``info``. ``status`` is the
verification tag of domain.md ([V] read in the primary text, [S] secondary source, [M] from
memory, or [P] provider policy / product decision). ``legal_basis`` is the default
citation; a rule may cite a more precise paragraph when it emits the finding.
``provider_duty`` marks a finding that states what the provider itself must do (preserve,
acknowledge, inform, produce within a time): the authority reads it as what the provider
does, never as its own next step, and once the request is closed it is moot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from . import vocab as v
from .result import Finding, ParamValue

WARSHAK_POLICY: Final = "Provider policy; United States v. Warshak, 631 F.3d 266 (6th Cir. 2010)"
REROUTE: Final = "reroute"
REFUSE: Final = "refuse"
CLARIFY: Final = "clarify"
REVIEW: Final = "review"
INFO: Final = "info"
BLOCKING_KINDS: Final = frozenset({REROUTE, REFUSE, CLARIFY})
_SEVERITY: Final = {
    REROUTE: "error",
    REFUSE: "error",
    CLARIFY: "error",
    REVIEW: "warning",
    INFO: "info",
}


@dataclass(frozen=True, slots=True)
class FindingSpec:
    code: str
    kind: str
    legal_basis: str
    status: str
    message: str  # str.format template over message_params
    annex_iii_reason: str | None = None
    provider_duty: bool = False

    @property
    def severity(self) -> str:
        return _SEVERITY[self.kind]


def _s(
    code: str, kind: str, legal_basis: str, status: str, message: str, annex: str | None = None,
    *, provider_duty: bool = False,
) -> FindingSpec:
    return FindingSpec(code, kind, legal_basis, status, message, annex, provider_duty)


# fmt: off
_SPECS: tuple[FindingSpec, ...] = (
    # --- Targets, time range, language, confidentiality (all instruments) -----------------
    _s("TGT_NONE", CLARIFY, v.reg("5(5)(c)"), "[M]",
       "No identifier of the user or account is given.", v.AIII_INCOMPLETE),
    _s("TGT_UNKNOWN_KIND", CLARIFY, v.reg("5(5)(c)"), "[P]",
       "Target {index} has an unknown kind '{kind}'.", v.AIII_INSUFFICIENT_INFORMATION),
    _s("TGT_IP_NO_TIMESTAMP", CLARIFY, v.reg("3(10), 5(5)(c)"), "[S]",
       "IP address {value} has no time stamp; an IP address alone identifies no user.",
       v.AIII_INSUFFICIENT_INFORMATION),
    _s("TGT_TIMESTAMP_NO_TIMEZONE", CLARIFY, v.reg("3(10), 5(5)(c)"), "[S]",
       "The time stamp of target {index} has no time zone.", v.AIII_INSUFFICIENT_INFORMATION),
    _s("TGT_TIMESTAMP_AFTER_RECEIPT", CLARIFY, v.reg("3(8)"), "[M]",
       "The time stamp of target {index} is after the receipt of the request.",
       v.AIII_MANIFEST_ERRORS),
    _s("TGT_MALFORMED", CLARIFY, v.reg("5(5)(c)"), "[P]",
       "Target {index} ({kind}) is not a valid {kind}: '{value}'.",
       v.AIII_INSUFFICIENT_INFORMATION),
    _s("TGT_DISPLAY_NAME", CLARIFY, v.reg("5(5)(c)"), "[P]",
       "Target {index} looks like a display name, not a unique username: '{value}'.",
       v.AIII_INSUFFICIENT_INFORMATION),
    _s("TGT_FOREIGN_SERVICE", CLARIFY, "Reg. (EU) 2023/1543 Annex III", "[V]",
       "Target {index} points to another service ({host}), not ours.", v.AIII_MANIFEST_ERRORS),
    _s("TGT_MESSAGE_URL_NO_ID", CLARIFY, v.reg("5(5)(c)"), "[P]",
       "Message URL {value} does not name a message.", v.AIII_INSUFFICIENT_INFORMATION),
    _s("CAT_NONE", CLARIFY, v.reg("5(5)(d)"), "[M]",
       "No data category is requested.", v.AIII_INCOMPLETE),
    _s("RANGE_INVERTED", CLARIFY, v.reg("5(5)(e)"), "[M]",
       "The time range ends before it starts.", v.AIII_MANIFEST_ERRORS),
    _s("RANGE_AFTER_RECEIPT", REFUSE, v.reg("3(8)"), "[M]",
       "The whole time range is after the receipt of the request: only data stored at "
       "receipt can be produced, never future data.", v.AIII_DATA_NOT_STORED),
    _s("RANGE_TRUNCATED", INFO, v.reg("3(8)"), "[M]",
       "Data after the receipt ({received_at}) are not covered; the range is cut there."),
    _s("LANG_NOT_DECLARED", REVIEW, v.reg("9 [M]; Dir. (EU) 2023/1544 Art. 4"), "[M]",
       "The request is in '{language}', not a declared language ({declared}): legal review "
       "decides whether to accept it or ask for a translation."),
    _s("CONF_REASON_MISSING", REVIEW, v.reg("13(2)"), "[V]",
       "Confidentiality is requested without a justification."),
    # --- e-Evidence: who is bound, domestic orders, addressee ---------------------------
    _s("EE_ISSUER_NOT_MEMBER_STATE", REROUTE, v.reg("1(1), 3(1)"), "[V]",
       "An authority of {country}, not an EU member state, cannot issue a European order; "
       "handle under our policy or MLA."),
    _s("EE_MS_NOT_BOUND", REROUTE, v.reg("3(1)-(2); Protocol No 22"), "[V]/[M]",
       "{country} is not bound by Regulation 2023/1543: this is not an EPOC/EPOC-PR. Offer "
       "MLA or the voluntary channel."),
    _s("EE_ADDRESSEE_MS_NOT_BOUND", REFUSE, v.reg("3(1)-(2), 7"), "[V]/[M]",
       "The addressee is located in {country}, which is not bound by Regulation 2023/1543.",
       v.AIII_OTHER),
    _s("EE_FORWARD_TO_DESIGNATED", REVIEW, v.reg("7(1)") + "; Dir. (EU) 2023/1544 Art. 3", "[M]",
       "The order is addressed to our establishment in {country}, not to our designated "
       "establishment or legal representative in {establishment}: it is forwarded to the "
       "designated one, which executes it within the deadlines running from receipt. The "
       "legal team confirms the forwarding and checks that any enforcing authority notified "
       "is that of {establishment}."),
    _s("EE_EMERGENCY_ADDRESSEE", INFO, v.reg("7(2)"), "[M]",
       "Emergency order addressed to our establishment in {country} because our designated "
       "establishment or legal representative failed to react in time (Art. 7(2)): executed "
       "as addressed."),
    _s("EE_EMERGENCY_FORWARD_TO_DESIGNATED", REVIEW, v.reg("7(1)-(2)"), "[M]",
       "Emergency order addressed to our establishment in {country}, although our designated "
       "establishment in {establishment} did not fail to react: forwarded to it, which "
       "executes the order within the emergency deadline."),
    _s("EE_NOT_YET_APPLICABLE", REVIEW, v.reg("34(2)"), "[S]",
       "Received on {received_on}, before Regulation 2023/1543 applies (18 August 2026): the "
       "order has no binding force under it and is handled as a national or voluntary "
       "request; no deadline of the Regulation runs."),
    _s("EE_DOMESTIC_ORDER", REROUTE, v.reg("1(1) second subparagraph"), "[V]",
       "Issued in {country}, the member state of our establishment/legal representative: a "
       "domestic order under national law, not an EPOC/EPOC-PR."),
    # --- e-Evidence: Art. 4 issuing and validating authorities --------------------------
    _s("EE_VALIDATION_REQUIRED", REFUSE, v.reg("4(1)(b), 4(2)(b), 4(3)(b)"), "[V]/[A]",
       "An order issued by {issuer_type} for {category} data is valid only once validated by "
       "{validators}; no validation is stated.", v.AIII_NOT_ISSUED_PER_ART_4),
    _s("EE_VALIDATOR_NOT_COMPETENT", REFUSE, v.reg("4(1)(b), 4(2)(b), 4(3)(b)"), "[V]/[S]",
       "An order for {category} data cannot be validated by {validator_type}; required: "
       "{validators}.", v.AIII_NOT_ISSUED_PER_ART_4),
    _s("EE_NO_EMERGENCY_EXCEPTION", REFUSE, v.reg("4(5)"), "[S]",
       "No emergency exception for {category} data: a production order for traffic or "
       "content data needs prior validation by a judge, court or investigating judge.",
       v.AIII_NOT_ISSUED_PER_ART_4),
    _s("EE_EX_POST_VALIDATION_PENDING", INFO, v.reg("4(5)"), "[S]",
       "Emergency order without prior validation: the issuing authority must seek ex-post "
       "validation within 48 hours. Information only; act when a refusal or withdrawal of "
       "the validation is notified."),
    _s("EE_EMERGENCY_VALIDATOR_NOT_COMPETENT", REVIEW, v.reg("4(1)(b), 4(3)(b), 4(5)"), "[A]",
       "Emergency order for {category} data: it cannot be validated by {validator_type} "
       "(required: {validators}), so it is treated as issued without prior validation, which Art. 4(5) "
       "allows in an emergency; the ex-post validation is due within 48 hours."),
    _s("EE_VALIDATION_INCOMPLETE", CLARIFY, "Reg. (EU) 2023/1543 Annex I Section J", "[M]",
       "The validating authority is not named.", v.AIII_INCOMPLETE),
    # --- e-Evidence: Art. 5 / Art. 6 conditions ------------------------------------------
    _s("EE_OFFENCE_MISSING", CLARIFY, v.reg("5(5)(f), 6"), "[M]",
       "The offence and the applicable provisions of criminal law are not stated.",
       v.AIII_INCOMPLETE),
    _s("EE_THRESHOLD_NOT_STATED", CLARIFY, v.reg("5(4)"), "[V]",
       "{category} data need an offence with a maximum sentence of at least 3 years or a "
       "listed offence; neither is stated.", v.AIII_INCOMPLETE),
    _s("EE_OFFENCE_BELOW_THRESHOLD", REFUSE, v.reg("5(4)(a)"), "[V]",
       "{category} data: the maximum sentence ({months} months) is below 3 years and no "
       "listed offence applies.", v.AIII_OFFENCE_OUTSIDE_ART_5_4),
    _s("EE_LISTED_OFFENCE_NOT_VIA_IS", REFUSE, v.reg("5(4)(b)"), "[V]",
       "{category} data: '{listed}' qualifies only if committed wholly or partly by means of "
       "an information system.", v.AIII_OFFENCE_OUTSIDE_ART_5_4),
    _s("EE_SENTENCE_EXECUTION_CONDITIONS", REFUSE, v.reg("5(3), 5(4)(d), 6(3)"), "[V]/[M]",
       "Execution of a sentence qualifies only for at least 4 months, not rendered in "
       "absentia, where the person absconded ({detail}).", v.AIII_OTHER),
    _s("EE_EMERGENCY_REASON_MISSING", REVIEW, v.reg("5(5)(g)"), "[M]",
       "Emergency claimed without the duly justified reasons."),
    _s("EE_EMERGENCY_VERIFICATION", INFO, v.reg("10(4)"), "[V]",
       "Emergency: produce within 8 hours, after the call-back verification of the "
       "issuing authority.", provider_duty=True),
    # --- e-Evidence: Art. 8 notification of the enforcing authority -----------------------
    _s("EE_EA_NOTIFIED_SUSPENSIVE", INFO, v.reg("8(4), 10(2)"), "[V]",
       "The enforcing authority is notified: transmit at the end of its 10-day window "
       "unless it raises a ground for refusal (earlier on its confirmation)."),
    _s("EE_EA_NOTIFIED_EMERGENCY", INFO, v.reg("8(4), 10(4)"), "[V]",
       "Emergency with notification: no suspensive effect; the enforcing authority may "
       "object within 96 hours."),
    _s("EE_EA_NOTIFICATION_MISSING", CLARIFY, v.reg("8(1)-(2)"), "[V]",
       "{category} data requested, but the certificate neither notifies the enforcing "
       "authority nor invokes the Art. 8(2) exception: manifest error, not executed before "
       "clarification.", v.AIII_MANIFEST_ERRORS),
    _s("EE_EMERGENCY_EA_NOT_NOTIFIED", REVIEW, v.reg("8(1)-(2), 8(4), 10(4)"), "[V]/[A]",
       "Emergency order for {category} data: the certificate does not notify the enforcing "
       "authority, and the Art. 8(2) exception is not stated or the order contradicts it: a "
       "manifest error. In an emergency the notification has no suspensive effect, so the "
       "8-hour deadline keeps running: a person decides on these data within it and asks the "
       "issuing authority for clarification (Annex III) in parallel."),
    _s("EE_EA_NOTIFICATION_CONTRADICTORY", REVIEW, v.reg("8(1)-(2)"), "[V]",
       "The certificate both notifies the enforcing authority and invokes the Art. 8(2) "
       "exception; treated as notified."),
    _s("EE_ART_8_2_EXCEPTION", INFO, v.reg("8(2)"), "[V]",
       "No notification under Art. 8(2) (offence in, and person resident in, the issuing "
       "state): no suspensive effect."),
    _s("EE_ART_8_2_RESIDENCE_MISMATCH", CLARIFY, v.reg("8(2)(b)"), "[V]",
       "{category} data: Art. 8(2) invoked but the person is stated to reside in {residence}, "
       "not in {country}: manifest error, not executed before clarification.",
       v.AIII_MANIFEST_ERRORS),
    _s("EE_ART_8_2_OFFENCE_MISMATCH", CLARIFY, v.reg("8(2)(a)"), "[V]",
       "{category} data: Art. 8(2) invoked but the offence is stated to have been committed "
       "in {offence_country}, not in {country}: manifest error, not executed before "
       "clarification.", v.AIII_MANIFEST_ERRORS),
    _s("EE_EA_NOTIFICATION_NOT_REQUIRED", INFO, v.reg("8(1)"), "[V]",
       "Notification of the enforcing authority is not required for this order."),
    _s("EE_PRESERVE_ON_RECEIPT", INFO, v.reg("10(1), 11(1)"), "[V]",
       "Preserve the identifiable data now, before any clarification or review.", provider_duty=True),
    # --- e-Evidence: Art. 11 preservation lifecycle (Annex V / VI) -----------------------
    _s("LINKED_UNKNOWN", CLARIFY, v.reg("11(1)"), "[S]",
       "The referenced request '{reference}' is unknown.", v.AIII_INSUFFICIENT_INFORMATION),
    _s("LINKED_MISMATCH", CLARIFY, v.reg("11(1)"), "[S]",
       "The referenced request is of type {linked_instrument}, not {expected}.",
       v.AIII_MANIFEST_ERRORS),
    _s("LINKED_AFTER_REQUEST", CLARIFY, v.reg("11(1)"), "[P]",
       "The referenced request was received after this one.", v.AIII_MANIFEST_ERRORS),
    _s("EE_EXTENSION_LATE", REFUSE, v.reg("11(1)"), "[V]",
       "The extension arrived after the 60-day preservation period ended ({period_end}).",
       v.AIII_OTHER),
    _s("EE_EXTENSION_ALREADY_USED", REFUSE, v.reg("11(1)"), "[V]",
       "The preservation was already extended once; only one 30-day extension exists.",
       v.AIII_OTHER),
    _s("EE_EXTENSION_AFTER_CONFIRMATION", INFO, v.reg("11(2)"), "[V]",
       "Production was already confirmed (Annex V): data are kept until production.", provider_duty=True),
    _s("EE_EXTENSION_GRANTED", INFO, v.reg("11(1)"), "[V]",
       "Preservation extended by 30 days, to {expires_at}.", provider_duty=True),
    _s("EE_PRESERVATION_ENDED", REFUSE, v.reg("11(1)-(3)"), "[V]",
       "The preservation already ended (status {status}); nothing is held any more.",
       v.AIII_DATA_NOT_STORED),
    _s("EE_CONFIRMATION_LATE", REFUSE, v.reg("11(1)-(2)"), "[V]",
       "The confirmation arrived after the preservation expired ({expired_at}).",
       v.AIII_OTHER),
    _s("EE_PRESERVE_UNTIL_PRODUCTION", INFO, v.reg("11(2)"), "[V]",
       "Production request confirmed: preserve until the production request is received "
       "and executed.", provider_duty=True),
    # --- e-Evidence: findings raised by people or events (events.py) -----------------------
    _s("EE_DATA_NOT_STORED", REFUSE, v.reg("3(8); Annex III"), "[M]/[V]",
       "The data were not stored at the time of receipt.", v.AIII_DATA_NOT_STORED),
    _s("EE_DE_FACTO_IMPOSSIBILITY", REFUSE, v.reg("10(7); Annex III"), "[M]/[V]",
       "Execution is de facto impossible for reasons not attributable to us.",
       v.AIII_DE_FACTO_IMPOSSIBILITY),
    _s("EE_IMMUNITIES_CONCERN", REVIEW, v.reg("10(5), 11(4)"), "[S]/[V]",
       "Execution could interfere with immunities, privileges or press freedom in the "
       "enforcing state: inform the issuing and enforcing authorities (Annex III).",
       v.AIII_IMMUNITIES_PRIVILEGES),
    _s("EE_THIRD_COUNTRY_CONFLICT", REVIEW, v.reg("17"), "[M]",
       "Compliance would conflict with third-country law: reasoned objection (Annex III); "
       "keep preserving.", v.AIII_THIRD_COUNTRY_CONFLICT),
    _s("EE_ART17_OBJECTION_LATE", REVIEW, v.reg("17"), "[M]",
       "The reasoned objection was filed on {filed_at}, after the 10-day soft deadline "
       "({due_at})."),
    _s("EE_EA_GROUND_RAISED", REFUSE, v.reg("12"), "[V]",
       "The enforcing authority raised a ground for refusal: do not transfer the data."),
    _s("EE_EA_OBJECTION_USE_RESTRICTED", INFO, v.reg("10(4)"), "[V]",
       "The enforcing authority objected within 96 hours: use of the data is restricted."),
    _s("EE_EA_OBJECTION_LATE", REVIEW, v.reg("10(2), 10(4), 12"), "[V]",
       "The enforcing authority's objection arrived after its window ended ({window_end})."),
    _s("EE_PRESERVATION_RELEASED", INFO, v.reg("10(9), 11(3)"), "[V]/[M]",
       "The issuing authority says preservation is no longer necessary: release now.", provider_duty=True),
    _s("CLARIFICATION_AFTER_DEADLINE", REVIEW, v.reg("10(6) [M]"), "[M]",
       "The clarification arrived after the original deadline ({original_due_at}); the "
       "production period restarts in full."),
    # --- DSA Art. 9 / 10 / 18 ------------------------------------------------------------
    _s("DSA_ISSUER_NOT_MEMBER_STATE", REROUTE, v.dsa("9(1), 10(1)"), "[V]",
       "Only authorities of EU member states issue DSA orders; {country} is not one."),
    _s("DSA_LEGAL_BASIS_MISSING", CLARIFY, v.dsa("9(2)(a)(i), 10(2)(a)(i)"), "[V]",
       "The order does not state its legal basis."),
    _s("DSA_REDRESS_MISSING", CLARIFY, v.dsa("9(2)(a)(v), 10(2)(a)(v)"), "[V]",
       "The order does not state the available redress mechanisms."),
    _s("DSA9_REASONS_MISSING", CLARIFY, v.dsa("9(2)(a)(ii)"), "[V]",
       "The order does not explain why the content is illegal."),
    _s("DSA9_SCOPE_MISSING", CLARIFY, v.dsa("9(2)(b)"), "[V]",
       "The order does not state its territorial scope."),
    _s("DSA9_CANNOT_LOCATE", REFUSE, v.dsa("9(1), 9(2)(a)(iv)"), "[V]",
       "The order gives no exact URL of a specific item on our service: we cannot locate "
       "the content. Inform the issuer that no effect was given, and why."),
    _s("DSA9_LOCATOR_NOT_SPECIFIC", REVIEW, v.dsa("9(2)(a)(iv)"), "[V]",
       "{url} names a whole channel, not a specific item."),
    _s("DSA9_LOCATOR_FOREIGN", REVIEW, v.dsa("9(2)(a)(iv)"), "[V]",
       "{url} is not on our service and is ignored."),
    _s("DSA9_INFORM_EFFECT", INFO, v.dsa("9(1)"), "[V]",
       "Inform the issuing authority, without undue delay, if and when effect was given.", provider_duty=True),
    _s("DSA10_CANNOT_IDENTIFY", REFUSE, v.dsa("10(2)(a)(iii)"), "[V]",
       "The order names no account or unique identifier of a specific recipient."),
    _s("DSA10_REASONS_WITHHELD", INFO, v.dsa("10(2)(a)(iv)"), "[V]",
       "No statement of reasons: allowed because the order serves the prevention, detection, "
       "investigation or prosecution of criminal offences."),
    _s("DSA10_ACK_RECEIPT", INFO, v.dsa("10(1)"), "[V]",
       "Acknowledge receipt without undue delay, then report if and when effect was given.", provider_duty=True),
    _s("DSA_USER_NOTICE_MANUAL", INFO, v.dsa("9(5), 10(5)"), "[M]",
       "Informing the user is a legal-team action, never automatic."),
    _s("DSA18_REFERRAL", INFO, v.dsa("18(1)-(2)"), "[V]",
       "Refer promptly to {recipients}, with the content, its publication time with time "
       "zone and the account identifiers.", provider_duty=True),
    # --- United States (SCA) ------------------------------------------------------------
    _s("US_ISSUER_NOT_US", REROUTE, v.sca("2703"), "[V]",
       "US legal process can only come from a US governmental entity; {country} is not "
       "the US."),
    _s("US_SCA_NOT_APPLICABLE", INFO, v.sca("2703"), "[P]",
       "The provider is configured as not subject to the SCA: the request follows our "
       "policy."),
    _s("US_REQUIRES_2703D_ORDER", REFUSE, v.sca("2703(c)(2), 2703(d)"), "[V]/[S]",
       "A subpoena reaches basic subscriber information only; {category} data need a "
       "§ 2703(d) court order or a warrant."),
    _s("US_REQUIRES_WARRANT", REFUSE, WARSHAK_POLICY, "[P]/[S]",
       "Our published policy discloses contents only on a search warrant (United States v. "
       "Warshak, 6th Cir. 2010), whatever 18 U.S.C. § 2703(b) allows with notice."),
    _s("US_COURT_NOT_IDENTIFIED", CLARIFY, v.sca("2703(d)"), "[S]",
       "This {instrument} must be issued by a court; neither the issuer nor the validation "
       "is a court or judge."),
    _s("US_NDO", INFO, v.sca("2705(b)"), "[M]",
       "Non-disclosure requested: no user notice while it applies."),
    _s("US_PRESERVATION", INFO, v.sca("2703(f)"), "[V]",
       "Preserve existing records for 90 days, pending legal process.", provider_duty=True),
    _s("US_RENEWAL_GRANTED", INFO, v.sca("2703(f)(2)"), "[V]",
       "Preservation renewed for an additional 90 days, to {expires_at}.", provider_duty=True),
    _s("US_RENEWAL_LIMIT", REFUSE, v.sca("2703(f)(2)"), "[V]/[S]",
       "The statute provides one 90-day renewal, and it was used."),
    _s("US_RENEWAL_AFTER_EXPIRY", REVIEW, v.sca("2703(f)"), "[V]",
       "The renewal arrived after the preservation expired ({expired_at}): treated as a new "
       "request for what still exists."),
    # --- Voluntary emergency disclosure -------------------------------------------------
    _s("EMG_STATEMENT_MISSING", CLARIFY, v.sca("2702(b)(8), 2702(c)(4)"), "[V]/[M]",
       "A voluntary emergency disclosure needs a statement of the emergency involving danger "
       "of death or serious physical injury."),
    _s("EMG_PROVIDER_DISCRETION", REVIEW, v.sca("2702(b)(8), 2702(c)(4)"), "[V]",
       "Voluntary disclosure at our discretion, in good faith: verify by call-back, then "
       "decide; ask for legal process afterwards."),
    _s("EMG_CATEGORY_EXCLUDED", REFUSE, v.POLICY, "[P]",
       "Our policy does not disclose {category} data voluntarily in an emergency."),
    # --- US SCA and foreign authorities, DSA Art. 9 v. Art. 10 (domain.md §13.7, §13.9) ---
    _s("US_FOREIGN_AUTHORITY", INFO, v.sca("2702(b)(8), 2702(c)(4), 2711(4)"), "[S]",
       "An authority of {country} is not a governmental entity of 18 U.S.C. § 2711(4): the "
       "emergency exceptions of § 2702(b)(8) and (c)(4) do not apply to it."),
    _s("US_FOREIGN_RECORDS_POLICY", REVIEW, v.sca("2702(c)(6)"), "[S]/[P]",
       "Records ({category}) may be disclosed to a foreign authority under 18 U.S.C. "
       "§ 2702(c)(6), as our policy decides: a person decides."),
    _s("US_FOREIGN_RECORDS_NOT_DISCLOSED", REFUSE, v.sca("2702(c)(6)"), "[P]",
       "Our policy does not disclose {category} records to foreign authorities voluntarily."),
    _s("US_FOREIGN_CONTENT_BARRED", REFUSE, v.sca("2702(a), 2702(b)(9), 2523"), "[S]",
       "Contents may not be disclosed to an authority of {country}: no executive agreement "
       "under 18 U.S.C. § 2523 covers it (§ 2702(b)(9)); use mutual legal assistance."),
    _s("US_FOREIGN_2523_AGREEMENT", REVIEW, v.sca("2702(b)(9), 2523"), "[S]",
       "Contents may go to an authority of {country} only pursuant to an order subject to "
       "its executive agreement under 18 U.S.C. § 2523 (§ 2702(b)(9)): check the order."),
    _s("US_FOREIGN_2523_ORDER_REQUIRED", REFUSE, v.sca("2702(b)(9), 2523"), "[S]/[A]",
       "Contents may go to an authority of {country} only pursuant to an order subject to its "
       "executive agreement under 18 U.S.C. § 2523 (§ 2702(b)(9)); the request is not an "
       "order issued or validated by a judge or court."),
    _s("EE_SCA_CONTENT_CONFLICT", REVIEW, v.reg("17") + "; 18 U.S.C. § 2702(a), 2702(b)(9)",
       "[S]/[A]",
       "Content data: 18 U.S.C. § 2702(a) bars disclosing contents to an authority of "
       "{country} (no executive agreement under § 2523): a person decides whether to file a "
       "reasoned objection under Art. 17 within 10 days; the data stay preserved."),
    _s("DSA10_REASONS_WITHHELD_CHECK", REVIEW, v.dsa("10(2)(a)(iv)"), "[A]",
       "The order, issued by {issuer_type}, gives no statement of reasons: allowed only if it "
       "serves the prevention, detection, investigation or prosecution of criminal offences; a "
       "person checks that it does, otherwise asks for the reasons."),
    _s("DSA9_NO_DATA_DISCLOSURE", REFUSE, v.dsa("9(1), 10(1)"), "[A]",
       "An order to act against illegal content does not authorise disclosing {category} "
       "data: use an order to provide information (Art. 10) or criminal procedure."),
    _s("DSA10_REASONS_MISSING", CLARIFY, v.dsa("10(2)(a)(iv)"), "[A]",
       "The statement of reasons is missing: it may be withheld only where the prevention, "
       "detection, investigation or prosecution of criminal offences requires it."),
    _s("DSA10_PRIVATE_CONTENT_REVIEW", REVIEW, v.dsa("10(1), 10(2)(b)"), "[A]",
       "The order asks for the content of private communications: a person decides whether "
       "an information order reaches it."),
    # --- Provider policy and national orders ---------------------------------------------
    _s("POL_JUDICIAL_ORDER_REQUIRED", REFUSE, v.POLICY, "[V]/[P]",
       "Our policy discloses {category} data only on a valid order of a judicial authority."),
    _s("POL_SUSPECT_REQUIRED", REFUSE, v.POLICY, "[V]/[P]",
       "Our policy discloses data only where the order confirms the user is a suspect."),
    _s("POL_SUSPECT_UNCONFIRMED", REVIEW, v.POLICY, "[V]/[P]",
       "The request does not say whether the user is a suspect: legal analysis."),
    _s("POL_MLAT_REQUIRED", REFUSE, v.POLICY, "[S]/[P]",
       "{category} data are disclosed to this authority only through {redirect_to}."),
    _s("POL_REDIRECT_MLAT", REROUTE, v.POLICY, "[S]/[P]",
       "Nothing requested can be disclosed on this route: redirect to {redirect_to}."),
    _s("POL_SCOPE_LIMITED", INFO, v.POLICY, "[V]/[P]",
       "Disclosure limited to {scope}, after a legal analysis."),
    _s("NAT_DOMESTIC_ORDER", REVIEW, v.reg("1(1) second subparagraph"), "[V]",
       "A national order of {country}, where our establishment is: assess under national "
       "law."),
    _s("NAT_NOT_BINDING", INFO, v.reg("1(1), 32"), "[S]",
       "A national order of {country} does not bind us across borders: treated as a "
       "voluntary request under our policy; the authority may issue an EPOC instead."),
)
# fmt: on

CATALOGUE: Final[dict[str, FindingSpec]] = {spec.code: spec for spec in _SPECS}
assert len(CATALOGUE) == len(_SPECS), "duplicate finding code"


# The authority-type parameters that the message writes as the agent of "issued/validated by",
# with their article (vocab.AUTHORITY_BY); message_params keep the type's code.
AUTHORITY_BY_PARAMETERS: Final = {
    "EE_VALIDATION_REQUIRED": "issuer_type",
    "EE_VALIDATOR_NOT_COMPETENT": "validator_type",
    "EE_EMERGENCY_VALIDATOR_NOT_COMPETENT": "validator_type",
    "DSA10_REASONS_WITHHELD_CHECK": "issuer_type",
}


def _english_values(code: str, params: dict[str, ParamValue]) -> dict[str, ParamValue]:
    name = AUTHORITY_BY_PARAMETERS.get(code)
    value = params.get(name) if name else None
    if name is None or not isinstance(value, str) or value not in v.AUTHORITY_BY:
        return params
    return {**params, name: v.AUTHORITY_BY[value]}


def finding(
    code: str,
    *,
    category: str | None = None,
    field: str | None = None,
    rule_id: str | None = None,
    legal_basis: str | None = None,
    annex: bool = True,
    annex_reason: str | None = None,
    **params: ParamValue,
) -> Finding:
    """Build the finding ``code``; ``params`` fill the message and travel as message_params.

    ``annex=False`` drops the Annex III reason (Annex III is an e-Evidence form only);
    ``annex_reason`` replaces the catalogue's reason where one rule serves two boxes.
    """
    spec = CATALOGUE[code]
    if category is not None:
        params.setdefault("category", category)
    return Finding(
        code=code,
        severity=spec.severity,
        legal_basis=legal_basis or spec.legal_basis,
        message=spec.message.format(**_english_values(code, params)) if params else spec.message,
        data_category=category,
        message_params=params,
        annex_iii_reason=(annex_reason or spec.annex_iii_reason) if annex else None,
        field=field,
        rule_id=rule_id,
    )


def kind_of(code: str) -> str:
    return CATALOGUE[code].kind


def is_provider_duty(code: str) -> bool:
    """Whether the finding ``code`` states the provider's own duty (False for an unknown code:
    a finding stored under a code since removed is shown as it is)."""
    spec = CATALOGUE.get(code)
    return spec is not None and spec.provider_duty
