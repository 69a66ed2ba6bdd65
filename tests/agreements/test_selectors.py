"""Reads of agreements: what each user sees, and a fixed number of queries at any size."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agreements import selectors, services
from agreements.choices import AgreementStatus, DocumentKind
from agreements.models import AgreementDocument
from tests.factories import (
    AgreementFactory,
    AgreementTargetFactory,
    AnalystFactory,
    PartnerFactory,
    PartnerUserFactory,
    ProductLineFactory,
    RegionFactory,
)

from .domain_world import admin

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def agreements(count, partner=None):
    line = ProductLineFactory()
    return [
        AgreementFactory(
            partner=partner or PartnerFactory(),
            product_lines=[line],
            territories=[(RegionFactory(), True), RegionFactory()],
        )
        for _ in range(count)
    ]


def queries_to_list(user):
    with CaptureQueriesContext(connection) as queries:
        rows = list(selectors.agreement_list(user))
        for row in rows:
            _ = (row.partner.region.name, row.owner, [t.region.name for t in row.territories.all()])
            _ = [line.name for line in row.product_lines.all()]
    return len(queries), rows


def test_the_list_takes_the_same_queries_for_one_or_many():
    user = AnalystFactory()
    agreements(1)
    few, _rows = queries_to_list(user)
    agreements(15)

    many, rows = queries_to_list(user)

    assert few == many <= 4
    assert len(rows) == 16 and all(row.exclusive_count == 1 for row in rows)


def test_a_partner_user_lists_only_their_own():
    mine = agreements(2, partner=PartnerFactory())
    agreements(3)
    user = PartnerUserFactory(partner=mine[0].partner)

    assert {a.pk for a in selectors.agreement_list(user)} == {a.pk for a in mine}
    assert {a.pk for a in selectors.partner_agreements(mine[0].partner, user)} == {a.pk for a in mine}


def test_the_detail_gathers_everything_without_faking_attainment(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    by = admin()
    agreement = agreements(1)[0]
    AgreementTargetFactory(agreement=agreement, revenue=Decimal("1000.00"))
    for visible in (True, False):
        services.document_add(
            agreement=agreement,
            by=by,
            file=SimpleUploadedFile(f"doc-{visible}.pdf", b"%PDF-1.4 test"),
            kind=DocumentKind.ANNEX,
            visible_to_partner=visible,
        )
    renewal = services.agreement_renew(agreement=agreement, by=by)

    detail = selectors.agreement_detail(agreement, by)

    assert detail["agreement"] == agreement
    assert len(detail["territories"]) == 2 and len(detail["product_lines"]) == 1
    assert [t.revenue for t in detail["targets"]] == [Decimal("1000.00")]
    assert not any(hasattr(t, "attainment") for t in detail["targets"])
    assert len(detail["documents"]) == 2
    assert detail["successors"] == [renewal]
    assert detail["history"]
    assert "renew" not in detail["allowed_actions"]  # a renewal is open already

    partner_view = selectors.agreement_detail(agreement, PartnerUserFactory(partner=agreement.partner))
    assert [d.original_name for d in partner_view["documents"]] == ["doc-True.pdf"]
    assert AgreementDocument.objects.count() == 2


def test_the_detail_takes_the_same_queries_with_more_rows():
    by = admin()
    small = agreements(1)[0]
    big = agreements(1)[0]
    for month in range(1, 13):
        AgreementTargetFactory(agreement=big, period=f"{big.start_date.year}-{month:02d}")

    def count(agreement):
        with CaptureQueriesContext(connection) as queries:
            selectors.agreement_detail(agreement, by)
        return len(queries)

    count(small)  # the user's roles are looked up once, then cached on the user
    assert count(small) == count(big) <= 10


def test_expiring_lists_active_agreements_ending_soon_soonest_first():
    user = AnalystFactory()
    later = AgreementFactory(start_date=TODAY - timedelta(days=200), end_date=TODAY + timedelta(days=80))
    soon = AgreementFactory(start_date=TODAY - timedelta(days=200), end_date=TODAY + timedelta(days=10))
    AgreementFactory(start_date=TODAY - timedelta(days=200), end_date=TODAY + timedelta(days=100))
    AgreementFactory(
        status=AgreementStatus.DRAFT, start_date=TODAY - timedelta(days=200), end_date=TODAY + timedelta(days=5)
    )

    assert list(selectors.expiring(user)) == [soon, later]
    assert list(selectors.expiring(user, 30)) == [soon]
