"""The staff pages of the partner registry, the home page, and signing in and out.

Every page: 200 for staff, a redirect to the sign-in page for anonymous visitors, 403 with a clear
message for a signed-in user who is not vendor staff. Forms save through the services and show
the services' errors on the field they name, writing nothing."""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from partners.choices import ContactRole, PartnerStatus, PartnerType
from partners.models import Partner, PartnerContact, PartnerTier, Region
from partners.services import partner_change_status
from prm.models import AuditEntry
from tests.factories import (
    DistributorFactory,
    PartnerContactFactory,
    PartnerFactory,
    UserFactory,
)
from tests.partners.registry import build_registry, build_world, db_snapshot

pytestmark = pytest.mark.django_db

NOT_STAFF_MESSAGE = "This page is for the vendor&#x27;s channel team."


def html(response):
    return response.content.decode()


def listed_codes(response):
    return [partner.code for partner in response.context["object_list"]]


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def csv_rows(response):
    """The data rows of a CSV export, after checking its header: CSV_HEADER, then the creation date."""
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # so that spreadsheets read Chinese text as UTF-8
    header, *rows = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    assert header[:-1] == CSV_HEADER
    assert header[-1].startswith("Created")
    return rows


@pytest.fixture
def world(db, staff_user):
    return build_world(staff_user)


@pytest.fixture
def contact(world):
    return PartnerContactFactory(partner=world["d_bj"], name="Wang Fang", job_role=ContactRole.OWNER, is_primary=True)


# Every page: staff, anonymous, not staff ---------------------------------------------------

GET_PAGES = [
    ("home", None),
    ("partners:partner-list", None),
    ("partners:partner-create", None),
    ("partners:partner-detail", "d_bj"),
    ("partners:partner-edit", "d_bj"),
    ("partners:partner-move", "s_bj"),
    ("partners:contact-create", "d_bj"),
    ("partners:contact-edit", "contact"),
    ("partners:region-tree", None),
    ("partners:region-create", None),
    ("partners:region-edit", "beijing"),
    ("partners:tier-list", None),
    ("partners:tier-create", None),
    ("partners:tier-edit", "gold"),
]
POST_ONLY_PAGES = [("partners:partner-status", "r_gd"), ("partners:contact-delete", "contact")]


def page_url(name, key, world, contact):
    if key is None:
        return reverse(name)
    obj = contact if key == "contact" else world[key]
    return reverse(name, args=[obj.pk])


@pytest.mark.parametrize(("name", "key"), GET_PAGES)
def test_every_page_renders_for_staff(staff_client, world, contact, name, key):
    response = staff_client.get(page_url(name, key, world, contact))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Sign out" in html(response)


@pytest.mark.parametrize(("name", "key"), GET_PAGES + POST_ONLY_PAGES)
def test_every_page_sends_anonymous_visitors_to_sign_in(client, world, contact, name, key):
    url = page_url(name, key, world, contact)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize(("name", "key"), GET_PAGES)
def test_every_page_refuses_signed_in_users_who_are_not_staff(client, plain_user, world, contact, name, key):
    client.force_login(plain_user)
    response = client.get(page_url(name, key, world, contact))
    assert response.status_code == 403
    assert NOT_STAFF_MESSAGE in html(response)
    assert world["d_bj"].name not in html(response)


@pytest.mark.parametrize(("name", "key"), POST_ONLY_PAGES)
def test_post_only_actions_refuse_anonymous_and_non_staff_and_change_nothing(
    client, plain_user, world, contact, name, key
):
    url = page_url(name, key, world, contact)
    before = db_snapshot()
    anonymous = client.post(url, {"status": "onboarding"})
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login"))
    client.force_login(plain_user)
    refused = client.post(url, {"status": "onboarding"})
    assert refused.status_code == 403
    assert NOT_STAFF_MESSAGE in html(refused)
    assert db_snapshot() == before


@pytest.mark.parametrize(("name", "key"), POST_ONLY_PAGES)
def test_post_only_actions_do_not_answer_get(staff_client, world, contact, name, key):
    before = db_snapshot()
    assert staff_client.get(page_url(name, key, world, contact)).status_code == 405
    assert db_snapshot() == before


@pytest.mark.parametrize(
    "name",
    [
        "partners:partner-detail",
        "partners:partner-edit",
        "partners:partner-move",
        "partners:contact-create",
        "partners:contact-edit",
        "partners:region-edit",
        "partners:tier-edit",
    ],
)
def test_unknown_objects_are_404(staff_client, world, name):
    response = staff_client.get(reverse(name, args=[999999]))
    assert response.status_code == 404
    assert "Page not found" in html(response)


def test_non_staff_users_cannot_post_to_forms(client, plain_user, world):
    client.force_login(plain_user)
    before = db_snapshot()
    response = client.post(
        reverse("partners:partner-create"),
        {"code": "X-1", "name": "X", "partner_type": "reseller", "region": world["north"].pk, "status": "prospect"},
    )
    assert response.status_code == 403
    response = client.post(reverse("partners:tier-edit", args=[world["gold"].pk]), {"name": "Hacked", "rank": 3})
    assert response.status_code == 403
    assert db_snapshot() == before


# Home, sign in, sign out -------------------------------------------------------------------


