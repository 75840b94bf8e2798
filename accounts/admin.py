from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse

from . import root_of_trust, services, staff
from .models import (
    ApiToken,
    ApprovalStatus,
    Authority,
    AuthorityRegistrationRequest,
    AuthorityType,
    ChangeStatus,
    RegistrationStatus,
    RootOfTrustChange,
    User,
    VettingStatus,
)


class _ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=1000,
                             help_text="Why, and where the new value was verified (official directory, registry).")


class _PhoneForm(_ReasonForm):
    switchboard_phone = forms.CharField(max_length=32, label="Verified switchboard number (E.164)")


class _DomainsForm(_ReasonForm):
    email_domains = forms.CharField(max_length=1000, label="E-mail domains (space or comma separated)")


class _TypeForm(_ReasonForm):
    authority_type = forms.ChoiceField(choices=AuthorityType.choices)


class _CountryForm(_ReasonForm):
    country = forms.CharField(max_length=2, label="Country (ISO 3166-1 alpha-2)")


class _OfficerAuthorityForm(_ReasonForm):
    authority = forms.ModelChoiceField(queryset=Authority.objects.all())


class _RegistrationForm(forms.Form):
    verified_phone = forms.CharField(max_length=32, label="Switchboard number you verified (E.164)",
                                     help_text="Typed by you from an official source; not the registrant's claim.")
    official_source = forms.CharField(max_length=500, label="Where you verified it")


class _NoteForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=1000, required=False)


class _RefuseForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=1000)


class _FormActionMixin:
    """An admin action that first shows a form (the values to propose, a reason), then calls a
    service for each selected object. Errors are reported; nothing is changed for them."""

    def _form_action(self, request: Any, queryset: Any, *, action: str, title: str, explanation: str,
                     form_class: type[forms.Form], handler: Any, headers: list[str] | None = None,
                     rows: list[list[Any]] | None = None, hidden: list[tuple[str, str]] | None = None,
                     single: bool = False, submit: str = "Propose") -> Any:
        objects = list(queryset)
        if single and len(objects) != 1:
            self.message_user(request, "Select exactly one.", messages.ERROR)  # type: ignore[attr-defined]
            return None
        form = form_class(request.POST if request.POST.get("apply") else None)
        if request.POST.get("apply") and form.is_valid():
            done = 0
            for obj in objects:
                try:
                    handler(obj, form.cleaned_data, request.POST)
                    done += 1
                except (PermissionDenied, ValidationError) as exc:
                    text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                    self.message_user(request, f"{obj}: {text}", messages.ERROR)  # type: ignore[attr-defined]
            self.message_user(request, f"{title}: {done} done.", messages.SUCCESS)  # type: ignore[attr-defined]
            return None
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": title, "explanation": explanation, "action": action, "form": form,
            "selected": [o.pk for o in objects], "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "headers": headers or [], "rows": rows or [], "hidden": hidden or [], "submit": submit,
        }
        return TemplateResponse(request, "admin/accounts/root_of_trust_action.html", context)


_PROPOSE_NOTE = ("The change is only proposed: it takes effect when a second legal administrator approves "
                 "it under Root-of-trust changes.")


