"""Demo data for agreements: one for every active demo partner, covering the product lines it
sells (see sales.demo.lines_for) in its primary region, with quarterly targets from 24 months ago
to at least 12 months ahead. The first top-level distributor of each area holds its province
exclusively for the automation software, which only top-level distributors carry, so the
exclusive grants never clash.

Also: three agreements ending within 30, 60 and 90 days, one pending approval, one draft, one
expired with its renewal drafted, one amended (the amendment superseded its predecessor), and a
region target for next quarter split across the region's partners.

Deterministic and idempotent: a partner that already has an agreement is left alone, and the
region target is made once.
"""

from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from partners.choices import PartnerStatus, PartnerType
from partners.models import Partner, Region
from prm.audit import audit_record
from prm.models import AuditEntry
from prm.periods import Period, PeriodKind, periods_between
from sales.demo import lines_for
from sales.models import Product, ProductLine

from . import services
from .choices import AgreementStatus, AgreementType
from .models import Agreement, AgreementTarget, RegionTarget

TYPES = {
    PartnerType.DISTRIBUTOR: AgreementType.DISTRIBUTION,
    PartnerType.AGENT: AgreementType.AGENCY,
    PartnerType.SERVICE_PROVIDER: AgreementType.SERVICE,
    PartnerType.REFERRAL: AgreementType.REFERRAL,
}
# The software's master distributors hold their province exclusively (nobody else carries it).
EXCLUSIVE = {"D-NORTH-1", "D-EAST-1", "D-SOUTH-1", "D-CENTRAL-1", "D-WEST-1"}
# Partners whose agreement tells a particular story, by code.
ENDING_IN_DAYS = {"R-NORTH-111": 20, "R-SOUTH-111": 50, "R-WEST-111": 80}
PENDING = "R-EAST-121"
DRAFT = "R-CENTRAL-111"
EXPIRED_AND_RENEWING = "E-ZJ-1"
AMENDED = "P-JS-1"
SPLIT_REGION = "EAST"


class _Builder:
    def __init__(self, *, by, today, log):
        self.by, self.today, self.log = by, today, log
        quarter = Period.containing(today, PeriodKind.QUARTER)
        self.start = quarter.start - relativedelta(months=24)
        self.end = quarter.start + relativedelta(months=15) - timedelta(days=1)
        self.lines = {line.code: line for line in ProductLine.objects.all()}
        self.prices = {}
        for product in Product.objects.filter(list_price__isnull=False).order_by("list_price"):
            self.prices.setdefault(product.product_line_id, product.list_price)
        self.targets = []
        self.created = 0

    def agreement(self, partner, *, start=None, end=None):
        lines = [self.lines[code] for code in lines_for(partner) if code in self.lines]
        tier_discount = partner.tier.discount_percent if partner.tier else Decimal("5")
        agreement = services.agreement_create(
            partner=partner,
            agreement_type=TYPES.get(partner.partner_type, AgreementType.RESELLER),
            start_date=start or self.start,
            end_date=end or self.end,
            by=self.by,
            product_lines=lines,
            territories=[
                {
                    "region": partner.region,
                    "exclusive": partner.code in EXCLUSIVE,
                }
            ],
            minimum_prices=[
                {
                    "product_line": line,
                    "min_unit_price": (self.prices[line.pk] * Decimal("0.8")).quantize(Decimal("0.01")),
                }
                for line in lines
                if line.pk in self.prices
            ],
            discount_percent=tier_discount,
            price_list=f"{self.today.year} channel price list",
            payment_terms="Net 30 days from invoice",
            payment_days=30,
            market_support="Co-marketing fund of 2% of revenue; two joint events a year.",
            after_sales_obligations="First-line support within 24 hours; spare parts stock for 3 months of sales.",
            penalty_clauses="Sales outside the territory or below the minimum price: 5% of the sale, then suspension.",
            vendor_signatory="Alice Admin",
            partner_signatory=partner.contacts.filter(is_primary=True).values_list("name", flat=True).first() or "",
            signed_on=(start or self.start) - timedelta(days=7),
        )
        self.created += 1
        return agreement

    def activate(self, agreement):
        services.agreement_submit(agreement=agreement, by=self.by)
        return services.agreement_approve(agreement=agreement, by=self.by)

    def quarterly_targets(self, agreement, partner):
        """A revenue target per quarter of the term, near the partner's sales, 10% up a year."""
        base = Decimal(150000) * Decimal(4 - min(partner.depth, 3)) * Decimal(partner.tier.rank if partner.tier else 1)
        for period in periods_between(agreement.start_date, agreement.end_date, PeriodKind.QUARTER):
            years = Decimal(period.year - agreement.start_date.year)
            revenue = (base * (1 + Decimal("0.1") * years)).quantize(Decimal("1000"))
            self.targets.append(
                AgreementTarget(
                    agreement=agreement,
                    period=period.code,
                    period_start=period.start,
                    period_end=period.end,
                    revenue=revenue,
                    units=None,
                )
            )


