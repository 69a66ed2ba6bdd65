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
