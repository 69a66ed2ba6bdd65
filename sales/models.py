"""The product catalogue (product lines and their products) and the sales lines partners
report: the facts that agreements, incentives, training and performance read."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from partners.models import Partner, Region, code_validator
from prm.tenancy import TenantQuerySet


class CatalogueQuerySet(models.QuerySet):
    def visible_to(self, user):
        # The catalogue is reference data: everyone signed in may read it.
        return self if user.is_authenticated else self.none()

    def active(self):
        return self.filter(is_active=True)


class ProductLine(models.Model):
    """A group of products sold and contracted together (产品线), e.g. "Industrial sensors"."""

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CatalogueQuerySet.as_manager()

    class Meta:
        verbose_name = _("product line")
        verbose_name_plural = _("product lines")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("sales:product-line-edit", args=[self.pk])

    def clean(self):
        super().clean()
        self.code = (self.code or "").strip().upper()


class Product(models.Model):
    """One sellable item (SKU) of a product line."""

    sku = models.CharField(_("SKU"), max_length=64, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    product_line = models.ForeignKey(
        ProductLine, verbose_name=_("product line"), on_delete=models.PROTECT, related_name="products"
    )
    unit = models.CharField(_("unit"), max_length=20, default="pcs", help_text=_("e.g. pcs, box, licence"))
    list_price = models.DecimalField(
        _("list price"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CatalogueQuerySet.as_manager()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["product_line__name", "name"]

    def __str__(self):
        return f"{self.name} ({self.sku})"

    def get_absolute_url(self):
        return reverse("sales:product-edit", args=[self.pk])

    def clean(self):
        super().clean()
        self.sku = (self.sku or "").strip().upper()


class SalesSource(models.TextChoices):
    PORTAL = "portal", _("Portal upload")
    IMPORT = "import", _("Staff import")
    API = "api", _("API")


class SalesLineQuerySet(TenantQuerySet):
    partner_lookup = "partner"


class SalesLine(models.Model):
    """One reported sale (the fact table): who sold what to whom, where, when, for how much.
    Ingestion (portal upload, staff import, API bulk) comes with the performance work."""

    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="sales_lines"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    product_line = models.ForeignKey(
        ProductLine, verbose_name=_("product line"), on_delete=models.PROTECT, related_name="sales_lines"
    )
    customer_id = models.CharField(_("customer ID"), max_length=100, blank=True)
    customer_name = models.CharField(_("customer name"), max_length=200, blank=True)
    customer_region = models.ForeignKey(
        Region, verbose_name=_("customer region"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sold_on = models.DateField(_("sold on"))
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default=settings.PRM_CURRENCY)
    source = models.CharField(_("source"), max_length=10, choices=SalesSource.choices, default=SalesSource.IMPORT)
    external_id = models.CharField(_("external ID"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    objects = SalesLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("sales line")
        verbose_name_plural = _("sales lines")
        ordering = ["-sold_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "external_id"],
                condition=~models.Q(external_id=""),
                name="sales_line_external_id_unique_per_partner",
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "sold_on"]),
            models.Index(fields=["sold_on", "product_line"]),
            models.Index(fields=["customer_region", "sold_on"]),
        ]

    def __str__(self):
        return f"{self.partner_id} {self.sold_on} {self.amount}"