@admin.register(Authority)
class AuthorityAdmin(_FormActionMixin, admin.ModelAdmin):
    """The authority's root-of-trust fields are read-only here: each change is an action that
    proposes it, applied when a second person approves (accounts.root_of_trust)."""

    list_display = ["name", "country", "authority_type", "vetting_status", "switchboard_phone", "vetted_at"]
    list_filter = ["vetting_status", "authority_type", "country"]
    search_fields = ["name", "email_domains"]
    readonly_fields = [*root_of_trust.AUTHORITY_FIELDS, "vetted_at", "vetting_note"]
    actions = ["suspend_authorities", "propose_switchboard", "propose_domains", "propose_type",
               "propose_country", "propose_restore"]

    def has_add_permission(self, request):
        # Authorities come from a vetted registration (second person) or the create_authority command.
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting an authority would bypass the second person (and its audit); suspend or revoke it.
        return False

    def _propose(self, request, queryset, action, title, form_class, field, *, single=True):
        def handler(authority, data, post):
            value = data[field]
            root_of_trust.authority_change_propose(actor=request.user, authority=authority,
                                                   changes={field: value}, reason=data["reason"])

        rows = [[a.name, getattr(a, field)] for a in queryset]
        return self._form_action(request, queryset, action=action, title=title, explanation=_PROPOSE_NOTE,
                                 form_class=form_class, handler=handler, headers=["authority", f"current {field}"],
                                 rows=rows, single=single)

    @admin.action(description="Propose a new switchboard number (second person approves)", permissions=["change"])
    def propose_switchboard(self, request, queryset):
        return self._propose(request, queryset, "propose_switchboard", "Propose a switchboard number", _PhoneForm,
                             "switchboard_phone")

    @admin.action(description="Propose new e-mail domains (second person approves)", permissions=["change"])
    def propose_domains(self, request, queryset):
        return self._propose(request, queryset, "propose_domains", "Propose e-mail domains", _DomainsForm,
                             "email_domains")

    @admin.action(description="Propose a new authority type (second person approves)", permissions=["change"])
    def propose_type(self, request, queryset):
        return self._propose(request, queryset, "propose_type", "Propose an authority type", _TypeForm,
                             "authority_type")

    @admin.action(description="Propose a new country (second person approves)", permissions=["change"])
    def propose_country(self, request, queryset):
        return self._propose(request, queryset, "propose_country", "Propose a country", _CountryForm, "country")

    @admin.action(description="Propose to restore the selected suspended authorities (second person approves)",
                  permissions=["change"])
    def propose_restore(self, request, queryset):
        def handler(authority, data, post):
            root_of_trust.authority_restore_propose(actor=request.user, authority=authority, reason=data["reason"])

        chosen = queryset.exclude(vetting_status=VettingStatus.VERIFIED)
        rows = [[a.name, a.vetting_status, a.vetting_note] for a in chosen]
        return self._form_action(request, chosen, action="propose_restore", title="Propose to restore",
                                 explanation=_PROPOSE_NOTE, form_class=_ReasonForm, handler=handler,
                                 headers=["authority", "status", "note"], rows=rows)

    @admin.action(description="Suspend the selected authorities (ends sessions, revokes tokens)",
                  permissions=["change"])
    def suspend_authorities(self, request, queryset):
        done = 0
        for authority in queryset.exclude(vetting_status="suspended"):
            try:
                services.authority_suspend(actor=request.user, authority=authority,
                                           reason=f"Suspended from the admin by {request.user.email}")
                done += 1
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(request, f"{authority.name}: {exc}", messages.ERROR)
        self.message_user(request, f"{done} authority(ies) suspended.", messages.SUCCESS)


class OfficerApprovalFilter(admin.SimpleListFilter):
    """Approval is an officer's (accounts of an authority): the legal team's accounts carry the
    model's default "pending" but are never awaiting approval, so they are not counted as such."""

    title = "officer approval status"
    parameter_name = "approval_status"

    def lookups(self, request, model_admin):
        return ApprovalStatus.choices

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(authority__isnull=False, approval_status=value) if value else queryset


