from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import ApiToken, Authority, User


@admin.register(Authority)
class AuthorityAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "authority_type", "vetting_status", "switchboard_phone", "vetted_at"]
    list_filter = ["vetting_status", "authority_type", "country"]
    search_fields = ["name", "email_domains"]


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    list_display = ["email", "authority", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff", "authority__country"]
    search_fields = ["email", "authority__name"]
    list_select_related = ["authority"]
    ordering = ["email"]
    fieldsets = (
        (None, {"fields": ("email", "username", "password")}),
        ("Authority", {"fields": ("authority", "language")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )


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
