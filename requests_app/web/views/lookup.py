"""Finding a request for the signed-in officer: through ``requests_app.access`` only."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from requests_app.access import RequestNotFound, get_visible_request, visible_requests
from requests_app.models import AnnexIII, LegalRequest, Target

from ..decorators import client_ip


def find_request(request: HttpRequest, reference: str, *, detail: bool = False) -> LegalRequest:
    """The request if the officer's authority may see it; 404 (audited) otherwise."""
    queryset = None
    if detail:
        queryset = visible_requests(request.user).select_related("submitted_by").prefetch_related(
            Prefetch("targets", queryset=Target.objects.order_by("id")), "attachments", "messages__author",
            # A draft awaiting four eyes is never shown to the authority.
            Prefetch("annex_iii", queryset=AnnexIII.objects.filter(sent_at__isnull=False).order_by("created_at", "id")),
        )
    try:
        return get_visible_request(request.user, reference, ip_address=client_ip(request), queryset=queryset)
    except RequestNotFound as exc:
        raise Http404(_("No such request.")) from exc