def test_home_page_shows_the_partner_overview(staff_client, world):
    response = staff_client.get("/")
    assert response.status_code == 200
    page = html(response)
    assert "Welcome" in page
    statuses = {value: count for value, _label, count in response.context["panels"][0]["statuses"]}
    assert statuses == {"prospect": 1, "onboarding": 0, "active": 3, "suspended": 0, "terminated": 0}
    assert "You manage 2 partners." in page
    assert "4 partners in the registry." in page


def test_sign_in_page_renders(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "Username or email" in html(response)


@pytest.mark.parametrize("login", ["manager", "MANAGER", "manager@example.com", "Manager@Example.com"])
def test_sign_in_by_username_or_email(client, staff_user, login):
    response = client.post(reverse("login"), {"username": login, "password": "pass12345"})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get("/").status_code == 200


def test_sign_in_follows_next(client, staff_user):
    url = reverse("partners:tier-list")
    response = client.post(
        f"{reverse('login')}?next={url}", {"username": "manager", "password": "pass12345", "next": url}
    )
    assert response.status_code == 302
    assert response["Location"] == url


@pytest.mark.parametrize(
    ("login", "password"), [("manager", "wrong-password"), ("nobody", "pass12345"), ("nobody@example.com", "x")]
)
def test_sign_in_with_a_bad_password_or_unknown_user_shows_an_error(client, staff_user, login, password):
    response = client.post(reverse("login"), {"username": login, "password": password})
    assert response.status_code == 200
    assert "Please enter a correct username (or email) and password." in html(response)
    assert client.get("/").status_code == 302


def test_inactive_users_cannot_sign_in(client):
    UserFactory(username="gone", is_staff=True, is_active=False)
    response = client.post(reverse("login"), {"username": "gone", "password": "pass12345"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_sign_out_by_post(staff_client):
    response = staff_client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert staff_client.get("/").status_code == 302


def test_sign_out_does_not_happen_on_get(staff_client):
    assert staff_client.get(reverse("logout")).status_code == 405
    assert staff_client.get("/").status_code == 200


# Partner list: filter, sort, paginate ------------------------------------------------------

LIST = "/partners/"


def test_partner_list_shows_every_partner_with_its_columns(staff_client, world):
    response = staff_client.get(LIST)
    assert response.status_code == 200
    assert listed_codes(response) == ["D-BJ", "S-BJ", "R-BJ", "R-GD"]  # by name
    page = html(response)
    for text in ["Beijing Huaxin Distribution", "Guangdong Jinpeng Reseller", "Gold", "Silver", "Retailer", "Prospect"]:
        assert text in page
    assert f'href="{world["d_bj"].get_absolute_url()}"' in page
    assert "Showing 1–4 of 4" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("partner_type=distributor", {"D-BJ", "S-BJ"}),
        ("status=prospect", {"R-GD"}),
        ("q=tianyu", {"S-BJ"}),
        ("q=r-gd", {"R-GD"}),
        ("q=jinpeng.example", {"R-GD"}),
        ("q=CRM-1", {"D-BJ"}),
        ("q=%20%20", {"D-BJ", "S-BJ", "R-BJ", "R-GD"}),
        ("level=3", {"R-BJ"}),
        ("parent_code=s-bj", {"R-BJ"}),
        ("partner_type=distributor&status=active&level=1", {"D-BJ"}),
    ],
)
def test_partner_list_filters(staff_client, world, query, expected):
    response = staff_client.get(f"{LIST}?{query}")
    assert response.status_code == 200
    assert set(listed_codes(response)) == expected


def test_partner_list_filter_by_region_includes_sub_regions(staff_client, world):
    assert set(listed_codes(staff_client.get(f"{LIST}?region={world['north'].pk}"))) == {"D-BJ", "S-BJ", "R-BJ"}
    assert set(listed_codes(staff_client.get(f"{LIST}?region={world['beijing'].pk}"))) == {"S-BJ", "R-BJ"}
    assert len(listed_codes(staff_client.get(f"{LIST}?region={world['china'].pk}"))) == 4


def test_partner_list_filter_by_tier_owner_and_parent(staff_client, world):
    assert set(listed_codes(staff_client.get(f"{LIST}?tier={world['silver'].pk}"))) == {"S-BJ", "R-GD"}
    assert set(listed_codes(staff_client.get(f"{LIST}?owner={world['manager'].pk}"))) == {"D-BJ", "S-BJ"}
    assert set(listed_codes(staff_client.get(f"{LIST}?owner={world['other_manager'].pk}"))) == {"R-BJ"}
    assert set(listed_codes(staff_client.get(f"{LIST}?parent={world['d_bj'].pk}"))) == {"S-BJ"}


def test_partner_list_filter_form_keeps_the_chosen_values(staff_client, world):
    response = staff_client.get(f"{LIST}?region={world['north'].pk}&status=active&q=beijing&sort=-name")
    page = html(response)
    assert re.search(rf'<option value="{world["north"].pk}" selected>', page)
    assert '<option value="active" selected>' in page
    assert 'value="beijing"' in page
    assert '<input type="hidden" name="sort" value="-name">' in page


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("region=abc", "region", "Select a valid choice"),
        ("region=999999", "region", "Select a valid choice"),
        ("tier=999999", "tier", "Select a valid choice"),
        ("status=dormant", "status", "Select a valid choice"),
        ("partner_type=wholesaler", "partner_type", "Select a valid choice"),
        ("level=0", "level", "greater than or equal to 1"),
        ("level=two", "level", "Enter a number"),
        ("parent=999999", "parent", "Select a valid choice"),
    ],
)
def test_partner_list_invalid_filter_shows_the_error_and_lists_nothing(staff_client, world, query, field, message):
    response = staff_client.get(f"{LIST}?{query}")
    assert response.status_code == 200
    assert field in response.context["filter"].form.errors
    assert message in html(response)
    assert listed_codes(response) == []
    assert "No partners match these filters." in html(response)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-name", ["R-GD", "R-BJ", "S-BJ", "D-BJ"]),
        ("code", ["D-BJ", "R-BJ", "R-GD", "S-BJ"]),
        ("-code", ["S-BJ", "R-GD", "R-BJ", "D-BJ"]),
        ("level", ["D-BJ", "R-GD", "S-BJ", "R-BJ"]),
        ("region", ["S-BJ", "R-BJ", "R-GD", "D-BJ"]),  # Beijing, Beijing, Guangdong, North; ties by pk
        ("password", ["D-BJ", "S-BJ", "R-BJ", "R-GD"]),  # unknown: default order
    ],
)
def test_partner_list_sorts(staff_client, world, sort, expected):
    response = staff_client.get(f"{LIST}?sort={sort}")
    assert response.status_code == 200
    assert listed_codes(response) == expected


