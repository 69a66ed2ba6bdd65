"""API keys for integrations: created and revoked by channel admins only, shown once and stored
hashed; a vendor key reads and writes like staff within its scopes, a key bound to a partner sees
that partner's data only and writes nothing; every refused key answers 401 or 403 with a reason;
each key has its own rate limit; the OpenAPI schema documents the scheme."""

import hashlib
import json
from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from partners.choices import PartnerStatus, PartnerType
from partners.models import ApiKey, Partner, PartnerContact
from partners.services import api_key_create, api_key_revoke
from prm.api.authentication import ApiKeyAuthentication, ApiKeyPrincipal
from prm.api.scopes import scopes_clean
from prm.models import AuditEntry
from tests.factories import (
    AnalystFactory,
    ChannelManagerFactory,
    DistributorFactory,
    PartnerContactFactory,
    PartnerFactory,
    PartnerTierFactory,
    RegionFactory,
    UserFactory,
)
from tests.partners.registry import db_snapshot

pytestmark = pytest.mark.django_db

PARTNERS = "/api/v1/partners/"
CONTACTS = "/api/v1/partner-contacts/"
REGIONS = "/api/v1/regions/"
TIERS = "/api/v1/tiers/"
LIST_URL = reverse("partners:api-key-list")
CREATE_URL = reverse("partners:api-key-create")
NOT_ADMIN_MESSAGE = "Only a channel admin can manage API keys."


def detail(base, pk):
    return f"{base}{pk}/"


def key_client(plaintext):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {plaintext}")
    return api


@pytest.fixture
def world(db):
    region = RegionFactory(code="EAST", name="East China")
    tier = PartnerTierFactory(name="Gold", rank=3)
    own = DistributorFactory(
        code="OWN-1", name="Own Distribution", region=region, tier=tier, notes="Slow payer", credit_rating="B"
    )
    foreign = DistributorFactory(code="FOREIGN-1", name="Foreign Distribution", region=region)
    return {
        "region": region,
        "tier": tier,
        "own": own,
        "own_contact": PartnerContactFactory(partner=own, name="Own Person"),
        "foreign": foreign,
        "foreign_sub": PartnerFactory(code="FOREIGN-11", parent=foreign, region=region),
        "foreign_contact": PartnerContactFactory(partner=foreign, name="Foreign Person"),
    }


@pytest.fixture
def make_key(staff_user):
    """api_key_create by a channel admin; returns (key, plaintext)."""

    def make(scopes=("partners:read",), partner=None, **kwargs):
        return api_key_create(
            name=kwargs.pop("name", "CRM sync"), scopes=list(scopes), partner=partner, by=staff_user, **kwargs
        )

    return make


# Creating and revoking ----------------------------------------------------------------------


def test_a_new_key_is_returned_once_and_only_its_hash_is_stored(make_key, staff_user):
    key, plaintext = make_key(scopes=["partners:read"], name="Salesforce sync")
    start, prefix, secret = plaintext.split("_", 2)
    assert (start, prefix) == ("prm", key.prefix)
    assert len(secret) >= 40
    stored = ApiKey.objects.get(pk=key.pk)
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    row = json.dumps(list(ApiKey.objects.filter(pk=key.pk).values()), default=str)
    assert secret not in row and plaintext not in row
    assert stored.created_by == staff_user and stored.is_active and stored.scopes == ["partners:read"]
    history = AuditEntry.objects.get(object_type="partners.apikey", object_id=str(key.pk))
    assert history.action == AuditEntry.Action.CREATE and history.actor == staff_user
    assert history.changes["scopes"] == [None, ["partners:read"]]
    assert secret not in json.dumps(history.changes) and secret not in history.object_repr


def test_two_keys_never_share_a_secret(make_key):
    (_one, first), (_two, second) = make_key(), make_key()
    assert first != second


