"""The partner registry's REST API: /api/v1/regions/, tiers/, partners/ and partner-contacts/.

Every list filters with the UI's FilterSet names, orders and paginates; every write goes through a
service; bad input answers 400 with field-level JSON and writes nothing; illegal status changes
and network moves are refused with the field that is wrong."""

import re
from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from partners.choices import ContactRole, PartnerStatus, PartnerType
from partners.models import Partner, PartnerContact, PartnerTier, Region
from prm.models import AuditEntry
from tests.factories import (
    DistributorFactory,
    PartnerContactFactory,
    PartnerFactory,
    PartnerTierFactory,
    RegionFactory,
    UserFactory,
)
from tests.partners.registry import build_registry, build_world, db_snapshot

pytestmark = pytest.mark.django_db

REGIONS = "/api/v1/regions/"
TIERS = "/api/v1/tiers/"
PARTNERS = "/api/v1/partners/"
CONTACTS = "/api/v1/partner-contacts/"
LISTS = [REGIONS, TIERS, PARTNERS, CONTACTS]


def detail(base, pk, action=""):
    return f"{base}{pk}/{action + '/' if action else ''}"


def codes(response):
    return [row["code"] for row in response.json()["results"]]


def assert_field_error(response, *fields):
    """400, JSON, and a non-empty list of messages under each named field."""
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "invalid", response.content
    body = response.json()["errors"]
    for field in fields:
        assert field in body, body
        assert isinstance(body[field], list) and body[field], body
        assert all(isinstance(message, str) and message for message in body[field]), body
    return body


@pytest.fixture
def world(db, staff_user):
    return build_world(staff_user)


def partner_payload(world, **overrides):
    payload = {
        "code": "NEW-1",
        "name": "Shenzhen Xinghe Technology",
        "partner_type": PartnerType.RESELLER,
        "region": world["guangdong"].pk,
    }
    payload.update(overrides)
    return payload


# Authentication and permissions ------------------------------------------------------------


@pytest.mark.parametrize("url", LISTS)
def test_anonymous_callers_are_refused(world, url):
    response = APIClient().get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert "results" not in response.json()


@pytest.mark.parametrize("url", LISTS)
def test_signed_in_non_staff_users_are_refused(world, plain_user, url):
    api = APIClient()
    api.force_authenticate(plain_user)
    response = api.get(url)
    assert response.status_code == 403
    assert "results" not in response.json()


def test_non_staff_users_can_neither_read_one_partner_nor_write(world, plain_user):
    api = APIClient()
    api.force_authenticate(plain_user)
    before = db_snapshot()
    assert api.get(detail(PARTNERS, world["d_bj"].pk)).status_code == 403
    assert api.post(PARTNERS, partner_payload(world)).status_code == 403
    assert api.patch(detail(PARTNERS, world["d_bj"].pk), {"name": "Hijacked"}).status_code == 403
    assert api.post(detail(PARTNERS, world["r_gd"].pk, "transition"), {"status": "onboarding"}).status_code == 403
    assert api.post(REGIONS, {"code": "X", "name": "X", "kind": "city"}).status_code == 403
    assert db_snapshot() == before


def test_token_authentication_lets_an_integration_in(world, staff_user):
    token = Token.objects.create(user=staff_user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api.get(PARTNERS)
    assert response.status_code == 200
    assert response.json()["count"] == 4
    created = api.post(PARTNERS, partner_payload(world), format="json")
    assert created.status_code == 201
    assert AuditEntry.objects.filter(object_id=str(created.json()["id"]), actor=staff_user).exists()


def test_a_browser_session_needs_the_csrf_token_to_write(world, staff_user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_user)
    assert browser.get(PARTNERS).status_code == 200
    before = db_snapshot()
    response = browser.post(PARTNERS, partner_payload(world), content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]
    assert db_snapshot() == before


def test_a_wrong_token_is_refused(world):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api.get(PARTNERS)
    assert response.status_code == 401
    assert "token" in response.json()["message"].lower()


def test_a_token_of_a_non_staff_user_is_refused(world, plain_user):
    token = Token.objects.create(user=plain_user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get(PARTNERS).status_code == 403


# Regions -----------------------------------------------------------------------------------


def test_region_list_is_in_tree_order_with_path_and_depth(api_client, world):
    response = api_client.get(REGIONS)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["code"] for row in rows] == ["CN", "NORTH", "BJ", "SOUTH", "GD"]
    beijing = rows[2]
    assert beijing["parent"] == world["north"].pk
    assert beijing["depth"] == 3
    assert beijing["path"] == world["beijing"].path


def test_region_retrieve(api_client, world):
    response = api_client.get(detail(REGIONS, world["guangdong"].pk))
    assert response.status_code == 200
    assert response.json() == {
        "id": world["guangdong"].pk,
        "code": "GD",
        "name": "Guangdong",
        "kind": "province",
        "parent": world["south"].pk,
        "path": world["guangdong"].path,
        "depth": 3,
    }


def test_region_unknown_id_is_404(api_client, world):
    assert api_client.get(detail(REGIONS, 999999)).status_code == 404


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=area", {"NORTH", "SOUTH"}),
        ("q=guang", {"GD"}),
        ("code=BJ", {"BJ"}),
    ],
)
def test_region_filters(api_client, world, query, expected):
    response = api_client.get(f"{REGIONS}?{query}")
    assert response.status_code == 200
    assert set(codes(response)) == expected


def test_region_filter_by_parent_and_within(api_client, world):
    children = api_client.get(f"{REGIONS}?parent={world['china'].pk}")
    assert set(codes(children)) == {"NORTH", "SOUTH"}
    within = api_client.get(f"{REGIONS}?within={world['north'].pk}")
    assert set(codes(within)) == {"NORTH", "BJ"}


