"""The texts of the rule findings, keyed by finding code, in the active language.

The rules engine (``requests_app.rules``, pure Python) emits per finding a stable ``code``
and its ``message_params``, plus an English ``message`` kept for the API's public contract.
The portal never reads that English back: it looks the text up here by code
(``pgettext_lazy("finding <CODE>", ...)``, so the translation belongs to the code, not to
the English wording of the engine) and fills the named placeholders with the parameters,
whose vocabulary values (data categories, authority types, instruments...) are translated
by value and whose ISO dates are written in the active language.

Adding a finding code to ``rules/catalogue.py`` means adding its text here and to the
French and German catalogues; ``tests/test_finding_texts.py`` fails until all three exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from django.utils import dateformat
from django.utils.functional import Promise
from django.utils.translation import pgettext, pgettext_lazy

# fmt: off
FINDING_TEXTS: Final[dict[str, Promise]] = {
    "TGT_NONE": pgettext_lazy("finding TGT_NONE", "No identifier of the user or account is given."),
    "TGT_UNKNOWN_KIND": pgettext_lazy("finding TGT_UNKNOWN_KIND", "Target {index} has an unknown kind '{kind}'."),
    "TGT_IP_NO_TIMESTAMP": pgettext_lazy(
        "finding TGT_IP_NO_TIMESTAMP",
        "IP address {value} has no time stamp; an IP address alone identifies no user.",
    ),
    "TGT_TIMESTAMP_NO_TIMEZONE": pgettext_lazy(
        "finding TGT_TIMESTAMP_NO_TIMEZONE",
        "The time stamp of target {index} has no time zone.",
    ),
    "TGT_TIMESTAMP_AFTER_RECEIPT": pgettext_lazy(
        "finding TGT_TIMESTAMP_AFTER_RECEIPT",
        "The time stamp of target {index} is after the receipt of the request.",
    ),
    "TGT_MALFORMED": pgettext_lazy(
        "finding TGT_MALFORMED",
        "Target {index} ({kind}) is not a valid {kind}: '{value}'.",
    ),
    "TGT_DISPLAY_NAME": pgettext_lazy(
        "finding TGT_DISPLAY_NAME",
        "Target {index} looks like a display name, not a unique username: '{value}'.",
    ),
    "TGT_FOREIGN_SERVICE": pgettext_lazy(
        "finding TGT_FOREIGN_SERVICE",
        "Target {index} points to another service ({host}), not ours.",
    ),
    "TGT_MESSAGE_URL_NO_ID": pgettext_lazy(
        "finding TGT_MESSAGE_URL_NO_ID",
        "Message URL {value} does not name a message.",
    ),
    "CAT_NONE": pgettext_lazy("finding CAT_NONE", "No data category is requested."),
    "RANGE_INVERTED": pgettext_lazy("finding RANGE_INVERTED", "The time range ends before it starts."),
    "RANGE_AFTER_RECEIPT": pgettext_lazy(
        "finding RANGE_AFTER_RECEIPT",
        "The whole time range is after the receipt of the request: only data stored at receipt can be produced, "
        "never future data.",
    ),
    "RANGE_TRUNCATED": pgettext_lazy(
        "finding RANGE_TRUNCATED",
        "Data after the receipt ({received_at}) are not covered; the range is cut there.",
    ),
    "LANG_NOT_DECLARED": pgettext_lazy(
        "finding LANG_NOT_DECLARED",
        "The request is in '{language}', not a declared language ({declared}): legal review decides whether to "
        "accept it or ask for a translation.",
    ),
    "CONF_REASON_MISSING": pgettext_lazy(
        "finding CONF_REASON_MISSING",
        "Confidentiality is requested without a justification.",
    ),
    "EE_ISSUER_NOT_MEMBER_STATE": pgettext_lazy(
        "finding EE_ISSUER_NOT_MEMBER_STATE",
        "An authority of {country}, not an EU member state, cannot issue a European order; handle under our "
        "policy or MLA.",
    ),
    "EE_MS_NOT_BOUND": pgettext_lazy(
        "finding EE_MS_NOT_BOUND",
        "{country} is not bound by Regulation 2023/1543: this is not an EPOC/EPOC-PR. Offer MLA or the voluntary "
        "channel.",
    ),
    "EE_ADDRESSEE_MS_NOT_BOUND": pgettext_lazy(
        "finding EE_ADDRESSEE_MS_NOT_BOUND",
        "The addressee is located in {country}, which is not bound by Regulation 2023/1543.",
    ),
    "EE_FORWARD_TO_DESIGNATED": pgettext_lazy(
        "finding EE_FORWARD_TO_DESIGNATED",
        "The order is addressed to our establishment in {country}, not to our designated establishment or legal "
        "representative in {establishment}: it is forwarded to the designated one, which executes it within the "
        "deadlines running from receipt. The legal team confirms the forwarding and checks that any enforcing "
        "authority notified is that of {establishment}.",
    ),
    "EE_EMERGENCY_ADDRESSEE": pgettext_lazy(
        "finding EE_EMERGENCY_ADDRESSEE",
        "Emergency order addressed to our establishment in {country} because our designated establishment or "
        "legal representative failed to react in time (Art. 7(2)): executed as addressed.",
    ),
    "EE_EMERGENCY_FORWARD_TO_DESIGNATED": pgettext_lazy(
        "finding EE_EMERGENCY_FORWARD_TO_DESIGNATED",
        "Emergency order addressed to our establishment in {country}, although our designated establishment in "
        "{establishment} did not fail to react: forwarded to it, which executes the order within the emergency "
        "deadline.",
    ),
    "EE_NOT_YET_APPLICABLE": pgettext_lazy(
        "finding EE_NOT_YET_APPLICABLE",
        "Received on {received_on}, before Regulation 2023/1543 applies (18 August 2026): the order has no "
        "binding force under it and is handled as a national or voluntary request; no deadline of the Regulation "
        "runs.",
    ),
    "EE_DOMESTIC_ORDER": pgettext_lazy(
        "finding EE_DOMESTIC_ORDER",
        "Issued in {country}, the member state of our establishment/legal representative: a domestic order under "
        "national law, not an EPOC/EPOC-PR.",
    ),
    "EE_VALIDATION_REQUIRED": pgettext_lazy(
        "finding EE_VALIDATION_REQUIRED",
        "An order issued by {issuer_type} for {category} data is valid only once validated by {validators}; no "
        "validation is stated.",
    ),
    "EE_VALIDATOR_NOT_COMPETENT": pgettext_lazy(
        "finding EE_VALIDATOR_NOT_COMPETENT",
        "An order for {category} data cannot be validated by {validator_type}; required: {validators}.",
    ),
    "EE_NO_EMERGENCY_EXCEPTION": pgettext_lazy(
        "finding EE_NO_EMERGENCY_EXCEPTION",
        "No emergency exception for {category} data: a production order for traffic or content data needs prior "
        "validation by a judge, court or investigating judge.",
    ),
    "EE_EMERGENCY_VALIDATOR_NOT_COMPETENT": pgettext_lazy(
        "finding EE_EMERGENCY_VALIDATOR_NOT_COMPETENT",
        "Emergency order for {category} data: it cannot be validated by {validator_type} (required: "
        "{validators}), so it is treated as issued without prior validation, which Art. 4(5) allows in an "
        "emergency; the ex-post validation is due within 48 hours.",
    ),
    "EE_EX_POST_VALIDATION_PENDING": pgettext_lazy(
        "finding EE_EX_POST_VALIDATION_PENDING",
        "Emergency order without prior validation: the issuing authority must seek ex-post validation within 48 "
        "hours. Information only; act when a refusal or withdrawal of the validation is notified.",
    ),
    "EE_VALIDATION_INCOMPLETE": pgettext_lazy(
        "finding EE_VALIDATION_INCOMPLETE",
        "The validating authority is not named.",
    ),
    "EE_OFFENCE_MISSING": pgettext_lazy(
        "finding EE_OFFENCE_MISSING",
        "The offence and the applicable provisions of criminal law are not stated.",
    ),
    "EE_THRESHOLD_NOT_STATED": pgettext_lazy(
        "finding EE_THRESHOLD_NOT_STATED",
        "{category} data need an offence with a maximum sentence of at least 3 years or a listed offence; neither"
        " is stated.",
    ),
    "EE_OFFENCE_BELOW_THRESHOLD": pgettext_lazy(
        "finding EE_OFFENCE_BELOW_THRESHOLD",
        "{category} data: the maximum sentence ({months} months) is below 3 years and no listed offence applies.",
    ),
    "EE_LISTED_OFFENCE_NOT_VIA_IS": pgettext_lazy(
        "finding EE_LISTED_OFFENCE_NOT_VIA_IS",
        "{category} data: '{listed}' qualifies only if committed wholly or partly by means of an information "
        "system.",
    ),
    "EE_SENTENCE_EXECUTION_CONDITIONS": pgettext_lazy(
        "finding EE_SENTENCE_EXECUTION_CONDITIONS",
        "Execution of a sentence qualifies only for at least 4 months, not rendered in absentia, where the person"
        " absconded ({detail}).",
    ),
    "EE_EMERGENCY_REASON_MISSING": pgettext_lazy(
        "finding EE_EMERGENCY_REASON_MISSING",
        "Emergency claimed without the duly justified reasons.",
    ),
    "EE_EMERGENCY_VERIFICATION": pgettext_lazy(
        "finding EE_EMERGENCY_VERIFICATION",
        "Emergency: produce within 8 hours, after the call-back verification of the issuing authority.",
    ),
    "EE_EA_NOTIFIED_SUSPENSIVE": pgettext_lazy(
        "finding EE_EA_NOTIFIED_SUSPENSIVE",
        "The enforcing authority is notified: transmit at the end of its 10-day window unless it raises a ground "
        "for refusal (earlier on its confirmation).",
    ),
    "EE_EA_NOTIFIED_EMERGENCY": pgettext_lazy(
        "finding EE_EA_NOTIFIED_EMERGENCY",
        "Emergency with notification: no suspensive effect; the enforcing authority may object within 96 hours.",
    ),
    "EE_EA_NOTIFICATION_MISSING": pgettext_lazy(
        "finding EE_EA_NOTIFICATION_MISSING",
        "{category} data requested, but the certificate neither notifies the enforcing authority nor invokes the "
        "Art. 8(2) exception: manifest error, not executed before clarification.",
    ),
    "EE_EMERGENCY_EA_NOT_NOTIFIED": pgettext_lazy(
        "finding EE_EMERGENCY_EA_NOT_NOTIFIED",
        "Emergency order for {category} data: the certificate does not notify the enforcing authority, and the "
        "Art. 8(2) exception is not stated or the order contradicts it: a manifest error. In an emergency the "
        "notification has no suspensive effect, so the 8-hour deadline keeps running: a person decides on these "
        "data within it and asks the issuing authority for clarification (Annex III) in parallel.",
    ),
    "EE_EA_NOTIFICATION_CONTRADICTORY": pgettext_lazy(
        "finding EE_EA_NOTIFICATION_CONTRADICTORY",
        "The certificate both notifies the enforcing authority and invokes the Art. 8(2) exception; treated as "
        "notified.",
    ),
    "EE_ART_8_2_EXCEPTION": pgettext_lazy(
        "finding EE_ART_8_2_EXCEPTION",
        "No notification under Art. 8(2) (offence in, and person resident in, the issuing state): no suspensive "
        "effect.",
    ),
    "EE_ART_8_2_RESIDENCE_MISMATCH": pgettext_lazy(
        "finding EE_ART_8_2_RESIDENCE_MISMATCH",
        "{category} data: Art. 8(2) invoked but the person is stated to reside in {residence}, not in {country}: "
        "manifest error, not executed before clarification.",
    ),
    "EE_ART_8_2_OFFENCE_MISMATCH": pgettext_lazy(
        "finding EE_ART_8_2_OFFENCE_MISMATCH",
        "{category} data: Art. 8(2) invoked but the offence is stated to have been committed in "
        "{offence_country}, not in {country}: manifest error, not executed before clarification.",
    ),
    "EE_EA_NOTIFICATION_NOT_REQUIRED": pgettext_lazy(
        "finding EE_EA_NOTIFICATION_NOT_REQUIRED",
        "Notification of the enforcing authority is not required for this order.",
    ),
    "EE_PRESERVE_ON_RECEIPT": pgettext_lazy(
        "finding EE_PRESERVE_ON_RECEIPT",
        "Preserve the identifiable data now, before any clarification or review.",
    ),
    "LINKED_UNKNOWN": pgettext_lazy("finding LINKED_UNKNOWN", "The referenced request '{reference}' is unknown."),
    "LINKED_MISMATCH": pgettext_lazy(
        "finding LINKED_MISMATCH",
        "The referenced request is of type {linked_instrument}, not {expected}.",
    ),
    "LINKED_AFTER_REQUEST": pgettext_lazy(
        "finding LINKED_AFTER_REQUEST",
        "The referenced request was received after this one.",
    ),
    "EE_EXTENSION_LATE": pgettext_lazy(
        "finding EE_EXTENSION_LATE",
        "The extension arrived after the 60-day preservation period ended ({period_end}).",
    ),
    "EE_EXTENSION_ALREADY_USED": pgettext_lazy(
        "finding EE_EXTENSION_ALREADY_USED",
        "The preservation was already extended once; only one 30-day extension exists.",
    ),
    "EE_EXTENSION_AFTER_CONFIRMATION": pgettext_lazy(
        "finding EE_EXTENSION_AFTER_CONFIRMATION",
        "Production was already confirmed (Annex V): data are kept until production.",
    ),
    "EE_EXTENSION_GRANTED": pgettext_lazy(
        "finding EE_EXTENSION_GRANTED",
        "Preservation extended by 30 days, to {expires_at}.",
    ),
    "EE_PRESERVATION_ENDED": pgettext_lazy(
        "finding EE_PRESERVATION_ENDED",
        "The preservation already ended (status {status}); nothing is held any more.",
    ),
    "EE_CONFIRMATION_LATE": pgettext_lazy(
        "finding EE_CONFIRMATION_LATE",
        "The confirmation arrived after the preservation expired ({expired_at}).",
    ),
    "EE_PRESERVE_UNTIL_PRODUCTION": pgettext_lazy(
        "finding EE_PRESERVE_UNTIL_PRODUCTION",
        "Production request confirmed: preserve until the production request is received and executed.",
    ),
    "EE_DATA_NOT_STORED": pgettext_lazy(
        "finding EE_DATA_NOT_STORED",
        "The data were not stored at the time of receipt.",
    ),
    "EE_DE_FACTO_IMPOSSIBILITY": pgettext_lazy(
        "finding EE_DE_FACTO_IMPOSSIBILITY",
        "Execution is de facto impossible for reasons not attributable to us.",
    ),
    "EE_IMMUNITIES_CONCERN": pgettext_lazy(
        "finding EE_IMMUNITIES_CONCERN",
        "Execution could interfere with immunities, privileges or press freedom in the enforcing state: inform "
        "the issuing and enforcing authorities (Annex III).",
    ),
    "EE_THIRD_COUNTRY_CONFLICT": pgettext_lazy(
        "finding EE_THIRD_COUNTRY_CONFLICT",
        "Compliance would conflict with third-country law: reasoned objection (Annex III); keep preserving.",
    ),
    "EE_ART17_OBJECTION_LATE": pgettext_lazy(
        "finding EE_ART17_OBJECTION_LATE",
        "The reasoned objection was filed on {filed_at}, after the 10-day soft deadline ({due_at}).",
    ),
    "EE_EA_GROUND_RAISED": pgettext_lazy(
        "finding EE_EA_GROUND_RAISED",
        "The enforcing authority raised a ground for refusal: do not transfer the data.",
    ),
    "EE_EA_OBJECTION_USE_RESTRICTED": pgettext_lazy(
        "finding EE_EA_OBJECTION_USE_RESTRICTED",
        "The enforcing authority objected within 96 hours: use of the data is restricted.",
    ),
    "EE_EA_OBJECTION_LATE": pgettext_lazy(
        "finding EE_EA_OBJECTION_LATE",
        "The enforcing authority's objection arrived after its window ended ({window_end}).",
    ),
    "EE_PRESERVATION_RELEASED": pgettext_lazy(
        "finding EE_PRESERVATION_RELEASED",
        "The issuing authority says preservation is no longer necessary: release now.",
    ),
    "CLARIFICATION_AFTER_DEADLINE": pgettext_lazy(
        "finding CLARIFICATION_AFTER_DEADLINE",
        "The clarification arrived after the original deadline ({original_due_at}); the production period "
        "restarts in full.",
    ),
    "DSA_ISSUER_NOT_MEMBER_STATE": pgettext_lazy(
        "finding DSA_ISSUER_NOT_MEMBER_STATE",
        "Only authorities of EU member states issue DSA orders; {country} is not one.",
    ),
    "DSA_LEGAL_BASIS_MISSING": pgettext_lazy(
        "finding DSA_LEGAL_BASIS_MISSING",
        "The order does not state its legal basis.",
    ),
    "DSA_REDRESS_MISSING": pgettext_lazy(
        "finding DSA_REDRESS_MISSING",
        "The order does not state the available redress mechanisms.",
    ),
    "DSA9_REASONS_MISSING": pgettext_lazy(
        "finding DSA9_REASONS_MISSING",
        "The order does not explain why the content is illegal.",
    ),
    "DSA9_SCOPE_MISSING": pgettext_lazy(
        "finding DSA9_SCOPE_MISSING",
        "The order does not state its territorial scope.",
    ),
    "DSA9_CANNOT_LOCATE": pgettext_lazy(
        "finding DSA9_CANNOT_LOCATE",
        "The order gives no exact URL of a specific item on our service: we cannot locate the content. Inform the"
        " issuer that no effect was given, and why.",
    ),
    "DSA9_LOCATOR_NOT_SPECIFIC": pgettext_lazy(
        "finding DSA9_LOCATOR_NOT_SPECIFIC",
        "{url} names a whole channel, not a specific item.",
    ),
    "DSA9_LOCATOR_FOREIGN": pgettext_lazy(
        "finding DSA9_LOCATOR_FOREIGN",
        "{url} is not on our service and is ignored.",
    ),
    "DSA9_INFORM_EFFECT": pgettext_lazy(
        "finding DSA9_INFORM_EFFECT",
        "Inform the issuing authority, without undue delay, if and when effect was given.",
    ),
    "DSA10_CANNOT_IDENTIFY": pgettext_lazy(
        "finding DSA10_CANNOT_IDENTIFY",
        "The order names no account or unique identifier of a specific recipient.",
    ),
    "DSA10_REASONS_WITHHELD": pgettext_lazy(
        "finding DSA10_REASONS_WITHHELD",
        "No statement of reasons: allowed because the order serves the prevention, detection, investigation or "
        "prosecution of criminal offences.",
    ),
    "DSA10_ACK_RECEIPT": pgettext_lazy(
        "finding DSA10_ACK_RECEIPT",
        "Acknowledge receipt without undue delay, then report if and when effect was given.",
    ),
    "DSA_USER_NOTICE_MANUAL": pgettext_lazy(
        "finding DSA_USER_NOTICE_MANUAL",
        "Informing the user is a legal-team action, never automatic.",
    ),
    "DSA18_REFERRAL": pgettext_lazy(
        "finding DSA18_REFERRAL",
        "Refer promptly to {recipients}, with the content, its publication time with time zone and the account "
        "identifiers.",
    ),
    "US_ISSUER_NOT_US": pgettext_lazy(
        "finding US_ISSUER_NOT_US",
        "US legal process can only come from a US governmental entity; {country} is not the US.",
    ),
    "US_SCA_NOT_APPLICABLE": pgettext_lazy(
        "finding US_SCA_NOT_APPLICABLE",
        "The provider is configured as not subject to the SCA: the request follows our policy.",
    ),
    "US_REQUIRES_2703D_ORDER": pgettext_lazy(
        "finding US_REQUIRES_2703D_ORDER",
        "A subpoena reaches basic subscriber information only; {category} data need a § 2703(d) court order or a "
        "warrant.",
    ),
    "US_REQUIRES_WARRANT": pgettext_lazy(
        "finding US_REQUIRES_WARRANT",
        "Our published policy discloses contents only on a search warrant (United States v. Warshak, 6th Cir. "
        "2010), whatever 18 U.S.C. § 2703(b) allows with notice.",
    ),
    "US_COURT_NOT_IDENTIFIED": pgettext_lazy(
        "finding US_COURT_NOT_IDENTIFIED",
        "This {instrument} must be issued by a court; neither the issuer nor the validation is a court or "
        "judge.",
    ),
    "US_NDO": pgettext_lazy("finding US_NDO", "Non-disclosure requested: no user notice while it applies."),
    "US_PRESERVATION": pgettext_lazy(
        "finding US_PRESERVATION",
        "Preserve existing records for 90 days, pending legal process.",
    ),
    "US_RENEWAL_GRANTED": pgettext_lazy(
        "finding US_RENEWAL_GRANTED",
        "Preservation renewed for an additional 90 days, to {expires_at}.",
    ),
    "US_RENEWAL_LIMIT": pgettext_lazy(
        "finding US_RENEWAL_LIMIT",
        "The statute provides one 90-day renewal, and it was used.",
    ),
    "US_RENEWAL_AFTER_EXPIRY": pgettext_lazy(
        "finding US_RENEWAL_AFTER_EXPIRY",
        "The renewal arrived after the preservation expired ({expired_at}): treated as a new request for what "
        "still exists.",
    ),
    "EMG_STATEMENT_MISSING": pgettext_lazy(
        "finding EMG_STATEMENT_MISSING",
        "A voluntary emergency disclosure needs a statement of the emergency involving danger of death or serious"
        " physical injury.",
    ),
    "EMG_PROVIDER_DISCRETION": pgettext_lazy(
        "finding EMG_PROVIDER_DISCRETION",
        "Voluntary disclosure at our discretion, in good faith: verify by call-back, then decide; ask for legal "
        "process afterwards.",
    ),
    "EMG_CATEGORY_EXCLUDED": pgettext_lazy(
        "finding EMG_CATEGORY_EXCLUDED",
        "Our policy does not disclose {category} data voluntarily in an emergency.",
    ),
    "US_FOREIGN_AUTHORITY": pgettext_lazy(
        "finding US_FOREIGN_AUTHORITY",
        "An authority of {country} is not a governmental entity of 18 U.S.C. § 2711(4): the emergency exceptions "
        "of § 2702(b)(8) and (c)(4) do not apply to it.",
    ),
    "US_FOREIGN_RECORDS_POLICY": pgettext_lazy(
        "finding US_FOREIGN_RECORDS_POLICY",
        "Records ({category}) may be disclosed to a foreign authority under 18 U.S.C. § 2702(c)(6), as our policy"
        " decides: a person decides.",
    ),
    "US_FOREIGN_RECORDS_NOT_DISCLOSED": pgettext_lazy(
        "finding US_FOREIGN_RECORDS_NOT_DISCLOSED",
        "Our policy does not disclose {category} records to foreign authorities voluntarily.",
    ),
    "US_FOREIGN_CONTENT_BARRED": pgettext_lazy(
        "finding US_FOREIGN_CONTENT_BARRED",
        "Contents may not be disclosed to an authority of {country}: no executive agreement under 18 U.S.C. § "
        "2523 covers it (§ 2702(b)(9)); use mutual legal assistance.",
    ),
    "US_FOREIGN_2523_AGREEMENT": pgettext_lazy(
        "finding US_FOREIGN_2523_AGREEMENT",
        "Contents may go to an authority of {country} only pursuant to an order subject to its executive "
        "agreement under 18 U.S.C. § 2523 (§ 2702(b)(9)): check the order.",
    ),
    "EE_SCA_CONTENT_CONFLICT": pgettext_lazy(
        "finding EE_SCA_CONTENT_CONFLICT",
        "Content data: 18 U.S.C. § 2702(a) bars disclosing contents to an authority of {country} (no "
        "executive agreement under § 2523): a person decides whether to file a reasoned objection under Art. "
        "17 within 10 days; the data stay preserved.",
    ),
    "US_FOREIGN_2523_ORDER_REQUIRED": pgettext_lazy(
        "finding US_FOREIGN_2523_ORDER_REQUIRED",
        "Contents may go to an authority of {country} only pursuant to an order subject to its executive "
        "agreement under 18 U.S.C. § 2523 (§ 2702(b)(9)); the request is not an order issued or validated by "
        "a judge or court.",
    ),
    "DSA9_NO_DATA_DISCLOSURE": pgettext_lazy(
        "finding DSA9_NO_DATA_DISCLOSURE",
        "An order to act against illegal content does not authorise disclosing {category} data: use an order to "
        "provide information (Art. 10) or criminal procedure.",
    ),
    "DSA10_REASONS_MISSING": pgettext_lazy(
        "finding DSA10_REASONS_MISSING",
        "The statement of reasons is missing: it may be withheld only where the prevention, detection, "
        "investigation or prosecution of criminal offences requires it.",
    ),
    "DSA10_REASONS_WITHHELD_CHECK": pgettext_lazy(
        "finding DSA10_REASONS_WITHHELD_CHECK",
        "The order, issued by {issuer_type}, gives no statement of reasons: allowed only if it serves the "
        "prevention, detection, investigation or prosecution of criminal offences; a person checks that it "
        "does, otherwise asks for the reasons.",
    ),
    "DSA10_PRIVATE_CONTENT_REVIEW": pgettext_lazy(
        "finding DSA10_PRIVATE_CONTENT_REVIEW",
        "The order asks for the content of private communications: a person decides whether an information order "
        "reaches it.",
    ),
    "POL_JUDICIAL_ORDER_REQUIRED": pgettext_lazy(
        "finding POL_JUDICIAL_ORDER_REQUIRED",
        "Our policy discloses {category} data only on a valid order of a judicial authority.",
    ),
    "POL_SUSPECT_REQUIRED": pgettext_lazy(
        "finding POL_SUSPECT_REQUIRED",
        "Our policy discloses data only where the order confirms the user is a suspect.",
    ),
    "POL_SUSPECT_UNCONFIRMED": pgettext_lazy(
        "finding POL_SUSPECT_UNCONFIRMED",
        "The request does not say whether the user is a suspect: legal analysis.",
    ),
    "POL_MLAT_REQUIRED": pgettext_lazy(
        "finding POL_MLAT_REQUIRED",
        "{category} data are disclosed to this authority only through {redirect_to}.",
    ),
    "POL_REDIRECT_MLAT": pgettext_lazy(
        "finding POL_REDIRECT_MLAT",
        "Nothing requested can be disclosed on this route: redirect to {redirect_to}.",
    ),
    "POL_SCOPE_LIMITED": pgettext_lazy(
        "finding POL_SCOPE_LIMITED",
        "Disclosure limited to {scope}, after a legal analysis.",
    ),
    "NAT_DOMESTIC_ORDER": pgettext_lazy(
        "finding NAT_DOMESTIC_ORDER",
        "A national order of {country}, where our establishment is: assess under national law.",
    ),
    "NAT_NOT_BINDING": pgettext_lazy(
        "finding NAT_NOT_BINDING",
        "A national order of {country} does not bind us across borders: treated as a voluntary request under our "
        "policy; the authority may issue an EPOC instead.",
    ),
}
# fmt: on

# --- Vocabulary values that fill the texts (the engine's codes as msgids) -------------------
CATEGORIES: Final[dict[str, Promise]] = {
    "subscriber": pgettext_lazy("data category in a finding", "subscriber"),
    "identification": pgettext_lazy("data category in a finding", "identification"),
    "traffic": pgettext_lazy("data category in a finding", "traffic"),
    "content": pgettext_lazy("data category in a finding", "content"),
}
AUTHORITY_TYPES: Final[dict[str, Promise]] = {
    "judge": pgettext_lazy("authority type in a finding", "judge"),
    "court": pgettext_lazy("authority type in a finding", "court"),
    "investigating_judge": pgettext_lazy("authority type in a finding", "investigating_judge"),
    "prosecutor": pgettext_lazy("authority type in a finding", "prosecutor"),
    "other_competent": pgettext_lazy("authority type in a finding", "other_competent"),
    "administrative": pgettext_lazy("authority type in a finding", "administrative"),
}
# The same types as the agent of "issued by" / "validated by", each with the article that
# belongs to it (never "a {type}" in a text: "a administrative authority", and in French and
# German the article's gender and case follow the noun). The English equals the engine's
# (rules/vocab.py AUTHORITY_BY); German declines it in the accusative, after "durch".
AUTHORITIES_BY: Final[dict[str, Promise]] = {
    "judge": pgettext_lazy("authority after 'by', with its article (German: accusative)", "a judge"),
    "court": pgettext_lazy("authority after 'by', with its article (German: accusative)", "a court"),
    "investigating_judge": pgettext_lazy(
        "authority after 'by', with its article (German: accusative)", "an investigating judge"
    ),
    "prosecutor": pgettext_lazy("authority after 'by', with its article (German: accusative)", "a public prosecutor"),
    "other_competent": pgettext_lazy(
        "authority after 'by', with its article (German: accusative)", "the police or another competent authority"
    ),
    "administrative": pgettext_lazy(
        "authority after 'by', with its article (German: accusative)", "an administrative authority"
    ),
}
VALIDATORS: Final[dict[str, Promise]] = {  # message_params["validators_code"]
    "judicial": pgettext_lazy("validating authorities in a finding", "a judge, court or investigating judge"),
    "judicial_or_prosecutor": pgettext_lazy(
        "validating authorities in a finding", "a judge, court, investigating judge or public prosecutor"
    ),
}
INSTRUMENTS: Final[dict[str, Promise]] = {
    "dsa_information_order": pgettext_lazy("instrument in a finding", "dsa_information_order"),
    "dsa_removal_order": pgettext_lazy("instrument in a finding", "dsa_removal_order"),
    "emergency_disclosure": pgettext_lazy("instrument in a finding", "emergency_disclosure"),
    "epoc": pgettext_lazy("instrument in a finding", "epoc"),
    "epoc_pr": pgettext_lazy("instrument in a finding", "epoc_pr"),
    "national_order": pgettext_lazy("instrument in a finding", "national_order"),
    "preservation_extension": pgettext_lazy("instrument in a finding", "preservation_extension"),
    "production_confirmation": pgettext_lazy("instrument in a finding", "production_confirmation"),
    "us_court_order": pgettext_lazy("instrument in a finding", "us_court_order"),
    "us_preservation": pgettext_lazy("instrument in a finding", "us_preservation"),
    "us_search_warrant": pgettext_lazy("instrument in a finding", "us_search_warrant"),
    "us_subpoena": pgettext_lazy("instrument in a finding", "us_subpoena"),
}
LISTED_OFFENCES: Final[dict[str, Promise]] = {
    "child_sexual_abuse": pgettext_lazy("listed offence in a finding", "child_sexual_abuse"),
    "information_system_attack": pgettext_lazy("listed offence in a finding", "information_system_attack"),
    "non_cash_payment_fraud": pgettext_lazy("listed offence in a finding", "non_cash_payment_fraud"),
    "terrorism": pgettext_lazy("listed offence in a finding", "terrorism"),
}
TARGET_KINDS: Final[dict[str, Promise]] = {
    "channel_url": pgettext_lazy("target kind in a finding", "channel_url"),
    "email": pgettext_lazy("target kind in a finding", "email"),
    "ip_address": pgettext_lazy("target kind in a finding", "ip_address"),
    "message_url": pgettext_lazy("target kind in a finding", "message_url"),
    "phone": pgettext_lazy("target kind in a finding", "phone"),
    "user_id": pgettext_lazy("target kind in a finding", "user_id"),
    "username": pgettext_lazy("target kind in a finding", "username"),
}
STATUSES: Final[dict[str, Promise]] = {
    "closed": pgettext_lazy("request status in a finding", "closed"),
    "not_executed": pgettext_lazy("request status in a finding", "not_executed"),
    "refused": pgettext_lazy("request status in a finding", "refused"),
    "released": pgettext_lazy("request status in a finding", "released"),
    "rerouted": pgettext_lazy("request status in a finding", "rerouted"),
    "withdrawn": pgettext_lazy("request status in a finding", "withdrawn"),
}
SENTENCE_MONTHS = pgettext_lazy("sentence execution defect in a finding", "{months} months")
SENTENCE_IN_ABSENTIA = pgettext_lazy("sentence execution defect in a finding", "rendered in absentia")
SENTENCE_NOT_ABSCONDED = pgettext_lazy("sentence execution defect in a finding", "the person did not abscond")
RECIPIENTS = pgettext_lazy("referral recipients in a finding", "the law-enforcement authorities of {states}")
RECIPIENTS_AND_EUROPOL = pgettext_lazy(
    "referral recipients in a finding", "the law-enforcement authorities of {states} and Europol"
)

# Parameter name -> the vocabulary its value comes from.
VALUE_PARAMETERS: Final[dict[str, Mapping[str, Promise]]] = {
    "category": CATEGORIES,
    "issuer_type": AUTHORITY_TYPES,
    "validator_type": AUTHORITY_TYPES,
    "instrument": INSTRUMENTS,
    "linked_instrument": INSTRUMENTS,
    "expected": INSTRUMENTS,
    "listed": LISTED_OFFENCES,
    "kind": TARGET_KINDS,
    "status": STATUSES,
}
# (code, parameter) -> the vocabulary of that parameter in that code's text, where it differs
# from VALUE_PARAMETERS (rules/catalogue.py AUTHORITY_BY_PARAMETERS, the engine's English).
CODE_VALUE_PARAMETERS: Final[dict[tuple[str, str], Mapping[str, Promise]]] = {
    ("EE_VALIDATION_REQUIRED", "issuer_type"): AUTHORITIES_BY,
    ("EE_VALIDATOR_NOT_COMPETENT", "validator_type"): AUTHORITIES_BY,
    ("EE_EMERGENCY_VALIDATOR_NOT_COMPETENT", "validator_type"): AUTHORITIES_BY,
    ("DSA10_REASONS_WITHHELD_CHECK", "issuer_type"): AUTHORITIES_BY,
}
LIST_PARAMETERS: Final[dict[str, Mapping[str, Promise]]] = {"categories": CATEGORIES}  # ", "-joined codes
DATE_PARAMETERS: Final = frozenset({"received_on"})  # ISO dates
DATETIME_PARAMETERS: Final = frozenset(
    {"received_at", "period_end", "expires_at", "expired_at", "filed_at", "due_at", "window_end", "original_due_at"}
)  # ISO date-times, written in the establishment's time zone
# Parameters that only carry the parts of another one.
HELPER_PARAMETERS: Final = frozenset(
    {"validators_code", "sentence_months", "in_absentia", "absconded", "states", "europol", "instrument_code"}
)


class MissingParameter(KeyError):
    """The stored finding lacks a parameter its text needs (e.g. stored before it existed)."""


# --- Dates in the active language -------------------------------------------------------------
CITIES: Final[dict[str, Promise]] = {  # IANA zone -> its city, for "Brussels time"
    "Europe/Brussels": pgettext_lazy("time zone city", "Brussels"),
    "Europe/Luxembourg": pgettext_lazy("time zone city", "Luxembourg"),
    "Europe/Paris": pgettext_lazy("time zone city", "Paris"),
    "Europe/Berlin": pgettext_lazy("time zone city", "Berlin"),
    "Europe/Vienna": pgettext_lazy("time zone city", "Vienna"),
    "Europe/Rome": pgettext_lazy("time zone city", "Rome"),
    "Europe/Madrid": pgettext_lazy("time zone city", "Madrid"),
    "Atlantic/Canary": pgettext_lazy("time zone city", "Canary Islands"),
    "Europe/Lisbon": pgettext_lazy("time zone city", "Lisbon"),
    "Atlantic/Azores": pgettext_lazy("time zone city", "Azores"),
    "Atlantic/Madeira": pgettext_lazy("time zone city", "Madeira"),
    "Europe/Amsterdam": pgettext_lazy("time zone city", "Amsterdam"),
    "Europe/Athens": pgettext_lazy("time zone city", "Athens"),
    "Europe/Warsaw": pgettext_lazy("time zone city", "Warsaw"),
    "Europe/Prague": pgettext_lazy("time zone city", "Prague"),
    "Europe/Copenhagen": pgettext_lazy("time zone city", "Copenhagen"),
    "Europe/Bucharest": pgettext_lazy("time zone city", "Bucharest"),
    "Asia/Nicosia": pgettext_lazy("time zone city", "Nicosia"),
    "Europe/Dublin": pgettext_lazy("time zone city", "Dublin"),
}


def zone_label(name: str) -> str:
    """``Europe/Brussels`` -> "Brussels time" / "heure de Bruxelles" / "Brüsseler Zeit"."""
    if name.upper() == "UTC":
        return "UTC"
    city = CITIES.get(name)
    city_text = str(city) if city is not None else name.rsplit("/", 1)[-1].replace("_", " ")
    return pgettext("time zone label", "{city} time").format(city=city_text)


def local_when(moment: datetime, zone_name: str, *, with_time: bool = True) -> str:
    """``moment`` in ``zone_name``, written in the active language (month and weekday names)."""
    local = moment.astimezone(ZoneInfo(zone_name))
    if with_time:
        return dateformat.format(local, pgettext("date format in a text (django.utils.dateformat)", "D j M Y H:i"))
    return dateformat.format(local, pgettext("date format in a text (django.utils.dateformat)", "D j M Y"))


# The same instant in the reader's zone, after the one in the zone the rule counts in; where
# the two read alike (Paris and Brussels) only the reader's zone is named.
IN_READERS_ZONE: Final = pgettext_lazy("deadline: the same instant in the reader's time zone", "{when} (= {local})")
SAME_IN_READERS_ZONE: Final = pgettext_lazy(
    "deadline: the same wall-clock time in the reader's time zone", "{when} (= {zone})")


def written_for_reader(moment: datetime, zone_name: str, reader_zone: str | None) -> str:
    """``moment`` in the zone the rule counts in, labelled; followed by the same instant in
    ``reader_zone`` when the reader reads times in another zone (issue 13 item 1): the legal
    anchor stays, the reader need not convert it."""
    written = local_when(moment, zone_name)
    text = f"{written} {zone_label(zone_name)}"
    if not reader_zone or reader_zone == zone_name:
        return text
    in_reader = local_when(moment, reader_zone)
    if in_reader == written:
        return str(SAME_IN_READERS_ZONE).format(when=text, zone=zone_label(reader_zone))
    return str(IN_READERS_ZONE).format(when=text, local=f"{in_reader} {zone_label(reader_zone)}")


def establishment_zone() -> str:
    from .provider import provider_config

    return provider_config().establishment_time_zone


# --- Findings -------------------------------------------------------------------------------
def _vocabulary(values: Mapping[str, Promise], value: str) -> str:
    text = values.get(value)
    return str(text) if text is not None else value


def _date_param(name: str, value: str, reader_zone: str | None = None) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if name in DATE_PARAMETERS or moment.tzinfo is None:
        return dateformat.format(moment, pgettext("date format in a text (django.utils.dateformat)", "D j M Y"))
    return written_for_reader(moment, establishment_zone(), reader_zone)


def _sentence_detail(params: Mapping[str, Any]) -> str:
    if "in_absentia" not in params or "absconded" not in params:
        raise MissingParameter("in_absentia")
    parts = []
    if params.get("sentence_months") is not None:
        parts.append(str(SENTENCE_MONTHS).format(months=params["sentence_months"]))
    if params["in_absentia"]:
        parts.append(str(SENTENCE_IN_ABSENTIA))
    if not params["absconded"]:
        parts.append(str(SENTENCE_NOT_ABSCONDED))
    return ", ".join(parts)


def translated_params(code: str, params: Mapping[str, Any], reader_zone: str | None = None) -> dict[str, Any]:
    """``params`` ready for the text of ``code`` in the active language (instants also in
    ``reader_zone`` where it is not the establishment's)."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        if name in HELPER_PARAMETERS:
            continue
        if isinstance(value, str) and (code, name) in CODE_VALUE_PARAMETERS:
            out[name] = _vocabulary(CODE_VALUE_PARAMETERS[(code, name)], value)
        elif isinstance(value, str) and name in VALUE_PARAMETERS:
            out[name] = _vocabulary(VALUE_PARAMETERS[name], value)
        elif isinstance(value, str) and name in LIST_PARAMETERS:
            out[name] = ", ".join(_vocabulary(LIST_PARAMETERS[name], part) for part in value.split(", "))
        elif isinstance(value, str) and name in DATE_PARAMETERS | DATETIME_PARAMETERS:
            out[name] = _date_param(name, value, reader_zone)
        else:
            out[name] = value
    if "validators" in params:
        validators = VALIDATORS.get(str(params.get("validators_code")))
        if validators is None:
            raise MissingParameter("validators_code")
        out["validators"] = str(validators)
    if "detail" in params and code == "EE_SENTENCE_EXECUTION_CONDITIONS":
        out["detail"] = _sentence_detail(params)
    if "recipients" in params:
        if "states" not in params:
            raise MissingParameter("states")
        template = RECIPIENTS_AND_EUROPOL if params.get("europol") else RECIPIENTS
        out["recipients"] = str(template).format(states=params["states"])
    if code == "US_COURT_NOT_IDENTIFIED" and params.get("instrument_code"):
        out["instrument"] = _vocabulary(INSTRUMENTS, str(params["instrument_code"]))
    return out


def finding_text(finding: Mapping[str, Any], reader_zone: str | None = None) -> str:
    """The text of ``finding`` (a ``Finding.to_dict()``, stored or fresh) in the active language.

    Looked up by ``code``. Only an unknown code, or a finding stored before a parameter its
    text needs existed, falls back to the stored English ``message``.
    """
    fallback = str(finding.get("message") or "")
    template = FINDING_TEXTS.get(str(finding.get("code") or ""))
    if template is None:
        return fallback
    params = finding.get("message_params") or {}
    try:
        return str(template).format(**translated_params(str(finding["code"]), params, reader_zone))
    except (KeyError, IndexError, ValueError):
        return fallback