def test_write_implies_read_and_repeats_are_dropped():
    assert scopes_clean(["partners:read", "partners:write", "partners:write"]) == ["partners:write"]
    assert scopes_clean("partners:read") == ["partners:read"]


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        ({"scopes": ["partners:admin"]}, "scopes", "“partners:admin” is not a scope"),
        ({"scopes": ["warehouse:read"]}, "scopes", "“warehouse:read” is not a scope"),
        ({"scopes": []}, "scopes", "Choose at least one scope."),
        ({"name": "  "}, "name", "Give the key a name"),
        ({"expires_at": timezone.now() - timedelta(minutes=1)}, "expires_at", "must lie in the future"),
    ],
)
def test_bad_input_is_a_field_error_and_creates_nothing(staff_user, kwargs, field, text):
    arguments = {"name": "CRM sync", "scopes": ["partners:read"], "by": staff_user, **kwargs}
    with pytest.raises(ValidationError) as error:
        api_key_create(**arguments)
    assert any(text in message for message in error.value.message_dict[field])
    assert not ApiKey.objects.exists()


def test_a_terminated_partner_gets_no_key(staff_user, world):
    Partner.objects.filter(pk=world["own"].pk).update(status=PartnerStatus.TERMINATED)
    world["own"].refresh_from_db()
    with pytest.raises(ValidationError) as error:
        api_key_create(name="ERP", scopes=["partners:read"], partner=world["own"], by=staff_user)
    assert "partner" in error.value.message_dict


@pytest.mark.parametrize("factory", [ChannelManagerFactory, AnalystFactory, UserFactory])
def test_only_a_channel_admin_creates_or_revokes_keys(make_key, factory):
    someone = factory()
    with pytest.raises(PermissionDenied, match=NOT_ADMIN_MESSAGE):
        api_key_create(name="Mine", scopes=["partners:read"], by=someone)
    key, _plaintext = make_key()
    with pytest.raises(PermissionDenied, match=NOT_ADMIN_MESSAGE):
        api_key_revoke(key=key, by=someone)
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None


def test_a_key_cannot_create_keys(make_key):
    key, _plaintext = make_key(scopes=["partners:write"])
    principal = ApiKeyPrincipal(ApiKey.objects.select_related("partner").get(pk=key.pk))
    with pytest.raises(PermissionDenied):
        api_key_create(name="Escalation", scopes=["partners:write"], by=principal)


def test_revoking_is_recorded_and_happens_once(make_key, staff_user):
    key, _plaintext = make_key()
    api_key_revoke(key=key, by=staff_user)
    key.refresh_from_db()
    assert key.revoked_by == staff_user and key.revoked_at is not None and not key.is_active
    assert AuditEntry.objects.filter(object_id=str(key.pk), action=AuditEntry.Action.STATUS).count() == 1
    with pytest.raises(ValidationError, match="already revoked"):
        api_key_revoke(key=key, by=staff_user)


# Vendor keys ---------------------------------------------------------------------------------


def test_a_vendor_read_key_reads_everything_and_writes_nothing(make_key, world):
    _key, plaintext = make_key(scopes=["partners:read"])
    api = key_client(plaintext)
    response = api.get(PARTNERS)
    assert response.status_code == 200
    assert response.json()["count"] == Partner.objects.count()
    assert api.get(detail(PARTNERS, world["foreign"].pk)).json()["notes"] == ""
    assert api.get(CONTACTS).json()["count"] == PartnerContact.objects.count()
    before = db_snapshot()
    for response in (
        api.post(PARTNERS, {"code": "NEW-1", "name": "New", "partner_type": "reseller", "region": world["region"].pk}),
        api.patch(detail(PARTNERS, world["own"].pk), {"name": "Renamed"}),
        api.post(f"{detail(PARTNERS, world['own'].pk)}transition/", {"status": "suspended"}),
        api.post(REGIONS, {"code": "X", "name": "X", "kind": "city"}),
    ):
        assert response.status_code == 403
        assert response.json()["message"] == "This API key does not have the scope “partners:write”."
    assert db_snapshot() == before


