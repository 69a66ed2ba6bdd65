"""Every set of choices in the partner registry, declared once and used by models, forms,
filters and the API alike."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RegionKind(models.TextChoices):
    COUNTRY = "country", _("Country")
    AREA = "area", _("Sales area")
    PROVINCE = "province", _("Province")
    CITY = "city", _("City")
    DISTRICT = "district", _("District")


class PartnerType(models.TextChoices):
    DISTRIBUTOR = "distributor", _("Distributor")
    AGENT = "agent", _("Agent")
    RESELLER = "reseller", _("Reseller")
    RETAILER = "retailer", _("Retailer")
    ECOMMERCE = "ecommerce", _("E-commerce")
    SERVICE_PROVIDER = "service_provider", _("Service provider")
    REFERRAL = "referral", _("Referral")


class PartnerStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    ONBOARDING = "onboarding", _("Onboarding")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    TERMINATED = "terminated", _("Terminated")


# The only legal moves of a partner's status. A prospect or a partner still onboarding may be
# dropped; an active partner is suspended before it is terminated; terminated is final.
PARTNER_STATUS_TRANSITIONS = {
    PartnerStatus.PROSPECT: (PartnerStatus.ONBOARDING, PartnerStatus.TERMINATED),
    PartnerStatus.ONBOARDING: (PartnerStatus.ACTIVE, PartnerStatus.TERMINATED),
    PartnerStatus.ACTIVE: (PartnerStatus.SUSPENDED,),
    PartnerStatus.SUSPENDED: (PartnerStatus.ACTIVE, PartnerStatus.TERMINATED),
    PartnerStatus.TERMINATED: (),
}


class CreditRating(models.TextChoices):
    AAA = "AAA", _("AAA: excellent")
    AA = "AA", _("AA: very good")
    A = "A", _("A: good")
    B = "B", _("B: fair")
    C = "C", _("C: poor")


class ContactRole(models.TextChoices):
    OWNER = "owner", _("Owner / general manager")
    SALES = "sales", _("Sales")
    TECHNICAL = "technical", _("Technical / after-sales")
    MARKETING = "marketing", _("Marketing")
    FINANCE = "finance", _("Finance")
    OPERATIONS = "operations", _("Operations")
    OTHER = "other", _("Other")


# Depth of the multi-tier network (三级分销): distributor → sub-distributor → reseller.
MAX_NETWORK_DEPTH = 3


class ApiKeyStatus(models.TextChoices):
    """Whether an API key still opens the API: derived from its expiry and revocation."""

    VALID = "valid", _("Valid")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")


class PortalLoginState(models.TextChoices):
    """Where a contact's portal login stands: derived from the login, shown by the API so an
    integration knows whether to invite, resend the invitation or reactivate."""

    NONE = "none", _("No portal login")
    INVITED = "invited", _("Invited, no password yet")
    ACTIVE = "active", pgettext_lazy("portal login", "Active")
    DEACTIVATED = "deactivated", _("Deactivated")
