"""The staff pages of agreements: the list (filters, sorting, CSV), an agreement's page and its
actions, the agreement form, documents, the targets grid, region target decomposition, the
partner 360° section and the home panel.

Every page: 200 for staff, the sign-in page for anonymous visitors, 403 for partner users.
Analysts read everything and change nothing; a channel manager changes only the agreements of
partners they manage. Every change goes through the services: bad input shows the reason on
the field (or the page) and changes nothing."""

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from agreements import services
from agreements.choices import AgreementStatus
from agreements.models import Agreement, AgreementDocument, AgreementTarget, AgreementTerritory, RegionTarget
from partners.choices import RegionKind
from prm.models import AuditEntry
from prm.periods import Period
from tests.factories import (
    AnalystFactory,
    ChannelAdminFactory,
    ChannelManagerFactory,
    PartnerFactory,
    PartnerUserFactory,
    ProductLineFactory,
    RegionFactory,
    SalesLineFactory,
    StaffFactory,
)
from tests.partners.registry import SIGN_IN_ACTIONS

pytestmark = pytest.mark.django_db

NOT_STAFF_MESSAGE = "This page is for the vendor&#x27;s channel team."
PORTAL_USER_MESSAGE = "This page is for vendor staff; your partner portal is here."
READ_ONLY_MESSAGE = "Your role can read agreements but not change them."
NOT_YOURS_MESSAGE = "You can change only the agreements of partners you own or that are in your regions."
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"

TODAY = timezone.localdate()
NEXT_YEAR = TODAY.year + 1


def html(response):
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def listed(response):
    return [agreement.number for agreement in response.context["object_list"]]


def snapshot():
    """Every table an agreements page could write."""
    return {
        "agreements": list(Agreement.objects.order_by("pk").values()),
        "lines": sorted(Agreement.product_lines.through.objects.values_list("agreement_id", "productline_id")),
        "territories": list(AgreementTerritory.objects.order_by("pk").values()),
        "targets": list(AgreementTarget.objects.order_by("pk").values()),
        "region_targets": list(RegionTarget.objects.order_by("pk").values()),
        "documents": list(AgreementDocument.objects.order_by("pk").values()),
        # Signing in is recorded too (the security log); only changes to data count here.
        "history": AuditEntry.objects.exclude(action__in=SIGN_IN_ACTIONS).count(),
    }


def make(*, by, partner, lines, territories=(), start, end, status=AgreementStatus.DRAFT, agreement_type="reseller"):
    """An agreement through the services, moved on to `status`."""
    agreement = services.agreement_create(
        partner=partner,
        agreement_type=agreement_type,
        start_date=start,
        end_date=end,
        by=by,
        product_lines=lines,
        territories=[{"region": region, "exclusive": exclusive} for region, exclusive in territories],
    )
    if status in (AgreementStatus.PENDING_APPROVAL, AgreementStatus.ACTIVE):
        services.agreement_submit(agreement=agreement, by=by)
    if status == AgreementStatus.ACTIVE:
        services.agreement_approve(agreement=agreement, by=by)
    return Agreement.objects.get(pk=agreement.pk)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(db):
    """China → North → Beijing → Haidian, China → South → Guangdong. "mine" (Beijing) is owned by
    the channel manager; "theirs" (Guangdong) by another manager.

    - active: mine, distribution, sensors, Beijing exclusive, ends in 40 days;
    - draft: theirs, reseller, valves, Guangdong (not exclusive), next year;
    - pending: theirs, agency, sensors, Guangdong exclusive, from today for 300 days."""
    admin = ChannelAdminFactory(username="ag-admin", display_name="Admin Ada")
    manager = ChannelManagerFactory(username="ag-manager", display_name="Manager Ma")
    other_manager = ChannelManagerFactory(username="ag-other", display_name="Other Ou")
    analyst = AnalystFactory(username="ag-analyst")
    china = RegionFactory(code="CN", name="China", kind=RegionKind.COUNTRY)
    north = RegionFactory(code="NORTH", name="North", kind=RegionKind.AREA, parent=china)
    beijing = RegionFactory(code="BJ", name="Beijing", parent=north)
    haidian = RegionFactory(code="BJ-HD", name="Haidian", kind=RegionKind.CITY, parent=beijing)
    south = RegionFactory(code="SOUTH", name="South", kind=RegionKind.AREA, parent=china)
    guangdong = RegionFactory(code="GD", name="Guangdong", parent=south)
    sensors = ProductLineFactory(code="SENS", name="Industrial sensors")
    valves = ProductLineFactory(code="VALV", name="Control valves")
    mine = PartnerFactory(code="P-MINE", name="Mine Trading", region=beijing, owner=manager)
    theirs = PartnerFactory(code="P-THEIRS", name="Theirs Trading", region=guangdong, owner=other_manager)
    active = make(
        by=admin,
        partner=mine,
        lines=[sensors],
        territories=[(beijing, True)],
        start=TODAY - timedelta(days=300),
        end=TODAY + timedelta(days=40),
        status=AgreementStatus.ACTIVE,
        agreement_type="distribution",
    )
    draft = make(
        by=admin,
        partner=theirs,
        lines=[valves],
        territories=[(guangdong, False)],
        start=date(NEXT_YEAR, 1, 1),
        end=date(NEXT_YEAR, 12, 31),
    )
    pending = make(
        by=admin,
        partner=theirs,
        lines=[sensors],
        territories=[(guangdong, True)],
        start=TODAY,
        end=TODAY + timedelta(days=300),
        status=AgreementStatus.PENDING_APPROVAL,
        agreement_type="agency",
    )
    return {
        "admin": admin,
        "manager": manager,
        "other_manager": other_manager,
        "analyst": analyst,
        "china": china,
        "north": north,
        "beijing": beijing,
        "haidian": haidian,
        "south": south,
        "guangdong": guangdong,
        "sensors": sensors,
        "valves": valves,
        "mine": mine,
        "theirs": theirs,
        "active": active,
        "draft": draft,
        "pending": pending,
    }


@pytest.fixture
def document(world):
    return services.document_add(
        agreement=world["active"],
        by=world["admin"],
        file=SimpleUploadedFile("contract.pdf", PDF, content_type="application/pdf"),
        kind="signed",
    )