def test_a_vendor_write_key_creates_and_updates_partners_and_is_named_in_the_history(make_key, world):
    key, plaintext = make_key(scopes=["partners:write"], name="HubSpot")
    api = key_client(plaintext)
    assert api.get(PARTNERS).status_code == 200  # write implies read
    created = api.post(
        PARTNERS,
        {"code": "CRM-NEW", "name": "From the CRM", "partner_type": PartnerType.RESELLER, "region": world["region"].pk},
    )
    assert created.status_code == 201, created.content
    partner = Partner.objects.get(code="CRM-NEW")
    updated = api.patch(detail(PARTNERS, partner.pk), {"name": "Renamed in the CRM", "tier": world["tier"].pk})
    assert updated.status_code == 200, updated.content
    assert updated.json()["name"] == "Renamed in the CRM"
    moved = api.post(f"{detail(PARTNERS, partner.pk)}transition/", {"status": "onboarding"})
    assert moved.status_code == 200, moved.content
    entries = AuditEntry.objects.filter(object_type="partners.partner", object_id=str(partner.pk))
    assert entries.count() == 3
    for entry in entries:
        assert entry.actor is None
        assert entry.changes["api_key"] == [None, str(key)]
    assert ("API key", None, str(key)) in entries.first().readable_changes()


def test_a_key_without_the_areas_scope_is_refused_with_the_scope_it_lacks(make_key, monkeypatch):
    from prm.api import scopes

    monkeypatch.setitem(scopes._areas, "sales", "Sales")
    _key, plaintext = make_key(scopes=["sales:write"])
    response = key_client(plaintext).get(PARTNERS)
    assert response.status_code == 403
    assert response.json()["message"] == "This API key does not have the scope “partners:read”."


def test_an_endpoint_without_an_area_refuses_keys(make_key):
    _key, plaintext = make_key(scopes=["partners:write"])
    response = key_client(plaintext).get("/api/v1/")
    assert response.status_code == 403
    assert response.json()["message"] == "API keys cannot use this endpoint."


# Keys bound to a partner --------------------------------------------------------------------


@pytest.mark.parametrize("scopes", [["partners:read"], ["partners:write"]])
def test_a_partner_key_sees_only_its_partner_and_its_contacts(make_key, world, scopes):
    _key, plaintext = make_key(scopes=scopes, partner=world["own"])
    api = key_client(plaintext)
    partners = api.get(PARTNERS).json()
    assert partners["count"] == 1
    assert [row["code"] for row in partners["results"]] == ["OWN-1"]
    contacts = api.get(CONTACTS).json()
    assert contacts["count"] == 1 and contacts["results"][0]["name"] == "Own Person"
    assert api.get(f"{PARTNERS}?q=FOREIGN").json()["count"] == 0
    assert api.get(detail(PARTNERS, world["own"].pk)).status_code == 200
    assert api.get(detail(PARTNERS, world["foreign"].pk)).status_code == 404
    assert api.get(detail(PARTNERS, world["foreign_sub"].pk)).status_code == 404
    assert api.get(detail(CONTACTS, world["foreign_contact"].pk)).status_code == 404


def test_a_partner_key_reads_reference_data_but_not_the_vendors_assessments(make_key, world):
    _key, plaintext = make_key(partner=world["own"])
    api = key_client(plaintext)
    assert api.get(REGIONS).json()["count"] == 1
    tiers = api.get(TIERS).json()["results"]
    assert [tier["name"] for tier in tiers] == ["Gold"] and "partner_count" not in tiers[0]
    own = api.get(detail(PARTNERS, world["own"].pk)).json()
    assert "notes" not in own and "credit_rating" not in own
    assert own["tier"] == world["tier"].pk