def test_partner_list_sort_header_toggles_direction_and_keeps_filters(staff_client, world):
    page = html(staff_client.get(f"{LIST}?status=active&sort=name"))
    assert 'href="?status=active&amp;sort=-name" class="sort-link" aria-sort="ascending"' in page
    assert 'href="?status=active&amp;sort=code" class="sort-link" aria-sort="none"' in page


@pytest.fixture
def thirty_partners(world):
    region = world["guangdong"]
    return [PartnerFactory(code=f"BULK-{n:02d}", name=f"Bulk partner {n:02d}", region=region) for n in range(30)]


def test_partner_list_paginates(staff_client, thirty_partners):
    first = staff_client.get(LIST)
    assert len(first.context["object_list"]) == 25
    assert "Showing 1–25 of 34" in html(first)
    assert "Page 1 of 2" in html(first)
    second = staff_client.get(f"{LIST}?page=2")
    assert len(second.context["object_list"]) == 9
    assert "Showing 26–34 of 34" in html(second)
    assert set(listed_codes(first)).isdisjoint(listed_codes(second))


def test_partner_list_page_size(staff_client, thirty_partners):
    assert len(staff_client.get(f"{LIST}?page_size=50").context["object_list"]) == 34
    # Sizes outside the offered choices fall back to the default rather than failing.
    assert len(staff_client.get(f"{LIST}?page_size=7").context["object_list"]) == 25
    assert len(staff_client.get(f"{LIST}?page_size=abc").context["object_list"]) == 25
    assert len(staff_client.get(f"{LIST}?page_size=100000").context["object_list"]) == 25


def test_partner_list_pagination_links_keep_filters_and_sort(staff_client, thirty_partners):
    page = html(staff_client.get(f"{LIST}?status=active&sort=-code"))
    assert 'href="?status=active&amp;sort=-code&amp;page=2"' in page


def test_partner_list_filters_and_pages_together(staff_client, thirty_partners):
    response = staff_client.get(f"{LIST}?q=bulk&sort=-code&page=2")
    assert listed_codes(response) == [f"BULK-{n:02d}" for n in range(4, -1, -1)]


# CSV export --------------------------------------------------------------------------------

CSV_HEADER = [
    "Code",
    "Name",
    "Legal name",
    "Type",
    "Status",
    "Tier",
    "Region",
    "Region code",
    "Parent",
    "Network level",
    "Sub-partners",
    "Channel manager",
    "Credit rating",
    "Email",
    "Phone",
    "External ID",
]


def test_csv_export_has_a_header_and_every_partner(staff_client, world):
    response = staff_client.get(f"{LIST}?export=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert re.match(r'attachment; filename="partners-\d{8}\.csv"', response["Content-Disposition"])
    by_code = {row[0]: dict(zip([*CSV_HEADER, "Created"], row, strict=True)) for row in csv_rows(response)}
    assert list(by_code) == ["D-BJ", "S-BJ", "R-BJ", "R-GD"]
    s_bj = by_code["S-BJ"]
    assert s_bj["Type"] == "Distributor"
    assert s_bj["Status"] == "Active"
    assert s_bj["Tier"] == "Silver"
    assert (s_bj["Region"], s_bj["Region code"]) == ("Beijing", "BJ")
    assert s_bj["Parent"] == "D-BJ"
    assert (s_bj["Network level"], s_bj["Sub-partners"]) == ("2", "1")
    assert s_bj["Channel manager"] == str(world["manager"])
    assert by_code["D-BJ"]["Legal name"] == "北京华信分销有限公司"
    assert by_code["D-BJ"]["External ID"] == "CRM-1"
    assert by_code["R-GD"]["Tier"] == "Silver" and by_code["R-BJ"]["Tier"] == ""
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", by_code["R-GD"]["Created"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("region=__north__", ["D-BJ", "S-BJ", "R-BJ"]),
        ("partner_type=distributor&sort=-code", ["S-BJ", "D-BJ"]),
        ("status=prospect", ["R-GD"]),
        ("q=zhongke", ["R-BJ"]),
    ],
)
def test_csv_export_has_exactly_the_filtered_rows_in_order(staff_client, world, query, expected):
    query = query.replace("__north__", str(world["north"].pk))
    rows = csv_rows(staff_client.get(f"{LIST}?{query}&export=csv"))
    assert [row[0] for row in rows] == expected


