"""Every set of choices of the performance module, declared once and used by models, filters,
the API and the pages alike."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Kpi(models.TextChoices):
    """The KPI codes (issue 7). `revenue_target` and `incentive_spend` are supporting figures:
    stored so that quarters and years can recompute `target_attainment` and `incentive_return`
    from sums of months (performance.kpis.derive)."""

    REVENUE = "revenue", _("Revenue")
    UNITS = "units", _("Units")
    REVENUE_TARGET = "revenue_target", _("Revenue target")
    TARGET_ATTAINMENT = "target_attainment", _("Target attainment")
    GROWTH_POP = "growth_pop", _("Growth over the previous period")
    GROWTH_YOY = "growth_yoy", _("Growth year over year")
    ACTIVE_CUSTOMERS = "active_customers", _("Active customers")
    CROSS_TERRITORY_SHARE = "cross_territory_share", _("Cross-territory sales share")
    PRICE_COMPLIANCE = "price_compliance", _("Price compliance")
    CERTIFIED_STAFF = "certified_staff", _("Certified staff")
    TRAINING_COMPLETION = "training_completion", _("Training completion")
    INCENTIVE_SPEND = "incentive_spend", _("Incentives paid")
    INCENTIVE_RETURN = "incentive_return", _("Incentive return")
    CUSTOMER_SATISFACTION = "customer_satisfaction", _("Customer satisfaction")


class Grade(models.TextChoices):
    """A scorecard's grade from its score (performance.scoring.grade)."""

    A = "A", _("A (85 and above)")
    B = "B", _("B (70 to under 85)")
    C = "C", _("C (55 to under 70)")
    D = "D", _("D (under 55)")


# KPIs a scorecard template can score: every KPI but the supporting figures.
SCORABLE_KPIS = tuple(kpi for kpi in Kpi if kpi not in (Kpi.REVENUE_TARGET, Kpi.INCENTIVE_SPEND))
# KPIs where less is better: their floor lies above their target (see performance.scoring).
LOWER_IS_BETTER_KPIS = (Kpi.CROSS_TERRITORY_SHARE,)


class FlagRuleCode(models.TextChoices):
    """The rules that flag an underperforming region (performance.flags). Each has one row in
    FlagRule holding its threshold, editable by staff."""

    ATTAINMENT = "attainment_below", _("Target attainment below the threshold")
    SCORE = "score_below", _("Region score below the threshold")
    DECLINE = "revenue_decline", _("Revenue fell month over month, several months in a row")
    CROSS_TERRITORY = "cross_territory_above", _("Cross-territory sales share above the threshold")


class FlagStatus(models.TextChoices):
    """Where a region flag stands: open → acknowledged → action plan → resolved."""

    OPEN = "open", pgettext_lazy("flag status", "Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    ACTION_PLAN = "action_plan", _("Action plan")
    RESOLVED = "resolved", _("Resolved")


# The moves a flag may make (performance.services.flag_move).
FLAG_TRANSITIONS = {
    FlagStatus.OPEN: (FlagStatus.ACKNOWLEDGED,),
    FlagStatus.ACKNOWLEDGED: (FlagStatus.ACTION_PLAN,),
    FlagStatus.ACTION_PLAN: (FlagStatus.ACTION_PLAN, FlagStatus.RESOLVED),
    FlagStatus.RESOLVED: (),
}


class Measure(models.TextChoices):
    """What an action plan does about a flagged region."""

    TRAINING = "training", _("More training")
    MARKET_SUPPORT = "market_support", _("More market support")
    INCENTIVES = "incentives", _("Adjust incentives")
    RECRUIT = "recruit", _("Recruit partners")
    REPLACE = "replace", _("Replace a partner")
    OTHER = "other", _("Other")