def test_region_ordering(api_client, world):
    response = api_client.get(f"{REGIONS}?ordering=-name")
    assert codes(response) == ["SOUTH", "NORTH", "GD", "CN", "BJ"]


def test_region_create_under_a_parent(api_client, world):
    response = api_client.post(
        REGIONS, {"code": "SZ", "name": "Shenzhen", "kind": "city", "parent": world["guangdong"].pk}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    region = Region.objects.get(code="SZ")
    assert body["id"] == region.pk
    assert body["depth"] == 4
    assert region.path.startswith(world["guangdong"].path)
    assert AuditEntry.objects.filter(object_type="partners.region", object_id=str(region.pk), action="create").exists()


def test_region_put_and_patch(api_client, world):
    gd = world["guangdong"]
    put = api_client.put(
        detail(REGIONS, gd.pk),
        {"code": "GD", "name": "Guangdong Province", "kind": "province", "parent": world["south"].pk},
    )
    assert put.status_code == 200, put.content
    assert put.json()["name"] == "Guangdong Province"
    patch = api_client.patch(detail(REGIONS, gd.pk), {"parent": world["north"].pk})
    assert patch.status_code == 200, patch.content
    gd.refresh_from_db()
    assert gd.name == "Guangdong Province"
    assert gd.parent == world["north"]
    assert gd.path.startswith(world["north"].path)
    # Its partners are now counted under North.
    partners = api_client.get(f"{PARTNERS}?region={world['north'].pk}")
    assert "R-GD" in codes(partners)


def test_region_moved_under_its_own_sub_region_is_refused(api_client, world):
    before = db_snapshot()
    response = api_client.patch(detail(REGIONS, world["north"].pk), {"parent": world["beijing"].pk})
    body = assert_field_error(response, "parent")
    assert "cycle" in body["parent"][0]
    assert db_snapshot() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "Nowhere", "kind": "city"}, "code"),
        ({"code": "NW", "kind": "city"}, "name"),
        ({"code": "NW", "name": "Nowhere", "kind": "planet"}, "kind"),
        ({"code": "BJ", "name": "Beijing again", "kind": "city"}, "code"),
        ({"code": "NW", "name": "Nowhere", "kind": "city", "parent": 999999}, "parent"),
        ({"code": "N W!", "name": "Nowhere", "kind": "city"}, "code"),
    ],
    ids=["missing-code", "missing-name", "unknown-kind", "duplicate-code", "unknown-parent", "bad-code"],
)
def test_region_create_bad_input(api_client, world, payload, field):
    before = db_snapshot()
    assert_field_error(api_client.post(REGIONS, payload), field)
    assert db_snapshot() == before


def test_region_delete_unused_leaf(api_client, world):
    leaf = RegionFactory(code="LEAF", parent=world["guangdong"])
    assert api_client.delete(detail(REGIONS, leaf.pk)).status_code == 204
    assert not Region.objects.filter(pk=leaf.pk).exists()


def test_region_in_use_cannot_be_deleted(api_client, world):
    response = api_client.delete(detail(REGIONS, world["guangdong"].pk))
    assert response.status_code == 400
    assert "move them first" in response.json()["errors"]["non_field_errors"][0]
    assert AuditEntry.objects.filter(action=AuditEntry.Action.DELETE).count() == 0
    assert Region.objects.filter(pk=world["guangdong"].pk).exists()


# Tiers -------------------------------------------------------------------------------------


def test_tier_list_in_rank_order_with_partner_counts(api_client, world):
    PartnerFactory(tier=world["silver"], status=PartnerStatus.TERMINATED)  # not counted
    response = api_client.get(TIERS)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["name"] for row in rows] == ["Silver", "Gold"]
    assert {row["name"]: row["partner_count"] for row in rows} == {"Silver": 2, "Gold": 1}
    assert rows[1]["discount_percent"] == "10.00"


def test_tier_retrieve(api_client, world):
    response = api_client.get(detail(TIERS, world["gold"].pk))
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Gold"
    assert body["rank"] == 3
    assert body["partner_count"] == 1


def test_tier_filter_and_ordering(api_client, world):
    assert [row["name"] for row in api_client.get(f"{TIERS}?rank=3").json()["results"]] == ["Gold"]
    assert [row["name"] for row in api_client.get(f"{TIERS}?name=Silver").json()["results"]] == ["Silver"]
    assert [row["name"] for row in api_client.get(f"{TIERS}?ordering=-rank").json()["results"]] == ["Gold", "Silver"]


def test_tier_create(api_client, world):
    response = api_client.post(
        TIERS,
        {"name": "Platinum", "rank": 4, "min_annual_revenue": "50000000.00", "discount_percent": "25.5"},
    )
    assert response.status_code == 201, response.content
    tier = PartnerTier.objects.get(name="Platinum")
    assert tier.discount_percent == Decimal("25.50")
    assert response.json()["partner_count"] == 0


def test_tier_put_and_patch_record_history(api_client, world):
    gold = world["gold"]
    put = api_client.put(detail(TIERS, gold.pk), {"name": "Gold", "rank": 5, "discount_percent": "12.00"})
    assert put.status_code == 200, put.content
    patch = api_client.patch(detail(TIERS, gold.pk), {"mdf_allowance_percent": "3.5"})
    assert patch.status_code == 200, patch.content
    gold.refresh_from_db()
    assert (gold.rank, gold.discount_percent, gold.mdf_allowance_percent) == (5, Decimal("12.00"), Decimal("3.50"))
    entry = AuditEntry.objects.filter(object_type="partners.partnertier", action="update").order_by("pk").last()
    assert entry.changes == {"mdf_allowance_percent": ["2.00", "3.50"]}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"rank": 9}, "name"),
        ({"name": "Bronze"}, "rank"),
        ({"name": "Gold", "rank": 9}, "name"),
        ({"name": "Bronze", "rank": 3}, "rank"),
        ({"name": "Bronze", "rank": -1}, "rank"),
        ({"name": "Bronze", "rank": 9, "min_annual_revenue": "-5"}, "min_annual_revenue"),
        ({"name": "Bronze", "rank": 9, "discount_percent": "150"}, "discount_percent"),
        ({"name": "Bronze", "rank": 9, "discount_percent": "lots"}, "discount_percent"),
        ({"name": "Bronze", "rank": 9, "rebate_multiplier": "11"}, "rebate_multiplier"),
        ({"name": "Bronze", "rank": 9, "min_scorecard_score": "100.001"}, "min_scorecard_score"),
    ],
    ids=[
        "missing-name",
        "missing-rank",
        "duplicate-name",
        "duplicate-rank",
        "negative-rank",
        "negative-revenue",
        "discount-over-100",
        "discount-not-a-number",
        "multiplier-over-10",
        "too-many-decimals",
    ],
)
def test_tier_create_bad_input(api_client, world, payload, field):
    before = db_snapshot()
    assert_field_error(api_client.post(TIERS, payload), field)
    assert db_snapshot() == before