def _expire_in_the_past(builder, partner):
    """An agreement that ran for two years and ended last month: built active (approval refuses a
    term already over), then expired by the job's own service; its renewal is drafted."""
    end = date(builder.today.year, builder.today.month, 1) - timedelta(days=1)
    agreement = builder.agreement(partner, start=end + timedelta(days=1) - relativedelta(years=2), end=end)
    services.agreement_submit(agreement=agreement, by=builder.by)
    Agreement.objects.filter(pk=agreement.pk).update(
        status=AgreementStatus.ACTIVE, approved_by=builder.by, approved_at=timezone.now(), updated_at=timezone.now()
    )
    agreement.refresh_from_db()
    audit_record(
        instance=agreement,
        action=AuditEntry.Action.STATUS,
        by=builder.by,
        changes={"status": [AgreementStatus.PENDING_APPROVAL.value, AgreementStatus.ACTIVE.value]},
    )
    services.agreement_expire(agreement=agreement)
    builder.quarterly_targets(agreement, partner)
    return services.agreement_renew(agreement=agreement, by=builder.by)


def _build(builder, partner):
    code = partner.code
    if code == DRAFT:
        return builder.agreement(partner, start=builder.today + timedelta(days=30))
    if code == PENDING:
        agreement = builder.agreement(partner)
        builder.quarterly_targets(agreement, partner)
        return services.agreement_submit(agreement=agreement, by=builder.by)
    if code == EXPIRED_AND_RENEWING:
        return _expire_in_the_past(builder, partner)
    end = builder.today + timedelta(days=ENDING_IN_DAYS[code]) if code in ENDING_IN_DAYS else None
    agreement = builder.activate(builder.agreement(partner, end=end))
    builder.quarterly_targets(agreement, partner)
    if code == AMENDED:
        amendment = services.agreement_amend(agreement=agreement, by=builder.by)
        services.agreement_update(
            agreement=amendment, by=builder.by, discount_percent=(agreement.discount_percent or 0) + Decimal("2")
        )
        builder.activate(amendment)
        builder.quarterly_targets(amendment, partner)
    return agreement


def _split_region_target(by, today, log):
    region = Region.objects.get(code=SPLIT_REGION)
    period = Period.containing(today, PeriodKind.QUARTER).next()
    if RegionTarget.objects.filter(region=region, period=period.code, product_line=None).exists():
        return
    target = services.region_target_set(region=region, period=period, by=by, revenue=Decimal("12500000.00"))
    rows = services.region_target_decompose(region_target=target, by=by)
    log(f"region target {region.code} {period.code} split across {len(rows)} partners")


@transaction.atomic
def seed(*, log=print):
    by = get_user_model().objects.get(username="admin")
    today = timezone.localdate()
    builder = _Builder(by=by, today=today, log=log)
    if not builder.lines:
        return
    partners = (
        Partner.objects.filter(status=PartnerStatus.ACTIVE, agreements__isnull=True)
        .select_related("tier", "region")
        .order_by("depth", "code")
    )
    for partner in partners:
        _build(builder, partner)
    # Targets written in one go; periods are whole quarters of each term (inside it by construction).
    AgreementTarget.objects.bulk_create(builder.targets, batch_size=1000)
    _split_region_target(by, today, log)
    log(f"agreements created: {builder.created}, in total: {Agreement.objects.count()}")
