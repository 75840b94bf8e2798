from django.contrib import admin
from django.urls import include, path

from requests_app import views as web_views

admin.site.site_header = "Lawful Request Portal: legal team"
admin.site.site_title = "Lawful Request Portal"

urlpatterns = [
    path("", web_views.home, name="home"),
    path("healthz", web_views.healthz, name="healthz"),
    path("api/v1/", include("requests_app.api.urls")),
    path("admin/", admin.site.urls),
]
