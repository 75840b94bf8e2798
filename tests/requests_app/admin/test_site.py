"""The admin is one custom site (requests_app/admin_views/site.py), configured in one place
(``portal.apps.PortalAdminConfig.default_site``): no method of Django's site is reassigned."""

from __future__ import annotations

from django.contrib import admin
from django.urls import resolve

from requests_app.admin_views.site import PortalAdminSite
from requests_app.models import LegalRequest


def test_the_admin_is_the_portal_site_and_its_behaviour_is_its_class():
    site = admin.site._wrapped if hasattr(admin.site, "_wrapped") else admin.site
    assert type(site) is PortalAdminSite
    # The pages under /admin/ are served by that site, and the models are registered on it.
    assert resolve("/admin/").func.admin_site is site  # type: ignore[attr-defined]
    assert LegalRequest in site._registry
    # Nothing patched onto the instance: the index, the app list and the sign-in are the class's.
    assert not {"index", "get_app_list", "login", "index_template", "site_header"} & set(vars(site))