@pytest.mark.parametrize("scopes", [["partners:read"], ["partners:write"]])
def test_a_partner_key_never_writes(make_key, world, scopes):
    _key, plaintext = make_key(scopes=scopes, partner=world["own"])
    api = key_client(plaintext)
    before = db_snapshot()
    own = detail(PARTNERS, world["own"].pk)
    for response in (
        api.patch(own, {"tier": world["tier"].pk, "status": "active", "owner": None, "name": "Own Renamed"}),
        api.put(own, {"code": "OWN-1", "name": "X", "partner_type": "reseller", "region": world["region"].pk}),
        api.post(f"{own}transition/", {"status": "suspended"}),
        api.post(PARTNERS, {"code": "SELF", "name": "Self", "partner_type": "reseller", "region": world["region"].pk}),
        api.post(CONTACTS, {"partner": world["own"].pk, "name": "New Person"}),
        api.delete(detail(CONTACTS, world["own_contact"].pk)),
        api.patch(detail(PARTNERS, world["foreign"].pk), {"name": "Hijacked"}),
    ):
        assert response.status_code == 403
        assert "bound to a partner" in response.json()["message"]
    assert db_snapshot() == before


def test_a_partner_user_session_is_still_refused_by_the_api(world):
    user = UserFactory()
    PartnerContactFactory(partner=world["own"], user=user)
    api = APIClient()
    api.force_authenticate(user)
    assert api.get(PARTNERS).status_code == 403


# Refused keys -------------------------------------------------------------------------------


def assert_refused(response, text):
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"
    assert text in response.json()["message"]
    assert "results" not in response.json()


def test_a_revoked_key_is_refused(make_key, staff_user, world):
    key, plaintext = make_key()
    assert key_client(plaintext).get(PARTNERS).status_code == 200
    api_key_revoke(key=key, by=staff_user)
    assert_refused(key_client(plaintext).get(PARTNERS), "revoked")


def test_a_key_of_a_terminated_partner_is_refused(make_key, world):
    key, plaintext = make_key(partner=world["own"])
    assert key_client(plaintext).get(PARTNERS).status_code == 200
    Partner.objects.filter(pk=world["own"].pk).update(status=PartnerStatus.TERMINATED)
    assert_refused(key_client(plaintext).get(PARTNERS), "no longer a partner")


def test_an_expired_key_is_refused(make_key, world):
    key, plaintext = make_key(expires_at=timezone.now() + timedelta(days=1))
    assert key_client(plaintext).get(PARTNERS).status_code == 200
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_refused(key_client(plaintext).get(PARTNERS), "expired")


@pytest.mark.parametrize(
    "header",
    [
        "Api-Key",
        "Api-Key not-a-key",
        "Api-Key prm_",
        "Api-Key prm_abcd1234",
        "Api-Key prm_abcd1234_ too many",
        "api-key xyz_abcd1234_secret",
        "Api-Key prm_abcd1234_\u4e2d\u6587",
    ],
)
def test_a_malformed_key_is_refused(world, header):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=header.encode().decode("latin-1"))
    response = api.get(PARTNERS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"


def test_an_unknown_key_or_a_wrong_secret_is_refused(make_key, world):
    key, plaintext = make_key()
    assert_refused(key_client(f"prm_{key.prefix}_{'x' * 43}").get(PARTNERS), "Unknown API key")
    assert_refused(key_client(f"prm_00000000_{plaintext.split('_', 2)[2]}").get(PARTNERS), "Unknown API key")


def test_a_request_without_credentials_still_gets_the_token_challenge(world):
    response = APIClient().get(PARTNERS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_the_api_key_header_does_not_open_the_staff_pages(make_key):
    _key, plaintext = make_key(scopes=["partners:write"])
    response = APIClient().get(LIST_URL, HTTP_AUTHORIZATION=f"Api-Key {plaintext}")
    assert response.status_code == 302 and "/login/" in response["Location"]


# Use, throttling and page size --------------------------------------------------------------


def test_last_use_is_recorded_at_most_once_a_minute(make_key, world, django_assert_num_queries):
    key, plaintext = make_key()
    api = key_client(plaintext)
    assert ApiKey.objects.get(pk=key.pk).last_used_at is None
    api.get(PARTNERS)
    first = ApiKey.objects.get(pk=key.pk).last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=10)
    api.get(PARTNERS)
    assert ApiKey.objects.get(pk=key.pk).last_used_at == first
    earlier = timezone.now() - timedelta(minutes=2)
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=earlier)
    api.get(PARTNERS)
    assert ApiKey.objects.get(pk=key.pk).last_used_at > earlier