@pytest.fixture
def target(world):
    return services.target_set(agreement=world["draft"], period=f"{NEXT_YEAR}-Q1", by=world["admin"], revenue="1000")


@pytest.fixture
def region_target(world):
    return services.region_target_set(region=world["north"], period=f"{TODAY.year}", by=world["admin"], revenue="100")


def as_user(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(client, world):
    return as_user(client, world["admin"])


@pytest.fixture
def manager_client(client, world):
    return as_user(client, world["manager"])


# Every page: staff, anonymous, partner users -------------------------------------------------

GET_PAGES = [
    ("agreements:agreement-list", None),
    ("agreements:agreement-create", None),
    ("agreements:agreement-detail", "active"),
    ("agreements:agreement-detail", "draft"),
    ("agreements:agreement-detail", "pending"),
    ("agreements:agreement-edit", "draft"),
    ("agreements:agreement-edit", "active"),
    ("agreements:agreement-targets", "draft"),
    ("agreements:agreement-targets", "active"),
    ("agreements:document-upload", "active"),
    ("agreements:region-target-list", None),
    ("agreements:region-target-detail", "region_target"),
]
POST_ONLY = [
    ("agreements:agreement-submit", "draft"),
    ("agreements:agreement-approve", "pending"),
    ("agreements:agreement-reject", "pending"),
    ("agreements:agreement-terminate", "active"),
    ("agreements:agreement-renew", "active"),
    ("agreements:agreement-amend", "active"),
    ("agreements:target-delete", "target"),
    ("agreements:document-delete", "document"),
]


def page_url(name, key, objects):
    return reverse(name, args=[objects[key].pk]) if key else reverse(name)


@pytest.fixture
def objects(world, document, target, region_target):
    return {**world, "document": document, "target": target, "region_target": region_target}


@pytest.mark.parametrize(("name", "key"), GET_PAGES)
def test_every_page_renders_for_staff(admin_client, objects, name, key):
    response = admin_client.get(page_url(name, key, objects))
    assert response.status_code == 200
    assert "Sign out" in html(response)


@pytest.mark.parametrize(("name", "key"), [*GET_PAGES, *POST_ONLY, ("agreements:document-download", "document")])
def test_every_page_sends_anonymous_visitors_to_sign_in(client, objects, name, key):
    url = page_url(name, key, objects)
    before = snapshot()
    for response in (client.get(url), client.post(url, {"reason": "x"})):
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={url}"
    assert snapshot() == before


@pytest.mark.parametrize(("name", "key"), [*GET_PAGES, *POST_ONLY, ("agreements:document-download", "document")])
def test_every_page_refuses_partner_users(client, objects, name, key):
    url = page_url(name, key, objects)
    partner_user, not_staff = PartnerUserFactory(partner=objects["mine"]), StaffFactory(is_staff=False)
    before = snapshot()
    as_user(client, partner_user)
    for response in (client.get(url), client.post(url, {"reason": "x"})):
        assert response.status_code == 403
        assert PORTAL_USER_MESSAGE in html(response)
        assert objects["active"].number not in html(response)
    as_user(client, not_staff)
    assert NOT_STAFF_MESSAGE in html(client.get(url)).replace("'", "&#x27;")
    assert snapshot() == before


@pytest.mark.parametrize(
    "name", ["agreements:agreement-detail", "agreements:agreement-edit", "agreements:agreement-targets"]
)
def test_unknown_agreements_are_404(admin_client, world, name):
    assert admin_client.get(reverse(name, args=[999999])).status_code == 404


def test_post_only_actions_do_not_answer_get(admin_client, objects):
    before = snapshot()
    for name, key in POST_ONLY:
        assert admin_client.get(page_url(name, key, objects)).status_code == 405, name
    assert snapshot() == before


# Analysts read; managers write only their partners' agreements ----------------------------


def test_analysts_read_every_page_without_action_buttons(client, objects):
    as_user(client, objects["analyst"])
    assert "New agreement" not in html(client.get(reverse("agreements:agreement-list")))
    for key in ("active", "draft", "pending"):
        page = html(client.get(objects[key].get_absolute_url()))
        assert objects[key].number in page
        assert 'data-testid="actions"' not in page and "Upload" not in page
    assert "Save targets" not in html(client.get(reverse("agreements:agreement-targets", args=[objects["draft"].pk])))
    assert "Set a region target" not in html(client.get(reverse("agreements:region-target-list")))


def test_analysts_are_refused_every_form_and_action(client, objects):
    as_user(client, objects["analyst"])
    before = snapshot()
    for name, key in [
        ("agreements:agreement-create", None),
        ("agreements:agreement-edit", "draft"),
        ("agreements:document-upload", "active"),
    ]:
        response = client.get(page_url(name, key, objects))
        assert response.status_code == 403
        assert READ_ONLY_MESSAGE in html(response)
    for name, key in [
        *POST_ONLY,
        ("agreements:agreement-create", None),
        ("agreements:agreement-edit", "draft"),
        ("agreements:agreement-targets", "draft"),
        ("agreements:region-target-list", None),
        ("agreements:region-target-detail", "region_target"),
    ]:
        response = client.post(page_url(name, key, objects), {"reason": "x", "notes": "analyst"})
        assert response.status_code == 403, name
    assert snapshot() == before


def test_a_manager_changes_only_the_agreements_of_partners_they_manage(manager_client, objects):
    mine, theirs = objects["active"], objects["draft"]
    page = html(manager_client.get(mine.get_absolute_url()))
    assert "Terminate" in page and "Renew" in page and "New version" in page and "Upload" in page
    for other in (theirs, objects["pending"]):
        foreign = html(manager_client.get(other.get_absolute_url()))
        assert 'data-testid="actions"' not in foreign and "Upload" not in foreign
    before = snapshot()
    for name in ["agreements:agreement-edit", "agreements:document-upload"]:
        response = manager_client.get(reverse(name, args=[theirs.pk]))
        assert response.status_code == 403
        assert NOT_YOURS_MESSAGE in html(response)
    for name, key in [(n, k) for n, k in POST_ONLY if k in ("draft", "target")]:
        response = manager_client.post(page_url(name, key, objects))
        assert response.status_code == 403
        assert NOT_YOURS_MESSAGE in html(response)
    response = manager_client.post(reverse("agreements:agreement-approve", args=[objects["pending"].pk]))
    assert response.status_code == 403
    assert "Only a channel admin can approve or reject an agreement." in html(response)
    assert snapshot() == before


# The list -----------------------------------------------------------------------------------

LIST = "/agreements/"


def test_the_list_shows_every_agreement_with_its_columns(admin_client, world):
    response = admin_client.get(LIST)
    assert set(listed(response)) == {world[key].number for key in ("active", "draft", "pending")}
    page = html(response)
    for text in [
        "Mine Trading",
        "P-THEIRS",
        "Distribution",
        "Agency",
        "Pending approval",
        "Draft",
        "Active",
        "Beijing",
    ]:
        assert text in page, text
    assert "40 days left" in page  # the expiring badge
    assert page.count("days left") == 1
    assert "Showing 1–3 of 3" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=draft", {"draft"}),
        ("status=pending_approval", {"pending"}),
        ("agreement_type=agency", {"pending"}),
        ("partner=__mine__", {"active"}),
        ("partner_q=theirs", {"draft", "pending"}),
        ("partner_q=p-mine", {"active"}),
        ("region=__north__", {"active"}),  # Beijing lies in North
        ("region=__beijing__", {"active"}),
        ("region=__haidian__", set()),  # below Beijing: no territory there
        ("region=__china__", {"active", "draft", "pending"}),
        ("region=__south__", {"draft", "pending"}),
        ("product_line=__valves__", {"draft"}),
        ("product_line=__sensors__", {"active", "pending"}),
        ("exclusive=true", {"active", "pending"}),
        ("exclusive=false", {"draft"}),
        ("owner=__manager__", {"active"}),
        ("expiring_within=30", set()),
        ("expiring_within=40", {"active"}),
        ("expiring_within=90", {"active"}),
        ("q=__active_number__", {"active"}),
        ("status=pending_approval&exclusive=true&region=__south__", {"pending"}),
    ],
)
def test_the_list_filters(admin_client, world, query, expected):
    replacements = {
        "__mine__": world["mine"].pk,
        "__north__": world["north"].pk,
        "__beijing__": world["beijing"].pk,
        "__haidian__": world["haidian"].pk,
        "__china__": world["china"].pk,
        "__south__": world["south"].pk,
        "__valves__": world["valves"].pk,
        "__sensors__": world["sensors"].pk,
        "__manager__": world["manager"].pk,
        "__active_number__": world["active"].number,
    }
    for placeholder, value in replacements.items():
        query = query.replace(placeholder, str(value))
    response = admin_client.get(f"{LIST}?{query}")
    assert response.status_code == 200
    assert set(listed(response)) == {world[key].number for key in expected}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=dormant", "status"),
        ("region=999999", "region"),
        ("partner=999999", "partner"),
        ("expiring_within=-1", "expiring_within"),
        ("expiring_within=soon", "expiring_within"),
        ("exclusive=maybe", "exclusive"),
    ],
)
def test_an_invalid_filter_shows_its_error_and_lists_nothing(admin_client, world, query, field):
    response = admin_client.get(f"{LIST}?{query}")
    assert response.status_code == 200
    assert field in response.context["filter"].form.errors
    assert listed(response) == []
    assert "No agreements match these filters." in html(response)