def test_tier_delete_unused_but_not_one_in_use(api_client, world):
    unused = PartnerTierFactory(name="Registered", rank=1)
    assert api_client.delete(detail(TIERS, unused.pk)).status_code == 204
    assert not PartnerTier.objects.filter(pk=unused.pk).exists()
    deleted = AuditEntry.objects.get(action=AuditEntry.Action.DELETE)
    assert deleted.object_repr == "Registered" and deleted.actor is not None
    response = api_client.delete(detail(TIERS, world["gold"].pk))
    assert response.status_code == 400
    assert "Gold" in response.json()["errors"]["non_field_errors"][0]
    assert PartnerTier.objects.filter(pk=world["gold"].pk).exists()


# Partners: reading -------------------------------------------------------------------------


def test_partner_list_shows_network_position_and_sub_partner_counts(api_client, world):
    response = api_client.get(PARTNERS)
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"count", "next", "previous", "results"}
    assert body["count"] == 4
    rows = {row["code"]: row for row in body["results"]}
    assert rows["D-BJ"]["network_level"] == 1
    assert rows["D-BJ"]["sub_partner_count"] == 1
    assert rows["S-BJ"]["parent"] == world["d_bj"].pk
    assert rows["S-BJ"]["network_level"] == 2
    assert rows["R-BJ"]["network_level"] == 3
    assert rows["R-BJ"]["sub_partner_count"] == 0
    assert rows["D-BJ"]["tier"] == world["gold"].pk
    assert rows["D-BJ"]["owner"] == world["manager"].pk
    # Default order is by name.
    assert [row["code"] for row in body["results"]] == ["D-BJ", "S-BJ", "R-BJ", "R-GD"]


def test_partner_retrieve(api_client, world):
    response = api_client.get(detail(PARTNERS, world["r_gd"].pk))
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == "R-GD"
    assert body["status"] == "prospect"
    assert body["partner_type"] == "retailer"
    assert body["region"] == world["guangdong"].pk
    assert body["external_id"] == "CRM-2"
    assert body["parent"] is None


def test_partner_unknown_id_is_404(api_client, world):
    response = api_client.get(detail(PARTNERS, 999999))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=tianyu", {"S-BJ"}),
        ("q=r-gd", {"R-GD"}),
        ("q=jinpeng.example", {"R-GD"}),
        ("q=CRM-1", {"D-BJ"}),
        ("partner_type=distributor", {"D-BJ", "S-BJ"}),
        ("status=prospect", {"R-GD"}),
        ("level=2", {"S-BJ"}),
        ("level=3", {"R-BJ"}),
        ("external_id=CRM-2", {"R-GD"}),
        ("external_id=CRM-404", set()),
        ("partner_type=distributor&status=active&level=1", {"D-BJ"}),
    ],
)
def test_partner_filters(api_client, world, query, expected):
    response = api_client.get(f"{PARTNERS}?{query}")
    assert response.status_code == 200, response.content
    assert set(codes(response)) == expected
    assert response.json()["count"] == len(expected)


def test_partner_filter_by_region_includes_sub_regions(api_client, world):
    north = api_client.get(f"{PARTNERS}?region={world['north'].pk}")
    assert set(codes(north)) == {"D-BJ", "S-BJ", "R-BJ"}
    beijing = api_client.get(f"{PARTNERS}?region={world['beijing'].pk}")
    assert set(codes(beijing)) == {"S-BJ", "R-BJ"}
    china = api_client.get(f"{PARTNERS}?region={world['china'].pk}")
    assert set(codes(china)) == {"D-BJ", "S-BJ", "R-BJ", "R-GD"}


def test_partner_filter_by_tier_owner_and_parent(api_client, world):
    assert set(codes(api_client.get(f"{PARTNERS}?tier={world['silver'].pk}"))) == {"S-BJ", "R-GD"}
    assert set(codes(api_client.get(f"{PARTNERS}?owner={world['manager'].pk}"))) == {"D-BJ", "S-BJ"}
    assert set(codes(api_client.get(f"{PARTNERS}?owner={world['other_manager'].pk}"))) == {"R-BJ"}
    assert set(codes(api_client.get(f"{PARTNERS}?parent={world['d_bj'].pk}"))) == {"S-BJ"}
    assert set(codes(api_client.get(f"{PARTNERS}?parent={world['s_bj'].pk}"))) == {"R-BJ"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("region=999999", "region"),
        ("region=abc", "region"),
        ("tier=999999", "tier"),
        ("status=dormant", "status"),
        ("partner_type=wholesaler", "partner_type"),
        ("owner=999999", "owner"),
        ("level=0", "level"),
        ("level=two", "level"),
    ],
)
def test_partner_bad_filter_values_are_400_naming_the_filter(api_client, world, query, field):
    assert_field_error(api_client.get(f"{PARTNERS}?{query}"), field)