@admin.register(User)
class PortalUserAdmin(_FormActionMixin, UserAdmin):
    """Officers and the legal team. Approval and deactivation go through the services (audited,
    tokens revoked); only superusers may touch roles and privileges."""

    list_display = ["email", "authority", "approval", "is_authority_admin", "is_active", "is_staff",
                    "last_login"]
    list_filter = [OfficerApprovalFilter, "is_active", "is_staff", "is_authority_admin"]
    search_fields = ["email", "authority__name"]
    list_select_related = ["authority"]
    ordering = ["email"]
    actions = ["approve_officers", "deactivate_officers", "propose_officer_authority",
               "propose_toggle_authority_admin"]
    fieldsets = (
        (None, {"fields": ("email", "username", "password")}),
        ("Authority", {"fields": ("authority", "language", "approval", "approved_by", "approved_at",
                                  "is_authority_admin")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )

    @admin.display(description="approval status", ordering="approval_status")
    def approval(self, obj):
        # Approval is an officer's: a member of the legal team is never "awaiting approval".
        return "—" if obj.authority_id is None else obj.get_approval_status_display()

    def get_readonly_fields(self, request, obj=None):
        # The officer's authority and administrator flag are root-of-trust data: changed only by
        # a proposal and a second person's approval (the actions below), even by a superuser.
        fixed = ["approval", "approval_status", "approved_by", "approved_at", "last_login", "date_joined",
                 "authority", "is_authority_admin"]
        if not request.user.is_superuser:
            fixed += ["is_staff", "is_superuser", "groups", "user_permissions", "is_active"]
            if obj is not None and staff.is_staff_account(obj):
                # Only a superuser changes a staff member's e-mail address (issue 14 item 4).
                fixed += ["email", "username"]
        return fixed

    def save_model(self, request, obj, form, change):
        new_email = None
        if change and staff.is_staff_account(obj) and "email" in form.changed_data:
            # A staff member's new address takes effect only once confirmed from that mailbox.
            new_email, obj.email = obj.email, form.initial["email"]
            if "username" not in form.changed_data:
                obj.username = form.initial.get("username", obj.username)
        token = staff._actor.set(request.user)
        try:
            super().save_model(request, obj, form, change)
        finally:
            staff._actor.reset(token)
        if new_email:
            try:
                staff.staff_email_change_request(actor=request.user, user=obj, email=new_email, request=request)
                self.message_user(request, f"A confirmation link was sent to {new_email}; the address changes "
                                           "when it is followed.", messages.WARNING)
            except (PermissionDenied, ValidationError) as exc:
                text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                self.message_user(request, f"{new_email}: {text}", messages.ERROR)

    def save_related(self, request, form, formsets, change):
        if change and staff.is_staff_account(form.instance) and "groups" in form.changed_data:
            staff.require_may_change_staff(request.user, form.instance)
        token = staff._actor.set(request.user)
        try:
            super().save_related(request, form, formsets, change)
        finally:
            staff._actor.reset(token)

    def user_change_password(self, request, id, form_url=""):
        target = self.get_object(request, id)
        if target is not None:
            staff.require_may_change_staff(request.user, target)
        token = staff._actor.set(request.user)
        try:
            response = super().user_change_password(request, id, form_url)
        finally:
            staff._actor.reset(token)
        if request.method == "POST" and target is not None and getattr(response, "status_code", 0) == 302:
            services.revoke_tokens_on_credential_change(user=target, event="password_set_by_admin")
        return response

    @admin.action(description="Propose another authority for the selected officer (second person approves)",
                  permissions=["change"])
    def propose_officer_authority(self, request, queryset):
        def handler(officer, data, post):
            root_of_trust.officer_change_propose(actor=request.user, officer=officer,
                                                 changes={"authority": data["authority"]}, reason=data["reason"])

        chosen = queryset.filter(authority__isnull=False)
        return self._form_action(request, chosen, action="propose_officer_authority",
                                 title="Propose another authority", explanation=_PROPOSE_NOTE,
                                 form_class=_OfficerAuthorityForm, handler=handler,
                                 headers=["officer", "current authority"],
                                 rows=[[o.email, o.authority] for o in chosen], single=True)

    @admin.action(description="Propose to set/clear the authority-administrator flag (second person approves)",
                  permissions=["change"])
    def propose_toggle_authority_admin(self, request, queryset):
        def handler(officer, data, post):
            root_of_trust.officer_change_propose(actor=request.user, officer=officer,
                                                 changes={"is_authority_admin": not officer.is_authority_admin},
                                                 reason=data["reason"])

        chosen = queryset.filter(authority__isnull=False)
        return self._form_action(request, chosen, action="propose_toggle_authority_admin",
                                 title="Propose to set or clear the administrator flag", explanation=_PROPOSE_NOTE,
                                 form_class=_ReasonForm, handler=handler,
                                 headers=["officer", "administrator now", "proposed"],
                                 rows=[[o.email, o.is_authority_admin, not o.is_authority_admin] for o in chosen])

    @admin.action(description="Approve the selected officers", permissions=["change"])
    def approve_officers(self, request, queryset):
        self._each(request, queryset.filter(approval_status=ApprovalStatus.PENDING), services.officer_approve,
                   "approved")

    @admin.action(description="Deactivate the selected officers (ends sessions, revokes tokens)",
                  permissions=["change"])
    def deactivate_officers(self, request, queryset):
        self._each(request, queryset.filter(is_active=True), services.officer_deactivate, "deactivated")

    def _each(self, request, queryset, operation, verb):
        done = 0
        for officer in queryset.filter(authority__isnull=False):
            try:
                operation(actor=request.user, officer=officer)
                done += 1
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(request, f"{officer.email}: {exc}", messages.ERROR)
        self.message_user(request, f"{done} officer(s) {verb}.", messages.SUCCESS)


@admin.register(AuthorityRegistrationRequest)
class AuthorityRegistrationRequestAdmin(_FormActionMixin, admin.ModelAdmin):
    """Requests to register an authority. Vet them out of band (official registry, a call to a
    switchboard found independently) before registering: nothing here is trusted as given."""

    list_display = ["authority_name", "country", "authority_type", "email_domain", "contact_email", "status",
                    "created_at"]
    list_filter = ["status", "authority_type", "country"]
    search_fields = ["authority_name", "email_domain", "contact_email"]
    actions = ["register", "reject"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in AuthorityRegistrationRequest._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Propose to register the selected authority (verified number; second person "
                              "approves)", permissions=["change"])
    def register(self, request, queryset):
        def handler(registration, data, post):
            root_of_trust.registration_propose(actor=request.user, registration=registration,
                                               verified_phone=data["verified_phone"],
                                               official_source=data["official_source"])

        chosen = queryset.filter(status=RegistrationStatus.PENDING)
        rows = [[r.authority_name, r.country, r.email_domain, f"{r.switchboard_phone} (claimed by the registrant)",
                 r.official_source] for r in chosen]
        return self._form_action(
            request, chosen, action="register", title="Propose to register the authority",
            explanation=("Find the authority's switchboard number yourself in an official source and type it "
                         "below: the registrant's number is only a claim. " + _PROPOSE_NOTE),
            form_class=_RegistrationForm, handler=handler,
            headers=["authority", "country", "domain", "switchboard (claim)", "source (claim)"], rows=rows,
            single=True)

    @admin.action(description="Reject the selected requests", permissions=["change"])
    def reject(self, request, queryset):
        self._decide(request, queryset, register=False)

    def _decide(self, request, queryset, *, register):
        done = 0
        for registration in queryset.filter(status=RegistrationStatus.PENDING):
            try:
                services.authority_registration_decide(actor=request.user, registration=registration,
                                                       register=register)
                done += 1
            except (PermissionDenied, ValidationError) as exc:
                text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                self.message_user(request, f"{registration.authority_name}: {text}", messages.ERROR)
        self.message_user(request, f"{done} request(s) {'registered' if register else 'rejected'}.",
                          messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued by officers or the issue_api_token command; here they are only seen
    and revoked. The hash is never shown."""

    list_display = ["prefix", "name", "user", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "user__email"]
    list_select_related = ["user"]
    readonly_fields = ["user", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
    exclude = ["key_hash"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        from .services import token_revoke

        for token in queryset.select_related("user"):
            token_revoke(actor=request.user, token=token)


@admin.register(RootOfTrustChange)
class RootOfTrustChangeAdmin(_FormActionMixin, admin.ModelAdmin):
    """Proposed changes of the root of trust: a second legal administrator approves the exact
    values shown (bound by their digest) or refuses them; the proposer can do neither."""

    list_display = ["pk", "kind", "authority", "officer", "registration", "changes", "previous", "status",
                    "proposed_by", "proposed_at", "decided_by", "decided_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["authority", "officer", "registration", "proposed_by", "decided_by"]
    actions = ["approve_changes", "refuse_changes"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in RootOfTrustChange._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _open(self, queryset):
        return queryset.filter(status=ChangeStatus.PROPOSED).select_related("authority", "officer", "registration")

    @admin.action(description="Approve and apply the selected changes (you are the second person)",
                  permissions=["change"])
    def approve_changes(self, request, queryset):
        chosen = list(self._open(queryset))

        def handler(change, data, post):
            root_of_trust.change_approve(actor=request.user, change=change, digest=post.get(f"digest_{change.pk}", ""),
                                         note=data["note"])

        rows = [[c.pk, c.get_kind_display(), c.authority or c.officer or c.registration, c.previous, c.changes,
                 c.proposed_by, c.reason] for c in chosen]
        return self._form_action(
            request, self._open(queryset), action="approve_changes", title="Approve root-of-trust changes",
            explanation="Check each value against an official source before approving: exactly these values apply.",
            form_class=_NoteForm, handler=handler,
            headers=["#", "kind", "record", "current", "proposed", "proposed by", "reason"], rows=rows,
            hidden=[(f"digest_{c.pk}", root_of_trust.change_digest(c)) for c in chosen], submit="Approve")

    @admin.action(description="Refuse the selected changes", permissions=["change"])
    def refuse_changes(self, request, queryset):
        def handler(change, data, post):
            root_of_trust.change_refuse(actor=request.user, change=change, note=data["note"])

        chosen = self._open(queryset)
        rows = [[c.pk, c.get_kind_display(), c.authority or c.officer or c.registration, c.changes] for c in chosen]
        return self._form_action(request, chosen, action="refuse_changes", title="Refuse root-of-trust changes",
                                 explanation="Nothing changes; the proposer is told by the audit trail.",
                                 form_class=_RefuseForm, handler=handler,
                                 headers=["#", "kind", "record", "proposed"], rows=rows, submit="Refuse")