def test_the_list_sorts(admin_client, world):
    numbers = {key: world[key].number for key in ("active", "draft", "pending")}
    by_end = listed(admin_client.get(f"{LIST}?sort=end"))
    assert by_end == [numbers["active"], numbers["pending"], numbers["draft"]]
    assert listed(admin_client.get(f"{LIST}?sort=-end")) == by_end[::-1]
    assert listed(admin_client.get(f"{LIST}?sort=number")) == sorted(numbers.values())
    by_partner = listed(admin_client.get(f"{LIST}?sort=partner"))
    assert by_partner[0] == numbers["active"]  # Mine Trading before Theirs Trading
    page = html(admin_client.get(f"{LIST}?status=draft&sort=end"))
    assert 'href="?status=draft&amp;sort=-end" class="sort-link" aria-sort="ascending"' in page


CSV_HEADER = [
    "Number",
    "Partner code",
    "Partner",
    "Type",
    "Status",
    "Start date",
    "End date",
    "Version",
    "Product lines",
    "Territories",
    "Exclusive territories",
    "Discount %",
    "Price list",
    "Channel manager",
    "Signed on",
]


def csv_rows(response):
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    header, *rows = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    assert header == CSV_HEADER
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_the_csv_export_has_the_filtered_agreements(admin_client, world):
    response = admin_client.get(f"{LIST}?region={world['china'].pk}&sort=end&export=csv")
    assert response["Content-Type"].startswith("text/csv")
    assert re.match(r'attachment; filename="agreements-\d{8}\.csv"', response["Content-Disposition"])
    rows = csv_rows(response)
    assert [row["Number"] for row in rows] == [world[k].number for k in ("active", "pending", "draft")]
    active = rows[0]
    assert (active["Partner code"], active["Partner"], active["Type"], active["Status"]) == (
        "P-MINE",
        "Mine Trading",
        "Distribution",
        "Active",
    )
    assert active["End date"] == (TODAY + timedelta(days=40)).isoformat()
    assert (active["Product lines"], active["Territories"], active["Exclusive territories"]) == ("SENS", "BJ", "BJ")
    assert active["Channel manager"] == "Manager Ma"
    assert rows[2]["Exclusive territories"] == "" and rows[2]["Territories"] == "GD"
    only_drafts = csv_rows(admin_client.get(f"{LIST}?status=draft&export=csv"))
    assert [row["Number"] for row in only_drafts] == [world["draft"].number]


# An agreement's page ------------------------------------------------------------------------


