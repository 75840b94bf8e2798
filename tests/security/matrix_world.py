"""The world the authorization matrix runs in: two authorities' requests and documents, and one
client per persona (tests/security/test_authorization_matrix.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from accounts.models import ApiToken, ApprovalStatus, User
from accounts.services import authority_create, authority_suspend, officer_create, officer_deactivate, token_issue
from requests_app.api.serializers import RequestCreateSerializer
from requests_app.models import Attachment, LegalRequest
from requests_app.permissions import ADMIN, APPROVER, REVIEWER
from requests_app.services import delivery, review
from requests_app.services.attachments import attachment_link_token
from requests_app.services.submission import request_submit
from requests_app.services.validation import request_validate
from tests.conftest import approve_seen, epoc_body, staff
from tests.requests_app.api.helpers import pdf_bytes, upload
from tests.requests_app.review.conftest import upload as text_upload

PERSONAS = ("anonymous", "officer", "other_officer", "suspended_officer", "deactivated_officer",
            "authority_admin", "delegate", "colleague", "reviewer", "approver", "legal_admin", "superuser")
SCOPES = ("portal:", "api:", "admin:")


def url_patterns() -> list[tuple[str, str, URLPattern]]:
    """(name with namespace, route, pattern) of every named URL of the portal, API and admin."""
    found: list[tuple[str, str, URLPattern]] = []

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> None:
        for item in resolver.url_patterns:
            if isinstance(item, URLResolver):
                walk(item, prefix + str(item.pattern), namespace + (f"{item.namespace}:" if item.namespace else ""))
            else:
                name = f"{namespace}{item.name}" if item.name else f"{namespace}<unnamed:{item.pattern}>"
                if name.startswith(SCOPES):
                    found.append((name, prefix + str(item.pattern), item))

    walk(get_resolver(), "", "")
    return found


def _reauthenticated(client: Client, user: User) -> None:
    session = client.session
    session["account_authentication_methods"] = [{"method": "password", "at": time.time(), "reauthenticated": True}]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()


@dataclass
class World:
    users: dict[str, User | None] = field(default_factory=dict)
    web: dict[str, Client] = field(default_factory=dict)
    api: dict[str, APIClient] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)


def _submit(actor: User, **overrides: Any) -> LegalRequest:
    serializer = RequestCreateSerializer(data=epoc_body(**overrides))
    serializer.is_valid(raise_exception=True)
    legal_request, _ = request_submit(actor=actor, data=serializer.validated_data, channel="web")
    request_validate(request_id=legal_request.pk)
    legal_request.refresh_from_db()
    return legal_request


def build_world() -> World:
    world = World()
    a = authority_create(name="Police nationale", country="FR", authority_type="other_competent",
                         domains=["interieur.gouv.fr"], switchboard_phone="+33100000000")
    b = authority_create(name="Staatsanwaltschaft Berlin", country="DE", authority_type="prosecutor",
                         domains=["sta.berlin.de"], switchboard_phone="+4930000000")
    s = authority_create(name="Policia suspendida", country="ES", authority_type="other_competent",
                         domains=["policia.example.es"], switchboard_phone="+34910000000")
    officer = officer_create(authority=a, email="officer@interieur.gouv.fr")
    delegate = officer_create(authority=a, email="delegate@interieur.gouv.fr")
    colleague = officer_create(authority=a, email="colleague@interieur.gouv.fr")
    authority_admin = officer_create(authority=a, email="chief@interieur.gouv.fr")
    User.objects.filter(pk=authority_admin.pk).update(is_authority_admin=True)
    authority_admin.refresh_from_db()
    deactivated = officer_create(authority=a, email="former@interieur.gouv.fr")
    pending = officer_create(authority=a, email="newcomer@interieur.gouv.fr")
    User.objects.filter(pk=pending.pk).update(approval_status=ApprovalStatus.PENDING, approved_at=None)
    other = officer_create(authority=b, email="officer@sta.berlin.de")
    suspended = officer_create(authority=s, email="officer@policia.example.es")
    reviewer = staff("reviewer@provider.example", REVIEWER)
    approver = staff("approver@provider.example", APPROVER)
    legal_admin = staff("admin@provider.example", ADMIN)
    superuser = staff("root@provider.example", superuser=True)
    for name in (REVIEWER, APPROVER, ADMIN):
        Group.objects.get_or_create(name=name)

    # Authority A's confidential request: the submitter and the delegate see it; a colleague
    # (even the authority administrator) does not.
    own = _submit(officer, confidential=True, confidentiality_reason="Ongoing covert investigation.",
                  delegates=[delegate.email])
    clarified = _submit(officer, case_reference="PN-2026-002")
    theirs = _submit(other, case_reference="STA-1", language="de")
    suspended_request = _submit(suspended, case_reference="ES-1", language="es")

    web_officer = Client()
    web_officer.force_login(officer)
    web_officer.post(f"/requests/{own.reference}/attachments/", {"file": upload(pdf_bytes()), "kind": "other"})
    attachment = Attachment.objects.get(request=own)
    delivery.response_prepare(actor=reviewer, request=own, files=[text_upload()])
    approve_seen(actor=approver, request=own)
    package = delivery.released_package(own)
    assert package is not None
    response_file = package.files.get()
    annex = review.clarification_request(actor=reviewer, request=clarified, clarification_asked="Which account?")

    tokens: dict[str, str] = {}
    for persona, user in (("officer", officer), ("other_officer", other), ("suspended_officer", suspended),
                          ("deactivated_officer", deactivated), ("authority_admin", authority_admin),
                          ("delegate", delegate), ("colleague", colleague)):
        tokens[persona] = token_issue(user=user, name="matrix")[1]
    officer_deactivate(actor=legal_admin, officer=deactivated, reason="Left the service")
    authority_suspend(actor=legal_admin, authority=s, reason="Registry check failed")

    world.users = {"anonymous": None, "officer": officer, "other_officer": other, "suspended_officer": suspended,
                   "deactivated_officer": deactivated, "authority_admin": authority_admin, "delegate": delegate,
                   "colleague": colleague, "reviewer": reviewer, "approver": approver, "legal_admin": legal_admin,
                   "superuser": superuser}
    for persona, maybe_user in world.users.items():
        client = Client()
        api = APIClient()
        if maybe_user is not None:
            user = maybe_user
            user.refresh_from_db()
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
            _reauthenticated(client, user)
            if persona in tokens:
                api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[persona]}")
            else:
                api.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        world.web[persona] = client
        world.api[persona] = api

    world.objects = {
        "own": own, "clarified": clarified, "theirs": theirs, "suspended_request": suspended_request,
        "attachment": attachment, "response_file": response_file, "annex": annex, "pending": pending,
        "officer_token": ApiToken.objects.filter(user=officer).first(),
        "file_token": attachment_link_token(actor=officer, attachment=attachment),
        "authority": a,
    }
    return world
