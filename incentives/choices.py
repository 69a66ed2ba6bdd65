from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RebateBasis(models.TextChoices):
    REVENUE = "revenue", _("Revenue")
    UNITS = "units", _("Units")


class RebateMethod(models.TextChoices):
    RETROACTIVE = "retroactive", _("Retroactive")
    MARGINAL = "marginal", _("Marginal")


class StatementStatus(models.TextChoices):
    CALCULATED = "calculated", _("Calculated")
    APPROVED = "approved", pgettext_lazy("statement status", "Approved")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")


# An approved or paid statement never changes; a correction is an adjustment on a later one.
StatementStatus.LOCKED = (StatementStatus.APPROVED, StatementStatus.PAID)

STATEMENT_TRANSITIONS = {
    StatementStatus.CALCULATED: (StatementStatus.APPROVED, StatementStatus.CANCELLED),
    StatementStatus.APPROVED: (StatementStatus.PAID, StatementStatus.CANCELLED),
    StatementStatus.PAID: (),
    StatementStatus.CANCELLED: (),
}


class LineKind(models.TextChoices):
    REBATE = "rebate", _("Rebate")
    OVERRIDE = "override", _("Override commission")
    CAP = "cap", _("Cap")
    ADJUSTMENT = "adjustment", _("Adjustment")
