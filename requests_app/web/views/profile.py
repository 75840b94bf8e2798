"""The person's profile: who they are, and the language the portal and its e-mails use for them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.services import user_set_language
from requests_app.templatetags.languages import language_choices_list

from ..forms.common import PortalForm


class ProfileForm(PortalForm):
    language = forms.ChoiceField(label=gettext_lazy("Language"), choices=language_choices_list,
                                 help_text=gettext_lazy("The portal and its e-mails use this language for you."))


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = ProfileForm(request.POST or None, initial={"language": user.language})
    if request.method == "POST" and form.is_valid():
        language = form.cleaned_data["language"]
        user_set_language(user=user, language=language)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        messages.success(request, _("Your language is saved."))
        response = redirect("portal:profile")
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
                            path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN,
                            secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                            samesite=settings.LANGUAGE_COOKIE_SAMESITE)
        return response
    return render(request, "portal/profile.html", {"form": form}, status=400 if form.errors else 200)
