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


class BudgetSource(models.TextChoices):
    MANUAL = "manual", _("Set by hand")
    TIER = "tier", _("Tier allowance")


class MdfActivity(models.TextChoices):
    TRADE_SHOW = "trade_show", _("Trade show")
    ADVERTISING = "advertising", _("Advertising")
    PROMOTION = "promotion", _("Promotion")
    TRAINING_EVENT = "training_event", _("Training event")
    OTHER = "other", _("Other")


class MdfStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("MDF request status", "Draft")
    SUBMITTED = "submitted", pgettext_lazy("MDF request status", "Submitted")
    APPROVED = "approved", pgettext_lazy("MDF request status", "Approved")
    REJECTED = "rejected", pgettext_lazy("MDF request status", "Rejected")
    CLAIMED = "claimed", pgettext_lazy("MDF request status", "Claimed")
    PAID = "paid", pgettext_lazy("MDF request status", "Paid")
    CANCELLED = "cancelled", pgettext_lazy("MDF request status", "Cancelled")


# What a request holds of its budget: the approved amount while approved, the actual amount
# once claimed or paid (a claim below the approved amount releases the difference).
MdfStatus.RESERVING = (MdfStatus.APPROVED,)
MdfStatus.CLAIMING = (MdfStatus.CLAIMED,)
MdfStatus.SPENT = (MdfStatus.PAID,)

MDF_TRANSITIONS = {
    MdfStatus.DRAFT: (MdfStatus.SUBMITTED, MdfStatus.CANCELLED),
    MdfStatus.SUBMITTED: (MdfStatus.APPROVED, MdfStatus.REJECTED, MdfStatus.CANCELLED),
    # A claim sent back (proof not enough) returns to approved, keeping its reservation.
    MdfStatus.APPROVED: (MdfStatus.CLAIMED, MdfStatus.CANCELLED),
    MdfStatus.CLAIMED: (MdfStatus.PAID, MdfStatus.APPROVED),
    MdfStatus.REJECTED: (),
    MdfStatus.PAID: (),
    MdfStatus.CANCELLED: (),
}
