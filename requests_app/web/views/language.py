"""The language switcher: Django's set_language, and the choice kept on the user's account so
e-mails reach them in it too."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from accounts.services import user_set_language


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if user.is_authenticated:
        user_set_language(user=user, language=request.POST.get("language", ""))
    return django_set_language(request)