def test_the_page_shows_terms_territories_targets_documents_and_history(admin_client, world, document, target):
    services.agreement_update(
        agreement=world["draft"],
        by=world["admin"],
        discount_percent=Decimal("12.50"),
        price_list="PL-2026",
        payment_terms="Net 30",
        payment_days=30,
        market_support="Two trade shows a year",
        penalty_clauses="Selling outside the territory: 5% of the order",
        vendor_signatory="Li Ming",
        minimum_prices=[{"product_line": world["valves"], "min_unit_price": Decimal("88.80")}],
    )
    services.target_set(agreement=world["draft"], period=f"{NEXT_YEAR}-Q2", by=world["admin"], units="50")
    response = admin_client.get(world["draft"].get_absolute_url())
    page = html(response)
    for text in [
        world["draft"].number,
        "Theirs Trading",
        "Control valves",
        "Guangdong",
        "12.50%",
        "PL-2026",
        "Net 30",
        "Two trade shows a year",
        "Selling outside the territory",
        "Li Ming",
        "CNY 88.80",
        f"{NEXT_YEAR}-Q1",
        f"{NEXT_YEAR}-Q2",
        "CNY 1,000.00",
        "Set by hand",
        "Submit for approval",
        "History",
    ]:
        assert text in page, text
    assert response.context["target_totals"] == {"revenue": Decimal("1000.00"), "units": Decimal("50.000")}
    history = page[page.index(">History<") :]
    assert "Admin Ada" in history and "Discount %" in history.replace("discount %", "Discount %")
    active_page = html(admin_client.get(world["active"].get_absolute_url()))
    assert 'href="/agreements/documents/' in active_page and "contract.pdf" in active_page
    assert "Exclusive" in active_page and "Not yet" in active_page  # not acknowledged yet
    assert "/media/" not in active_page


def test_the_page_shows_lineage_both_ways(admin_client, world):
    renewal = services.agreement_renew(agreement=world["active"], by=world["admin"])
    amendment_base = world["active"]
    page = html(admin_client.get(renewal.get_absolute_url()))
    assert f'renews <a href="{amendment_base.get_absolute_url()}">{amendment_base.number}</a>' in page
    page = html(admin_client.get(world["active"].get_absolute_url()))
    assert f'renewed by <a href="{renewal.get_absolute_url()}">{renewal.number}</a>' in page


def test_the_page_shows_who_acknowledged(admin_client, world):
    partner_user = PartnerUserFactory(partner=world["mine"], display_name="Zhang Wei")
    services.agreement_acknowledge(agreement=world["active"], by=partner_user)
    page = html(admin_client.get(world["active"].get_absolute_url()))
    acknowledgement = page[page.index('data-testid="acknowledgement"') :][:300]
    assert "Zhang Wei" in acknowledgement


# Actions --------------------------------------------------------------------------------------


def test_submit_then_approve_through_the_pages(client, world):
    theirs = world["draft"]
    as_user(client, world["other_manager"])
    response = client.post(reverse("agreements:agreement-submit", args=[theirs.pk]), follow=True)
    assert f"{theirs.number} was submitted for approval." in messages_of(response)
    theirs.refresh_from_db()
    assert theirs.status == AgreementStatus.PENDING_APPROVAL
    as_user(client, world["admin"])
    assert "Approve" in html(client.get(theirs.get_absolute_url()))
    response = client.post(reverse("agreements:agreement-approve", args=[theirs.pk]), follow=True)
    assert f"{theirs.number} is approved and active." in messages_of(response)
    theirs.refresh_from_db()
    assert (theirs.status, theirs.approved_by) == (AgreementStatus.ACTIVE, world["admin"])


def test_an_exclusivity_conflict_refuses_the_submission_and_names_the_other_agreement(manager_client, world):
    second = make(
        by=world["manager"],
        partner=PartnerFactory(code="P-NEW", region=world["haidian"], owner=world["manager"]),
        lines=[world["sensors"]],
        territories=[(world["haidian"], True)],
        start=TODAY,
        end=TODAY + timedelta(days=200),
    )
    before = snapshot()
    response = manager_client.post(reverse("agreements:agreement-submit", args=[second.pk]), follow=True)
    errors = " ".join(messages_of(response))
    assert "Not submitted:" in errors and "Exclusivity conflict" in errors
    assert world["active"].number in errors and "Mine Trading" in errors
    assert world["active"].number in html(response)  # shown on the agreement's page
    assert snapshot() == before


def test_reject_needs_a_reason_and_sends_back_to_draft(admin_client, world):
    pending = world["pending"]
    url = reverse("agreements:agreement-reject", args=[pending.pk])
    before = snapshot()
    response = admin_client.post(url, {"reject-reason": "  "}, follow=True)
    assert any("Say why the agreement is rejected." in message for message in messages_of(response))
    assert snapshot() == before
    response = admin_client.post(url, {"reject-reason": "Discount too high"}, follow=True)
    pending.refresh_from_db()
    assert pending.status == AgreementStatus.DRAFT
    assert "Discount too high" in html(response)  # in the history


def test_terminate_an_active_agreement_needs_a_reason(manager_client, world):
    active = world["active"]
    url = reverse("agreements:agreement-terminate", args=[active.pk])
    before = snapshot()
    response = manager_client.post(url, {"terminate-reason": ""}, follow=True)
    assert any("Say why the agreement is terminated." in message for message in messages_of(response))
    assert snapshot() == before
    manager_client.post(url, {"terminate-reason": "Partner sold outside its territory"})
    active.refresh_from_db()
    assert (active.status, active.termination_reason) == (
        AgreementStatus.TERMINATED,
        "Partner sold outside its territory",
    )


def test_an_illegal_move_is_refused_with_the_reason(admin_client, world):
    before = snapshot()
    response = admin_client.post(reverse("agreements:agreement-approve", args=[world["draft"].pk]), follow=True)
    assert any("cannot go from Draft to Active" in message for message in messages_of(response))
    assert snapshot() == before


def test_renew_and_amend_create_linked_drafts(manager_client, world):
    active = world["active"]
    response = manager_client.post(reverse("agreements:agreement-renew", args=[active.pk]), {"renew-start_date": ""})
    renewal = Agreement.objects.get(predecessor=active, is_amendment=False)
    assert response["Location"] == renewal.get_absolute_url()
    assert (renewal.status, renewal.start_date) == (AgreementStatus.DRAFT, active.end_date + timedelta(days=1))
    services.agreement_terminate(agreement=renewal, by=world["manager"], reason="")
    amend_from = TODAY + timedelta(days=5)
    response = manager_client.post(
        reverse("agreements:agreement-amend", args=[active.pk]), {"amend-start_date": amend_from.isoformat()}
    )
    amendment = Agreement.objects.get(predecessor=active, is_amendment=True)
    assert response["Location"] == amendment.get_absolute_url()
    assert (amendment.version, amendment.start_date, amendment.end_date) == (2, amend_from, active.end_date)
    assert list(amendment.territories.values_list("region__code", "exclusive")) == [("BJ", True)]


