"""The portal's URLs plus the two floor endpoints of bench/intake.py."""

from django.urls import include, path

from . import floor_views

urlpatterns = [
    path("bench/ping/", floor_views.ping, name="bench-ping"),
    path("bench/create/", floor_views.FloorCreateView.as_view(), name="bench-create"),
    path("", include("portal.urls")),
]