def test_each_key_is_throttled_on_its_own(make_key, world, settings):
    settings.PRM_API_KEY_RATE = "3/minute"
    (first, first_plaintext), (second, second_plaintext) = make_key(), make_key()
    for key in (first, second):
        cache.delete(f"throttle_api_key_{key.prefix}")
    api = key_client(first_plaintext)
    assert [api.get(PARTNERS).status_code for _n in range(3)] == [200, 200, 200]
    refused = api.get(PARTNERS)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "throttled" in refused.json()["message"]
    assert key_client(second_plaintext).get(PARTNERS).status_code == 200


def test_staff_users_have_their_own_generous_limit(api_client, staff_user, make_key, world, settings):
    settings.PRM_API_USER_RATE = "2/minute"
    cache.delete(f"throttle_user_{staff_user.pk}")
    assert [api_client.get(PARTNERS).status_code for _n in range(3)] == [200, 200, 429]
    _key, plaintext = make_key()
    assert key_client(plaintext).get(PARTNERS).status_code == 200  # a key counts on its own
    cache.delete(f"throttle_user_{staff_user.pk}")


def test_a_key_cannot_get_more_than_the_largest_page(make_key, world):
    PartnerContact.objects.bulk_create(
        PartnerContact(partner=world["foreign"], name=f"Bulk {n}", email=f"bulk{n}@example.cn") for n in range(505)
    )
    _key, plaintext = make_key()
    body = key_client(plaintext).get(f"{CONTACTS}?page_size=5000").json()
    assert body["count"] == 507
    assert len(body["results"]) == 500
    assert body["next"]


@pytest.mark.parametrize("size", [2, 30])
def test_an_api_list_read_with_a_key_takes_the_same_queries_at_any_size(
    make_key, world, django_assert_max_num_queries, size
):
    for n in range(size):
        DistributorFactory(parent=world["own"], region=world["region"], tier=world["tier"], code=f"SUB-{n}")
    _key, plaintext = make_key()
    api = key_client(plaintext)
    api.get(PARTNERS)  # the first use records last_used_at
    with django_assert_max_num_queries(3):
        assert api.get(f"{PARTNERS}?page_size=500").json()["count"] == size + 3


# Staff pages --------------------------------------------------------------------------------


@pytest.mark.parametrize("factory", [ChannelManagerFactory, AnalystFactory, UserFactory])
def test_only_channel_admins_reach_the_key_pages(client, make_key, factory):
    key, _plaintext = make_key()
    client.force_login(factory())
    revoke = reverse("partners:api-key-revoke", args=[key.pk])
    for response in (
        client.get(LIST_URL),
        client.get(CREATE_URL),
        client.post(CREATE_URL, {"name": "Mine", "scopes": ["partners:write"]}),
        client.get(revoke),
        client.post(revoke),
    ):
        assert response.status_code == 403
        if factory is not UserFactory:
            assert NOT_ADMIN_MESSAGE in response.content.decode()
    assert ApiKey.objects.count() == 1 and ApiKey.objects.get().revoked_at is None


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in (LIST_URL, CREATE_URL):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_nav_links_to_the_keys_for_channel_admins_only(client, staff_client):
    assert LIST_URL in staff_client.get(reverse("partners:partner-list")).content.decode()
    client.force_login(ChannelManagerFactory())
    assert LIST_URL not in client.get(reverse("partners:partner-list")).content.decode()


