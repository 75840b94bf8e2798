"""django-allauth adapter: who may sign up, and as what.

Sign-up is open only to addresses on a verified domain of a registered authority; the new
officer is linked to that authority and waits for approval (by the legal team or an
authority administrator). An official e-mail address alone is never enough: hacked police
mailboxes are a documented way to forge requests (security.md §1.6).
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from audit import trail as audit

from .client_ip import client_ip
from .models import ApprovalStatus
from .services import authority_for_email, default_language


class PortalAccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request: Any) -> str:
        """allauth's rate limits see the client as the rest of the portal does (accounts.client_ip)."""
        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine client IP address")
        return ip

    def clean_email(self, email: str) -> str:
        email = super().clean_email(email).lower()
        if authority_for_email(email) is None:
            raise forms.ValidationError(format_html(
                "{} <a href=\"{}\">{}</a>",
                _("This address is not on a verified domain of a registered authority."),
                reverse("portal:authority_registration"),
                _("Ask for your authority to be registered."),
            ))
        return email

    def save_user(self, request: Any, user: Any, form: Any, commit: bool = True) -> Any:
        user = super().save_user(request, user, form, commit=False)
        user.email = user.email.lower()
        user.username = user.email
        user.authority = authority_for_email(user.email)
        user.approval_status = ApprovalStatus.PENDING
        # Their authority's country's language where it has one of ours, else the page's.
        user.language = default_language(user.authority, getattr(request, "LANGUAGE_CODE", None))
        if commit:
            user.save()
            audit.record("officer.signed_up", actor=user, obj=user, authority_id=user.authority_id,
                         data={"email": user.email})
        return user
