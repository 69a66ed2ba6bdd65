"""The partner registry: regions, tiers, partners in their multi-tier network, and contacts; and
the API keys integrations call the API with."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from prm.api.authentication import KEY_PREFIX
from prm.api.scopes import scope_choices
from prm.fields import URLField
from prm.tenancy import TenantQuerySet
from prm.tree import TreeNode, TreeQuerySet

from .choices import ApiKeyStatus, ContactRole, CreditRating, PartnerStatus, PartnerType, PortalLoginState, RegionKind

# Codes are stored in capitals; lower case is accepted and converted in clean().
code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_-]*$",
    _("Use letters, digits, '-' and '_' only, starting with a letter or digit."),
)
percent_validators = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


class RegionQuerySet(TreeQuerySet):
    def visible_to(self, user):
        # Regions are reference data: everyone signed in may read them.
        return self if user.is_authenticated else self.none()


class Region(TreeNode):
    """A territory in the hierarchy: country → sales area → province → city."""

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=RegionKind.choices, default=RegionKind.PROVINCE)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["path"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        self.code = (self.code or "").strip().upper()

    def get_absolute_url(self):
        return reverse("partners:region-edit", args=[self.pk])


class ManagerRegion(models.Model):
    """A channel manager's assignment to a region, and so to every region below it: the manager
    may change the partners whose primary region lies there."""

    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("channel manager"),
        on_delete=models.CASCADE,
        related_name="region_assignments",
        limit_choices_to={"is_staff": True},
    )
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.CASCADE, related_name="manager_assignments"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("manager region")
        verbose_name_plural = _("manager regions")
        ordering = ["manager", "region__path"]
        constraints = [models.UniqueConstraint(fields=["manager", "region"], name="manager_region_unique")]

    def __str__(self):
        return f"{self.manager} → {self.region}"


class PartnerTierQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if user.is_authenticated else self.none()


class PartnerTier(models.Model):
    """A grade of partner (Registered, Silver, Gold, Platinum): what it takes and what it gives."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    rank = models.PositiveSmallIntegerField(
        _("rank"), unique=True, help_text=_("Higher is better: 1 is the entry tier.")
    )
    description = models.TextField(_("description"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
    # Requirements
    min_annual_revenue = models.DecimalField(
        _("minimum annual revenue"),
        max_digits=16,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    min_certified_staff = models.PositiveIntegerField(_("minimum certified staff"), default=0)
    min_scorecard_score = models.DecimalField(
        _("minimum scorecard score"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=percent_validators,
    )
    # Benefits
    discount_percent = models.DecimalField(
        _("discount %"), max_digits=5, decimal_places=2, default=Decimal("0"), validators=percent_validators
    )
    rebate_multiplier = models.DecimalField(
        _("rebate multiplier"),
        max_digits=5,
        decimal_places=3,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("10"))],
    )
    mdf_allowance_percent = models.DecimalField(
        _("MDF allowance %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=percent_validators,
        help_text=_("Share of the previous period's revenue granted as market development funds."),
    )

    objects = PartnerTierQuerySet.as_manager()

    class Meta:
        verbose_name = _("partner tier")
        verbose_name_plural = _("partner tiers")
        ordering = ["rank"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("partners:tier-edit", args=[self.pk])


class PartnerQuerySet(TreeQuerySet, TenantQuerySet):
    """Staff see every partner; a partner's users see their own partner (see prm.tenancy)."""

    partner_lookup = ""

    def in_region(self, region):
        """Partners whose primary region is `region` or any region below it: one query."""
        return self.filter(region__path__startswith=region.path)


class Partner(TreeNode):
    """A channel partner. `parent` places it in the multi-tier network (三级分销)."""

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    partner_type = models.CharField(_("type"), max_length=20, choices=PartnerType.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=PartnerStatus.choices, default=PartnerStatus.PROSPECT, db_index=True
    )
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    tier = models.ForeignKey(
        PartnerTier, verbose_name=_("tier"), null=True, blank=True, on_delete=models.PROTECT, related_name="partners"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("primary region"), on_delete=models.PROTECT, related_name="partners"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("channel manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_partners",
        limit_choices_to={"is_staff": True},
    )
    external_id = models.CharField(
        _("external ID"), max_length=100, blank=True, help_text=_("The partner's ID in the CRM, for sync.")
    )
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    website = URLField(_("website"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    credit_rating = models.CharField(_("credit rating"), max_length=3, choices=CreditRating.choices, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = PartnerQuerySet.as_manager()

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"], condition=~models.Q(external_id=""), name="partner_external_id_unique"
            ),
        ]
        indexes = [models.Index(fields=["partner_type", "status"]), models.Index(fields=["name"])]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def get_absolute_url(self):
        return reverse("partners:partner-detail", args=[self.pk])

    def clean(self):
        super().clean()
        self.code = (self.code or "").strip().upper()
        # The partial unique constraint alone reports a nameless "constraint violated" error;
        # say which field is taken (and the constraint check then skips this field).
        taken = Partner._default_manager.filter(external_id=self.external_id).exclude(pk=self.pk)
        if self.external_id and taken.exists():
            raise ValidationError({"external_id": _("Another partner already has this external ID.")})

    @property
    def network_level(self):
        return self.depth


class PartnerContactQuerySet(TenantQuerySet):
    partner_lookup = "partner"


class PartnerContact(models.Model):
    """A person at a partner; `user` is set when they have a portal login."""

    partner = models.ForeignKey(Partner, verbose_name=_("partner"), on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=150)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    job_role = models.CharField(_("job role"), max_length=20, choices=ContactRole.choices, default=ContactRole.SALES)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("portal login"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="partner_contact",
    )
    is_partner_admin = models.BooleanField(
        _("partner admin"), default=False, help_text=_("Manages the partner's own portal users.")
    )
    external_id = models.CharField(
        _("external ID"),
        max_length=100,
        blank=True,
        help_text=_("The contact's ID in the CRM; integrations upsert contacts by it."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = PartnerContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("partner contact")
        verbose_name_plural = _("partner contacts")
        ordering = ["partner", "-is_primary", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner"], condition=models.Q(is_primary=True), name="partner_contact_one_primary"
            ),
            models.UniqueConstraint(
                fields=["external_id"], condition=~models.Q(external_id=""), name="partner_contact_external_id_unique"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        # As for partners: name the field that is taken, not the constraint.
        taken = PartnerContact._default_manager.filter(external_id=self.external_id).exclude(pk=self.pk)
        if self.external_id and taken.exists():
            raise ValidationError({"external_id": _("Another contact already has this external ID.")})

    @property
    def has_portal_login(self):
        return self.user_id is not None

    @property
    def portal_login_state(self):
        """A PortalLoginState: no login, invited (no password chosen yet), active or deactivated."""
        if self.user is None:
            return PortalLoginState.NONE
        if not self.user.is_active:
            return PortalLoginState.DEACTIVATED
        return PortalLoginState.ACTIVE if self.user.has_usable_password() else PortalLoginState.INVITED


class ApiKey(models.Model):
    """A key an integration calls the API with: the vendor's CRM (no partner: it reads and writes
    like vendor staff within its scopes) or a partner's own system (bound to that partner: it
    sees that partner's data only). The key reads `prm_<prefix>_<secret>`; only the SHA-256 of
    the secret is stored, and the key itself is shown once, when it is created (see
    prm.api.authentication and partners.services.api_key_create)."""

    name = models.CharField(_("name"), max_length=100, help_text=_("What uses the key, e.g. “Salesforce sync”."))
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(_("secret hash"), max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    partner = models.ForeignKey(
        Partner,
        verbose_name=_("partner"),
        null=True,
        blank=True,
        # Never SET_NULL: a partner's key must not turn into a vendor key.
        on_delete=models.CASCADE,
        related_name="api_keys",
        help_text=_("Bind the key to one partner for that partner's own systems; empty for a vendor key."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_used_at = models.DateTimeField(
        _("last used at"), null=True, blank=True, help_text=_("Updated at most once a minute.")
    )

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.display_prefix})"

    @property
    def display_prefix(self):
        """How lists show the key: its public part, never the secret."""
        return f"{KEY_PREFIX}_{self.prefix}_…"

    @property
    def status(self):
        if self.revoked_at is not None:
            return ApiKeyStatus.REVOKED
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return ApiKeyStatus.EXPIRED
        return ApiKeyStatus.VALID

    @property
    def is_active(self):
        return self.status == ApiKeyStatus.VALID

    @property
    def partner_ended(self):
        """A key bound to a partner whose partnership was terminated opens nothing."""
        return self.partner is not None and self.partner.status == PartnerStatus.TERMINATED

    def scope_labels(self):
        labels = dict(scope_choices())
        return [labels.get(value, value) for value in self.scopes]