def test_the_create_page_shows_the_key_once_and_the_list_never(staff_client, world):
    form = staff_client.get(CREATE_URL)
    assert form.status_code == 200
    assert 'name="scopes" value="partners:read"' in form.content.decode()
    response = staff_client.post(
        CREATE_URL,
        {"name": "ERP of Own", "scopes": ["partners:read"], "partner": world["own"].pk, "expires_at": "2999-12-31"},
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = ApiKey.objects.get()
    page = response.content.decode()
    plaintext = response.context["plaintext"]
    assert plaintext.startswith(f"prm_{key.prefix}_") and plaintext in page
    assert "will not be shown again" in page
    assert key.partner == world["own"] and key.scopes == ["partners:read"]
    assert timezone.localtime(key.expires_at).date() == date(3000, 1, 1)
    secret = plaintext.split("_", 2)[2]
    listing = staff_client.get(LIST_URL).content.decode()
    assert "ERP of Own" in listing and f"prm_{key.prefix}_" in listing
    assert secret not in listing and key.secret_hash not in listing
    assert key_client(plaintext).get(PARTNERS).json()["count"] == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "scopes": ["partners:read"]}, "name"),
        ({"name": "CRM", "scopes": ["partners:admin"]}, "scopes"),
        ({"name": "CRM"}, "scopes"),
        ({"name": "CRM", "scopes": ["partners:read"], "expires_at": "2000-01-01"}, "expires_at"),
        ({"name": "CRM", "scopes": ["partners:read"], "expires_at": "not a date"}, "expires_at"),
        ({"name": "CRM", "scopes": ["partners:read"], "partner": "999999"}, "partner"),
    ],
)
def test_bad_input_on_the_create_page_shows_field_errors_and_creates_nothing(staff_client, world, data, field):
    response = staff_client.post(CREATE_URL, data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert f'id="id_{field}_errors"' in response.content.decode()
    assert "plaintext" not in response.context
    assert not ApiKey.objects.exists()


def test_a_channel_admin_revokes_a_key_after_confirming(staff_client, make_key, world):
    key, plaintext = make_key()
    url = reverse("partners:api-key-revoke", args=[key.pk])
    confirm = staff_client.get(url)
    assert confirm.status_code == 200 and "cannot be undone" in confirm.content.decode()
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None
    response = staff_client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == LIST_URL
    assert "revoked" in response.content.decode()
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert key_client(plaintext).get(PARTNERS).status_code == 401
    again = staff_client.post(url, follow=True)
    assert "already revoked" in again.content.decode()
    assert staff_client.post(reverse("partners:api-key-revoke", args=[999999])).status_code == 404


@pytest.mark.parametrize("size", [2, 30])
def test_the_key_list_takes_the_same_queries_at_any_size(
    staff_client, staff_user, world, django_assert_max_num_queries, size
):
    for n in range(size):
        api_key_create(
            name=f"Key {n}", scopes=["partners:read"], partner=world["own"] if n % 2 else None, by=staff_user
        )
    api_key_revoke(key=ApiKey.objects.first(), by=staff_user)
    with django_assert_max_num_queries(6):  # 5, and the unread notifications in the top bar
        response = staff_client.get(f"{LIST_URL}?page_size=100")
    assert response.status_code == 200
    assert len(response.context["object_list"]) == size


def test_the_admin_shows_keys_without_their_hash_and_creates_none(client, admin_user, make_key):
    key, _plaintext = make_key()
    client.force_login(admin_user)
    page = client.get(reverse("admin:partners_apikey_change", args=[key.pk]))
    assert page.status_code == 200
    assert key.prefix in page.content.decode() and key.secret_hash not in page.content.decode()
    assert client.get(reverse("admin:partners_apikey_add")).status_code == 403
    client.post(reverse("admin:partners_apikey_changelist"), {"action": "revoke", "_selected_action": [key.pk]})
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None


# OpenAPI ------------------------------------------------------------------------------------


def test_the_schema_documents_the_api_key_scheme(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    scheme = schema["components"]["securitySchemes"]["apiKeyAuth"]
    assert scheme["type"] == "apiKey" and scheme["in"] == "header" and scheme["name"] == "Authorization"
    assert "Api-Key" in scheme["description"]
    assert {"apiKeyAuth": []} in schema["paths"]["/api/v1/partners/"]["get"]["security"]
    assert ApiKeyAuthentication.keyword == "Api-Key"