def test_partner_filter_parent_refuses_a_partner_that_is_not_a_distributor(api_client, world):
    assert_field_error(api_client.get(f"{PARTNERS}?parent={world['r_gd'].pk}"), "parent")


def test_partner_filter_owner_refuses_a_non_staff_user(api_client, world, plain_user):
    assert_field_error(api_client.get(f"{PARTNERS}?owner={plain_user.pk}"), "owner")


def test_partner_ordering(api_client, world):
    assert codes(api_client.get(f"{PARTNERS}?ordering=-name")) == ["R-GD", "R-BJ", "S-BJ", "D-BJ"]
    assert codes(api_client.get(f"{PARTNERS}?ordering=code")) == ["D-BJ", "R-BJ", "R-GD", "S-BJ"]
    by_depth = codes(api_client.get(f"{PARTNERS}?ordering=-depth,code"))
    assert by_depth == ["R-BJ", "S-BJ", "D-BJ", "R-GD"]


def test_partner_ordering_by_an_unknown_field_is_ignored_not_an_error(api_client, world):
    response = api_client.get(f"{PARTNERS}?ordering=password")
    assert response.status_code == 200
    assert codes(response) == ["D-BJ", "S-BJ", "R-BJ", "R-GD"]


def test_partner_pagination(api_client, world):
    first = api_client.get(f"{PARTNERS}?page_size=3").json()
    assert first["count"] == 4
    assert len(first["results"]) == 3
    assert first["previous"] is None
    assert "page=2" in first["next"] and "page_size=3" in first["next"]
    second = api_client.get(first["next"]).json()
    assert [row["code"] for row in second["results"]] == ["R-GD"]
    assert second["next"] is None
    seen = {row["code"] for row in first["results"]} | {row["code"] for row in second["results"]}
    assert seen == {"D-BJ", "S-BJ", "R-BJ", "R-GD"}


def test_partner_page_out_of_range_is_404(api_client, world):
    assert api_client.get(f"{PARTNERS}?page=9").status_code == 404


def test_partner_page_size_is_capped_at_500(api_client, world):
    region = world["guangdong"]
    Partner.objects.bulk_create(
        Partner(code=f"BULK-{n:04d}", name=f"Bulk {n:04d}", partner_type=PartnerType.RESELLER, region=region)
        for n in range(520)
    )
    body = api_client.get(f"{PARTNERS}?page_size=100000").json()
    assert body["count"] == 524
    assert len(body["results"]) == 500
    assert body["next"] is not None
    assert len(api_client.get(PARTNERS).json()["results"]) == 50  # the default page size


# Partners: creating ------------------------------------------------------------------------


def test_partner_create_as_prospect_by_default(api_client, world):
    response = api_client.post(PARTNERS, partner_payload(world, code="SZ-1", tier=world["gold"].pk))
    assert response.status_code == 201, response.content
    body = response.json()
    partner = Partner.objects.get(code="SZ-1")
    assert body["id"] == partner.pk
    assert body["status"] == "prospect"
    assert body["status_changed_at"]
    assert body["network_level"] == 1
    assert body["sub_partner_count"] == 0
    assert partner.tier == world["gold"]
    entry = AuditEntry.objects.get(object_type="partners.partner", object_id=str(partner.pk))
    assert (entry.action, entry.actor) == ("create", world["manager"])


def test_partner_create_under_a_distributor_with_a_starting_status(api_client, world):
    response = api_client.post(
        PARTNERS,
        partner_payload(
            world, parent=world["d_bj"].pk, status="active", owner=world["manager"].pk, external_id="CRM-9"
        ),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["parent"] == world["d_bj"].pk
    assert body["network_level"] == 2
    assert body["status"] == "active"
    assert body["owner"] == world["manager"].pk
    assert api_client.get(detail(PARTNERS, world["d_bj"].pk)).json()["sub_partner_count"] == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"code": None}, "code"),
        ({"name": None}, "name"),
        ({"partner_type": None}, "partner_type"),
        ({"region": None}, "region"),
        ({"partner_type": "wholesaler"}, "partner_type"),
        ({"credit_rating": "ZZZ"}, "credit_rating"),
        ({"code": "D-BJ"}, "code"),
        ({"external_id": "CRM-1"}, "external_id"),
        ({"region": 999999}, "region"),
        ({"tier": 999999}, "tier"),
        ({"owner": 999999}, "owner"),
        ({"parent": 999999}, "parent"),
        ({"region": "north"}, "region"),
        ({"email": "not-an-email"}, "email"),
        ({"website": "not a url"}, "website"),
        ({"code": "lower case!"}, "code"),
        ({"status": "suspended"}, "status"),
        ({"status": "terminated"}, "status"),
        ({"status": "dormant"}, "status"),
    ],
    ids=[
        "missing-code",
        "missing-name",
        "missing-type",
        "missing-region",
        "unknown-type",
        "unknown-credit-rating",
        "duplicate-code",
        "duplicate-external-id",
        "unknown-region",
        "unknown-tier",
        "unknown-owner",
        "unknown-parent",
        "region-not-an-id",
        "bad-email",
        "bad-website",
        "bad-code",
        "starts-suspended",
        "starts-terminated",
        "unknown-status",
    ],
)
def test_partner_create_bad_input_is_a_field_error_and_writes_nothing(api_client, world, overrides, field):
    payload = {key: value for key, value in partner_payload(world, **overrides).items() if value is not None}
    before = db_snapshot()
    assert_field_error(api_client.post(PARTNERS, payload), field)
    assert db_snapshot() == before


def test_partner_create_owner_must_be_staff(api_client, world, plain_user):
    before = db_snapshot()
    assert_field_error(api_client.post(PARTNERS, partner_payload(world, owner=plain_user.pk)), "owner")
    assert db_snapshot() == before


