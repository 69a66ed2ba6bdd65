from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry, IdempotencyRecord, JobRun, Notification, Tombstone, User


class ReadOnlyAdminMixin:
    """For tables written only by the services (history, statements, records...): the admin
    shows them and changes nothing. Works for model admins and inlines alike."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Profile"), {"fields": ("display_name", "preferred_language")}),
    )
    list_display = ["username", "email", "display_name", "is_staff", "is_active", "last_login"]
    search_fields = ["username", "email", "display_name"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["at", "actor", "object_type", "object_repr", "action"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_repr", "object_id"]


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ["job", "status", "started_at", "finished_at", "rows_written"]
    list_filter = ["job", "status"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Read-only: notifications are written by the code that sends them."""

    list_display = ["created_at", "recipient", "subject", "emailed", "read_at"]
    list_filter = ["emailed"]
    search_fields = ["subject", "recipient__username", "recipient__email"]
    list_select_related = ["recipient"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Tombstone)
class TombstoneAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Rows deleted from the API's lists, kept for systems that sync (prm.sync)."""

    list_display = ["deleted_at", "model", "object_id", "external_id", "partner_id"]
    list_filter = ["model"]
    search_fields = ["object_id", "external_id"]
    date_hierarchy = "deleted_at"


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The answers kept for API writes sent with an Idempotency-Key (prm.api.idempotency)."""

    list_display = ["created_at", "principal", "key", "method", "path", "status_code"]
    list_filter = ["method", "status_code"]
    search_fields = ["principal", "key", "path"]
