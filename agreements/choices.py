from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AgreementType(models.TextChoices):
    DISTRIBUTION = "distribution", _("Distribution")
    RESELLER = "reseller", _("Reseller")
    AGENCY = "agency", _("Agency")
    REFERRAL = "referral", _("Referral")
    SERVICE = "service", _("Service")


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING_APPROVAL = "pending_approval", _("Pending approval")
    ACTIVE = "active", pgettext_lazy("agreement status", "Active")
    EXPIRED = "expired", _("Expired")
    TERMINATED = "terminated", _("Terminated")


# Agreements that grant rights now or are about to: exclusivity is checked among these.
AgreementStatus.IN_FORCE = (AgreementStatus.PENDING_APPROVAL, AgreementStatus.ACTIVE)

# The legal moves. Renewal and amendment do not move an agreement: they create a successor draft.
AGREEMENT_TRANSITIONS = {
    AgreementStatus.DRAFT: (AgreementStatus.PENDING_APPROVAL, AgreementStatus.TERMINATED),
    AgreementStatus.PENDING_APPROVAL: (AgreementStatus.ACTIVE, AgreementStatus.DRAFT, AgreementStatus.TERMINATED),
    AgreementStatus.ACTIVE: (AgreementStatus.EXPIRED, AgreementStatus.TERMINATED),
    AgreementStatus.EXPIRED: (),
    AgreementStatus.TERMINATED: (),
}


class DocumentKind(models.TextChoices):
    SIGNED_CONTRACT = "signed", _("Signed contract")
    ANNEX = "annex", _("Annex")
    AMENDMENT = "amendment", _("Amendment")
    OTHER = "other", _("Other")


class ExpiryWindow(models.IntegerChoices):
    DAYS_90 = 90, _("90 days")
    DAYS_60 = 60, _("60 days")
    DAYS_30 = 30, _("30 days")