def test_csv_export_is_not_paginated(staff_client, thirty_partners):
    rows = csv_rows(staff_client.get(f"{LIST}?export=csv&page=2&page_size=25"))
    assert len(rows) == 34


def test_csv_export_with_an_invalid_filter_exports_no_rows(staff_client, world):
    response = staff_client.get(f"{LIST}?export=csv&region=abc")
    assert response.status_code == 200
    assert csv_rows(response) == []


def test_csv_export_is_for_staff_only(client, plain_user, world):
    assert client.get(f"{LIST}?export=csv").status_code == 302
    client.force_login(plain_user)
    assert client.get(f"{LIST}?export=csv").status_code == 403


def test_export_link_keeps_the_current_filters(staff_client, world):
    page = html(staff_client.get(f"{LIST}?status=active&page=1"))
    assert 'href="?status=active&amp;export=csv"' in page


# Creating and editing partners -------------------------------------------------------------


def new_partner_form(world, **overrides):
    data = {
        "code": "SZ-1",
        "name": "Shenzhen Xinghe Technology",
        "partner_type": PartnerType.RESELLER,
        "region": world["guangdong"].pk,
        "status": PartnerStatus.PROSPECT,
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_partner_create_form_offers_only_open_distributors_as_parents(staff_client, world):
    DistributorFactory(code="D-OLD", name="Old Terminated Distribution", status=PartnerStatus.TERMINATED)
    form = staff_client.get(reverse("partners:partner-create")).context["form"]
    parents = {partner.code for partner in form.fields["parent"].queryset}
    assert parents == {"D-BJ", "S-BJ"}
    assert {value for value, _label in form.fields["status"].choices} == {"prospect", "onboarding", "active"}


def test_partner_create_saves_and_redirects_to_the_partner(staff_client, world):
    data = new_partner_form(
        world,
        parent=world["d_bj"].pk,
        status="onboarding",
        tier=world["silver"].pk,
        owner=world["other_manager"].pk,
        external_id="CRM-77",
        email="hello@xinghe.example.cn",
        credit_rating="A",
    )
    response = staff_client.post(reverse("partners:partner-create"), data)
    partner = Partner.objects.get(code="SZ-1")
    assert response.status_code == 302
    assert response["Location"] == partner.get_absolute_url()
    assert partner.parent == world["d_bj"]
    assert partner.depth == 2
    assert partner.status == PartnerStatus.ONBOARDING
    assert (partner.tier, partner.owner, partner.external_id) == (world["silver"], world["other_manager"], "CRM-77")
    assert AuditEntry.objects.filter(object_id=str(partner.pk), action="create", actor=world["manager"]).exists()
    page = staff_client.get(response["Location"])
    assert "Partner created." in html(page)


def _assert_form_error(response, field, text):
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors, form.errors
    assert any(text in message for message in form.errors[field]), form.errors
    assert "is-invalid" in html(response)
    assert text in html(response).replace("&#x27;", "'").replace("&quot;", '"')


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"code": "D-BJ"}, "code", "already exists"),
        ({"code": "bad code!"}, "code", "letters, digits"),
        ({"code": None}, "code", "required"),
        ({"name": None}, "name", "required"),
        ({"region": None}, "region", "required"),
        ({"region": "999999"}, "region", "Select a valid choice"),
        ({"partner_type": "wholesaler"}, "partner_type", "Select a valid choice"),
        ({"status": "suspended"}, "status", "Select a valid choice"),
        ({"parent": "__r_gd__"}, "parent", "Select a valid choice"),  # not a distributor
        ({"owner": "__outsider__"}, "owner", "Select a valid choice"),  # not staff
        ({"email": "not-an-email"}, "email", "valid email"),
    ],
)
def test_partner_create_invalid_post_shows_the_field_error_and_writes_nothing(
    staff_client, world, plain_user, overrides, field, text
):
    replacements = {"__r_gd__": world["r_gd"].pk, "__outsider__": plain_user.pk}
    data = new_partner_form(world, **{k: replacements.get(v, v) for k, v in overrides.items()})
    before = db_snapshot()
    response = staff_client.post(reverse("partners:partner-create"), data)
    _assert_form_error(response, field, text)
    assert db_snapshot() == before


def test_partner_create_with_a_duplicate_external_id_is_refused_on_that_field(staff_client, world):
    before = db_snapshot()
    response = staff_client.post(reverse("partners:partner-create"), new_partner_form(world, external_id="CRM-1"))
    _assert_form_error(response, "external_id", "external ID")
    assert db_snapshot() == before


def test_partner_create_too_deep_in_the_network_is_refused_on_parent(staff_client, world):
    deep = DistributorFactory(code="D-L3", name="Level three distribution", parent=world["s_bj"])
    before = db_snapshot()
    response = staff_client.post(reverse("partners:partner-create"), new_partner_form(world, parent=deep.pk))
    _assert_form_error(response, "parent", "levels deep")
    assert db_snapshot() == before


def test_partner_edit_form_is_filled_in(staff_client, world):
    form = staff_client.get(reverse("partners:partner-edit", args=[world["d_bj"].pk])).context["form"]
    assert form.initial["code"] == "D-BJ"
    assert form.initial["external_id"] == "CRM-1"
    assert "status" not in form.fields and "parent" not in form.fields


