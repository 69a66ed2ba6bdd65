from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import ApiKey, ManagerRegion, Partner, PartnerContact, PartnerTier, Region
from .services import PARTNER_UPDATABLE_FIELDS, api_key_revoke, partner_check_network_parent


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "parent", "depth"]
    list_filter = ["kind", "depth"]
    search_fields = ["code", "name"]
    readonly_fields = ["path", "depth"]
    autocomplete_fields = ["parent"]


@admin.register(PartnerTier)
class PartnerTierAdmin(admin.ModelAdmin):
    list_display = [
        "rank",
        "name",
        "min_annual_revenue",
        "min_certified_staff",
        "discount_percent",
        "rebate_multiplier",
        "mdf_allowance_percent",
    ]
    search_fields = ["name"]


class PartnerAdminForm(forms.ModelForm):
    """The admin keeps the registry's rules: network shape and legal status moves."""

    class Meta:
        model = Partner
        fields = [*PARTNER_UPDATABLE_FIELDS, "status", "parent"]

    def clean(self):
        cleaned = super().clean()
        partner = self.instance
        new_status = cleaned.get("status")
        if partner.pk and new_status and new_status != partner.status:
            from .services import partner_allowed_statuses

            if new_status not in partner_allowed_statuses(partner):
                self.add_error(
                    "status",
                    _("A partner cannot go from %(current)s to %(new)s.")
                    % {"current": partner.get_status_display(), "new": dict(self.fields["status"].choices)[new_status]},
                )
        parent = cleaned.get("parent")
        if parent is not None:
            probe = Partner(
                pk=partner.pk, path=partner.path, depth=partner.depth, partner_type=cleaned.get("partner_type")
            )
            try:
                partner_check_network_parent(probe, parent)
            except ValidationError as error:
                for message in error.message_dict.get("parent", error.messages):
                    self.add_error("parent", message)
        return cleaned


class PartnerContactInline(admin.TabularInline):
    model = PartnerContact
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    form = PartnerAdminForm
    list_display = ["code", "name", "partner_type", "status", "tier", "region", "parent", "owner"]
    list_filter = ["status", "partner_type", "tier", "depth"]
    search_fields = ["code", "name", "legal_name", "external_id"]
    list_select_related = ["tier", "region", "parent", "owner"]
    autocomplete_fields = ["region", "parent"]
    readonly_fields = ["path", "depth", "status_changed_at", "created_at", "updated_at"]
    inlines = [PartnerContactInline]


@admin.register(PartnerContact)
class PartnerContactAdmin(admin.ModelAdmin):
    list_display = ["name", "partner", "job_role", "email", "phone", "is_primary", "is_partner_admin"]
    list_filter = ["job_role", "is_primary", "is_partner_admin"]
    search_fields = ["name", "email", "partner__code", "partner__name"]
    list_select_related = ["partner"]
    raw_id_fields = ["partner", "user"]


@admin.register(ManagerRegion)
class ManagerRegionAdmin(admin.ModelAdmin):
    list_display = ["manager", "region", "created_at"]
    list_filter = ["region__kind"]
    search_fields = ["manager__username", "manager__display_name", "region__code", "region__name"]
    list_select_related = ["manager", "region"]
    autocomplete_fields = ["region"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Read-only: keys are created in the staff UI (the key is shown there once) and revoked there
    or with the action below. The secret's hash is not shown."""

    list_display = ["name", "prefix", "partner", "created_by", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = [("partner", admin.EmptyFieldListFilter), ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "partner__code", "partner__name"]
    list_select_related = ["partner", "created_by"]
    fields = [
        "name",
        "prefix",
        "scopes",
        "partner",
        "created_by",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    ]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=gettext_lazy("Revoke the selected API keys"))
    def revoke(self, request, queryset):
        for key in queryset.filter(revoked_at__isnull=True):
            try:
                api_key_revoke(key=key, by=request.user)
            except PermissionDenied as error:
                self.message_user(request, str(error), messages.ERROR)
                return
