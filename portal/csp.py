"""django-csp's middleware, its two policy texts built once per policy setting.

django-csp builds the ``Content-Security-Policy`` (and report-only) text for every response:
a copy of the configured directives, each value copied, sorted and joined (~2 % of the web CPU
of an API submission; issue 9 item 5). The text depends only on the settings unless the
response varies it: a nonce used while rendering, or a ``csp_update``/``csp_replace``/
``csp_override`` decorator. Where either is present this middleware is django-csp's own;
otherwise it sets the same headers under the same conditions (not exempted, not already set,
not an excluded URL prefix, the DEBUG error pages left alone) from texts built once per
setting object (``override_settings`` gives a new object, so tests see their own policy).
"""

from __future__ import annotations

import http.client
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
from django.conf import settings

# What a view or decorator sets on a response to vary its policy (django-csp 4.0).
_PER_RESPONSE = ("_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")
_DEBUG_EXEMPT = (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND)

_built: list[tuple[Any, Any, str, str]] = []  # (policy setting, report-only setting, text, report-only text)


def static_policies() -> tuple[str, str]:
    """The policy and report-only texts of the settings as they are, built once per setting object."""
    policy = getattr(settings, "CONTENT_SECURITY_POLICY", None)
    report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
    if _built and _built[0][0] is policy and _built[0][1] is report_only:
        return _built[0][2], _built[0][3]
    texts = (build_policy(), build_policy(report_only=True))
    _built[:] = [(policy, report_only, *texts)]
    return texts


class CSPMiddleware(DjangoCSPMiddleware):
    def process_response(self, request: Any, response: Any) -> Any:
        if (getattr(request, "_csp_nonce", None) is not None
                or any(getattr(response, name, None) is not None for name in _PER_RESPONSE)):
            return super().process_response(request, response)
        if response.status_code in _DEBUG_EXEMPT and settings.DEBUG:
            return response
        policy, report_only = static_policies()
        for header, text, exempt, setting in (
                (HEADER, policy, "_csp_exempt", "CONTENT_SECURITY_POLICY"),
                (HEADER_REPORT_ONLY, report_only, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY")):
            if not text or getattr(response, exempt, False) is not False or header in response:
                continue
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ()
            if not request.path_info.startswith(tuple(prefixes)):
                response[header] = text
        # As django-csp: a nonce asked for after the header is written is an error, not a silent gap.
        if getattr(request, "_csp_nonce", None) is None:
            request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