def test_partner_create_reports_every_missing_field_at_once(api_client, world):
    body = assert_field_error(api_client.post(PARTNERS, {}), "code", "name", "partner_type", "region")
    assert Partner.objects.count() == 4
    assert "parent" not in body


def test_partner_create_under_a_reseller_is_refused(api_client, world):
    before = db_snapshot()
    body = assert_field_error(api_client.post(PARTNERS, partner_payload(world, parent=world["r_gd"].pk)), "parent")
    assert "distributor" in body["parent"][0]
    assert db_snapshot() == before


def test_partner_create_under_a_terminated_distributor_is_refused(api_client, world):
    closed = DistributorFactory(code="D-OLD", status=PartnerStatus.TERMINATED)
    before = db_snapshot()
    body = assert_field_error(api_client.post(PARTNERS, partner_payload(world, parent=closed.pk)), "parent")
    assert "terminated" in body["parent"][0]
    assert db_snapshot() == before


def test_partner_create_four_levels_deep_is_refused(api_client, world):
    deep = DistributorFactory(code="S-DEEP", parent=world["s_bj"])  # a distributor at level 3
    before = db_snapshot()
    body = assert_field_error(api_client.post(PARTNERS, partner_payload(world, parent=deep.pk)), "parent")
    assert "levels deep" in body["parent"][0]
    assert db_snapshot() == before


def test_partner_create_with_malformed_json_is_400_json(api_client, world):
    before = db_snapshot()
    response = api_client.post(PARTNERS, data='{"code": "X-1", "name": ', content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "JSON" in response.json()["message"]
    assert db_snapshot() == before


def test_partner_create_with_a_json_list_instead_of_an_object_is_400(api_client, world):
    before = db_snapshot()
    response = api_client.post(PARTNERS, data="[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"]["non_field_errors"]
    assert db_snapshot() == before


def test_partner_create_by_form_post_works_too(api_client, world):
    response = api_client.post(PARTNERS, partner_payload(world, code="FORM-1"), format="multipart")
    assert response.status_code == 201, response.content
    assert Partner.objects.filter(code="FORM-1").exists()


# Partners: updating ------------------------------------------------------------------------


def test_partner_put_with_the_body_from_get_round_trips(api_client, world):
    url = detail(PARTNERS, world["s_bj"].pk)
    body = api_client.get(url).json()
    body.update(name="Beijing Tianyu Distribution", email="info@tianyu.example.cn", tier=world["gold"].pk)
    response = api_client.put(url, body)
    assert response.status_code == 200, response.content
    partner = Partner.objects.get(pk=world["s_bj"].pk)
    assert partner.name == "Beijing Tianyu Distribution"
    assert partner.email == "info@tianyu.example.cn"
    assert partner.tier == world["gold"]
    assert partner.parent == world["d_bj"]  # unchanged: same parent sent back
    assert response.json()["sub_partner_count"] == 1
    entry = AuditEntry.objects.get(object_type="partners.partner", object_id=str(partner.pk), action="update")
    assert set(entry.changes) == {"name", "email", "tier"}


def test_partner_put_without_required_fields_is_refused(api_client, world):
    before = db_snapshot()
    assert_field_error(api_client.put(detail(PARTNERS, world["r_gd"].pk), {"name": "Only a name"}), "code", "region")
    assert db_snapshot() == before


def test_partner_patch_changes_only_what_is_sent(api_client, world):
    url = detail(PARTNERS, world["r_gd"].pk)
    response = api_client.patch(url, {"credit_rating": "AA", "owner": world["other_manager"].pk})
    assert response.status_code == 200, response.content
    partner = Partner.objects.get(pk=world["r_gd"].pk)
    assert (partner.credit_rating, partner.owner) == ("AA", world["other_manager"])
    assert partner.name == "Guangdong Jinpeng Reseller"
    assert partner.status == PartnerStatus.PROSPECT


def test_partner_patch_can_clear_the_owner_and_tier(api_client, world):
    response = api_client.patch(detail(PARTNERS, world["d_bj"].pk), {"owner": None, "tier": None})
    assert response.status_code == 200, response.content
    partner = Partner.objects.get(pk=world["d_bj"].pk)
    assert partner.owner is None and partner.tier is None


def test_partner_patch_with_unchanged_status_and_parent_is_accepted(api_client, world):
    url = detail(PARTNERS, world["s_bj"].pk)
    response = api_client.patch(url, {"status": "active", "parent": world["d_bj"].pk, "name": "Renamed"})
    assert response.status_code == 200, response.content
    assert Partner.objects.get(pk=world["s_bj"].pk).name == "Renamed"


def test_partner_patch_parent_is_refused_with_a_pointer_to_move(api_client, world):
    before = db_snapshot()
    response = api_client.patch(detail(PARTNERS, world["r_gd"].pk), {"parent": world["d_bj"].pk})
    body = assert_field_error(response, "parent")
    assert "/move/" in body["parent"][0]
    assert db_snapshot() == before


def test_partner_patch_status_is_refused_with_a_pointer_to_transition(api_client, world):
    before = db_snapshot()
    response = api_client.patch(detail(PARTNERS, world["r_gd"].pk), {"status": "onboarding"})
    body = assert_field_error(response, "status")
    assert "/transition/" in body["status"][0]
    assert db_snapshot() == before


def test_partner_patch_status_and_parent_together_names_both(api_client, world):
    before = db_snapshot()
    response = api_client.patch(
        detail(PARTNERS, world["r_gd"].pk), {"status": "onboarding", "parent": world["d_bj"].pk, "name": "X"}
    )
    assert_field_error(response, "status", "parent")
    assert db_snapshot() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"code": "D-BJ"}, "code"),
        ({"external_id": "CRM-1"}, "external_id"),
        ({"partner_type": "wholesaler"}, "partner_type"),
        ({"region": 999999}, "region"),
        ({"tier": 999999}, "tier"),
        ({"name": ""}, "name"),
        ({"email": "nope"}, "email"),
    ],
    ids=["duplicate-code", "duplicate-external-id", "unknown-type", "unknown-region", "unknown-tier", "blank", "email"],
)
def test_partner_patch_bad_input_writes_nothing(api_client, world, payload, field):
    before = db_snapshot()
    assert_field_error(api_client.patch(detail(PARTNERS, world["r_gd"].pk), payload), field)
    assert db_snapshot() == before


