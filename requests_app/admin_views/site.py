"""The portal's admin site: the one place where the legal team's admin differs from Django's.

Django's ``admin.site`` is an instance of this class (``portal.apps.PortalAdminConfig.default_site``,
in ``INSTALLED_APPS`` instead of ``django.contrib.admin``), so every ``admin.site.register`` /
``@admin.register`` of the project registers here and ``portal/urls.py`` mounts it as before:

- the title and header of every page;
- sign-in through allauth (rate limits, lockout, second factor) instead of the admin's own form;
- the index with the legal team's dashboard (``services.dashboard``) and the emergency alerts no
  e-mail reached (``services.dead_letters``), for whoever may review;
- the list of models (index and navigation sidebar) with the requests first and the technical
  plumbing in one "Operations (technical)" section (``app_list.legal_team_first``);
- every date-time in the viewer's zone, labelled, UTC on hover (``accounts/admin_dates.py``).
  Django has no per-site hook for how a value is displayed: its change lists and read-only
  fields call ``display_for_field`` / ``display_for_value`` by name, so the site installs those
  wrappers once when it is created (``admin_dates.install``, idempotent).
"""

from __future__ import annotations

from typing import Any

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from accounts import admin_dates

from .app_list import legal_team_first


class PortalAdminSite(admin.AdminSite):
    site_header = "Lawful Request Portal: legal team"
    site_title = "Lawful Request Portal"
    index_template = "admin/requests_app/site_index.html"

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)
        admin_dates.install()

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        # Signed-in staff see the admin's page; everyone else goes through allauth's sign-in.
        return secure_admin_login(super().login)(request, extra_context)

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        from ..permissions import can
        from ..services import dead_letters
        from ..services.dashboard import dashboard

        extra = dict(extra_context or {})
        if can(request.user, "review"):
            extra["lrp_dashboard"] = dashboard()
            extra["undelivered_alerts"] = dead_letters.undelivered_emergency_alerts()
        return super().index(request, extra)

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[Any]:
        found = super().get_app_list(request, app_label)
        # One app's page (``/admin/<app>/``) lists that app as Django does.
        return found if app_label else legal_team_first(found)
