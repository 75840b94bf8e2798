"""The legal team's registration page: an order received by post, fax, e-mail or otherwise.

``/admin/requests_app/legalrequest/register/`` (``?inbound=<id>`` prefilled from a mailbox
message) and its live rule check ``register/check/``. The request fields are the portal's own
``RequestForm`` and ``TargetFormSet`` (same checks, same API serializer, same PDF sandbox for
the order); the registration fields (authority, channel, stated receipt time, contact) are
``RegistrationForm``. Submitting calls ``services.registration.request_register``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from accounts.models import Authority, AuthorityType
from accounts.services import authority_for_email

from ..models import InboundMessage, InboundStatus
from ..permissions import can
from ..services.errors import ServiceError
from ..services.registration import REGISTRATION_CHANNELS, NewAuthority, registration_check, request_register
from ..uploads import UploadRejected
from ..web.decorators import client_ip
from ..web.findings import attach_findings, slot_names
from ..web.forms.common import PortalForm
from ..web.forms.request_form import DATETIME_INPUT_FORMATS, SECTION_INSTRUMENTS, RequestForm, TargetFormSet
from ..web.forms.timezones import ZONE_CHOICES, zone_for_country
from ..web.views.summary import summary_for

TEMPLATE = "admin/requests_app/legalrequest/register.html"
DEFAULT_ZONE = "Europe/Brussels"


class RegistrationForm(PortalForm):
    authority = forms.ModelChoiceField(
        queryset=Authority.objects.order_by("name"), required=False, label="Issuing authority (registry)",
        help_text="Choose it from the registry; if it is not there, register it below (pending vetting).")
    new_authority_name = forms.CharField(label="New authority: name", max_length=200, required=False)
    new_authority_country = forms.RegexField(regex=r"^[A-Za-z]{2}$", label="New authority: country (ISO code)",
                                             max_length=2, required=False)
    new_authority_type = forms.ChoiceField(label="New authority: type", required=False,
                                           choices=[("", "—"), *AuthorityType.choices])
    new_authority_domains = forms.CharField(label="New authority: e-mail domains", max_length=1000, required=False,
                                            help_text="Separated by spaces or commas, e.g. police.example.fr")
    new_authority_phone = forms.CharField(label="New authority: switchboard phone (official source)",
                                          max_length=32, required=False)
    channel = forms.ChoiceField(label="Received by", choices=[(c.value, c.label) for c in REGISTRATION_CHANNELS])
    received_at = forms.DateTimeField(
        label="Received at", input_formats=DATETIME_INPUT_FORMATS,
        help_text="As stated on the postmark, the fax header or the receipt stamp; the deadlines run from it.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"))
    received_timezone = forms.ChoiceField(label="Time zone of the receipt time", choices=ZONE_CHOICES,
                                          initial=DEFAULT_ZONE)
    contact_email = forms.EmailField(
        label="Authority's contact e-mail", required=False, max_length=254,
        help_text="Needed when the authority has no officer in the portal: it is invited to register "
                  "(the e-mail carries no case data).")

    def __init__(self, *args: Any, inbound: InboundMessage | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inbound = inbound
        if inbound is not None:
            for name in ("authority", "channel", "received_at", "received_timezone", *self.new_fields):
                self.fields[name].disabled = True
                self.fields[name].required = False

    new_fields = ("new_authority_name", "new_authority_country", "new_authority_type", "new_authority_domains",
                  "new_authority_phone")

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if self.inbound is not None:
            return data
        moment, zone = data.get("received_at"), data.get("received_timezone")
        if moment is not None and zone:
            aware = moment.replace(tzinfo=None).replace(tzinfo=ZoneInfo(zone))
            if aware > timezone.now():
                self.add_error("received_at", "The receipt time cannot be in the future.")
            data["received_at_aware"] = aware
        elif moment is not None:
            self.add_error("received_timezone", "Choose the time zone of the receipt time.")
        given_new = [n for n in self.new_fields if data.get(n)]
        if data.get("authority") and given_new:
            self.add_error("authority", "Choose an authority from the registry or register a new one, not both.")
        elif not data.get("authority"):
            if not given_new:
                self.add_error("authority", "Choose the issuing authority, or register a new one below.")
            else:
                for name in self.new_fields:
                    if not data.get(name):
                        self.add_error(name, "Required for a new authority.")
        return data

    def received(self) -> datetime | None:
        if self.inbound is not None:
            return self.inbound.received_at
        return self.cleaned_data.get("received_at_aware")

    def chosen_authority(self) -> Authority | None:
        if self.inbound is not None:
            return self.inbound.authority
        return self.cleaned_data.get("authority")

    def new_authority(self) -> NewAuthority | None:
        d = self.cleaned_data
        if self.inbound is not None or d.get("authority") or not d.get("new_authority_name"):
            return None
        return NewAuthority(name=d["new_authority_name"].strip(),
                            country=(d.get("new_authority_country") or "").upper(),
                            authority_type=d.get("new_authority_type") or "",
                            domains=[x for x in (d.get("new_authority_domains") or "").replace(",", " ").split() if x],
                            switchboard_phone=(d.get("new_authority_phone") or "").strip())

    def issuer_for_check(self) -> Authority | None:
        """The issuer the rules see: the chosen one, or the new one as typed (not saved)."""
        chosen = self.chosen_authority()
        if chosen is not None:
            return chosen
        new = self.new_authority()
        if new is None or new.authority_type not in AuthorityType.values:
            return None
        return Authority(name=new.name, country=new.country, authority_type=new.authority_type)


def _inbound(request: HttpRequest) -> InboundMessage | None:
    raw = request.GET.get("inbound") or request.POST.get("inbound") or ""
    if not raw:
        return None
    message = get_object_or_404(InboundMessage.objects.select_related("authority"), pk=raw if raw.isdigit() else 0)
    return message


def _forms(request: HttpRequest, inbound: InboundMessage | None, data: Any = None,
           files: Any = None) -> tuple[RegistrationForm, RequestForm, Any]:
    authority = inbound.authority if inbound is not None else None
    zone = zone_for_country(authority.country) if authority is not None else DEFAULT_ZONE
    targets = TargetFormSet(data, prefix="targets", form_kwargs={"default_zone": zone})
    initial: dict[str, Any] = {"range_timezone": zone, "submission_key": uuid.uuid4().hex, "language": "en"}
    reg_initial: dict[str, Any] = {"received_timezone": DEFAULT_ZONE}
    if inbound is not None:
        initial["emergency"] = inbound.emergency
        known = authority_for_email(inbound.from_address) if inbound.from_address else None
        reg_initial.update(authority=inbound.authority, channel="email", received_timezone="UTC",
                           received_at=inbound.received_at.astimezone(ZoneInfo("UTC")).replace(tzinfo=None),
                           contact_email=inbound.from_address if known is not None or authority else "")
    form = RequestForm(data, files, targets=targets, initial=None if data is not None else initial)
    registration = RegistrationForm(data, inbound=inbound, initial=reg_initial)
    return registration, form, targets


def _page(model_admin: Any, request: HttpRequest, registration: RegistrationForm, form: RequestForm, targets: Any,
          *, inbound: InboundMessage | None, decision: dict[str, Any] | None = None,
          findings: list[dict[str, Any]] | None = None, status: int = 200) -> HttpResponse:
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": "Register a request received outside the portal",
        "registration": registration, "form": form, "targets": targets, "inbound": inbound,
        "decision": decision, "findings": findings or [], "checked": decision is not None,
        "error_summary": [*registration.error_summary(), *summary_for(form, targets)],
        "sections": SECTION_INSTRUMENTS,
        "authority": (registration.chosen_authority() if registration.is_bound and registration.is_valid()
                      else (inbound.authority if inbound is not None else None)),
    }
    return TemplateResponse(request, TEMPLATE, context, status=status)


def _place(error: ServiceError, registration: RegistrationForm, form: RequestForm) -> None:
    placed = False
    for name, problems in (error.fields or {}).items():
        target = registration if name in registration.fields else form if name in form.fields else None
        if target is not None:
            for problem in problems:
                target.add_error(name, error.message if problem.isidentifier() else problem)
            placed = True
    if not placed:
        registration.add_error(None, error.message)


def register_view(model_admin: Any, request: HttpRequest) -> HttpResponse:
    if not can(request.user, "review"):
        raise PermissionDenied
    inbound = _inbound(request)
    if inbound is not None and inbound.status != InboundStatus.NEW:
        messages.error(request, "This message was already handled.")
        return HttpResponseRedirect(reverse("admin:requests_app_inboundmessage_change", args=[inbound.pk]))
    if request.method != "POST":
        registration, form, targets = _forms(request, inbound)
        return _page(model_admin, request, registration, form, targets, inbound=inbound)
    registration, form, targets = _forms(request, inbound, request.POST, request.FILES)
    registration_ok = registration.is_valid()
    if not (form.validate_with_api() and registration_ok):
        return _page(model_admin, request, registration, form, targets, inbound=inbound, status=400)
    assert form.api_data is not None
    if request.POST.get("action") == "check":
        decision = registration_check(authority=registration.issuer_for_check(), data=form.api_data,
                                      received_at=registration.received())
        findings = attach_findings(form, targets, decision["findings"])
        return _page(model_admin, request, registration, form, targets, inbound=inbound, decision=decision,
                     findings=findings)
    try:
        legal_request = request_register(
            actor=request.user, data=form.api_data, channel=registration.cleaned_data.get("channel") or "",
            received_at=registration.received(), authority=registration.chosen_authority(),
            new_authority=registration.new_authority(), order=form.cleaned_data.get("order_file"),
            checked_order=form.checked_order, contact_email=registration.cleaned_data.get("contact_email") or "",
            inbound=inbound, ip_address=client_ip(request),
            idempotency_key=f"admin-register:{key}" if (key := form.cleaned_data.get("submission_key")) else None)
    except UploadRejected as rejected:
        form.add_error("order_file", rejected.message)
        return _page(model_admin, request, registration, form, targets, inbound=inbound, status=400)
    except ServiceError as error:
        _place(error, registration, form)
        return _page(model_admin, request, registration, form, targets, inbound=inbound, status=400)
    note = " Flagged: registered late." if legal_request.late_registration else ""
    messages.success(request, f"Registered as {legal_request.reference}.{note}")
    return HttpResponseRedirect(reverse("admin:requests_app_legalrequest_change", args=[legal_request.pk]))


def register_check_view(model_admin: Any, request: HttpRequest) -> HttpResponse:
    """The live check (htmx), as the portal's ``request_check``: findings panel and field slots."""
    if not can(request.user, "review"):
        raise PermissionDenied
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    inbound = _inbound(request)
    registration, form, targets = _forms(request, inbound, request.POST)
    form.fields["order_file"].required = False
    decision = None
    findings: list[dict[str, Any]] = []
    registration.is_valid()
    if form.validate_with_api() and hasattr(registration, "cleaned_data"):
        assert form.api_data is not None
        decision = registration_check(authority=registration.issuer_for_check(), data=form.api_data,
                                      received_at=registration.received())
        findings = attach_findings(form, targets, decision["findings"])
    else:
        attach_findings(form, targets, [])
    by_slot = getattr(form, "findings_by_field", {})
    slots = [(name, by_slot.get(name, [])) for name in slot_names(form, targets)]
    return render(request, "portal/includes/check_result.html", {
        "decision": decision, "findings": findings,
        "error_summary": [*registration.error_summary(), *summary_for(form, targets)],
        "slots": slots, "checked": True, "oob": True,
    })