def test_partner_with_sub_partners_must_stay_a_distributor(api_client, world):
    before = db_snapshot()
    response = api_client.patch(detail(PARTNERS, world["d_bj"].pk), {"partner_type": "reseller"})
    assert_field_error(response, "partner_type")
    assert db_snapshot() == before


def test_partner_patch_with_malformed_json_is_400(api_client, world):
    before = db_snapshot()
    response = api_client.patch(detail(PARTNERS, world["r_gd"].pk), data="{name: 1}", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert db_snapshot() == before


def test_partners_cannot_be_deleted(api_client, world):
    response = api_client.delete(detail(PARTNERS, world["r_gd"].pk))
    assert response.status_code == 405
    assert Partner.objects.filter(pk=world["r_gd"].pk).exists()


# Partners: the transition action -----------------------------------------------------------


def test_transition_along_the_lifecycle(api_client, world):
    url = detail(PARTNERS, world["r_gd"].pk, "transition")
    onboarding = api_client.post(url, {"status": "onboarding", "reason": "Contract signed"})
    assert onboarding.status_code == 200, onboarding.content
    assert onboarding.json()["status"] == "onboarding"
    assert onboarding.json()["code"] == "R-GD"
    active = api_client.post(url, {"status": "active"})
    assert active.status_code == 200
    partner = Partner.objects.get(pk=world["r_gd"].pk)
    assert partner.status == PartnerStatus.ACTIVE
    entries = AuditEntry.objects.filter(object_id=str(partner.pk), action="status").order_by("pk")
    assert [entry.changes["status"] for entry in entries] == [["prospect", "onboarding"], ["onboarding", "active"]]
    assert entries[0].changes["reason"] == [None, "Contract signed"]


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (PartnerStatus.PROSPECT, PartnerStatus.ACTIVE),
        (PartnerStatus.PROSPECT, PartnerStatus.SUSPENDED),
        (PartnerStatus.ACTIVE, PartnerStatus.TERMINATED),
        (PartnerStatus.ACTIVE, PartnerStatus.PROSPECT),
        (PartnerStatus.ACTIVE, PartnerStatus.ACTIVE),
        (PartnerStatus.TERMINATED, PartnerStatus.ACTIVE),
    ],
)
def test_illegal_transition_is_400_on_status_and_changes_nothing(api_client, world, start, target):
    partner = PartnerFactory(code="T-1", status=start)
    before = db_snapshot()
    response = api_client.post(detail(PARTNERS, partner.pk, "transition"), {"status": target})
    body = assert_field_error(response, "status")
    assert "cannot go from" in body["status"][0]
    assert db_snapshot() == before


@pytest.mark.parametrize(
    "payload", [{}, {"status": "dormant"}, {"status": ""}, {"status": "onboarding", "reason": "x" * 501}]
)
def test_transition_with_bad_input_is_400(api_client, world, payload):
    before = db_snapshot()
    response = api_client.post(detail(PARTNERS, world["r_gd"].pk, "transition"), payload)
    assert response.status_code == 400
    assert set(response.json()["errors"]) <= {"status", "reason"} and response.json()["errors"]
    assert db_snapshot() == before


def test_terminating_a_distributor_with_open_sub_partners_is_refused(api_client, world):
    distributor = world["s_bj"]
    Partner.objects.filter(pk=distributor.pk).update(status=PartnerStatus.SUSPENDED)
    before = db_snapshot()
    response = api_client.post(detail(PARTNERS, distributor.pk, "transition"), {"status": "terminated"})
    body = assert_field_error(response, "status")
    assert "R-BJ" in body["status"][0]
    assert db_snapshot() == before


def test_transition_on_an_unknown_partner_is_404(api_client, world):
    assert api_client.post(detail(PARTNERS, 999999, "transition"), {"status": "active"}).status_code == 404


def test_transition_is_post_only(api_client, world):
    assert api_client.get(detail(PARTNERS, world["r_gd"].pk, "transition")).status_code == 405


# Partners: the move action -----------------------------------------------------------------


def test_move_a_partner_under_a_distributor(api_client, world):
    response = api_client.post(detail(PARTNERS, world["r_gd"].pk, "move"), {"parent": world["d_bj"].pk})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["parent"] == world["d_bj"].pk
    assert body["network_level"] == 2
    partner = Partner.objects.get(pk=world["r_gd"].pk)
    assert partner.parent == world["d_bj"]
    assert partner.path.startswith(world["d_bj"].path)
    assert AuditEntry.objects.filter(object_id=str(partner.pk), action="move").exists()


def test_move_takes_the_whole_sub_network_along(api_client, world):
    new_top = DistributorFactory(code="D-NEW")
    response = api_client.post(detail(PARTNERS, world["s_bj"].pk, "move"), {"parent": new_top.pk})
    assert response.status_code == 200, response.content
    reseller = Partner.objects.get(pk=world["r_bj"].pk)
    assert reseller.depth == 3
    assert reseller.path.startswith(new_top.path)
    assert api_client.get(detail(PARTNERS, world["d_bj"].pk)).json()["sub_partner_count"] == 0


def test_move_to_the_top_of_the_network(api_client, world):
    response = api_client.post(detail(PARTNERS, world["s_bj"].pk, "move"), {"parent": None})
    assert response.status_code == 200, response.content
    assert response.json()["parent"] is None
    assert response.json()["network_level"] == 1
    assert Partner.objects.get(pk=world["r_bj"].pk).depth == 2


