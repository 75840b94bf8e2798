"""The authority portal, included at the site root (portal/urls.py)."""

from django.urls import path

from .views import actions, clarification, detail, home, language, officers, profile, registration, submit, tokens

app_name = "portal"

urlpatterns = [
    path("", home.home, name="home"),
    path("awaiting-approval/", home.awaiting_approval, name="awaiting_approval"),
    path("register-authority/", registration.authority_registration, name="authority_registration"),
    path("register-authority/sent/", registration.authority_registration_done, name="authority_registration_done"),
    path("i18n/language/", language.set_language, name="set_language"),
    path("settings/time-zone/", profile.time_zone, name="time_zone"),
    path("profile/", profile.profile, name="profile"),
    path("requests/", home.request_list, name="request_list"),
    path("requests/new/", submit.request_new, name="request_new"),
    path("requests/check/", submit.request_check, name="request_check"),
    path("requests/<str:reference>/", detail.request_detail, name="request_detail"),
    path("requests/<str:reference>/receipt/", submit.request_receipt, name="request_receipt"),
    path("requests/<str:reference>/messages/", actions.message_create, name="message_create"),
    path("requests/<str:reference>/withdraw/", actions.request_withdraw_view, name="request_withdraw"),
    path("requests/<str:reference>/clarification/", clarification.clarification_answer, name="clarification"),
    path("requests/<str:reference>/attachments/", actions.attachment_upload, name="attachment_upload"),
    path("requests/<str:reference>/attachments/<int:attachment_id>/", actions.attachment_download,
         name="attachment_download"),
    path("files/<str:token>/", actions.attachment_file, name="attachment_file"),
    path("requests/<str:reference>/response/files/<int:file_id>/", actions.response_download,
         name="response_download"),
    path("requests/<str:reference>/annex-iii/<int:form_id>/pdf/", actions.annex_iii_download,
         name="annex_iii_download"),
    path("tokens/", tokens.token_list, name="tokens"),
    path("tokens/new/", tokens.token_create, name="token_create"),
    path("tokens/<int:token_id>/revoke/", tokens.token_revoke_view, name="token_revoke"),
    path("officers/", officers.officer_list, name="officers"),
    path("officers/<int:officer_id>/approve/", officers.officer_approve_view, name="officer_approve"),
    path("officers/<int:officer_id>/deactivate/", officers.officer_deactivate_view, name="officer_deactivate"),
]
