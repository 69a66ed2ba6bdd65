"""The admin shows every incentives table, read-only: policies change through the services
(brackets are validated, history recorded) and statements move only through their
transitions, so nothing here may bypass them."""

from django.contrib import admin

from prm.admin import ReadOnlyAdminMixin

from .models import (
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
