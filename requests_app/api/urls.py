from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

app_name = "api"

urlpatterns = [
    path("requests/", views.RequestListCreateView.as_view(), name="request-list"),
    path("requests/check/", views.RequestCheckView.as_view(), name="request-check"),
    path("requests/<str:reference>/", views.RequestDetailView.as_view(), name="request-detail"),
    path("requests/<str:reference>/withdraw/", views.RequestWithdrawView.as_view(), name="request-withdraw"),
    path("requests/<str:reference>/clarifications/", views.RequestClarificationView.as_view(),
         name="request-clarifications"),
    path("requests/<str:reference>/attachments/", views.AttachmentListCreateView.as_view(),
         name="request-attachments"),
    path("requests/<str:reference>/attachments/<int:attachment_id>/", views.AttachmentDownloadView.as_view(),
         name="attachment-download"),
    path("requests/<str:reference>/messages/", views.MessageCreateView.as_view(), name="request-messages"),
    path("requests/<str:reference>/response/", views.ResponseView.as_view(), name="request-response"),
    path("requests/<str:reference>/response/files/<int:file_id>/", views.ResponseFileView.as_view(),
         name="response-file"),
    path("requests/<str:reference>/annex-iii/<int:form_id>/pdf/", views.AnnexIIIPdfView.as_view(),
         name="annex-iii-pdf"),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[], authentication_classes=[]), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema", permission_classes=[],
                                                      authentication_classes=[]), name="docs"),
]
