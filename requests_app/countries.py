"""Country names for the codes the provider hears from (the EU member states, the United States,
the United Kingdom), so that a person reads "Austria (AT)" and not a bare code (issue 13 item 4).

One table, translated like every other label; codes stay the ISO 3166-1 alpha-2 codes the
records hold (Greece as GR, with the EU's EL read as an alias elsewhere: rules/vocab.py).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from django.utils.translation import gettext_lazy as _

COUNTRY_NAMES: Final = MappingProxyType({
    "AT": _("Austria"), "BE": _("Belgium"), "BG": _("Bulgaria"), "CY": _("Cyprus"), "CZ": _("Czechia"),
    "DE": _("Germany"), "DK": _("Denmark"), "EE": _("Estonia"), "ES": _("Spain"), "FI": _("Finland"),
    "FR": _("France"), "GR": _("Greece"), "HR": _("Croatia"), "HU": _("Hungary"), "IE": _("Ireland"),
    "IT": _("Italy"), "LT": _("Lithuania"), "LU": _("Luxembourg"), "LV": _("Latvia"), "MT": _("Malta"),
    "NL": _("Netherlands"), "PL": _("Poland"), "PT": _("Portugal"), "RO": _("Romania"), "SE": _("Sweden"),
    "SI": _("Slovenia"), "SK": _("Slovakia"), "US": _("United States"), "GB": _("United Kingdom"),
})


def country_label(code: str | None) -> str:
    """ "Austria (AT)"; the bare code for a country the table does not name; "—" for none."""
    if not code:
        return "—"
    name = COUNTRY_NAMES.get(code.upper())
    return f"{name} ({code.upper()})" if name else code.upper()