@pytest.mark.parametrize(
    ("mover", "target", "reason"),
    [
        ("r_gd", "r_bj", "distributor"),  # a reseller cannot take sub-partners
        ("d_bj", "s_bj", "cycle"),  # under its own sub-partner
        ("d_bj", "d_bj", "cycle"),  # under itself
        ("s_bj", "deep", "levels"),  # S-BJ with R-BJ below it would reach level 4
    ],
)
def test_illegal_move_is_400_on_parent_and_changes_nothing(api_client, world, mover, target, reason):
    world["deep"] = DistributorFactory(code="D-MID", parent=DistributorFactory(code="D-TOP"))
    before = db_snapshot()
    response = api_client.post(detail(PARTNERS, world[mover].pk, "move"), {"parent": world[target].pk})
    body = assert_field_error(response, "parent")
    assert reason in body["parent"][0]
    assert db_snapshot() == before


@pytest.mark.parametrize("payload", [{}, {"parent": 999999}, {"parent": "abc"}])
def test_move_with_bad_input_is_400_on_parent(api_client, world, payload):
    before = db_snapshot()
    assert_field_error(api_client.post(detail(PARTNERS, world["r_gd"].pk, "move"), payload), "parent")
    assert db_snapshot() == before


# Partner contacts --------------------------------------------------------------------------


@pytest.fixture
def contacts(world):
    login = UserFactory(username="wang.portal")
    return {
        "wang": PartnerContactFactory(
            partner=world["d_bj"], name="Wang Fang", job_role=ContactRole.OWNER, is_primary=True, user=login
        ),
        "li": PartnerContactFactory(partner=world["d_bj"], name="Li Lei", job_role=ContactRole.SALES),
        "zhao": PartnerContactFactory(
            partner=world["r_gd"], name="Zhao Min", job_role=ContactRole.FINANCE, email="zhao@jinpeng.example.cn"
        ),
    }


def test_contact_list_and_retrieve(api_client, contacts, world):
    response = api_client.get(CONTACTS)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    rows = {row["name"]: row for row in body["results"]}
    assert rows["Wang Fang"]["has_portal_login"] is True
    assert rows["Li Lei"]["has_portal_login"] is False
    assert rows["Wang Fang"]["partner"] == world["d_bj"].pk
    one = api_client.get(detail(CONTACTS, contacts["zhao"].pk))
    assert one.status_code == 200
    assert one.json()["email"] == "zhao@jinpeng.example.cn"
    assert one.json()["job_role"] == "finance"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("job_role=owner", {"Wang Fang"}),
        ("job_role=finance", {"Zhao Min"}),
        ("has_login=true", {"Wang Fang"}),
        ("has_login=false", {"Li Lei", "Zhao Min"}),
        ("is_primary=true", {"Wang Fang"}),
        ("q=jinpeng", {"Zhao Min"}),
    ],
)
def test_contact_filters(api_client, contacts, query, expected):
    response = api_client.get(f"{CONTACTS}?{query}")
    assert response.status_code == 200, response.content
    assert {row["name"] for row in response.json()["results"]} == expected


def test_contact_filter_by_partner(api_client, contacts, world):
    response = api_client.get(f"{CONTACTS}?partner={world['d_bj'].pk}")
    assert {row["name"] for row in response.json()["results"]} == {"Wang Fang", "Li Lei"}


@pytest.mark.parametrize(
    ("query", "field"), [("partner=999999", "partner"), ("partner=abc", "partner"), ("job_role=ceo", "job_role")]
)
def test_contact_bad_filter_values_are_400(api_client, contacts, query, field):
    assert_field_error(api_client.get(f"{CONTACTS}?{query}"), field)


def test_contact_ordering_and_pagination(api_client, contacts):
    names = [row["name"] for row in api_client.get(f"{CONTACTS}?ordering=-name").json()["results"]]
    assert names == ["Zhao Min", "Wang Fang", "Li Lei"]
    page = api_client.get(f"{CONTACTS}?ordering=name&page_size=2").json()
    assert page["count"] == 3
    assert [row["name"] for row in page["results"]] == ["Li Lei", "Wang Fang"]
    assert page["next"]


def test_contact_create_and_a_new_primary_replaces_the_old_one(api_client, contacts, world):
    response = api_client.post(
        CONTACTS,
        {"partner": world["d_bj"].pk, "name": "Chen Jie", "email": " Chen.Jie@Huaxin.example.cn ", "is_primary": True},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    contact = PartnerContact.objects.get(pk=body["id"])
    assert contact.email == "chen.jie@huaxin.example.cn"
    assert contact.is_primary
    assert body["job_role"] == "sales"  # the default
    assert body["has_portal_login"] is False
    assert not PartnerContact.objects.get(pk=contacts["wang"].pk).is_primary
    assert AuditEntry.objects.filter(object_id=str(world["d_bj"].pk), changes__contact=[None, "Chen Jie"]).exists()


def test_contact_patch_to_primary_demotes_the_previous_primary(api_client, contacts, world):
    response = api_client.patch(detail(CONTACTS, contacts["li"].pk), {"is_primary": True})
    assert response.status_code == 200, response.content
    assert response.json()["is_primary"] is True
    primaries = PartnerContact.objects.filter(partner=world["d_bj"], is_primary=True)
    assert list(primaries.values_list("name", flat=True)) == ["Li Lei"]


def test_contact_put_and_patch(api_client, contacts, world):
    url = detail(CONTACTS, contacts["li"].pk)
    put = api_client.put(url, {"partner": world["d_bj"].pk, "name": "Li Lei", "job_role": "technical", "title": "CTO"})
    assert put.status_code == 200, put.content
    patch = api_client.patch(url, {"phone": "+86 10 1234 5678"})
    assert patch.status_code == 200, patch.content
    contact = PartnerContact.objects.get(pk=contacts["li"].pk)
    assert (contact.job_role, contact.title, contact.phone) == ("technical", "CTO", "+86 10 1234 5678")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "No partner"}, "partner"),
        ({"partner": "__d_bj__"}, "name"),
        ({"partner": 999999, "name": "Ghost"}, "partner"),
        ({"partner": "__d_bj__", "name": "X", "job_role": "ceo"}, "job_role"),
        ({"partner": "__d_bj__", "name": "X", "email": "not-an-email"}, "email"),
        ({"partner": "__d_bj__", "name": "X" * 151}, "name"),
    ],
    ids=["missing-partner", "missing-name", "unknown-partner", "unknown-role", "bad-email", "name-too-long"],
)
def test_contact_create_bad_input(api_client, contacts, world, payload, field):
    payload = {key: world["d_bj"].pk if value == "__d_bj__" else value for key, value in payload.items()}
    before = db_snapshot()
    assert_field_error(api_client.post(CONTACTS, payload), field)
    assert db_snapshot() == before


