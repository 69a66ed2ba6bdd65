from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry, JobRun, Notification, User


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
