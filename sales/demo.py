"""Demo data for the catalogue and the sales lines: four product lines with their products, and
24 months of reported sales plus the current month so far for the active demo partners, what
targets, incentives and performance read. The sales tell a story a channel manager recognises:

- each partner sells around the monthly share of the quarterly target agreements.demo gives it
  (its own performance 92–122 %), growing 10 % a year as the targets do, with a Chinese channel's seasons (a dip
  at the Spring Festival, peaks before 618, at 双十一 and, the highest, at year end);
- one to three of its twelve regular customers buy each product line each month;
- the partners of two provinces (DECLINING) have sold less every month for four months, those
  of one (UNDERPERFORMING) sell about half their target, those of one (CROSS_TERRITORY) sell a
  quarter to customers in neighbouring provinces (窜货), those of one (PRICE_DUMPING) often sell
  below the agreements' minimum price (80 % of the cheapest list price), and a few sales
  elsewhere do too.

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
from partners.models import Partner, Region
from prm.periods import Period, PeriodKind

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
CUSTOMERS = 12  # per partner, reused month after month
# A Chinese channel's year: the Spring Festival dip, 618 in June, 双十一 in November, year end.
SEASON = {
    month: Decimal(factor)
    for month, factor in enumerate(
        ["0.9", "0.8", "0.95", "1.0", "1.05", "1.25", "0.92", "0.95", "1.0", "1.05", "1.25", "1.35"], start=1
    )
}
# Province codes (partners.demo) and their stories.
DECLINING = ("HN", "SN")
DECLINE_MONTHS, DECLINE_STEP = 4, Decimal("0.82")
UNDERPERFORMING = {"SX": Decimal("0.55")}
CROSS_TERRITORY, OUTSIDE_REGIONS, CROSSING_SHARE = "HB", ("HA", "HN"), Decimal("0.25")
PRICE_DUMPING = ("FJ",)


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


def _month_share(month, today):
    """The share of a month's sales already reported: all of a past month, the days so far of
    the current one."""
    if (month.year, month.month) != (today.year, today.month):
        return Decimal(1)
    days = (month + relativedelta(months=1) - month).days
    return Decimal(today.day) / Decimal(days)


def _monthly_revenue(partner, performance, month, months_back, today, rng):
    """What the partner sells in a month (every product line): the monthly share of the
    quarterly target agreements.demo gives it (quarterly_targets: 150,000 × (4 − level) × tier
    rank, 10 % up a year), times its performance and the season, or its decline."""
    target = Decimal(50000) * Decimal(4 - min(partner.depth, 3)) * Decimal(partner.tier.rank if partner.tier else 1)
    if partner.region.code in DECLINING and months_back <= DECLINE_MONTHS:
        # Less every month since DECLINE_MONTHS months ago, whatever the season.
        factor = DECLINE_STEP ** (DECLINE_MONTHS + 1 - months_back)
    else:
        factor = performance * SEASON[month.month]
    # The targets' yearly step (agreements.demo: the terms start 24 months before this quarter),
    # reached by a steady climb through the year.
    start_year = (Period.containing(today, PeriodKind.QUARTER).start - relativedelta(months=MONTHS)).year
    growth = (1 + Decimal("0.1") * (month.year - start_year)) * (
        Decimal("0.97") + Decimal("0.06") * (month.month - 1) / 11
    )
    noise = Decimal(rng.randint(96, 104)) / 100
    return target * factor * growth * noise * _month_share(month, today)


def _price(partner, products, rng):
    """(product, unit price): a discount off the list price, or, for a dumped sale, below the
    agreements' minimum price (80 % of the product line's cheapest list price)."""
    if partner.region.code in PRICE_DUMPING and rng.random() < 0.35 or rng.random() < 0.03:
        product = min(products, key=lambda item: item.list_price)
        return product, (product.list_price * Decimal(rng.choice(["0.72", "0.75", "0.78"]))).quantize(Decimal("0.01"))
    product = rng.choice(products)
    return product, (product.list_price * Decimal(rng.choice(["0.82", "0.85", "0.9", "0.95"]))).quantize(
        Decimal("0.01")
    )


def _shares(count, crossing):
    """[(share of the month's sales, sold outside the territory)] for `count` customers: even
    shares, or for a partner selling across its territory a quarter to the first one, outside."""
    if not crossing:
        return [(Decimal(1) / count, False)] * count
    return [(CROSSING_SHARE, True)] + [((1 - CROSSING_SHARE) / (count - 1), False)] * (count - 1)


def _sales_lines(lines, today):
    """Sales lines for the last MONTHS months and the current month so far, per partner, product
    line, month and customer (see the module's docstring for the story they tell)."""
    products = {}
    for product in Product.objects.filter(product_line__in=lines.values()).order_by("sku"):
        products.setdefault(product.product_line_id, []).append(product)
    this_month = date(today.year, today.month, 1)
    outside_regions = list(Region.objects.filter(code__in=OUTSIDE_REGIONS).order_by("code"))
    rows = []
    partners = Partner.objects.filter(status=PartnerStatus.ACTIVE).select_related("tier", "region").order_by("code")
    for partner in partners:
        rng = random.Random(partner.code)
        performance = UNDERPERFORMING.get(partner.region.code, Decimal(rng.randint(92, 122)) / 100)
        codes = lines_for(partner)
        for months_back in range(MONTHS, -1, -1):
            month = this_month - relativedelta(months=months_back)
            revenue = _monthly_revenue(partner, performance, month, months_back, today, rng) / len(codes)
            last_day = today.day if months_back == 0 else 28
            for code in codes:
                line = lines[code]
                crossing = partner.region.code == CROSS_TERRITORY
                customers = rng.sample(range(1, CUSTOMERS + 1), rng.choice((2, 3) if crossing else (1, 2, 2, 3)))
                for number, (customer, (part, outside)) in enumerate(
                    zip(customers, _shares(len(customers), crossing), strict=True), start=1
                ):
                    product, price = _price(partner, products[line.pk], rng)
                    quantity = max(1, int(revenue * part / price))
                    region = outside_regions[customer % len(outside_regions)] if outside else partner.region
                    rows.append(
                        SalesLine(
                            partner=partner,
                            product=product,
                            product_line=line,
                            customer_id=f"C-{partner.code}-{customer:02d}",
                            customer_name=f"{region.name} customer {customer}",
                            customer_region=region,
                            sold_on=month + relativedelta(days=rng.randint(0, last_day - 1)),
                            quantity=Decimal(quantity),
                            unit_price=price,
                            amount=price * quantity,
                            source=SalesSource.IMPORT,
                            external_id=f"DEMO-{code}-{month:%Y%m}" + (f"-{number}" if number > 1 else ""),
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
