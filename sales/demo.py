"""Demo data for the catalogue and the sales lines: four product lines with their products, and
24 months of reported sales for the active demo partners (what target splits and, later,
performance read).

Deterministic and idempotent: product lines and products are keyed by code and SKU, and every
sales line by its external ID (unique per partner), so running it again creates nothing new.
"""

import random
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone

from partners.choices import PartnerStatus, PartnerType
from partners.models import Partner

from . import services
from .models import Product, ProductLine, SalesLine, SalesSource

# code, name, description, [(sku, name, unit, list price)]
CATALOGUE = [
    (
        "SENSORS",
        "Industrial sensors",
        "Pressure, temperature and flow sensors for factory automation.",
        [
            ("SN-P100", "Pressure sensor P100", "pcs", "420.00"),
            ("SN-T200", "Temperature probe T200", "pcs", "185.00"),
            ("SN-F300", "Flow meter F300", "pcs", "1260.00"),
        ],
    ),
    (
        "CONTROL",
        "Controllers",
        "Programmable controllers and I/O modules.",
        [
            ("PLC-S", "Compact PLC S", "pcs", "2380.00"),
            ("PLC-M", "Modular PLC M", "pcs", "6950.00"),
            ("IO-16", "I/O module 16 channels", "pcs", "640.00"),
        ],
    ),
    (
        "SOFTWARE",
        "Automation software",
        "SCADA and engineering software licences.",
        [
            ("SW-SCADA", "SCADA licence", "licence", "15800.00"),
            ("SW-ENG", "Engineering suite licence", "licence", "8600.00"),
        ],
    ),
    (
        "SERVICES",
        "Field services",
        "Installation, commissioning and maintenance contracts.",
        [
            ("SV-INST", "Installation day", "day", "3200.00"),
            ("SV-MAINT", "Annual maintenance contract", "contract", "12000.00"),
        ],
    ),
]
MONTHS = 24


def lines_for(partner):
    """The product-line codes a demo partner sells (and its agreement covers). Top-level
    distributors are the master distributors of the software (nobody else carries it, so it can
    be granted exclusively); their sub-distributors and resellers carry the hardware."""
    if partner.partner_type == PartnerType.DISTRIBUTOR:
        return ["SOFTWARE"] if partner.depth == 1 else ["SENSORS", "CONTROL"]
    if partner.partner_type == PartnerType.SERVICE_PROVIDER:
        return ["SERVICES"]
    if partner.partner_type in (PartnerType.AGENT, PartnerType.REFERRAL):
        return ["CONTROL"]
    return ["SENSORS"]


def _catalogue(log):
    lines = {}
    for code, name, description, products in CATALOGUE:
        line = ProductLine.objects.filter(code=code).first()
        if line is None:
            line = services.product_line_create(code=code, name=name, description=description)
            log(f"product line {code}")
        lines[code] = line
        existing = set(Product.objects.filter(product_line=line).values_list("sku", flat=True))
        for sku, product_name, unit, price in products:
            if sku not in existing and not Product.objects.filter(sku=sku).exists():
                services.product_create(
                    sku=sku, name=product_name, product_line=line, unit=unit, list_price=Decimal(price)
                )
    return lines


def _sales_lines(lines, today):
    """A line per partner, product line and month for the last MONTHS months, sized by the
    partner's level and tier, growing over time with a seasonal dip in February."""
    products = {}
    for product in Product.objects.filter(product_line__in=lines.values()).order_by("sku"):
        products.setdefault(product.product_line_id, []).append(product)
    first_month = date(today.year, today.month, 1) - relativedelta(months=MONTHS)
    rows = []
    partners = Partner.objects.filter(status=PartnerStatus.ACTIVE).select_related("tier", "region").order_by("code")
    for partner in partners:
        rng = random.Random(partner.code)
        scale = Decimal(4 - min(partner.depth, 3)) * Decimal(partner.tier.rank if partner.tier else 1)
        for code in lines_for(partner):
            line = lines[code]
            for offset in range(MONTHS):
                month = first_month + relativedelta(months=offset)
                product = rng.choice(products[line.pk])
                growth = Decimal(100 + 2 * offset) / 100
                season = Decimal("0.6") if month.month == 2 else Decimal(1)
                quantity = max(1, int(Decimal(rng.randint(4, 12)) * scale * growth * season))
                price = (product.list_price * Decimal(rng.choice(["0.82", "0.85", "0.9", "0.95"]))).quantize(
                    Decimal("0.01")
                )
                rows.append(
                    SalesLine(
                        partner=partner,
                        product=product,
                        product_line=line,
                        customer_id=f"C-{partner.code}-{rng.randint(1, 20):02d}",
                        customer_name=f"{partner.region.name} customer {rng.randint(1, 20)}",
                        customer_region=partner.region,
                        sold_on=month + relativedelta(days=rng.randint(0, 27)),
                        quantity=Decimal(quantity),
                        unit_price=price,
                        amount=price * quantity,
                        source=SalesSource.IMPORT,
                        external_id=f"DEMO-{code}-{month:%Y%m}",
                    )
                )
    return rows


@transaction.atomic
def seed(*, log=print):
    lines = _catalogue(log)
    rows = _sales_lines(lines, timezone.localdate())
    before = SalesLine.objects.count()
    # The external ID is unique per partner: rows already there are skipped by the database.
    SalesLine.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    log(f"sales lines created: {SalesLine.objects.count() - before}, in total: {SalesLine.objects.count()}")
