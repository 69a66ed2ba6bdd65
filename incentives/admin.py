"""The admin shows every incentives table, read-only: policies change through the services
(brackets are validated, history recorded), statements and MDF requests move only through their
transitions and MDF budgets are set by the services (never below what requests hold), so nothing
here may bypass them. Proof files go out through the checked download view."""

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from prm.admin import ReadOnlyAdminMixin

from . import selectors
from .models import (
    MdfBudget,
    MdfProof,
    MdfRequest,
    OverridePolicy,
    OverrideRate,
    PolicyAssignment,
    RebateBracket,
    RebatePolicy,
    RebateStatement,
    StatementLine,
    TierMultiplier,
)


class BracketInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = RebateBracket
    fields = ["threshold", "rate"]
    readonly_fields = fields
    extra = 0


class TierMultiplierInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TierMultiplier
    fields = ["tier", "multiplier"]
    readonly_fields = fields
    extra = 0


class OverrideRateInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OverrideRate
    fields = ["level", "rate"]
    readonly_fields = fields
    extra = 0


class StatementLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = StatementLine
    fields = [
        "kind",
        "rebate_policy",
        "override_policy",
        "bracket_threshold",
        "volume",
        "base",
        "rate",
        "multiplier",
        "level",
        "source_partner",
        "amount",
        "description",
    ]
    readonly_fields = fields
    extra = 0


@admin.register(RebatePolicy)
class RebatePolicyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "basis", "period", "method", "cap", "valid_from", "valid_to", "is_active"]
    list_filter = ["basis", "period", "method", "is_active"]
    search_fields = ["name"]
    inlines = [BracketInline, TierMultiplierInline]


@admin.register(RebateBracket)
class RebateBracketAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["policy", "threshold", "rate"]
    list_select_related = ["policy"]


@admin.register(TierMultiplier)
class TierMultiplierAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["policy", "tier", "multiplier"]
    list_select_related = ["policy", "tier"]


@admin.register(OverridePolicy)
class OverridePolicyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "period", "valid_from", "valid_to", "is_active"]
    list_filter = ["period", "is_active"]
    search_fields = ["name"]
    inlines = [OverrideRateInline]


@admin.register(OverrideRate)
class OverrideRateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["policy", "level", "rate"]
    list_select_related = ["policy"]


@admin.register(PolicyAssignment)
class PolicyAssignmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["agreement", "policy", "created_at"]
    list_select_related = ["agreement", "policy"]
    search_fields = ["agreement__number", "policy__name"]


@admin.register(RebateStatement)
class RebateStatementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["partner", "period", "status", "total", "currency", "calculated_at", "approved_at", "paid_at"]
    list_filter = ["status", "period"]
    search_fields = ["partner__code", "partner__name", "period"]
    list_select_related = ["partner"]
    inlines = [StatementLineInline]


@admin.register(StatementLine)
class StatementLineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["statement", "kind", "amount", "source_partner", "description"]
    list_filter = ["kind"]
    list_select_related = ["statement", "statement__partner", "source_partner"]


# Market development funds ---------------------------------------------------------------------


def _proof_link(proof):
    # The file goes out through the checked download view, never as a static media URL.
    try:
        url = reverse("incentives:mdf-proof-download", args=[proof.pk])
    except NoReverseMatch:  # the staff pages are not installed
        return proof.original_name
    return format_html('<a href="{}">{}</a>', url, proof.original_name)


class MdfRequestInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = MdfRequest
    fields = ["title", "activity_type", "status", "requested_amount", "approved_amount", "actual_amount"]
    readonly_fields = fields
    show_change_link = True
    extra = 0


class MdfProofInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = MdfProof
    fields = ["download", "content_type", "size", "uploaded_by", "uploaded_at"]
    readonly_fields = fields
    extra = 0

    @admin.display(description=_("file"))
    def download(self, proof):
        return _proof_link(proof)


@admin.register(MdfBudget)
class MdfBudgetAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["partner", "period", "allocated", "reserved", "claimed", "paid", "remaining", "source"]
    list_filter = ["source", "period"]
    search_fields = ["partner__code", "partner__name", "period"]
    list_select_related = ["partner"]
    inlines = [MdfRequestInline]

    def get_queryset(self, request):
        return selectors.with_usage(super().get_queryset(request))

    @admin.display(description=_("Reserved"))
    def reserved(self, budget):
        return budget.reserved

    @admin.display(description=_("Claimed"))
    def claimed(self, budget):
        return budget.claimed

    @admin.display(description=_("Paid"))
    def paid(self, budget):
        return budget.paid

    @admin.display(description=_("Remaining"))
    def remaining(self, budget):
        return budget.remaining


@admin.register(MdfRequest)
class MdfRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "reference",
        "title",
        "partner",
        "activity_type",
        "status",
        "requested_amount",
        "approved_amount",
        "actual_amount",
        "created_at",
    ]
    list_filter = ["status", "activity_type"]
    search_fields = ["title", "partner__code", "partner__name"]
    list_select_related = ["partner"]
    date_hierarchy = "created_at"
    inlines = [MdfProofInline]

    @admin.display(description=_("Reference"), ordering="pk")
    def reference(self, request):
        return request.reference


@admin.register(MdfProof)
class MdfProofAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["original_name", "request", "content_type", "size", "uploaded_by", "uploaded_at"]
    list_select_related = ["request", "uploaded_by"]
    search_fields = ["original_name", "request__title"]
    fields = ["request", "download", "content_type", "size", "uploaded_by", "uploaded_at"]
    readonly_fields = fields

    @admin.display(description=_("file"))
    def download(self, proof):
        return _proof_link(proof)
