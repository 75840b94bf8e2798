"""API tokens: created after re-authentication, shown once, stored only as a hash."""

from __future__ import annotations

from typing import Any

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.models import ApiToken
from accounts.services import token_issue, token_revoke

from ..decorators import officer_required
from ..forms.misc import TokenForm


def _page(request: HttpRequest, form: TokenForm, *, raw: str = "", status: int = 200) -> HttpResponse:
    user: Any = request.user
    tokens = ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")
    return render(request, "portal/tokens.html", {"form": form, "tokens": tokens, "raw_token": raw}, status=status)


@never_cache
@officer_required
@require_GET
def token_list(request: HttpRequest) -> HttpResponse:
    return _page(request, TokenForm())


@never_cache
@officer_required
@reauthentication_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        user: Any = request.user
        _token, raw = token_issue(actor=user, user=user, name=form.cleaned_data["name"],
                                  days=form.cleaned_data["days"])
    except ValidationError as error:
        form.add_error(None, error)
        return _page(request, form, status=400)
    # Rendered, not redirected: the secret never goes into the session or a URL.
    return _page(request, TokenForm(), raw=raw)


@officer_required
@require_POST
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    user: Any = request.user
    token = ApiToken.objects.filter(user=user, pk=token_id).select_related("user").first()
    if token is None:
        raise Http404(_("No such token."))
    token_revoke(actor=request.user, token=token)
    messages.success(request, _("The token %(prefix)s… has been revoked.") % {"prefix": token.prefix})
    return redirect("portal:tokens")