def test_partner_edit_saves_and_records_the_change(staff_client, world):
    partner = world["r_gd"]
    data = new_partner_form(world, code="R-GD", name="Guangdong Jinpeng Retail", tier=world["gold"].pk, status=None)
    response = staff_client.post(reverse("partners:partner-edit", args=[partner.pk]), data)
    assert response.status_code == 302
    assert response["Location"] == partner.get_absolute_url()
    partner.refresh_from_db()
    assert partner.name == "Guangdong Jinpeng Retail"
    assert partner.tier == world["gold"]
    assert partner.status == PartnerStatus.PROSPECT  # not touched by the profile form
    entry = AuditEntry.objects.get(object_id=str(partner.pk), action="update")
    assert set(entry.changes) >= {"name", "tier"}
    assert "Partner saved." in html(staff_client.get(response["Location"]))


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"code": "D-BJ"}, "code", "already exists"),
        ({"name": ""}, "name", "required"),
        ({"partner_type": "reseller"}, "partner_type", "must stay a distributor"),
        ({"website": "not a url"}, "website", "valid URL"),
    ],
)
def test_partner_edit_invalid_post_shows_the_field_error_and_writes_nothing(
    staff_client, world, overrides, field, text
):
    partner = world["s_bj"]  # a distributor with a sub-partner
    data = new_partner_form(
        world, code="S-BJ", name=partner.name, partner_type="distributor", region=world["beijing"].pk, status=None
    )
    data.update(overrides)
    before = db_snapshot()
    response = staff_client.post(reverse("partners:partner-edit", args=[partner.pk]), data)
    _assert_form_error(response, field, text)
    assert response.context["partner"].name == "Beijing Tianyu Sub-distribution"
    assert db_snapshot() == before


def test_partner_edit_with_a_duplicate_external_id_is_refused_on_that_field(staff_client, world):
    before = db_snapshot()
    data = new_partner_form(world, code="R-GD", partner_type="retailer", external_id="CRM-1", status=None)
    response = staff_client.post(reverse("partners:partner-edit", args=[world["r_gd"].pk]), data)
    _assert_form_error(response, "external_id", "external ID")
    assert db_snapshot() == before


# Status changes ----------------------------------------------------------------------------


def test_partner_page_offers_only_the_legal_next_statuses(staff_client, world):
    response = staff_client.get(world["r_gd"].get_absolute_url())
    assert [value for value, _label in response.context["allowed_statuses"]] == ["onboarding", "terminated"]
    assert '<option value="onboarding">Onboarding</option>' in html(response)
    assert '<option value="active">' not in html(response)


def test_legal_status_change_succeeds_with_a_message(staff_client, world):
    partner = world["r_gd"]
    url = reverse("partners:partner-status", args=[partner.pk])
    response = staff_client.post(url, {"status": "onboarding", "reason": "Contract signed"}, follow=True)
    assert response.redirect_chain == [(partner.get_absolute_url(), 302)]
    assert "Status changed to Onboarding." in messages_of(response)
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.ONBOARDING
    entry = AuditEntry.objects.get(object_id=str(partner.pk), action="status")
    assert entry.changes["reason"] == [None, "Contract signed"]


@pytest.mark.parametrize(
    ("key", "status", "message"),
    [
        ("r_gd", "active", "A partner cannot go from Prospect to Active."),
        ("d_bj", "prospect", "A partner cannot go from Active to Prospect."),
        ("d_bj", "dormant", "Choose a valid status."),
        ("d_bj", "", "Choose a valid status."),
    ],
)
def test_illegal_status_change_shows_an_error_and_changes_nothing(staff_client, world, key, status, message):
    partner = world[key]
    before = db_snapshot()
    response = staff_client.post(reverse("partners:partner-status", args=[partner.pk]), {"status": status}, follow=True)
    assert response.redirect_chain == [(partner.get_absolute_url(), 302)]
    assert message in messages_of(response)
    assert "alert-danger" in html(response)
    assert db_snapshot() == before


def test_terminating_a_distributor_with_open_sub_partners_shows_why(staff_client, world):
    partner = world["s_bj"]
    Partner.objects.filter(pk=partner.pk).update(status=PartnerStatus.SUSPENDED)
    before = db_snapshot()
    response = staff_client.post(
        reverse("partners:partner-status", args=[partner.pk]), {"status": "terminated"}, follow=True
    )
    assert any("R-BJ" in message for message in messages_of(response))
    assert db_snapshot() == before


def test_status_change_of_an_unknown_partner_is_404(staff_client, world):
    assert staff_client.post(reverse("partners:partner-status", args=[999999]), {"status": "active"}).status_code == 404


# Moving in the network ---------------------------------------------------------------------


def test_move_form_offers_distributors_outside_the_partners_own_sub_network(staff_client, world):
    other = DistributorFactory(code="D-SH", name="Shanghai Distribution")
    form = staff_client.get(reverse("partners:partner-move", args=[world["d_bj"].pk])).context["form"]
    assert {partner.code for partner in form.fields["parent"].queryset} == {other.code}
    form = staff_client.get(reverse("partners:partner-move", args=[world["s_bj"].pk])).context["form"]
    assert form.initial["parent"] == world["d_bj"].pk


