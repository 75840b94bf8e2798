from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from accounts import enrolment
from portal.errors import favicon
from requests_app import views as web_views

urlpatterns = [
    # First: every API call was matched against the portal's page patterns before reaching these
    # (~3 % of the web's CPU per submission, issue 9 item 5). No page pattern starts with "api/"
    # (tests/test_url_order.py), so no path resolves differently.
    path("api/v1/", include("requests_app.api.urls")),
    path("", include("requests_app.web.urls")),
    path("healthz", web_views.healthz, name="healthz"),
    path("accounts/2fa/continue/", enrolment.mfa_continue, name="mfa_continue"),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # The audit trail and the outbox moved to apps of their own: old admin links still land.
    *(re_path(rf"^admin/requests_app/{model}/(?P<rest>.*)$",
              RedirectView.as_view(url=f"/admin/{app}/{model}/%(rest)s", query_string=True, permanent=True))
      for app, model in (("audit", "auditevent"), ("outbox", "outboxmessage"))),
    # The portal's admin site (requests_app/admin_views/site.py; portal.apps.PortalAdminConfig).
    path("admin/", admin.site.urls),
    path("favicon.ico", favicon, name="favicon"),
]

handler400 = "portal.errors.bad_request"
handler403 = "portal.errors.permission_denied"
handler404 = "portal.errors.page_not_found"
handler500 = "portal.errors.server_error"
