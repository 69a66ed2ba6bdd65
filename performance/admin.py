"""The admin shows every performance table, read-only: snapshots are written only by
performance.services.snapshots_compute (which records who and when), and satisfaction scores by
customer_satisfaction_set (which records the history), scorecards only by scorecards_compute
and templates by scorecard_template_save (which checks the weights add up to 100), flags by
flags_evaluate and the flag_* services (their workflow), rules by flag_rule_save."""

from django.contrib import admin

from prm.admin import ReadOnlyAdminMixin

from .models import (
    CustomerSatisfaction,
    FlagRule,
    KpiSnapshot,
    PeriodComputation,
    RegionFlag,
    RegionScorecard,
    Scorecard,
    ScorecardItem,
    ScorecardTemplate,
    SnapshotRun,
)


@admin.register(KpiSnapshot)
class KpiSnapshotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["period", "kpi", "partner", "region", "value", "computed_at"]
    list_filter = ["kpi", "period"]
    search_fields = ["partner__code", "partner__name", "region__code", "region__name"]
    list_select_related = ["partner", "region"]


@admin.register(SnapshotRun)
class SnapshotRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["period", "started_at", "finished_at", "computed_by", "rows"]
    list_filter = ["period"]
    list_select_related = ["computed_by"]


@admin.register(PeriodComputation)
class PeriodComputationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["period", "current_run", "computations"]
    list_select_related = ["current_run"]


@admin.register(CustomerSatisfaction)
class CustomerSatisfactionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["period", "partner", "score", "entered_by", "entered_at"]
    list_filter = ["period"]
    search_fields = ["partner__code", "partner__name"]
    list_select_related = ["partner", "entered_by"]


class ScorecardItemInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ScorecardItem
    fields = ["kpi", "weight", "floor", "target"]
    readonly_fields = fields
    extra = 0


@admin.register(ScorecardTemplate)
class ScorecardTemplateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "is_default", "is_active", "updated_at"]
    inlines = [ScorecardItemInline]


@admin.register(Scorecard)
class ScorecardAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["period", "partner", "score", "grade", "rank_in_region", "rank_in_tier", "template", "computed_at"]
    list_filter = ["period", "grade"]
    search_fields = ["partner__code", "partner__name"]
    list_select_related = ["partner", "template"]


@admin.register(RegionScorecard)
class RegionScorecardAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["period", "region", "score", "grade", "partners", "revenue", "computed_at"]
    list_filter = ["period", "grade"]
    search_fields = ["region__code", "region__name"]
    list_select_related = ["region"]


@admin.register(ScorecardItem)
class ScorecardItemAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["template", "kpi", "weight", "floor", "target"]
    list_filter = ["template", "kpi"]
    list_select_related = ["template"]


@admin.register(FlagRule)
class FlagRuleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["code", "threshold", "is_active", "updated_at", "updated_by"]
    list_select_related = ["updated_by"]


@admin.register(RegionFlag)
class RegionFlagAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["period", "region", "status", "rules", "is_firing", "owner", "due_date", "opened_at"]
    list_filter = ["status", "period", "is_firing"]
    search_fields = ["region__code", "region__name"]
    list_select_related = ["region", "owner"]