def test_move_under_another_distributor(staff_client, world):
    target = DistributorFactory(code="D-SH", name="Shanghai Distribution")
    url = reverse("partners:partner-move", args=[world["s_bj"].pk])
    response = staff_client.post(url, {"parent": target.pk}, follow=True)
    assert response.redirect_chain == [(world["s_bj"].get_absolute_url(), 302)]
    assert "Partner moved in the network." in messages_of(response)
    s_bj, r_bj = Partner.objects.get(pk=world["s_bj"].pk), Partner.objects.get(pk=world["r_bj"].pk)
    assert s_bj.parent == target
    assert r_bj.path.startswith(target.path) and r_bj.depth == 3


def test_move_to_the_top(staff_client, world):
    response = staff_client.post(reverse("partners:partner-move", args=[world["s_bj"].pk]), {"parent": ""})
    assert response.status_code == 302
    assert Partner.objects.get(pk=world["s_bj"].pk).parent is None
    assert Partner.objects.get(pk=world["r_bj"].pk).depth == 2


@pytest.mark.parametrize(
    ("mover", "target", "text"),
    [
        ("r_gd", "r_bj", "Select a valid choice"),  # a reseller cannot take sub-partners
        ("d_bj", "s_bj", "Select a valid choice"),  # its own sub-partner: a cycle
        ("s_bj", "deep", "levels deep"),  # S-BJ with R-BJ below it would reach level 4
    ],
)
def test_illegal_move_shows_the_error_and_changes_nothing(staff_client, world, mover, target, text):
    world["deep"] = DistributorFactory(code="D-MID", parent=DistributorFactory(code="D-TOP"))
    before = db_snapshot()
    response = staff_client.post(reverse("partners:partner-move", args=[world[mover].pk]), {"parent": world[target].pk})
    _assert_form_error(response, "parent", text)
    assert db_snapshot() == before


# Contacts ----------------------------------------------------------------------------------


def test_add_a_contact(staff_client, world, contact):
    partner = world["d_bj"]
    data = {"name": "Chen Jie", "email": "Chen.Jie@Huaxin.example.cn", "job_role": "finance", "is_primary": "on"}
    response = staff_client.post(reverse("partners:contact-create", args=[partner.pk]), data, follow=True)
    assert response.redirect_chain == [(partner.get_absolute_url(), 302)]
    assert "Contact saved." in messages_of(response)
    created = PartnerContact.objects.get(name="Chen Jie")
    assert (created.partner, created.email, created.job_role) == (partner, "chen.jie@huaxin.example.cn", "finance")
    # The new primary contact replaces the previous one.
    assert created.is_primary
    assert not PartnerContact.objects.get(pk=contact.pk).is_primary
    assert "Chen Jie" in html(response)


@pytest.mark.parametrize(
    ("data", "field", "text"),
    [
        ({"email": "a@b.cn", "job_role": "sales"}, "name", "required"),
        ({"name": "X", "email": "not-an-email", "job_role": "sales"}, "email", "valid email"),
        ({"name": "X", "job_role": "ceo"}, "job_role", "Select a valid choice"),
    ],
)
def test_add_a_contact_with_bad_input_shows_the_error(staff_client, world, data, field, text):
    before = db_snapshot()
    response = staff_client.post(reverse("partners:contact-create", args=[world["d_bj"].pk]), data)
    _assert_form_error(response, field, text)
    assert db_snapshot() == before


def test_edit_a_contact(staff_client, world, contact):
    url = reverse("partners:contact-edit", args=[contact.pk])
    assert staff_client.get(url).context["form"].initial["name"] == "Wang Fang"
    data = {"name": "Wang Fang", "email": "wang@huaxin.example.cn", "job_role": "owner", "title": "General manager"}
    response = staff_client.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == world["d_bj"].get_absolute_url()
    contact.refresh_from_db()
    assert (contact.title, contact.email, contact.is_primary) == ("General manager", "wang@huaxin.example.cn", False)


def test_edit_a_contact_with_bad_input_changes_nothing(staff_client, world, contact):
    before = db_snapshot()
    response = staff_client.post(reverse("partners:contact-edit", args=[contact.pk]), {"name": "", "job_role": "x"})
    _assert_form_error(response, "name", "required")
    assert "job_role" in response.context["form"].errors
    assert db_snapshot() == before


def test_remove_a_contact(staff_client, world, contact):
    response = staff_client.post(reverse("partners:contact-delete", args=[contact.pk]), follow=True)
    assert response.redirect_chain == [(world["d_bj"].get_absolute_url(), 302)]
    assert "Contact removed." in messages_of(response)
    assert not PartnerContact.objects.filter(pk=contact.pk).exists()


def test_a_contact_with_an_active_portal_login_is_not_removed(staff_client, world, contact):
    contact.user = UserFactory(username="wang.portal")
    contact.save()
    before = db_snapshot()
    response = staff_client.post(reverse("partners:contact-delete", args=[contact.pk]), follow=True)
    assert any("active portal login" in message for message in messages_of(response))
    assert db_snapshot() == before


# Regions -----------------------------------------------------------------------------------


def test_region_tree_shows_regions_in_order_with_partner_totals(staff_client, world):
    PartnerFactory(region=world["guangdong"], status=PartnerStatus.TERMINATED)  # not counted
    response = staff_client.get(reverse("partners:region-tree"))
    regions = response.context["regions"]
    assert [region.code for region in regions] == ["CN", "NORTH", "BJ", "SOUTH", "GD"]
    totals = {region.code: (region.partner_count, region.partner_total) for region in regions}
    assert totals == {"CN": (0, 4), "NORTH": (1, 3), "BJ": (2, 2), "SOUTH": (0, 1), "GD": (1, 1)}
    assert f'href="/partners/?region={world["north"].pk}"' in html(response)


