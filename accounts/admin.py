from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied, ValidationError

from . import services
from .models import ApiToken, ApprovalStatus, Authority, AuthorityRegistrationRequest, RegistrationStatus, User


@admin.register(Authority)
class AuthorityAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "authority_type", "vetting_status", "switchboard_phone", "vetted_at"]
    list_filter = ["vetting_status", "authority_type", "country"]
    search_fields = ["name", "email_domains"]
    readonly_fields = ["vetting_status", "vetted_at", "vetting_note"]
    actions = ["suspend_authorities"]

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


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    """Officers and the legal team. Approval and deactivation go through the services (audited,
    tokens revoked); only superusers may touch roles and privileges."""

    list_display = ["email", "authority", "approval_status", "is_authority_admin", "is_active", "is_staff",
                    "last_login"]
    list_filter = ["approval_status", "is_active", "is_staff", "is_authority_admin"]
    search_fields = ["email", "authority__name"]
    list_select_related = ["authority"]
    ordering = ["email"]
    actions = ["approve_officers", "deactivate_officers"]
    fieldsets = (
        (None, {"fields": ("email", "username", "password")}),
        ("Authority", {"fields": ("authority", "language", "approval_status", "approved_by", "approved_at",
                                  "is_authority_admin")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )

    def get_readonly_fields(self, request, obj=None):
        fixed = ["approval_status", "approved_by", "approved_at", "last_login", "date_joined"]
        if not request.user.is_superuser:
            fixed += ["is_staff", "is_superuser", "groups", "user_permissions", "is_active", "authority"]
        return fixed

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
class AuthorityRegistrationRequestAdmin(admin.ModelAdmin):
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

    @admin.action(description="Register the selected authorities (after vetting)", permissions=["change"])
    def register(self, request, queryset):
        self._decide(request, queryset, register=True)

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
            except ValidationError as exc:
                self.message_user(request, f"{registration.authority_name}: {'; '.join(exc.messages)}",
                                  messages.ERROR)
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
