"""The person's own settings: the language the portal and its e-mails use for them (the
profile page), and the time zone they read times in (issue 13 items 1 and 8).

For every signed-in person, officers and the legal team alike (the admin shows times in the
same zone). An empty zone returns to the default for them (accounts/zones.py).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.services import user_set_language, user_set_time_zone
from accounts.zones import default_zone_for, default_zone_label, known_zones
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
    return render(request, "portal/profile.html", {"form": form, "default_zone_label": default_zone_label(user)},
                  status=400 if form.errors else 200)


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(label=gettext_lazy("Time zone"), required=False)

    def __init__(self, *args: Any, default_label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["time_zone"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", default_label)] + [
            (zone, zone) for zone in sorted(known_zones()) if "/" in zone or zone == "UTC"]


@login_required
@require_http_methods(["GET", "POST"])
def time_zone(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    default = default_zone_for(user)
    form = TimeZoneForm(request.POST or None, default_label=default_zone_label(user),
                        initial={"time_zone": user.time_zone})
    if request.method == "POST" and form.is_valid():
        try:
            user_set_time_zone(user=user, time_zone=form.cleaned_data["time_zone"])
        except ValidationError as error:
            form.add_error("time_zone", error.message_dict.get("time_zone", error.messages))
        else:
            messages.success(request, _("Times are now shown in %(zone)s.")
                             % {"zone": form.cleaned_data["time_zone"] or default})
            return redirect("portal:time_zone")
    return render(request, "portal/time_zone.html", {"form": form, "default_zone": default,
                                                     "default_zone_label": default_zone_label(user)},
                  status=400 if form.errors else 200)
