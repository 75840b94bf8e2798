"""The portal's URLs plus one view that fails, for the 500 pages (tests/web/test_error_pages.py)."""

from django.urls import path

from portal.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def boom(request):
    raise RuntimeError("secret detail that must not be shown")


urlpatterns = [path("boom/", boom), path("admin/boom/", boom), *urlpatterns]
