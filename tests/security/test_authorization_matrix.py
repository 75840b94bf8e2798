"""Authorization matrix generated from the URL configuration (issue 14 item 3 of the controls).

Every named URL of the portal, the API and the admin (downloads included) is requested by
every persona with real objects in its parameters (authority A's request, its attachment, its
released response file, Annex III, a pending officer of A...). Each answer is reduced to a
class and compared with the table below. A URL without a row fails the test: a new view
cannot ship without someone deciding who may reach it (OWASP ASVS 4.0.3 V4.1.1–V4.2.1;
security.md §4, "object of another authority → 404").

Classes: ``ok`` 2xx · ``login`` redirect to a sign-in page · ``redirect`` another redirect ·
``403`` · ``404`` · ``405`` · ``401`` (API without usable credentials) · ``429``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from .matrix_world import PERSONAS, World, build_world, url_patterns

pytestmark = [pytest.mark.django_db]

# One row per URL (its name; unnamed admin redirects by route), one class per persona, in the
# order of PERSONAS:
#   anonymous officer other_officer suspended_officer deactivated_officer authority_admin
#   delegate colleague reviewer approver legal_admin superuser
# Authority A's request ("own") is confidential: its submitter (officer), its delegate and the
# authority administrator see it; a colleague of A and the officer of B get 404, like a request
# that does not exist. A suspended authority's officer is sent to the notice page (redirect);
# a deactivated officer's session is gone (login). The legal team never uses the portal (403)
# nor the API (401); officers never reach the admin (login). Root-of-trust records are never
# added or deleted in the admin, not even by a superuser (issue 14 item 3); a legal
# administrator cannot open a staff member's password form (item 4).
EXPECTED: dict[str, str] = {
    "portal:home": "ok ok ok redirect ok ok ok ok ok ok ok ok",
    "portal:awaiting_approval":
        "login redirect redirect ok login redirect redirect redirect ok ok ok ok",
    "portal:authority_registration": "ok ok ok ok ok ok ok ok ok ok ok ok",
    "portal:authority_registration_done": "ok ok ok ok ok ok ok ok ok ok ok ok",
    "portal:set_language":
        "405 405 405 405 405 405 405 405 405 405 405 405",
    # The person's own settings: every signed-in person, officers and the legal team alike.
    "portal:profile":
        "login ok ok redirect login ok ok ok ok ok ok ok",
    "portal:time_zone":
        "login ok ok redirect login ok ok ok ok ok ok ok",
    "portal:request_list":
        "login ok ok redirect login ok ok ok 403 403 403 403",
    "portal:request_new":
        "login ok ok redirect login ok ok ok 403 403 403 403",
    "portal:request_check":
        "login 405 405 redirect login 405 405 405 403 403 403 403",
    "portal:request_detail":
        "login ok 404 redirect login ok ok 404 403 403 403 403",
    "portal:request_receipt":
        "login ok 404 redirect login ok ok 404 403 403 403 403",
    "portal:message_create":
        "login 405 405 redirect login 405 405 405 403 403 403 403",
    "portal:request_withdraw":
        "login ok 404 redirect login ok ok 404 403 403 403 403",
    "portal:clarification":
        "login redirect 404 redirect login redirect redirect 404 403 403 403 403",
    "portal:attachment_upload":
        "login 405 405 redirect login 405 405 405 403 403 403 403",
    "portal:attachment_download":
        "login ok 404 redirect login ok ok 404 403 403 403 403",
    "portal:attachment_file":
        "404 404 404 redirect 404 404 404 404 404 404 404 404",
    "portal:response_download":
        "login ok 404 redirect login ok ok 404 403 403 403 403",
    "portal:annex_iii_download":
        "login ok 404 redirect login ok ok ok 403 403 403 403",
    "portal:tokens":
        "login ok ok redirect login ok ok ok 403 403 403 403",
    "portal:token_create":
        "login 405 405 redirect login 405 405 405 403 403 403 403",
    "portal:token_revoke":
        "login 405 405 redirect login 405 405 405 403 403 403 403",
    "portal:officers":
        "login 403 403 redirect login ok 403 403 403 403 403 403",
    "portal:officer_approve":
        "login 403 403 redirect login 405 403 403 403 403 403 403",
    "portal:officer_deactivate":
        "login 403 403 redirect login 405 403 403 403 403 403 403",
    "api:request-list": "401 ok ok 401 401 ok ok ok 401 401 401 401",
    "api:request-check":
        "401 405 405 401 401 405 405 405 401 401 401 401",
    "api:request-detail":
        "401 ok 404 401 401 ok ok 404 401 401 401 401",
    "api:request-withdraw":
        "401 405 405 401 401 405 405 405 401 401 401 401",
    "api:request-clarifications":
        "401 405 405 401 401 405 405 405 401 401 401 401",
    "api:request-attachments":
        "401 ok 404 401 401 ok ok 404 401 401 401 401",
    "api:attachment-download":
        "401 ok 404 401 401 ok ok 404 401 401 401 401",
    "api:request-messages":
        "401 405 405 401 401 405 405 405 401 401 401 401",
    "api:request-response":
        "401 ok 404 401 401 ok ok 404 401 401 401 401",
    "api:response-file":
        "401 ok 404 401 401 ok ok 404 401 401 401 401",
    "api:annex-iii-pdf":
        "401 ok 404 401 401 ok ok ok 401 401 401 401",
    "api:schema": "ok ok ok ok ok ok ok ok ok ok ok ok",
    "api:docs": "ok ok ok ok ok ok ok ok ok ok ok ok",
    "admin:index":
        "login login login redirect login login login login ok ok ok ok",
    "admin:login":
        "login 403 403 redirect login 403 403 403 redirect redirect redirect redirect",
    "admin:logout":
        "redirect redirect redirect redirect redirect redirect redirect redirect 405 405 405 405",
    "admin:password_change":
        "login login login redirect login login login login ok ok ok ok",
    "admin:password_change_done":
        "login login login redirect login login login login ok ok ok ok",
    "admin:autocomplete":
        "login login login redirect login login login login 403 403 403 403",
    "admin:jsi18n":
        "login login login redirect login login login login ok ok ok ok",
    "admin:view_on_site":
        "login login login redirect login login login login 404 404 404 404",
    "admin:auth_group_changelist":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:auth_group_add":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:auth_group_history":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:auth_group_delete":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:auth_group_change":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:admin/auth/group/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:django_celery_beat_periodictask_changelist":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:django_celery_beat_periodictask_add":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:django_celery_beat_periodictask_history":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:django_celery_beat_periodictask_delete":
        "login login login redirect login login login login 403 403 403 redirect",
    "admin:django_celery_beat_periodictask_change":
        "login login login redirect login login login login 403 403 403 redirect",
    "admin:admin/django_celery_beat/periodictask/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:django_celery_beat_clockedschedule_changelist":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:django_celery_beat_clockedschedule_add":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:django_celery_beat_clockedschedule_history":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:django_celery_beat_clockedschedule_delete":
        "login login login redirect login login login login 403 403 403 redirect",
    "admin:django_celery_beat_clockedschedule_change":
        "login login login redirect login login login login 403 403 403 redirect",
    "admin:admin/django_celery_beat/clockedschedule/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:django_celery_beat_crontabschedule_changelist":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:django_celery_beat_crontabschedule_add":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:django_celery_beat_crontabschedule_history":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:django_celery_beat_crontabschedule_delete":
        "login login login redirect login login login login 403 403 403 redirect",
    "admin:django_celery_beat_crontabschedule_change":
        "login login login redirect login login login login 403 403 403 redirect",
    "admin:admin/django_celery_beat/crontabschedule/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:django_celery_beat_solarschedule_changelist":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:django_celery_beat_solarschedule_add":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:django_celery_beat_solarschedule_history":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:django_celery_beat_solarschedule_delete":
        "login login login redirect login login login login 403 403 403 redirect",
    "admin:django_celery_beat_solarschedule_change":
        "login login login redirect login login login login 403 403 403 redirect",
    "admin:admin/django_celery_beat/solarschedule/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:django_celery_beat_intervalschedule_changelist":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:django_celery_beat_intervalschedule_add":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:django_celery_beat_intervalschedule_history":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:django_celery_beat_intervalschedule_delete":
        "login login login redirect login login login login 403 403 403 redirect",
    "admin:django_celery_beat_intervalschedule_change":
        "login login login redirect login login login login 403 403 403 redirect",
    "admin:admin/django_celery_beat/intervalschedule/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:account_emailaddress_changelist":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:account_emailaddress_add":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:account_emailaddress_history":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:account_emailaddress_delete":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:account_emailaddress_change":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:admin/account/emailaddress/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:mfa_authenticator_changelist":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:mfa_authenticator_add":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:mfa_authenticator_history":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:mfa_authenticator_delete":
        "login login login redirect login login login login 403 403 403 redirect",
    "admin:mfa_authenticator_change":
        "login login login redirect login login login login 403 403 403 redirect",
    "admin:admin/mfa/authenticator/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:axes_accessattempt_changelist":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:axes_accessattempt_add":
        "login login login redirect login login login login 403 403 403 403",
    "admin:axes_accessattempt_history":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:axes_accessattempt_delete":
        "login login login redirect login login login login 403 403 403 redirect",
    "admin:axes_accessattempt_change":
        "login login login redirect login login login login 403 403 403 redirect",
    "admin:admin/axes/accessattempt/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:axes_accesslog_changelist":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:axes_accesslog_add":
        "login login login redirect login login login login 403 403 403 403",
    "admin:axes_accesslog_history":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:axes_accesslog_delete":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:axes_accesslog_change":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:admin/axes/accesslog/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:axes_accessfailurelog_changelist":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:axes_accessfailurelog_add":
        "login login login redirect login login login login 403 403 403 403",
    "admin:axes_accessfailurelog_history":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:axes_accessfailurelog_delete":
        "login login login redirect login login login login 403 403 403 redirect",
    "admin:axes_accessfailurelog_change":
        "login login login redirect login login login login 403 403 403 redirect",
    "admin:admin/axes/accessfailurelog/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:accounts_authority_changelist":
        "login login login redirect login login login login ok ok ok ok",
    "admin:accounts_authority_add":
        "login login login redirect login login login login 403 403 403 403",
    "admin:accounts_authority_history":
        "login login login redirect login login login login ok ok ok ok",
    "admin:accounts_authority_delete":
        "login login login redirect login login login login 403 403 403 403",
    "admin:accounts_authority_change":
        "login login login redirect login login login login ok ok ok ok",
    "admin:admin/accounts/authority/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:auth_user_password_change":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:accounts_user_changelist":
        "login login login redirect login login login login 403 403 ok ok",
    "admin:accounts_user_add":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:accounts_user_history":
        "login login login redirect login login login login 403 403 ok ok",
    "admin:accounts_user_delete":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:accounts_user_change":
        "login login login redirect login login login login 403 403 ok ok",
    "admin:admin/accounts/user/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:accounts_authorityregistrationrequest_changelist":
        "login login login redirect login login login login 403 403 ok ok",
    "admin:accounts_authorityregistrationrequest_add":
        "login login login redirect login login login login 403 403 403 403",
    "admin:accounts_authorityregistrationrequest_history":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:accounts_authorityregistrationrequest_delete":
        "login login login redirect login login login login 403 403 403 403",
    "admin:accounts_authorityregistrationrequest_change":
        "login login login redirect login login login login 403 403 redirect redirect",
    "admin:admin/accounts/authorityregistrationrequest/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:accounts_apitoken_changelist":
        "login login login redirect login login login login 403 403 ok ok",
    "admin:accounts_apitoken_add":
        "login login login redirect login login login login 403 403 403 403",
    "admin:accounts_apitoken_history":
        "login login login redirect login login login login 403 403 ok ok",
    "admin:accounts_apitoken_delete":
        "login login login redirect login login login login 403 403 403 ok",
    "admin:accounts_apitoken_change":
        "login login login redirect login login login login 403 403 ok ok",
    "admin:admin/accounts/apitoken/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:accounts_rootoftrustchange_changelist":
        "login login login redirect login login login login 403 403 ok ok",
    "admin:accounts_rootoftrustchange_add":
        "login login login redirect login login login login 403 403 403 403",
    "admin:accounts_rootoftrustchange_history":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:accounts_rootoftrustchange_delete":
        "login login login redirect login login login login 403 403 403 403",
    "admin:accounts_rootoftrustchange_change":
        "login login login redirect login login login login 403 403 redirect redirect",
    "admin:admin/accounts/rootoftrustchange/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:requests_app_target_changelist":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_target_add":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_target_history":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_target_delete":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_target_change":
        "login login login redirect login login login login ok ok ok ok",
    "admin:admin/requests_app/target/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:requests_app_attachment_changelist":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_attachment_add":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_attachment_history":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_attachment_delete":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_attachment_change":
        "login login login redirect login login login login ok ok ok ok",
    "admin:admin/requests_app/attachment/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:requests_app_message_changelist":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_message_add":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_message_history":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:requests_app_message_delete":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_message_change":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:admin/requests_app/message/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:requests_app_internalnote_changelist":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_internalnote_add":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_internalnote_history":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:requests_app_internalnote_delete":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_internalnote_change":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:admin/requests_app/internalnote/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:requests_app_callbackverification_changelist":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_callbackverification_add":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_callbackverification_history":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:requests_app_callbackverification_delete":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_callbackverification_change":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:admin/requests_app/callbackverification/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:requests_app_approval_changelist":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_approval_add":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_approval_history":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_approval_delete":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_approval_change":
        "login login login redirect login login login login ok ok ok ok",
    "admin:admin/requests_app/approval/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:requests_app_annexiii_changelist":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_annexiii_add":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_annexiii_history":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_annexiii_delete":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_annexiii_change":
        "login login login redirect login login login login ok ok ok ok",
    "admin:admin/requests_app/annexiii/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:requests_app_responsepackage_changelist":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_responsepackage_add":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_responsepackage_history":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_responsepackage_delete":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_responsepackage_change":
        "login login login redirect login login login login ok ok ok ok",
    "admin:admin/requests_app/responsepackage/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:requests_app_responsefile_changelist":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_responsefile_add":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_responsefile_history":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_responsefile_delete":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_responsefile_change":
        "login login login redirect login login login login ok ok ok ok",
    "admin:admin/requests_app/responsefile/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:requests_app_idempotencyrecord_changelist":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_idempotencyrecord_add":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_idempotencyrecord_history":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:requests_app_idempotencyrecord_delete":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_idempotencyrecord_change":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:admin/requests_app/idempotencyrecord/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:requests_app_provider_config":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_legalrequest_act":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_legalrequest_draft_file":
        "login login login redirect login login login login 404 404 404 404",
    "admin:requests_app_legalrequest_changelist":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_legalrequest_add":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_legalrequest_history":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_legalrequest_delete":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_legalrequest_change":
        "login login login redirect login login login login ok ok ok ok",
    "admin:admin/requests_app/legalrequest/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:audit_auditevent_changelist":
        "login login login redirect login login login login ok ok ok ok",
    "admin:audit_auditevent_add":
        "login login login redirect login login login login 403 403 403 403",
    "admin:audit_auditevent_history":
        "login login login redirect login login login login ok ok ok ok",
    "admin:audit_auditevent_delete":
        "login login login redirect login login login login 403 403 403 403",
    "admin:audit_auditevent_change":
        "login login login redirect login login login login ok ok ok ok",
    "admin:admin/audit/auditevent/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:admin/outbox/outboxmessage/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:requests_app_legalrequest_register":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_legalrequest_register_check":
        "login login login redirect login login login login 405 405 405 405",
    "admin:requests_app_transparency":
        "login login login redirect login login login login ok ok ok ok",
    "admin:outbox_outboxmessage_changelist":
        "login login login redirect login login login login ok ok ok ok",
    "admin:outbox_outboxmessage_add":
        "login login login redirect login login login login 403 403 403 403",
    "admin:outbox_outboxmessage_history":
        "login login login redirect login login login login ok ok ok ok",
    "admin:outbox_outboxmessage_delete":
        "login login login redirect login login login login 403 403 403 403",
    "admin:outbox_outboxmessage_change":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_notification_changelist":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_notification_add":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_notification_history":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:requests_app_notification_delete":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_notification_change":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:admin/requests_app/notification/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:requests_app_timer_changelist":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_timer_add":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_timer_history":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_timer_delete":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_timer_change":
        "login login login redirect login login login login ok ok ok ok",
    "admin:admin/requests_app/timer/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:requests_app_inboundmessage_link":
        "login login login redirect login login login login 405 405 405 405",
    "admin:requests_app_inboundmessage_close":
        "login login login redirect login login login login 405 405 405 405",
    "admin:requests_app_inboundmessage_raw":
        "login login login redirect login login login login 404 404 404 404",
    "admin:requests_app_inboundmessage_convert":
        "login login login redirect login login login login 405 405 405 405",
    "admin:requests_app_inboundmessage_changelist":
        "login login login redirect login login login login ok ok ok ok",
    "admin:requests_app_inboundmessage_add":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_inboundmessage_history":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:requests_app_inboundmessage_delete":
        "login login login redirect login login login login 403 403 403 403",
    "admin:requests_app_inboundmessage_change":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:admin/requests_app/inboundmessage/<path:object_id>/":
        "login login login redirect login login login login redirect redirect redirect redirect",
    "admin:app_list":
        "login login login redirect login login login login ok ok ok ok",
    "admin:admin/(?P<url>.*)$":
        "login login login redirect login login login login 404 404 404 404",
}

ADMIN_STANDARD = re.compile(r"^admin:(?P<model>\w+?)_(?P<view>changelist|add|change|delete|history)$")


def classify(response: Any) -> str:
    code = response.status_code
    if 200 <= code < 300:
        return "ok"
    if code in (301, 302, 303, 307, 308):
        location = urlsplit(response["Location"]).path
        if location.startswith(("/accounts/login/", "/admin/login/")):
            return "login"
        return "redirect"
    return str(code)


def kwargs_for(name: str, route: str, world: World) -> dict[str, Any]:
    o = world.objects
    own, clarified = o["own"], o["clarified"]
    values: dict[str, Any] = {}
    for key in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route):
        key = key[0] or key[1]
        if key == "reference":
            values[key] = clarified.reference if "annex" in name else own.reference
        elif key == "attachment_id":
            values[key] = o["attachment"].pk
        elif key == "file_id":
            values[key] = o["response_file"].pk
        elif key == "form_id":
            values[key] = o["annex"].pk
        elif key == "token":
            values[key] = o["file_token"]
        elif key == "token_id":
            values[key] = o["officer_token"].pk
        elif key == "officer_id":
            values[key] = o["pending"].pk
        elif key == "object_id":
            values[key] = _admin_object(route, world)
        elif key == "id":  # the admin's password form: a staff member's (issue 14 item 4)
            values[key] = world.users["reviewer"].pk  # type: ignore[union-attr]
        elif key == "action_name":
            values[key] = "note"
        elif key == "app_label":
            values[key] = "accounts"
        elif key == "content_type_id":
            from django.contrib.contenttypes.models import ContentType

            values[key] = ContentType.objects.get_for_model(type(o["authority"])).pk
        elif key == "url":
            values[key] = "no-such-page/"
        else:
            raise AssertionError(f"{name}: no object for the URL parameter {key!r}; add one to kwargs_for()")
    return values


def _admin_object(route: str, world: World) -> str:
    from django.apps import apps

    match = re.match(r"admin/(\w+)/(\w+)/", route)
    if match is None:  # view_on_site
        return str(world.objects["authority"].pk)
    model = apps.get_model(match.group(1), match.group(2))
    first = model.objects.order_by("pk").first()
    if model.__name__ == "LegalRequest":
        first = world.objects["own"]
    return str(first.pk) if first is not None else "999999"


def path_for(name: str, route: str, pattern: Any, world: World) -> str:
    values = kwargs_for(name, route, world)
    if pattern.name:
        return reverse(name, kwargs=values)
    path = "/" + route
    path = re.sub(r"\^|\$", "", path)
    for key, value in values.items():
        path = re.sub(rf"<(?:\w+:)?{key}>|\(\?P<{key}>[^)]*\)", str(value), path)
    return path


def probe_all(world: World, settings: Any) -> dict[str, dict[str, str]]:
    settings.API_PROBE_LIMIT = 10_000  # the matrix probes many references on purpose
    table: dict[str, dict[str, str]] = {}
    for name, route, pattern in url_patterns():
        key = name if pattern.name else f"admin:{route}"
        path = path_for(name, route, pattern, world)
        row: dict[str, str] = {}
        for persona in PERSONAS:
            client = world.api[persona] if name.startswith("api:") else world.web[persona]
            row[persona] = classify(client.get(path))
        table[key] = row
    return table


@pytest.fixture
def world(no_publish) -> Iterator[World]:
    import logging

    # Every refused probe is logged with a rich traceback; thousands of them would take minutes.
    logging.disable(logging.CRITICAL)
    try:
        yield build_world()
    finally:
        logging.disable(logging.NOTSET)


def test_every_url_has_a_row_and_every_persona_gets_the_expected_answer(world, settings):
    table = probe_all(world, settings)
    missing = sorted(set(table) - set(EXPECTED))
    assert not missing, f"URLs without a row in EXPECTED (decide who may reach them): {missing}"
    stale = sorted(set(EXPECTED) - set(table))
    assert not stale, f"Rows for URLs that no longer exist: {stale}"
    wrong = []
    for key, expected in EXPECTED.items():
        for persona, want in zip(PERSONAS, expected.split(), strict=True):
            if table[key][persona] != want:
                wrong.append(f"{key} as {persona}: expected {want}, got {table[key][persona]}")
    assert not wrong, "\n".join(wrong)
