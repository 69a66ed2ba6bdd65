"""The admin shows every agreements table. It never bypasses the services: an agreement's status
and commercial terms are read-only here (they move only through the staff pages and the API, by
the services, which check the transitions, exclusivity and who acts); its free fields (owner,
notes, signatories, signing date) are saved through agreement_update, so the change is recorded.
Territories, prices, targets, documents and notices are shown, not edited."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from prm.admin import ReadOnlyAdminMixin

from .models import (
    Agreement,
    AgreementDocument,
    AgreementTarget,
    AgreementTerritory,
    ExpiryNotice,
    MinimumPrice,
    RegionTarget,
)
from .services import AGREEMENT_FREE_FIELDS, agreement_update


class TerritoryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = AgreementTerritory
    fields = ["region", "exclusive"]
    readonly_fields = fields
    extra = 0


class MinimumPriceInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = MinimumPrice
    fields = ["product_line", "min_unit_price"]
    readonly_fields = fields
    extra = 0


class TargetInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = AgreementTarget
    fields = ["period", "product_line", "revenue", "units", "region_target"]
    readonly_fields = fields
    extra = 0


def _download_link(document):
    # The file goes out through the checked download view, never as a static media URL.
    url = reverse("agreements:document-download", args=[document.pk])
    return format_html('<a href="{}">{}</a>', url, document.original_name)


class DocumentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = AgreementDocument
    fields = ["download", "kind", "size", "visible_to_partner", "uploaded_by", "uploaded_at"]
    readonly_fields = fields
    extra = 0

    @admin.display(description=_("file"))
    def download(self, document):
        return _download_link(document)


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    list_display = ["number", "partner", "agreement_type", "status", "start_date", "end_date", "version", "owner"]
    list_filter = ["status", "agreement_type", "is_amendment"]
    search_fields = ["number", "partner__code", "partner__name"]
    list_select_related = ["partner", "owner"]
    date_hierarchy = "end_date"
    inlines = [TerritoryInline, MinimumPriceInline, TargetInline, DocumentInline]
    # No bulk actions: a status moves only through the services (no illegal transition here).
    actions = None
    editable_fields = list(AGREEMENT_FREE_FIELDS)

    def has_add_permission(self, request):
        # New agreements are drafted in the staff pages or the API, which number them.
        return False

    def has_delete_permission(self, request, obj=None):
        # An agreement ends by termination or expiry; its record stays.
        return False

    def get_readonly_fields(self, request, obj=None):
        return [
            field.name
            for field in Agreement._meta.get_fields()
            if field.concrete and not field.auto_created and field.name not in self.editable_fields
        ]

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in self.editable_fields if name in form.changed_data}
        if not data:
            return
        try:
            agreement_update(agreement=obj, by=request.user, **data)
        except (ValidationError, PermissionDenied) as error:
            text = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            self.message_user(request, text, messages.ERROR)


@admin.register(AgreementTerritory)
class AgreementTerritoryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["agreement", "region", "exclusive"]
    list_filter = ["exclusive"]
    search_fields = ["agreement__number", "region__code", "region__name"]
    list_select_related = ["agreement", "region"]


@admin.register(MinimumPrice)
class MinimumPriceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["agreement", "product_line", "min_unit_price"]
    search_fields = ["agreement__number", "product_line__code", "product_line__name"]
    list_select_related = ["agreement", "product_line"]


@admin.register(AgreementTarget)
class AgreementTargetAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["agreement", "period", "product_line", "revenue", "units", "region_target"]
    list_filter = ["period"]
    search_fields = ["agreement__number", "agreement__partner__code"]
    list_select_related = ["agreement", "product_line", "region_target__region"]


@admin.register(RegionTarget)
class RegionTargetAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["region", "period", "product_line", "revenue", "units", "set_by", "decomposed_at"]
    list_filter = ["period"]
    search_fields = ["region__code", "region__name"]
    list_select_related = ["region", "product_line", "set_by"]


@admin.register(AgreementDocument)
class AgreementDocumentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["original_name", "agreement", "kind", "size", "visible_to_partner", "uploaded_by", "uploaded_at"]
    list_filter = ["kind", "visible_to_partner"]
    search_fields = ["original_name", "agreement__number"]
    list_select_related = ["agreement", "uploaded_by"]
    fields = ["agreement", "download", "kind", "content_type", "size", "visible_to_partner", "uploaded_by"]
    readonly_fields = fields

    @admin.display(description=_("file"))
    def download(self, document):
        return _download_link(document)


@admin.register(ExpiryNotice)
class ExpiryNoticeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["agreement", "window_days", "sent_at"]
    list_filter = ["window_days"]
    search_fields = ["agreement__number"]
    list_select_related = ["agreement"]