def test_contact_cannot_be_moved_to_another_partner(api_client, contacts, world):
    before = db_snapshot()
    response = api_client.patch(detail(CONTACTS, contacts["li"].pk), {"partner": world["r_gd"].pk})
    assert_field_error(response, "partner")
    assert db_snapshot() == before


def test_contact_delete(api_client, contacts, world):
    response = api_client.delete(detail(CONTACTS, contacts["li"].pk))
    assert response.status_code == 204
    assert not PartnerContact.objects.filter(pk=contacts["li"].pk).exists()
    assert AuditEntry.objects.filter(object_id=str(world["d_bj"].pk), changes__contact=["Li Lei", None]).exists()


def test_contact_with_an_active_portal_login_cannot_be_deleted(api_client, contacts):
    before = db_snapshot()
    response = api_client.delete(detail(CONTACTS, contacts["wang"].pk))
    assert response.status_code == 400
    assert "portal login" in response.json()["errors"]["non_field_errors"][0]
    assert db_snapshot() == before


# Schema and docs ---------------------------------------------------------------------------

PATHS = ["/api/v1/regions/", "/api/v1/tiers/", "/api/v1/partners/", "/api/v1/partner-contacts/"]


def _assert_openapi_document(document):
    assert document["openapi"].startswith("3.")
    for path in PATHS:
        assert path in document["paths"], path
        assert path + "{id}/" in document["paths"], path
    assert "post" in document["paths"]["/api/v1/partners/{id}/transition/"]
    assert "post" in document["paths"]["/api/v1/partners/{id}/move/"]
    assert "delete" not in document["paths"]["/api/v1/partners/{id}/"]
    parameters = {p["name"] for p in document["paths"]["/api/v1/partners/"]["get"]["parameters"]}
    assert {"q", "region", "tier", "status", "owner", "parent", "level", "ordering", "page", "page_size"} <= parameters


def test_schema_as_json_by_format(api_client, world):
    response = api_client.get("/api/schema/?format=json")
    assert response.status_code == 200
    _assert_openapi_document(response.json())


def test_schema_as_json_by_accept_header(api_client, world):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert "json" in response["Content-Type"]
    _assert_openapi_document(response.json())


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_docs_page_uses_only_local_static_files(client, staff_user, url):
    client.force_login(staff_user)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assets = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", html) + re.findall(r"<link[^>]*\bhref=\"([^\"]+)\"", html)
    assert assets, html
    assert any(asset.endswith(".js") for asset in assets)
    for asset in assets:
        assert not re.match(r"^(https?:)?//", asset), asset
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/").split("?")[0]), f"{asset} is not a shipped static file"
    assert "/api/schema/" in html
    assert not re.search(r"(src|href)=[\"']https?://", html)


# Query counts ------------------------------------------------------------------------------

# A page of any list is two queries (the count and the page), however many rows it holds and
# whatever each row refers to: related rows are joined or annotated, never fetched one by one.
LIST_QUERIES = 2


@pytest.mark.parametrize("size", [2, 40])
@pytest.mark.parametrize("url", LISTS)
def test_lists_issue_the_same_few_queries_for_2_and_40_rows(api_client, django_assert_max_num_queries, size, url):
    build_registry(size)
    with django_assert_max_num_queries(LIST_QUERIES):
        response = api_client.get(f"{url}?page_size=500")
    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == body["count"] >= size


@pytest.mark.parametrize("size", [2, 40])
def test_partner_list_shows_related_rows_without_extra_queries(api_client, django_assert_max_num_queries, size):
    top = build_registry(size)
    with django_assert_max_num_queries(LIST_QUERIES):
        rows = api_client.get(f"{PARTNERS}?page_size=500").json()["results"]
    by_id = {row["id"]: row for row in rows}
    assert by_id[top.pk]["sub_partner_count"] == size
    subs = [row for row in rows if row["parent"] == top.pk]
    assert len(subs) == size
    assert all(row["tier"] and row["owner"] and row["sub_partner_count"] == 1 for row in subs)


def test_api_errors_follow_the_callers_language(api_client, world):
    """An integrator in China reads the same errors in Chinese: Accept-Language decides."""
    english = assert_field_error(api_client.post(PARTNERS, {"code": ""}), "code", "name")
    chinese = assert_field_error(api_client.post(PARTNERS, {"code": ""}, HTTP_ACCEPT_LANGUAGE="zh-hans"), "code")
    assert english["code"] != chinese["code"]
    assert re.search(r"[\u4e00-\u9fff]", chinese["code"][0]), chinese
    missing = api_client.get(f"{PARTNERS}999999/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert missing.status_code == 404
    assert re.search(r"[\u4e00-\u9fff]", str(missing.json())), missing.json()
    refused = APIClient().get(PARTNERS, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert refused.status_code == 401
    assert re.search(r"[\u4e00-\u9fff]", str(refused.json())), refused.json()
