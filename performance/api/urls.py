from .views import (
    CustomerSatisfactionViewSet,
    FlagRuleViewSet,
    KpiSnapshotViewSet,
    RegionFlagViewSet,
    RegionScorecardViewSet,
    ScorecardRunViewSet,
    ScorecardTemplateViewSet,
    ScorecardViewSet,
)


def register(router):
    """The performance routes of /api/v1/."""
    router.register("kpi-snapshots", KpiSnapshotViewSet, basename="kpi-snapshot")
    router.register("scorecards", ScorecardViewSet, basename="scorecard")
    router.register("region-scorecards", RegionScorecardViewSet, basename="region-scorecard")
    router.register("region-flags", RegionFlagViewSet, basename="region-flag")
    router.register("flag-rules", FlagRuleViewSet, basename="flag-rule")
    router.register("scorecard-templates", ScorecardTemplateViewSet, basename="scorecard-template")
    router.register("scorecard-runs", ScorecardRunViewSet, basename="scorecard-run")
    router.register("customer-satisfaction", CustomerSatisfactionViewSet, basename="customer-satisfaction")