def test_region_create(staff_client, world):
    url = reverse("partners:region-create")
    form = staff_client.get(f"{url}?parent={world['guangdong'].pk}").context["form"]
    assert str(form.initial["parent"]) == str(world["guangdong"].pk)
    response = staff_client.post(
        url, {"code": "SZ", "name": "Shenzhen", "kind": "city", "parent": world["guangdong"].pk}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("partners:region-tree")
    region = Region.objects.get(code="SZ")
    assert region.depth == 4 and region.parent == world["guangdong"]
    assert "Region saved." in html(staff_client.get(response["Location"]))


@pytest.mark.parametrize(
    ("data", "field", "text"),
    [
        ({"code": "BJ", "name": "Beijing 2", "kind": "city"}, "code", "already exists"),
        ({"code": "", "name": "X", "kind": "city"}, "code", "required"),
        ({"code": "X", "name": "X", "kind": "planet"}, "kind", "Select a valid choice"),
        ({"code": "X", "name": "X", "kind": "city", "parent": "999999"}, "parent", "Select a valid choice"),
    ],
)
def test_region_create_with_bad_input(staff_client, world, data, field, text):
    before = db_snapshot()
    _assert_form_error(staff_client.post(reverse("partners:region-create"), data), field, text)
    assert db_snapshot() == before


def test_region_edit(staff_client, world):
    region = world["guangdong"]
    url = reverse("partners:region-edit", args=[region.pk])
    response = staff_client.post(
        url, {"code": "GD", "name": "Guangdong Province", "kind": "province", "parent": world["north"].pk}
    )
    assert response.status_code == 302
    region.refresh_from_db()
    assert region.name == "Guangdong Province"
    assert region.path.startswith(world["north"].path)


def test_region_edit_refuses_a_cycle(staff_client, world):
    url = reverse("partners:region-edit", args=[world["north"].pk])
    form = staff_client.get(url).context["form"]
    offered = {region.code for region in form.fields["parent"].queryset}
    assert "BJ" not in offered and "NORTH" not in offered and "CN" in offered
    before = db_snapshot()
    data = {"code": "NORTH", "name": "North", "kind": "area", "parent": world["beijing"].pk}
    _assert_form_error(staff_client.post(url, data), "parent", "Select a valid choice")
    assert db_snapshot() == before


# Tiers -------------------------------------------------------------------------------------


def tier_form(**overrides):
    data = {
        "name": "Platinum",
        "rank": 4,
        "min_annual_revenue": "50000000",
        "min_certified_staff": 10,
        "min_scorecard_score": "85",
        "discount_percent": "25",
        "rebate_multiplier": "1.5",
        "mdf_allowance_percent": "4",
    }
    data.update(overrides)
    return data


def test_tier_list_shows_tiers_and_partner_counts(staff_client, world):
    response = staff_client.get(reverse("partners:tier-list"))
    tiers = list(response.context["tiers"])
    assert [tier.name for tier in tiers] == ["Silver", "Gold"]
    assert [tier.partner_count for tier in tiers] == [2, 1]
    assert f'href="/partners/?tier={world["silver"].pk}">2</a>' in html(response)


def test_tier_create(staff_client, world):
    response = staff_client.post(reverse("partners:tier-create"), tier_form())
    assert response.status_code == 302
    assert response["Location"] == reverse("partners:tier-list")
    tier = PartnerTier.objects.get(name="Platinum")
    assert (tier.rank, tier.discount_percent, tier.rebate_multiplier) == (4, Decimal("25"), Decimal("1.5"))


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"discount_percent": "150"}, "discount_percent", "less than or equal to 100"),
        ({"discount_percent": "-1"}, "discount_percent", "greater than or equal to 0"),
        ({"discount_percent": "lots"}, "discount_percent", "Enter a number"),
        ({"min_annual_revenue": "-5"}, "min_annual_revenue", "greater than or equal to 0"),
        ({"min_annual_revenue": "1.234"}, "min_annual_revenue", "decimal places"),
        ({"rebate_multiplier": "12"}, "rebate_multiplier", "less than or equal to 10"),
        ({"min_certified_staff": "-1"}, "min_certified_staff", "greater than or equal to 0"),
        ({"min_certified_staff": "2.5"}, "min_certified_staff", "whole number"),
        ({"rank": ""}, "rank", "required"),
        ({"rank": "3"}, "rank", "already exists"),
        ({"name": "Gold"}, "name", "already exists"),
    ],
)
def test_tier_create_with_bad_numbers_shows_field_errors(staff_client, world, overrides, field, text):
    before = db_snapshot()
    _assert_form_error(staff_client.post(reverse("partners:tier-create"), tier_form(**overrides)), field, text)
    assert db_snapshot() == before


def test_tier_edit(staff_client, world):
    gold = world["gold"]
    url = reverse("partners:tier-edit", args=[gold.pk])
    assert staff_client.get(url).context["form"].initial["name"] == "Gold"
    response = staff_client.post(url, tier_form(name="Gold", rank=3, discount_percent="12.5"))
    assert response.status_code == 302
    gold.refresh_from_db()
    assert gold.discount_percent == Decimal("12.5")
    assert AuditEntry.objects.filter(
        object_type="partners.partnertier", object_id=str(gold.pk), action="update"
    ).exists()


