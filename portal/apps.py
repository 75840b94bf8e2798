from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """Django's admin with the portal's site as ``admin.site`` (requests_app/admin_views/site.py).
    Listed in ``INSTALLED_APPS`` instead of ``django.contrib.admin``; the app label stays ``admin``."""

    default_site = "requests_app.admin_views.site.PortalAdminSite"
