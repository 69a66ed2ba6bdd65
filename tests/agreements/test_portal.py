"""The portal's agreements: a partner's users (admin and plain user alike) read their own
agreements with terms, territories, minimum prices, targets, shared documents and versions;
download the shared documents as attachments; and acknowledge an active agreement once, with
their name and the time recorded. Another partner's agreement or document, a document the vendor
keeps to itself and the vendor's drafts are not found."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agreements.choices import AgreementStatus, DocumentKind
from agreements.models import Agreement, AgreementDocument
from partners.choices import RegionKind
from prm.models import AuditEntry
from tests.factories import (
    AgreementFactory,
    AgreementTargetFactory,
    ChannelAdminFactory,
    DistributorFactory,
    PartnerAdminUserFactory,
    PartnerUserFactory,
    ProductLineFactory,
    RegionFactory,
)

pytestmark = pytest.mark.django_db

YEAR = date.today().year
LIST = reverse("portal-agreements:list")
DASHBOARD = reverse("portal:dashboard")
FOREIGN_MARKERS = ("Zeta", "AG-ZETA", "zeta-contract")


def detail_url(agreement):
    return reverse("portal-agreements:detail", args=[agreement.pk])


def acknowledge_url(agreement):
    return reverse("portal-agreements:acknowledge", args=[agreement.pk])


def download_url(document):
    return reverse("portal-agreements:document-download", args=[document.pk])


def html(response):
    return response.content.decode()


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def assert_nothing_foreign(page):
    for marker in FOREIGN_MARKERS:
        assert marker not in page, marker


def add_document(agreement, name, visible=True, kind=DocumentKind.SIGNED_CONTRACT):
    content = b"%PDF-1.4 " + name.encode()
    return AgreementDocument.objects.create(
        agreement=agreement,
        kind=kind,
        file=ContentFile(content, name=name),
        original_name=name,
        content_type="application/pdf",
        size=len(content),
        visible_to_partner=visible,
    )


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(db):
    """Huaxin with last year's (expired) agreement and this year's renewal (active, not yet
    acknowledged) with terms, territories, a minimum price, targets and documents (one kept from
    the portal), plus a draft being prepared; Zeta, another partner, with an agreement and a
    document of its own."""
    china = RegionFactory(code="CN", name="China", kind=RegionKind.COUNTRY)
    shanghai = RegionFactory(code="SH", name="Shanghai", parent=china)
    suzhou = RegionFactory(code="SZ", name="Suzhou", parent=china)
    sensors = ProductLineFactory(code="SEN", name="Industrial sensors")
    own = DistributorFactory(code="HUAXIN", name="Huaxin Distribution", region=shanghai)
    foreign = DistributorFactory(code="ZETA", name="Zeta Secret Trading", region=suzhou)
    previous = AgreementFactory(
        partner=own,
        number=f"AG-{YEAR - 1}-00007",
        status=AgreementStatus.EXPIRED,
        start_date=date(YEAR - 1, 1, 1),
        end_date=date(YEAR - 1, 12, 31),
        product_lines=[sensors],
        territories=[shanghai],
    )
    active = AgreementFactory(
        partner=own,
        number=f"AG-{YEAR}-00042",
        predecessor=previous,
        product_lines=[sensors],
        territories=[(shanghai, True), suzhou],
        discount_percent=Decimal("18.50"),
        payment_terms="Net 60 after invoice",
        payment_days=60,
        market_support="Two trade shows a year",
        after_sales_obligations="Replace faulty units within 48 hours",
        penalty_clauses="Selling outside the territory: 5% of the order",
        vendor_signatory="Wang Lei",
        partner_signatory="Zhou Min",
        notes="Internal: pays late",
    )
    active.minimum_prices.create(product_line=sensors, min_unit_price=Decimal("1250.5"))
    AgreementTargetFactory(agreement=active, period=f"{YEAR}-Q1", revenue=Decimal("2500000"))
    AgreementTargetFactory(agreement=active, period=f"{YEAR}", product_line=sensors, revenue=None, units=1200)
    draft = AgreementFactory(
        partner=own, number=f"AG-{YEAR}-00099", status=AgreementStatus.DRAFT, product_lines=[sensors]
    )
    zeta = AgreementFactory(partner=foreign, number="AG-ZETA-00001", product_lines=[sensors], territories=[suzhou])
    return {
        "own": own,
        "previous": previous,
        "active": active,
        "draft": draft,
        "zeta": zeta,
        "shared": add_document(active, "signed-contract.pdf"),
        "hidden": add_document(active, "credit-memo.pdf", visible=False, kind=DocumentKind.OTHER),
        "draft_document": add_document(draft, "draft-terms.pdf"),
        "foreign_document": add_document(zeta, "zeta-contract.pdf"),
        "admin": PartnerAdminUserFactory(username="zhou", display_name="Zhou Min", partner=own),
        "member": PartnerUserFactory(username="wu", display_name="Wu Jie", partner=own),
        "foreign_admin": PartnerAdminUserFactory(username="zeta-admin", partner=foreign),
    }


@pytest.fixture
def admin_client(client, world):
    client.force_login(world["admin"])
    return client


@pytest.fixture
def member_client(client, world):
    client.force_login(world["member"])
    return client


# The list --------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "member"])
def test_the_list_shows_the_partners_own_agreements_but_not_drafts(client, world, who):
    client.force_login(world[who])
    response = client.get(LIST)
    assert response.status_code == 200
    page = html(response)
    assert f"AG-{YEAR}-00042" in page and f"AG-{YEAR - 1}-00007" in page
    assert f"AG-{YEAR}-00099" not in page  # the vendor's draft
    assert "Please read and acknowledge this agreement." in page
    assert "Shanghai" in page and "Industrial sensors" in page
    assert_nothing_foreign(page)


def test_the_portal_menu_links_the_agreements(admin_client):
    nav = html(admin_client.get(DASHBOARD)).split("</nav>")[0]
    assert f'href="{LIST}"' in nav and "Agreements" in nav


def test_a_partner_without_agreements_is_told_so(client, world):
    other = DistributorFactory(code="NEW", name="Newcomer", region=world["own"].region)
    client.force_login(PartnerUserFactory(username="new", partner=other))
    page = html(client.get(LIST))
    assert "You have no agreements yet." in page
    assert_nothing_foreign(page)
    assert "HUAXIN" not in page and "AG-" not in page


def test_staff_are_refused_the_portal_pages(client, world):
    client.force_login(ChannelAdminFactory())
    for url in (LIST, detail_url(world["active"]), download_url(world["shared"])):
        assert client.get(url).status_code == 403, url


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    for url in (LIST, detail_url(world["active"]), download_url(world["shared"])):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url


# The detail page ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "member"])
def test_the_detail_shows_terms_territories_prices_targets_documents_and_versions(client, world, who):
    client.force_login(world[who])
    response = client.get(detail_url(world["active"]))
    assert response.status_code == 200
    page = html(response)
    for text in (
        f"AG-{YEAR}-00042",
        "Reseller",
        "18.50%",
        "Net 60 after invoice",
        "60 days",
        "Two trade shows a year",
        "Replace faulty units within 48 hours",
        "Selling outside the territory: 5% of the order",
        "Wang Lei",
        "Zhou Min",
        "Shanghai",
        "Suzhou",
        "exclusive",
        "CNY 1,250.50",
        f"{YEAR}-Q1",
        "CNY 2,500,000.00",
        "1,200",
        "All product lines",
        "signed-contract.pdf",
        download_url(world["shared"]),
        "Versions",
        f"AG-{YEAR - 1}-00007",
        detail_url(world["previous"]),
    ):
        assert text in page, text
    assert "credit-memo.pdf" not in page  # kept from the portal
    assert "Internal: pays late" not in page  # the vendor's own notes
    assert acknowledge_url(world["active"]) in page
    assert_nothing_foreign(page)


def test_the_previous_version_links_to_its_renewal(admin_client, world):
    page = html(admin_client.get(detail_url(world["previous"])))
    assert detail_url(world["active"]) in page and "renewal" in page
    assert acknowledge_url(world["previous"]) not in page  # expired: nothing to acknowledge


@pytest.mark.parametrize("target", ["zeta", "draft"])
def test_another_partners_agreement_or_a_draft_is_not_found(admin_client, world, target):
    assert admin_client.get(detail_url(world[target])).status_code == 404


def test_an_unknown_agreement_is_not_found(admin_client):
    assert admin_client.get(reverse("portal-agreements:detail", args=[999999])).status_code == 404


# Downloads -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "member"])
def test_a_shared_document_downloads_as_an_attachment(client, world, who):
    client.force_login(world[who])
    response = client.get(download_url(world["shared"]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="signed-contract.pdf"'
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == b"%PDF-1.4 signed-contract.pdf"


@pytest.mark.parametrize("document", ["hidden", "draft_document", "foreign_document"])
def test_a_hidden_draft_or_foreign_document_is_not_found(admin_client, world, document):
    response = admin_client.get(download_url(world[document]))
    assert response.status_code == 404
    assert b"%PDF" not in response.content


def test_a_document_whose_file_is_gone_is_not_found_rather_than_an_error(admin_client, world):
    world["shared"].file.delete(save=False)
    assert admin_client.get(download_url(world["shared"])).status_code == 404


def test_documents_are_not_served_as_static_files(admin_client, world):
    assert admin_client.get(f"/media/{world['shared'].file.name}").status_code == 404


# Acknowledging ---------------------------------------------------------------------------------


def test_a_partner_user_acknowledges_once_with_name_and_time(member_client, world):
    active = world["active"]
    before = timezone.now()
    response = member_client.post(acknowledge_url(active), follow=True)
    assert response.redirect_chain[-1][0] == detail_url(active)
    assert f"You acknowledged agreement AG-{YEAR}-00042. Thank you." in messages_of(response)
    active.refresh_from_db()
    assert active.acknowledged_by == world["member"] and active.acknowledged_at >= before
    page = html(response)
    assert "Acknowledged by Wu Jie on" in page
    assert acknowledge_url(active) not in page
    assert AuditEntry.objects.filter(object_id=str(active.pk), actor=world["member"]).exists()
    first = active.acknowledged_at

    # Once: the admin acknowledging afterwards changes nothing and is told why.
    member_client.force_login(world["admin"])
    again = member_client.post(acknowledge_url(active), follow=True)
    assert any("already acknowledged" in message for message in messages_of(again))
    active.refresh_from_db()
    assert (active.acknowledged_by, active.acknowledged_at) == (world["member"], first)


def test_an_expired_agreement_is_not_acknowledged(admin_client, world):
    response = admin_client.post(acknowledge_url(world["previous"]), follow=True)
    assert "Only an active agreement can be acknowledged." in messages_of(response)
    world["previous"].refresh_from_db()
    assert world["previous"].acknowledged_at is None


@pytest.mark.parametrize("target", ["zeta", "draft"])
def test_another_partners_agreement_or_a_draft_cannot_be_acknowledged(admin_client, world, target):
    assert admin_client.post(acknowledge_url(world[target])).status_code == 404
    world[target].refresh_from_db()
    assert world[target].acknowledged_at is None


def test_acknowledging_takes_a_post(admin_client, world):
    assert admin_client.get(acknowledge_url(world["active"])).status_code == 405
    world["active"].refresh_from_db()
    assert world["active"].acknowledged_at is None


# The dashboard panel ---------------------------------------------------------------------------


def test_the_dashboard_lists_agreements_in_force_with_days_left_and_asks_to_acknowledge(admin_client, world):
    page = html(admin_client.get(DASHBOARD))
    assert "Agreements in force" in page
    assert f"AG-{YEAR}-00042" in page and f"AG-{YEAR - 1}-00007" not in page  # expired is not in force
    days = (world["active"].end_date - date.today()).days
    assert (f"{days} days left" if days != 1 else "1 day left") in page
    assert "1 agreement is waiting for your acknowledgement." in page
    admin_client.post(acknowledge_url(world["active"]))
    page = html(admin_client.get(DASHBOARD))
    assert "waiting for your acknowledgement" not in page
    assert_nothing_foreign(page)


def test_the_dashboard_says_when_no_agreement_is_in_force(admin_client, world):
    Agreement.objects.filter(pk=world["active"].pk).update(status=AgreementStatus.TERMINATED)
    assert "No agreement is in force." in html(admin_client.get(DASHBOARD))


def test_an_agreement_ending_soon_is_flagged(admin_client, world):
    Agreement.objects.filter(pk=world["active"].pk).update(
        start_date=date.today() - timedelta(days=300), end_date=date.today() + timedelta(days=20)
    )
    page = html(admin_client.get(DASHBOARD))
    assert "20 days left" in page and "text-danger" in page


# Query counts ----------------------------------------------------------------------------------


def test_pages_issue_the_same_number_of_queries_for_few_and_many_rows(admin_client, world):
    active = world["active"]

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url).status_code == 200
        return len(queries)

    urls = (LIST, detail_url(active), DASHBOARD)
    few = {url: count(url) for url in urls}
    line = ProductLineFactory()
    active.product_lines.add(line)
    previous = active
    for month in range(1, 13):
        AgreementTargetFactory(agreement=active, period=f"{YEAR}-{month:02d}", revenue=Decimal("1"))
        add_document(active, f"annex-{month}.pdf", kind=DocumentKind.ANNEX)
        active.minimum_prices.get_or_create(product_line=line, defaults={"min_unit_price": Decimal("3")})
        previous = AgreementFactory(
            partner=world["own"],
            predecessor=previous if month % 2 else None,
            product_lines=[line],
            territories=[world["own"].region],
            start_date=date(YEAR - 2, 1, 1),
            end_date=date(YEAR - 2, 12, 31),
            status=AgreementStatus.EXPIRED if month % 3 else AgreementStatus.ACTIVE,
        )
    many = {url: count(url) for url in urls}
    assert many == few


def test_the_pages_stay_under_a_query_ceiling(admin_client, world, django_assert_max_num_queries):
    for url in (LIST, detail_url(world["active"])):
        with django_assert_max_num_queries(14):
            admin_client.get(url)
