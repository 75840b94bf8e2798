"""The person's own settings: the time zone they read times in (issue 13 item 1).

For every signed-in person, officers and the legal team alike (the admin shows times in the
same zone). Empty returns to the default for them (accounts/zones.py).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.services import user_set_time_zone
from accounts.zones import default_zone_for, known_zones


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(label=gettext_lazy("Time zone"), required=False)

    def __init__(self, *args: Any, default: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["time_zone"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Default (%(zone)s)") % {"zone": default})] + [
            (zone, zone) for zone in sorted(known_zones()) if "/" in zone or zone == "UTC"]


@login_required
@require_http_methods(["GET", "POST"])
def time_zone(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    default = default_zone_for(user)
    form = TimeZoneForm(request.POST or None, default=default, initial={"time_zone": user.time_zone})
    if request.method == "POST" and form.is_valid():
        try:
            user_set_time_zone(user=user, time_zone=form.cleaned_data["time_zone"])
        except ValidationError as error:
            form.add_error("time_zone", error.message_dict.get("time_zone", error.messages))
        else:
            messages.success(request, _("Times are now shown in %(zone)s.")
                             % {"zone": form.cleaned_data["time_zone"] or default})
            return redirect("portal:time_zone")
    return render(request, "portal/time_zone.html", {"form": form, "default_zone": default},
                  status=400 if form.errors else 200)
