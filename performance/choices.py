"""Every set of choices of the performance module, declared once and used by models, filters,
the API and the pages alike."""

from django.db import models
from django.utils.translation import gettext_lazy as _


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
