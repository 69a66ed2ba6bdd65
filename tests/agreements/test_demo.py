"""`manage.py seed_demo` for agreements and sales: every active partner has an agreement, the
exclusive grants never clash, the stories the pages need are there, and it is safe to run again."""

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from agreements import services
from agreements.choices import AgreementStatus
from agreements.models import Agreement, AgreementTarget, AgreementTerritory, RegionTarget
from partners.choices import PartnerStatus
from partners.models import Partner
from prm.periods import Period
from sales.models import Product, ProductLine, SalesLine
from tests.demo import row_counts, seed

pytestmark = pytest.mark.django_db


def test_a_catalogue_and_two_years_of_sales(demo):
    assert ProductLine.objects.count() == 4
    assert Product.objects.count() >= 8
    assert 1000 <= SalesLine.objects.count() <= 5000
    today = timezone.localdate()
    oldest = SalesLine.objects.order_by("sold_on").first().sold_on
    assert (today - oldest).days >= 700
    assert set(SalesLine.objects.values_list("partner__status", flat=True).distinct()) == {PartnerStatus.ACTIVE}


def test_every_active_partner_has_an_agreement(demo):
    without = Partner.objects.filter(status=PartnerStatus.ACTIVE, agreements__isnull=True)

    assert not without.exists()


def test_the_stories_the_pages_need(demo):
    today = timezone.localdate()
    agreements = Agreement.objects.all()

    assert agreements.filter(status=AgreementStatus.PENDING_APPROVAL).exists()
    assert agreements.filter(status=AgreementStatus.DRAFT, predecessor__isnull=True).exists()
    expired = agreements.get(status=AgreementStatus.EXPIRED)
    assert expired.successors.filter(status=AgreementStatus.DRAFT).exists()
    amendment = agreements.get(is_amendment=True)
    assert amendment.status == AgreementStatus.ACTIVE
    assert amendment.predecessor.status == AgreementStatus.TERMINATED
    for days in (30, 60, 90):
        assert agreements.expiring_within(days, today=today).filter(end_date__gt=today + timedelta(days - 30)).exists()
    assert AgreementTerritory.objects.filter(exclusive=True).count() >= 3


def test_no_exclusive_grant_clashes(demo):
    for agreement in Agreement.objects.in_force().prefetch_related("territories__region", "product_lines"):
        conflicts = services.exclusivity_conflicts(
            partner=agreement.partner,
            start_date=agreement.start_date,
            end_date=agreement.end_date,
            territories=list(agreement.territories.all()),
            product_lines=list(agreement.product_lines.all()),
            exclude=agreement,
        )
        assert conflicts == [], agreement.number


def test_targets_cover_the_past_two_years_and_the_next_inside_the_terms(demo):
    today = timezone.localdate()
    targets = AgreementTarget.objects.select_related("agreement")

    assert all(t.agreement.start_date <= t.period_start and t.period_end <= t.agreement.end_date for t in targets)
    assert targets.filter(period_end__lt=today - timedelta(days=600)).exists()
    assert targets.filter(period_end__gt=today + timedelta(days=300)).exists()


def test_one_region_target_is_split_to_the_cent(demo):
    region_target = RegionTarget.objects.get()

    split = AgreementTarget.objects.filter(region_target=region_target)
    assert split.count() >= 3
    assert split.aggregate(total=Sum("revenue"))["total"] == region_target.revenue
    assert Period.parse(region_target.period).start > timezone.localdate()


def test_running_it_twice_creates_nothing_new(demo):
    first = row_counts()

    seed()

    assert row_counts() == first