def test_renew_with_a_bad_date_changes_nothing(manager_client, world):
    before = snapshot()
    response = manager_client.post(
        reverse("agreements:agreement-renew", args=[world["active"].pk]),
        {"renew-start_date": "31/02/2026"},
        follow=True,
    )
    assert any("Enter a valid date" in message for message in messages_of(response))
    assert snapshot() == before


# The agreement form ----------------------------------------------------------------------------


def agreement_form(world, **overrides):
    data = {
        "partner": "p-mine",
        "agreement_type": "reseller",
        "start_date": f"{NEXT_YEAR}-01-01",
        "end_date": f"{NEXT_YEAR}-12-31",
        "product_lines": [world["sensors"].pk, world["valves"].pk],
        "discount_percent": "15",
        "currency": "CNY",
        "payment_terms": "Net 45",
        "owner": world["manager"].pk,
        "territories-TOTAL_FORMS": "3",
        "territories-INITIAL_FORMS": "0",
        "territories-0-region": world["haidian"].pk,
        "territories-0-exclusive": "on",
        "territories-1-region": world["south"].pk,
        "territories-2-region": "",
        "prices-TOTAL_FORMS": "2",
        "prices-INITIAL_FORMS": "0",
        "prices-0-product_line": world["sensors"].pk,
        "prices-0-min_unit_price": "199.90",
        "prices-1-product_line": "",
        "prices-1-min_unit_price": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_the_create_form_offers_the_managers_partners_and_prefills_from_the_partner_page(manager_client, world):
    response = manager_client.get(f"{reverse('agreements:agreement-create')}?partner={world['mine'].pk}")
    assert response.context["form"].initial["partner"] == "P-MINE"
    assert [code for code, _name in response.context["partner_codes"]] == ["P-MINE"]
    page = html(response)
    assert '<datalist id="partner-codes">' in page and 'type="date"' in page and "Add a row" in page


def test_a_manager_drafts_an_agreement_through_the_form(manager_client, world):
    response = manager_client.post(reverse("agreements:agreement-create"), agreement_form(world))
    agreement = Agreement.objects.exclude(pk__in=[world[k].pk for k in ("active", "draft", "pending")]).get()
    assert response["Location"] == agreement.get_absolute_url()
    assert agreement.partner == world["mine"] and agreement.status == AgreementStatus.DRAFT
    assert re.fullmatch(r"AG-\d{4}-\d{5}", agreement.number)
    assert (agreement.discount_percent, agreement.payment_terms, agreement.owner) == (
        Decimal("15"),
        "Net 45",
        world["manager"],
    )
    assert set(agreement.product_lines.values_list("code", flat=True)) == {"SENS", "VALV"}
    assert sorted(agreement.territories.values_list("region__code", "exclusive")) == [
        ("BJ-HD", True),
        ("SOUTH", False),
    ]
    assert list(agreement.minimum_prices.values_list("product_line__code", "min_unit_price")) == [
        ("SENS", Decimal("199.90"))
    ]
    assert "Agreement drafted." in html(manager_client.get(response["Location"]))


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"partner": "NOPE"}, "partner", "No partner has the code"),
        ({"partner": "p-theirs"}, "partner", NOT_YOURS_MESSAGE),
        ({"end_date": f"{NEXT_YEAR}-01-01"}, "end_date", "must be after the start date"),
        ({"start_date": "someday"}, "start_date", "Enter a valid date"),
        ({"agreement_type": "franchise"}, "agreement_type", "Select a valid choice"),
        ({"discount_percent": "120"}, "discount_percent", "less than or equal to 100"),
        ({"payment_days": "-3"}, "payment_days", "greater than or equal to 0"),
        ({"product_lines": ["999999"]}, "product_lines", "Select a valid choice"),
    ],
)
def test_the_create_form_with_bad_input_shows_the_field_error_and_writes_nothing(
    manager_client, world, overrides, field, text
):
    before = snapshot()
    response = manager_client.post(reverse("agreements:agreement-create"), agreement_form(world, **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert text in " ".join(response.context["form"].errors[field])
    assert "is-invalid" in html(response)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("overrides", "text"),
    [
        ({"territories-1-region": "__haidian__"}, "Haidian is listed twice"),
        ({"prices-1-product_line": "__sensors__", "prices-1-min_unit_price": "1"}, "has two minimum prices"),
        ({"prices-0-min_unit_price": ""}, "Enter the minimum resale price"),
        ({"prices-0-min_unit_price": "-5"}, "Industrial sensors: enter a price of 0 or more."),
        ({"territories-0-region": "999999"}, "Select a valid choice"),
        ({"product_lines": ["__valves__"]}, "is not one of the agreement's product lines"),  # from the service
    ],
)
def test_bad_territory_and_price_rows_are_refused_and_write_nothing(manager_client, world, overrides, text):
    names = {"__haidian__": world["haidian"].pk, "__sensors__": world["sensors"].pk, "__valves__": world["valves"].pk}
    data = agreement_form(world)
    for key, value in overrides.items():
        data[key] = [names.get(v, v) for v in value] if isinstance(value, list) else names.get(value, value)
    before = snapshot()
    response = manager_client.post(reverse("agreements:agreement-create"), data)
    assert response.status_code == 200
    assert text in html(response)
    assert snapshot() == before


def test_editing_a_draft_changes_its_terms_and_territories(client, world):
    draft = world["draft"]
    as_user(client, world["other_manager"])
    response = client.get(reverse("agreements:agreement-edit", args=[draft.pk]))
    form = response.context["form"]
    assert "partner" not in form.fields  # the partner of an agreement does not change here
    assert form.formsets["territories"].initial == [{"region": world["guangdong"].pk, "exclusive": False}]
    data = agreement_form(
        world,
        partner=None,
        owner=world["other_manager"].pk,
        **{"territories-0-region": world["guangdong"].pk, "territories-1-region": ""},
    )
    response = client.post(reverse("agreements:agreement-edit", args=[draft.pk]), data)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.payment_terms == "Net 45"
    assert list(draft.territories.values_list("region__code", "exclusive")) == [("GD", True)]
    assert AuditEntry.objects.filter(object_type="agreements.agreement", object_id=str(draft.pk), action="update")


def test_editing_an_active_agreement_changes_only_its_free_fields(manager_client, world):
    active = world["active"]
    url = reverse("agreements:agreement-edit", args=[active.pk])
    response = manager_client.get(url)
    assert set(response.context["form"].fields) == {
        "owner",
        "notes",
        "vendor_signatory",
        "partner_signatory",
        "signed_on",
    }
    assert "its commercial terms are fixed" in html(response)
    response = manager_client.post(
        url,
        {"owner": world["manager"].pk, "notes": "Signed copy filed", "signed_on": "2026-01-05",
         "discount_percent": "99", "territories-TOTAL_FORMS": "0"},
    )  # fmt: skip
    assert response.status_code == 302
    active.refresh_from_db()
    assert (active.notes, active.signed_on, active.discount_percent) == ("Signed copy filed", date(2026, 1, 5), None)
    assert list(active.territories.values_list("region__code", "exclusive")) == [("BJ", True)]


def test_ended_agreements_are_not_edited(manager_client, world):
    services.agreement_terminate(agreement=world["active"], by=world["manager"], reason="Closed")
    response = manager_client.get(reverse("agreements:agreement-edit", args=[world["active"].pk]))
    assert response.status_code == 403


# Documents ------------------------------------------------------------------------------------


def upload(client, agreement, name, content, **extra):
    data = {"kind": "signed", "file": SimpleUploadedFile(name, content), "visible_to_partner": "on", **extra}
    return client.post(reverse("agreements:document-upload", args=[agreement.pk]), data)


def test_upload_then_download_a_document(manager_client, world):
    active = world["active"]
    response = upload(manager_client, active, "合同 signed.pdf", PDF)
    assert response.status_code == 302
    assert response["Location"] == f"{active.get_absolute_url()}#documents"
    document = AgreementDocument.objects.get(agreement=active)
    assert (document.original_name, document.kind, document.size) == ("合同 signed.pdf", "signed", len(PDF))
    download = manager_client.get(reverse("agreements:document-download", args=[document.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E5%90%88%E5%90%8C%20signed.pdf" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == PDF


@pytest.mark.parametrize(
    ("name", "content", "text"),
    [
        ("virus.exe", b"MZ\x90\x00", "Upload a PDF, PNG, JPEG"),
        ("fake.pdf", b"just some text", "is not a PDF file"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_a_bad_upload_is_refused_on_the_file_field(manager_client, world, name, content, text):
    before = snapshot()
    response = upload(manager_client, world["active"], name, content)
    assert response.status_code == 200
    assert text in " ".join(response.context["form"].errors["file"])
    assert "is-invalid" in html(response)
    assert snapshot() == before


def test_a_too_large_upload_is_refused(manager_client, world, settings):
    settings.PRM_MAX_UPLOAD_MB = 1
    before = snapshot()
    response = upload(manager_client, world["active"], "big.pdf", PDF + b"0" * (1024 * 1024))
    assert "larger than 1 MB" in " ".join(response.context["form"].errors["file"])
    assert snapshot() == before


def test_delete_a_document(manager_client, world, document):
    response = manager_client.post(reverse("agreements:document-delete", args=[document.pk]), follow=True)
    assert "Document contract.pdf removed." in messages_of(response)
    assert not AgreementDocument.objects.exists()


def test_a_document_whose_file_is_gone_is_404(admin_client, world, document):
    document.file.storage.delete(document.file.name)
    assert admin_client.get(reverse("agreements:document-download", args=[document.pk])).status_code == 404


# The targets grid -----------------------------------------------------------------------------


def targets_url(agreement, **query):
    url = reverse("agreements:agreement-targets", args=[agreement.pk])
    return f"{url}?{'&'.join(f'{k}={v}' for k, v in query.items())}" if query else url


def test_the_grid_lists_the_periods_inside_the_term(admin_client, world, target):
    draft = world["draft"]
    response = admin_client.get(targets_url(draft))
    assert [period.code for period in response.context["form"].periods] == [f"{NEXT_YEAR}-Q{n}" for n in range(1, 5)]
    assert response.context["form"].initial == {
        f"revenue_{NEXT_YEAR}-Q1": Decimal("1000.00"),
        f"units_{NEXT_YEAR}-Q1": None,
    }
    months = admin_client.get(targets_url(draft, kind="month")).context["form"].periods
    assert len(months) == 12
    years = admin_client.get(targets_url(draft, kind="year")).context["form"].periods
    assert [period.code for period in years] == [str(NEXT_YEAR)]
    short = admin_client.get(targets_url(world["active"], kind="year"))
    assert "No whole period of this kind" in html(short)


def test_the_grid_saves_changes_and_removes_emptied_rows(admin_client, world, target):
    draft = world["draft"]
    data = {
        f"revenue_{NEXT_YEAR}-Q1": "",
        f"units_{NEXT_YEAR}-Q1": "",
        f"revenue_{NEXT_YEAR}-Q2": "2500.5",
        f"units_{NEXT_YEAR}-Q2": "10",
        f"revenue_{NEXT_YEAR}-Q3": "",
        f"units_{NEXT_YEAR}-Q3": "7",
    }
    response = admin_client.post(targets_url(draft, kind="quarter"), data, follow=True)
    assert "Targets saved." in messages_of(response)
    saved = {t.period: (t.revenue, t.units) for t in AgreementTarget.objects.filter(agreement=draft)}
    assert saved == {
        f"{NEXT_YEAR}-Q2": (Decimal("2500.50"), Decimal("10.000")),
        f"{NEXT_YEAR}-Q3": (None, Decimal("7.000")),
    }


def test_the_grid_for_one_product_line(admin_client, world):
    draft = world["draft"]
    valves = world["valves"]
    url = targets_url(draft, kind="year", product_line=valves.pk)
    admin_client.post(url, {f"revenue_{NEXT_YEAR}": "9000"})
    target = AgreementTarget.objects.get(agreement=draft)
    assert (target.period, target.product_line, target.revenue) == (str(NEXT_YEAR), valves, Decimal("9000.00"))


@pytest.mark.parametrize(("value", "text"), [("abc", "Enter a number"), ("-5", "Must not be negative.")])
def test_a_bad_cell_is_refused_and_nothing_is_saved(admin_client, world, target, value, text):
    before = snapshot()
    data = {f"revenue_{NEXT_YEAR}-Q2": "100", f"revenue_{NEXT_YEAR}-Q3": value}
    response = admin_client.post(targets_url(world["draft"]), data)
    assert response.status_code == 200
    assert text in " ".join(response.context["form"].errors[f"revenue_{NEXT_YEAR}-Q3"])
    assert snapshot() == before


def test_a_cell_the_service_refuses_rolls_back_the_whole_grid(admin_client, world, target):
    terminated = world["pending"]
    services.agreement_terminate(agreement=terminated, by=world["admin"], reason="")
    before = snapshot()
    period = Period.containing(terminated.start_date + timedelta(days=100), "quarter")
    response = admin_client.post(targets_url(terminated), {f"revenue_{period.code}": "100"})
    assert response.status_code == 200
    assert "its targets no longer change" in " ".join(response.context["form"].errors[f"revenue_{period.code}"])
    assert snapshot() == before


def test_delete_a_target_from_the_agreement_page(admin_client, world, target):
    response = admin_client.post(reverse("agreements:target-delete", args=[target.pk]), follow=True)
    assert f"Target for {NEXT_YEAR}-Q1 removed." in messages_of(response)
    assert not AgreementTarget.objects.exists()


# Region target decomposition (目标分解) ------------------------------------------------------


@pytest.fixture
def west(world):
    """West → Chengdu with two partners holding active agreements for this year; last year the
    first sold 300 and the second 100 in the first quarter."""
    west = RegionFactory(code="WEST", name="West", kind=RegionKind.AREA, parent=world["china"])
    chengdu = RegionFactory(code="CD", name="Chengdu", kind=RegionKind.CITY, parent=west)
    first = PartnerFactory(code="W-1", name="West One", region=chengdu)
    second = PartnerFactory(code="W-2", name="West Two", region=west)
    start, end = date(TODAY.year, 1, 1), date(TODAY.year, 12, 31)
    agreements = [
        make(by=world["admin"], partner=p, lines=[world["sensors"]], start=start, end=end, status="active")
        for p in (first, second)
    ]
    last_q1 = date(TODAY.year - 1, 2, 1)
    SalesLineFactory(partner=first, product_line=world["sensors"], sold_on=last_q1, unit_price=Decimal("300"))
    SalesLineFactory(partner=second, product_line=world["sensors"], sold_on=last_q1, unit_price=Decimal("100"))
    return {"region": west, "agreements": agreements}


def test_set_a_region_target_preview_and_apply_the_split(admin_client, world, west):
    period = f"{TODAY.year}-Q1"
    response = admin_client.post(
        reverse("agreements:region-target-list"),
        {"region": west["region"].pk, "period": period.lower(), "revenue": "1000.01", "units": "7"},
    )
    region_target = RegionTarget.objects.get(region=west["region"])
    assert response["Location"] == reverse("agreements:region-target-detail", args=[region_target.pk])
    assert region_target.period == period
    preview = admin_client.get(response["Location"])
    rows = preview.context["rows"]
    assert [(row["partner"].code, row["basis"], row["share"]) for row in rows] == [
        ("W-1", "sales", Decimal("75.00")),
        ("W-2", "sales", Decimal("25.00")),
    ]
    assert [row["revenue"] for row in rows] == [Decimal("750.01"), Decimal("250.00")]
    assert preview.context["total_revenue"] == Decimal("1000.01") == region_target.revenue
    assert preview.context["total_units"] == Decimal("7")
    page = html(preview)
    assert "CNY 1,000.01" in page[page.index('data-testid="total-revenue"') :][:200]
    assert "Last year's sales" in page and "Not split yet" in page
    assert not AgreementTarget.objects.filter(region_target=region_target).exists()  # a preview writes nothing

    response = admin_client.post(response["Location"], follow=True)
    assert "Split applied: 2 partner targets set." in messages_of(response)
    split = {t.agreement.partner.code: t.revenue for t in AgreementTarget.objects.filter(region_target=region_target)}
    assert split == {"W-1": Decimal("750.01"), "W-2": Decimal("250.00")}
    listing = html(admin_client.get(reverse("agreements:region-target-list")))
    assert "Split to 2 partners" in listing


def test_an_even_split_when_nobody_sold_last_year(admin_client, world, west):
    target = services.region_target_set(
        region=west["region"], period=f"{TODAY.year}-Q2", by=world["admin"], revenue="100.01"
    )
    rows = admin_client.get(reverse("agreements:region-target-detail", args=[target.pk])).context["rows"]
    assert [(row["basis"], row["revenue"]) for row in rows] == [("even", Decimal("50.01")), ("even", Decimal("50.00"))]


def test_a_region_without_partners_cannot_be_split(admin_client, world):
    target = services.region_target_set(region=world["haidian"], period=f"{TODAY.year}", by=world["admin"], units="5")
    url = reverse("agreements:region-target-detail", args=[target.pk])
    assert "there is nobody to split the target to" in html(admin_client.get(url))
    before = snapshot()
    response = admin_client.post(url, follow=True)
    assert any("Not split:" in message for message in messages_of(response))
    assert snapshot() == before


@pytest.mark.parametrize(
    ("data", "field", "text"),
    [
        ({"period": "2026-13"}, "period", "is not a period"),
        ({"period": ""}, "period", "required"),
        ({"revenue": "", "units": ""}, None, "Enter a revenue target, a units target or both."),
        ({"revenue": "-1"}, "revenue", "Must not be negative."),
        ({"region": "999999"}, "region", "Select a valid choice"),
    ],
)
def test_a_bad_region_target_is_refused_on_its_field(admin_client, world, data, field, text):
    form = {"region": world["north"].pk, "period": "2026-Q1", "revenue": "100", **data}
    before = snapshot()
    response = admin_client.post(reverse("agreements:region-target-list"), form)
    assert response.status_code == 200
    errors = response.context["form"].errors.get(field or "__all__", [])
    assert any(text in error for error in errors), response.context["form"].errors
    assert snapshot() == before


def test_a_manager_sets_targets_only_for_their_regions(manager_client, world):
    before = snapshot()
    response = manager_client.post(
        reverse("agreements:region-target-list"), {"region": world["north"].pk, "period": "2026", "revenue": "1"}
    )
    assert response.status_code == 403
    assert snapshot() == before


# The partner 360° section and the home panel -----------------------------------------------


def test_the_partner_page_shows_its_agreements(manager_client, world):
    page = html(manager_client.get(world["mine"].get_absolute_url()))
    section = page[page.index('id="agreements"') :]
    assert world["active"].number in section and "40 days left" in section and "Beijing" in section
    assert f'href="/agreements/new/?partner={world["mine"].pk}"' in section
    foreign = html(manager_client.get(world["theirs"].get_absolute_url()))
    section = foreign[foreign.index('id="agreements"') :]
    assert world["draft"].number in section and world["pending"].number in section
    assert "/agreements/new/" not in section  # the manager does not manage this partner


def test_the_partner_page_of_a_partner_without_agreements(admin_client, world):
    page = html(admin_client.get(PartnerFactory().get_absolute_url()))
    assert "No agreements yet." in page and "/agreements/new/?partner=" in page


def test_the_home_page_shows_pending_approvals_to_approvers_and_expiring_agreements(client, world):
    as_user(client, world["admin"])
    panel = next(p for p in client.get("/").context["panels"] if p["template"] == "agreements/_home_panel.html")
    assert [a.number for a in panel["pending"]] == [world["pending"].number] and panel["pending_count"] == 1
    assert [a.number for a in panel["expiring"]] == [world["active"].number] and panel["expiring_count"] == 1
    page = html(client.get("/"))
    assert "Agreements waiting for your approval" in page and "40 days left" in page
    as_user(client, world["manager"])
    page = html(client.get("/"))
    assert "Agreements waiting for your approval" not in page
    assert "Agreements ending within 90 days" in page and world["active"].number in page


# Query counts ---------------------------------------------------------------------------------

# The session and the user (2), the user's roles (1), the unread notifications (1), the count and
# the page (2), its product lines and territories with their regions (2), and the region,
# product line and channel manager choices of the filter form (3).
LIST_PAGE_QUERIES = 11
# The session and the user (2), roles (1), notifications (1), the agreement with its partner,
# people and predecessor (1) and its successors (1), its product lines, territories, minimum
# prices, targets, documents, history and expiry reminders (7), and a manager's regions (1).
DETAIL_PAGE_QUERIES = 14


def build_agreements(size, by):
    """`size` active agreements, each with its own partner, region, product line and owner."""
    root = RegionFactory(code="ROOT", kind=RegionKind.COUNTRY)
    for n in range(size):
        region = RegionFactory(parent=root)
        make(
            by=by,
            partner=PartnerFactory(region=region, owner=StaffFactory()),
            lines=[ProductLineFactory()],
            territories=[(region, n % 2 == 0), (RegionFactory(parent=region), False)],
            start=TODAY - timedelta(days=10),
            end=TODAY + timedelta(days=n + 1),
            status=AgreementStatus.ACTIVE,
        )


@pytest.mark.parametrize("size", [2, 30])
def test_the_list_and_its_export_take_a_fixed_number_of_queries(client, django_assert_max_num_queries, size):
    admin = ChannelAdminFactory()
    build_agreements(size, admin)
    as_user(client, admin)
    with django_assert_max_num_queries(LIST_PAGE_QUERIES):
        response = client.get(f"{LIST}?page_size=100&exclusive=true&expiring_within=365")
    assert len(response.context["object_list"]) == (size + 1) // 2
    with django_assert_max_num_queries(6):
        rows = csv_rows(client.get(f"{LIST}?export=csv"))
    assert len(rows) == size and all(row["Territories"].count(",") == 1 for row in rows)


@pytest.mark.parametrize("size", [2, 30])
def test_the_detail_page_takes_a_fixed_number_of_queries(client, django_assert_max_num_queries, size):
    admin = ChannelAdminFactory()
    manager = ChannelManagerFactory()
    root = RegionFactory(code="ROOT", kind=RegionKind.COUNTRY)
    lines = [ProductLineFactory() for _ in range(size)]
    agreement = services.agreement_create(
        partner=PartnerFactory(region=root, owner=manager),
        agreement_type="reseller",
        start_date=date(NEXT_YEAR, 1, 1),
        end_date=date(NEXT_YEAR + 3, 12, 31),
        by=admin,
        product_lines=lines,
        territories=[{"region": RegionFactory(parent=root), "exclusive": True} for _ in range(size)],
        minimum_prices=[{"product_line": line, "min_unit_price": Decimal("9.99")} for line in lines],
    )
    for n in range(size):
        month = Period.month(NEXT_YEAR + n // 12, n % 12 + 1)
        services.target_set(agreement=agreement, period=month, by=admin, revenue=Decimal(n + 1))
        services.document_add(
            agreement=agreement, by=admin, file=SimpleUploadedFile(f"annex-{n}.pdf", PDF), kind="annex"
        )
    for user in (admin, manager):
        as_user(client, user)
        with django_assert_max_num_queries(DETAIL_PAGE_QUERIES):
            response = client.get(agreement.get_absolute_url())
        assert len(response.context["targets"]) == size
        assert html(response).count(".pdf</a>") == size


@pytest.mark.parametrize("size", [2, 30])
def test_the_partner_page_with_agreements_stays_within_its_query_count(client, django_assert_max_num_queries, size):
    from tests.partners.test_views import PARTNER_PAGE_QUERIES

    admin = ChannelAdminFactory()
    root = RegionFactory(code="ROOT", kind=RegionKind.COUNTRY)
    partner = PartnerFactory(region=root)
    for n in range(size):
        make(
            by=admin,
            partner=partner,
            lines=[ProductLineFactory()],
            territories=[(RegionFactory(parent=root), True)],
            start=date(NEXT_YEAR + n, 1, 1),
            end=date(NEXT_YEAR + n, 12, 31),
        )
    as_user(client, admin)
    with django_assert_max_num_queries(PARTNER_PAGE_QUERIES):
        response = client.get(partner.get_absolute_url())
    section = next(s for s in response.context["sections"] if s["template"] == "agreements/_partner_section.html")
    assert len(section["agreements"]) == size
    assert html(response).count('class="badge text-bg-light border me-1"') == size