def test_tier_edit_with_bad_numbers_changes_nothing(staff_client, world):
    before = db_snapshot()
    response = staff_client.post(
        reverse("partners:tier-edit", args=[world["gold"].pk]),
        tier_form(name="Gold", rank="2", mdf_allowance_percent="101"),
    )
    _assert_form_error(response, "mdf_allowance_percent", "less than or equal to 100")
    assert "rank" in response.context["form"].errors  # Silver has rank 2
    assert db_snapshot() == before


# The partner 360 page ----------------------------------------------------------------------


def test_partner_360_shows_profile_network_contacts_and_history(staff_client, world, contact):
    partner_change_status(partner=world["r_gd"], status="onboarding", by=world["manager"])
    response = staff_client.get(world["d_bj"].get_absolute_url())
    page = html(response)
    # Profile
    for text in [
        "Beijing Huaxin Distribution",
        "北京华信分销有限公司",
        "D-BJ",
        "CRM-1",
        "info@huaxin.example.cn",
        "Gold",
        "North",
    ]:
        assert text in page, text
    assert str(world["manager"]) in page
    # Children and grandchildren
    assert world["s_bj"].name in page and world["r_bj"].name in page
    assert [node.code for node in response.context["network"]] == ["S-BJ", "R-BJ"]
    assert world["r_gd"].name not in page
    # Contacts
    assert "Wang Fang" in page and "Owner / general manager" in page and "Primary" in page


def test_partner_360_shows_the_parent_and_the_upline(staff_client, world):
    response = staff_client.get(world["r_bj"].get_absolute_url())
    page = html(response)
    assert [ancestor.code for ancestor in response.context["ancestors"]] == ["D-BJ", "S-BJ"]
    assert f'<a href="{world["s_bj"].get_absolute_url()}">{world["s_bj"].name}</a>' in page
    assert f'<a href="{world["d_bj"].get_absolute_url()}">{world["d_bj"].name}</a>' in page
    assert "Level 3 of 3" in page


def test_partner_360_shows_the_history(staff_client, world):
    partner = world["r_gd"]
    staff_client.post(reverse("partners:partner-status", args=[partner.pk]), {"status": "onboarding"})
    staff_client.post(reverse("partners:contact-create", args=[partner.pk]), {"name": "Zhao Min", "job_role": "sales"})
    page = html(staff_client.get(partner.get_absolute_url()))
    history = page[page.index(">History<") :]
    assert "Status changed" in history
    assert "onboarding" in history.lower()
    assert "Zhao Min" in history
    assert str(world["manager"]) in history


def test_partner_360_of_a_lone_partner(staff_client, world):
    page = html(staff_client.get(world["r_gd"].get_absolute_url()))
    assert "No parent and no sub-partners." in page
    assert "No contacts yet." in page


# Query counts ------------------------------------------------------------------------------

# The session and the user (2), the user's roles (1), the count and the page (2), the
# region, tier and channel manager choices of the filter form (3), and the unread
# notifications in the top bar (1).
LIST_PAGE_QUERIES = 9
# The session and the user (2), and one streamed query for every row with what it refers to.
CSV_EXPORT_QUERIES = 3
# The session and the user (2), the user's roles (1), the partner with its tier, region and
# owner (1), its upline (1), its sub-network (1), contacts with their logins (1), history (1),
# the unread notifications in the top bar (1), the agreements section: the partner's
# agreements, their product lines and their territories (3), and the training section: its
# people's valid certifications, recent attempts and counts, and the tier requirements met or
# missing (6, training.selectors.partner_training), and the incentives section: recent
# statements, MDF budgets with their figures, open MDF requests (3, incentives.dashboard).
PARTNER_PAGE_QUERIES = 21


@pytest.mark.parametrize("size", [2, 40])
def test_partner_list_page_queries_do_not_grow_with_rows(staff_client, django_assert_max_num_queries, size):
    build_registry(size)
    with django_assert_max_num_queries(LIST_PAGE_QUERIES):
        response = staff_client.get(f"{LIST}?page_size=100")
    assert response.status_code == 200
    assert len(response.context["object_list"]) == 1 + 2 * size
    # Its own code, and the parent column of every sub-distributor.
    assert html(response).count("TOP</a>") == 1 + size


@pytest.mark.parametrize("size", [2, 40])
def test_csv_export_queries_do_not_grow_with_rows(staff_client, django_assert_max_num_queries, size):
    build_registry(size)
    with django_assert_max_num_queries(CSV_EXPORT_QUERIES):
        rows = csv_rows(staff_client.get(f"{LIST}?export=csv"))
    assert len(rows) == 1 + 2 * size
    assert sum(1 for row in rows if row[8] == "TOP" and row[5] and row[11]) == size


@pytest.mark.parametrize("size", [2, 40])
def test_partner_page_queries_do_not_grow_with_the_network(staff_client, django_assert_max_num_queries, size):
    top = build_registry(size)
    middle = Partner.objects.filter(parent=top).first()
    for partner, expected_network in [(top, 2 * size), (middle, 1)]:
        with django_assert_max_num_queries(PARTNER_PAGE_QUERIES):
            response = staff_client.get(partner.get_absolute_url())
        assert response.status_code == 200
        assert len(response.context["network"]) == expected_network
    top_page = staff_client.get(top.get_absolute_url())
    assert len(top_page.context["contacts"]) == size
    assert len(top_page.context["history"]) == min(size, 20)
