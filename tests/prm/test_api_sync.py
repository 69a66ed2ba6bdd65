"""Incremental sync over the API: `updated_since`, cursor paging that survives concurrent writes,
and tombstones of deleted rows (GET /api/v1/deletions/)."""

import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate

from agreements.models import AgreementTarget
from partners import services as partner_services
from partners.models import Partner, PartnerContact
from performance import services as performance_services
from performance.models import KpiSnapshot
from prm import tasks
from prm.api.routers import router
from prm.models import JobRun, Notification, Tombstone
from prm.sync import tombstones_record
from tests.factories import (
    AgreementFactory,
    AgreementTargetFactory,
    CourseFactory,
    PartnerContactFactory,
    PartnerFactory,
    PartnerTierFactory,
    RegionFactory,
)
from training import services as training_services
from training.models import Course

PARTNERS = reverse("partner-list")
CONTACTS = reverse("partner-contact-list")
DELETIONS = reverse("deletion-list")
LONG_AGO = timezone.now() - timedelta(days=30)


def iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def sync_pass(api, url, params=None, between_pages=None, page_size=5):
    """Follow a cursor pass to its end: (ids in the order read, the last page's body)."""
    response = api.get(url, {"cursor": "", "page_size": page_size, **(params or {})})
    ids = []
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        ids += [row["id"] for row in body["results"]]
        if body["next"] is None:
            return ids, body
        if between_pages:
            between_pages()
        response = api.get(body["next"])


# updated_since ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_updated_since_lists_only_rows_changed_since_including_a_bulk_update(api_client):
    partner = PartnerFactory()
    first = PartnerContactFactory(partner=partner, is_primary=True)
    quiet = PartnerContactFactory(partner=partner)
    PartnerContact.objects.update(updated_at=LONG_AGO)
    since = timezone.now()
    # Making another contact primary demotes the first one with a QuerySet.update().
    new = partner_services.contact_create(partner=partner, name="Wang Fang", email="wang@example.cn", is_primary=True)

    response = api_client.get(CONTACTS, {"updated_since": iso(since)})

    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == {first.pk, new.pk}
    assert quiet.pk not in ids


@pytest.mark.django_db
def test_updated_since_keeps_the_lists_own_filters(api_client):
    region = RegionFactory()
    kept = PartnerFactory(region=region, name="Kept")
    PartnerFactory(name="Elsewhere")

    response = api_client.get(PARTNERS, {"updated_since": iso(LONG_AGO), "region": region.pk})

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [kept.pk]


@pytest.mark.django_db
def test_an_offset_left_unencoded_in_the_query_string_is_still_understood(api_client):
    partner = PartnerFactory()
    response = api_client.get(f"{PARTNERS}?updated_since=2000-01-01T08:00:00+08:00")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [partner.pk]


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", "0001-01-01T00:00:00+05:00"])
def test_a_bad_updated_since_is_a_400_naming_it(api_client, value):
    response = api_client.get(PARTNERS, {"updated_since": value})
    assert response.status_code == 400
    assert "updated_since" in str(response.json())


@pytest.mark.django_db
@pytest.mark.parametrize("cursor", ["garbage", "eyJhIjoxfQ:1abc:xyz"])
def test_a_garbage_cursor_is_a_400_naming_it(api_client, cursor):
    response = api_client.get(PARTNERS, {"cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in str(response.json())


@pytest.mark.django_db
def test_a_cursor_of_another_list_is_refused(api_client):
    PartnerFactory.create_batch(3)
    body = api_client.get(PARTNERS, {"cursor": "", "page_size": 1}).json()
    token = parse_qs(urlparse(body["next"]).query)["cursor"][0]

    response = api_client.get(CONTACTS, {"cursor": token})

    assert response.status_code == 400
    assert "cursor" in str(response.json())


# Cursor paging -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_without_cursor_lists_keep_page_numbers(api_client):
    PartnerFactory.create_batch(3)
    body = api_client.get(PARTNERS, {"page_size": 2}).json()
    assert body["count"] == 3 and "page=2" in body["next"]
    assert "next_updated_since" not in body


@pytest.mark.django_db
def test_a_cursor_pass_reads_every_row_once_while_rows_are_added_changed_and_deleted(api_client):
    region = RegionFactory()
    contacts = [PartnerContactFactory(partner=PartnerFactory(region=region)) for _ in range(23)]
    doomed = contacts[20]
    deleted = []

    def write():
        PartnerContactFactory(partner=contacts[0].partner)  # inserted during the pass
        partner_services.contact_update(contact=contacts[1], name="Renamed")  # already read: updated
        partner_services.contact_update(contact=contacts[-1], name="Later")  # not read yet: updated
        if not deleted:
            partner_services.contact_delete(contact=doomed)
            deleted.append(doomed.pk)

    ids, body = sync_pass(api_client, CONTACTS, between_pages=write)

    assert len(ids) == len(set(ids))
    for contact in contacts:
        if contact.pk not in deleted:
            assert ids.count(contact.pk) == 1
    assert body["previous"] is None
    assert body["next_updated_since"]


@pytest.mark.django_db
def test_the_next_round_catches_what_changed_during_the_pass(api_client, settings):
    settings.PRM_SYNC_OVERLAP_SECONDS = 300
    partners = PartnerFactory.create_batch(6)
    Partner.objects.update(updated_at=LONG_AGO)
    first_page = api_client.get(PARTNERS, {"cursor": "", "page_size": 3}).json()
    partner_services.partner_update(partner=partners[0], name="Changed after it was read")
    late = PartnerFactory(name="Created during the pass")
    last = api_client.get(first_page["next"]).json()
    while last["next"]:
        last = api_client.get(last["next"]).json()

    again, _body = sync_pass(api_client, PARTNERS, {"updated_since": last["next_updated_since"]})

    assert set(again) == {partners[0].pk, late.pk}
    started = timezone.datetime.fromisoformat(last["next_updated_since"])
    assert timezone.now() - started >= timedelta(seconds=300)


@pytest.mark.django_db
def test_a_cursor_page_reads_in_as_many_queries_at_5_and_at_50_rows(api_client, django_assert_max_num_queries):
    region = RegionFactory()
    contacts = [PartnerContactFactory(partner=PartnerFactory(region=region)) for _ in range(50)]
    PartnerContact.objects.exclude(pk__in=[contact.pk for contact in contacts[:5]]).update(updated_at=LONG_AGO)
    since = iso(timezone.now() - timedelta(minutes=1))
    api_client.get(CONTACTS, {"cursor": ""})  # authentication and caches warmed

    with CaptureQueriesContext(connection) as few:
        assert len(api_client.get(CONTACTS, {"updated_since": since}).json()["results"]) == 5
    with django_assert_max_num_queries(len(few)):
        assert len(api_client.get(CONTACTS, {"cursor": "", "page_size": 50}).json()["results"]) == 50
    assert not any("COUNT(" in query["sql"].upper() for query in few.captured_queries)


class NotificationList(ListAPIView):
    """A list whose rows have no time of change (notifications have none)."""

    queryset = Notification.objects.order_by("pk")
    serializer_class = type(
        "NotificationSerializer",
        (serializers.ModelSerializer,),
        {"Meta": type("Meta", (), {"model": Notification, "fields": ["id"]})},
    )


@pytest.mark.django_db
def test_a_list_without_a_time_of_change_refuses_updated_since(staff_user):
    request = APIRequestFactory().get("/notifications/", {"updated_since": iso(LONG_AGO)})
    force_authenticate(request, user=staff_user)

    response = NotificationList.as_view()(request)

    assert response.status_code == 400
    assert "updated_since" in str(response.data)


@pytest.mark.django_db
def test_the_schema_describes_both_kinds_of_paging(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/partners/"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"page", "page_size", "cursor", "updated_since"} <= names
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]
    if "$ref" in page:
        page = schema["components"]["schemas"][page["$ref"].rsplit("/", 1)[1]]
    assert {"next", "previous", "results", "count", "next_updated_since"} <= set(page["properties"])
    assert page["required"] == ["next", "previous", "results"]


# Deletions -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_deleted_contact_leaves_a_tombstone_the_crm_can_sync(api_client):
    contact = PartnerContactFactory(external_id="crm-42")
    kept = PartnerContactFactory()
    since = iso(timezone.now() - timedelta(seconds=1))
    object_id = contact.pk

    assert api_client.delete(reverse("partner-contact-detail", args=[contact.pk])).status_code == 204

    response = api_client.get(DELETIONS, {"updated_since": since, "type": "partners.partnercontact"})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(row["type"], row["object_id"], row["external_id"], row["partner"]) for row in rows] == [
        ("partners.partnercontact", str(object_id), "crm-42", contact.partner_id)
    ]
    assert PartnerContact.objects.filter(pk=kept.pk).exists()


@pytest.mark.django_db
def test_deleting_an_agreement_leaves_tombstones_of_its_targets_too(api_client):
    agreement = AgreementFactory()
    year = agreement.start_date.year
    targets = [AgreementTargetFactory(agreement=agreement, period=f"{year}-Q{quarter}") for quarter in (1, 2)]
    agreement_id = agreement.pk

    agreement.delete()

    assert not AgreementTarget.objects.filter(agreement_id=agreement_id).exists()
    rows = api_client.get(DELETIONS, {"cursor": ""}).json()["results"]
    assert {(row["type"], row["object_id"]) for row in rows} == {
        ("agreements.agreement", str(agreement_id)),
        *{("agreements.agreementtarget", str(target.pk)) for target in targets},
    }


@pytest.mark.django_db
def test_an_unknown_deletion_type_is_a_400(api_client):
    response = api_client.get(DELETIONS, {"type": "partners.nothing"})
    assert response.status_code == 400
    assert "type" in str(response.json())


@pytest.mark.django_db
def test_a_partner_key_sees_only_its_partners_deletions(make_key):
    mine, theirs = PartnerFactory(), PartnerFactory()
    gone_mine = PartnerContactFactory(partner=mine)
    gone_theirs = PartnerContactFactory(partner=theirs, external_id="theirs-1")
    ids = {"mine": str(gone_mine.pk), "theirs": str(gone_theirs.pk)}
    gone_mine.delete()
    gone_theirs.delete()
    region = RegionFactory()
    region_id = str(region.pk)
    region.delete()

    partner_key = make_key(["partners:read"], partner=mine)
    rows = partner_key.get(DELETIONS, {"cursor": ""}).json()["results"]
    seen = {(row["type"], row["object_id"]) for row in rows}
    assert seen == {("partners.partnercontact", ids["mine"]), ("partners.region", region_id)}
    assert "theirs-1" not in str(rows)
    theirs_row = Tombstone.objects.get(object_id=ids["theirs"]).pk
    assert partner_key.get(reverse("deletion-detail", args=[theirs_row])).status_code == 404

    vendor_sales_only = make_key(["sales:read"])
    assert vendor_sales_only.get(DELETIONS).json()["results"] == []
    vendor = make_key(["partners:read"])
    assert len(vendor.get(DELETIONS).json()["results"]) == 3


@pytest.mark.django_db
def test_tombstones_recorded_in_bulk_carry_the_same_facts():
    partner = PartnerFactory()
    contacts = [PartnerContactFactory(partner=partner, external_id=f"crm-{n}") for n in range(3)]

    tombstones_record(PartnerContact.objects.filter(partner=partner))

    rows = set(Tombstone.objects.values_list("model", "object_id", "external_id", "partner_id"))
    assert rows == {("partners.partnercontact", str(c.pk), c.external_id, partner.pk) for c in contacts}
    assert Tombstone.objects.filter(deleted_at__isnull=True).count() == 0


# The sync simulation ------------------------------------------------------------------------


def many_partners(count):
    region = RegionFactory()
    return Partner.objects.bulk_create(
        Partner(code=f"S{n:05d}", name=f"Synced partner {n}", partner_type="reseller", status="active", region=region)
        for n in range(count)
    )


@pytest.mark.django_db
def test_paging_through_1000_partners_while_another_client_writes_reads_each_once(api_client, staff_user):
    existing = [partner.pk for partner in many_partners(1050)]
    writer = APIClient()
    writer.force_authenticate(staff_user)
    region = existing and Partner.objects.get(pk=existing[0]).region_id
    created = []

    def another_client_writes():
        response = writer.post(
            PARTNERS,
            {
                "code": f"W{len(created):04d}",
                "name": f"Written {len(created)}",
                "partner_type": "reseller",
                "region": region,
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        created.append(response.json()["id"])
        target = existing[(len(created) * 97) % len(existing)]
        assert writer.patch(reverse("partner-detail", args=[target]), {"name": "Renamed"}).status_code == 200

    ids, _body = sync_pass(api_client, PARTNERS, between_pages=another_client_writes, page_size=100)

    assert len(ids) == len(set(ids))
    assert set(existing) <= set(ids)
    assert len(created) >= 10


@pytest.mark.django_db(transaction=True)
def test_a_pass_while_a_writer_thread_inserts_and_updates_reads_every_existing_row_once(staff_user):
    existing = [partner.pk for partner in many_partners(400)]
    region = Partner.objects.get(pk=existing[0]).region_id
    stop = threading.Event()
    written = []

    def writer():
        try:
            n = 0
            while not stop.is_set() and n < 300:  # bounded, so that the pass always reaches its end
                Partner.objects.create(
                    code=f"T{n:05d}", name=f"Thread {n}", partner_type="reseller", status="active", region_id=region
                )
                Partner.objects.filter(pk=existing[(n * 31) % len(existing)]).update(
                    name=f"Thread rename {n}", updated_at=timezone.now()
                )
                written.append(n)
                n += 1
        finally:
            close_old_connections()
            connection.close()

    thread = threading.Thread(target=writer)
    api = APIClient()
    api.force_authenticate(staff_user)
    started = timezone.now()
    thread.start()
    try:
        ids, body = sync_pass(api, PARTNERS, page_size=25)
    finally:
        stop.set()
        thread.join()

    assert len(ids) == len(set(ids))
    assert set(existing) <= set(ids)
    assert written
    since = timezone.datetime.fromisoformat(body["next_updated_since"])
    assert since <= started
    again, _body = sync_pass(api, PARTNERS, {"updated_since": body["next_updated_since"]}, page_size=500)
    changed = set(Partner.objects.filter(updated_at__gte=since).values_list("pk", flat=True))
    assert changed <= set(again)


@pytest.mark.django_db
def test_recomputing_a_month_leaves_tombstones_of_the_snapshots_it_replaces(api_client):
    PartnerFactory.create_batch(2)
    performance_services.snapshots_compute(period="2026-09")
    replaced = {str(pk) for pk in KpiSnapshot.objects.values_list("pk", flat=True)}
    assert replaced

    performance_services.snapshots_compute(period="2026-09")

    rows = api_client.get(DELETIONS, {"type": "performance.kpisnapshot", "cursor": "", "page_size": 500}).json()
    assert {row["object_id"] for row in rows["results"]} == replaced
    assert not KpiSnapshot.objects.filter(pk__in=[int(pk) for pk in replaced]).exists()


@pytest.mark.django_db
def test_an_empty_updated_since_starts_a_full_pass(api_client):
    partners = PartnerFactory.create_batch(3)
    body = api_client.get(PARTNERS, {"updated_since": ""}).json()
    assert [row["id"] for row in body["results"]] == sorted(partner.pk for partner in partners)
    assert "count" not in body and body["next_updated_since"]


@pytest.mark.django_db
def test_a_cursor_page_renders_in_the_browsable_api(api_client):
    PartnerFactory.create_batch(2)
    response = api_client.get(PARTNERS, {"cursor": "", "page_size": 1}, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert "next_updated_since" in response.content.decode()


@pytest.mark.django_db
def test_old_tombstones_are_purged_by_the_nightly_job(settings):
    settings.PRM_TOMBSTONE_RETENTION_DAYS = 90
    old = Tombstone.objects.create(model="partners.partnercontact", object_id="1")
    Tombstone.objects.filter(pk=old.pk).update(deleted_at=timezone.now() - timedelta(days=91))
    recent = Tombstone.objects.create(model="partners.partnercontact", object_id="2")

    assert tasks.tombstones_purge.apply().get() == 1

    assert list(Tombstone.objects.values_list("pk", flat=True)) == [recent.pk]
    assert JobRun.objects.get(job="prm.tombstones_purge").rows_written == 1
    assert settings.CELERY_BEAT_SCHEDULE["prm-tombstones-purge"]["task"] == "prm.tasks.tombstones_purge"


def has_time_of_change(viewset):
    model = getattr(getattr(viewset.serializer_class, "Meta", None), "model", None)
    return bool(getattr(viewset, "sync_field", None)) or (
        model is not None and any(field.name == "updated_at" for field in model._meta.concrete_fields)
    )


@pytest.mark.django_db
def test_every_list_of_the_api_syncs_or_refuses_clearly(api_client):
    """A sync request (updated_since and a cursor) to any list: a cursor page (or, unpaginated, the
    rows changed since) wherever rows have a time of change; elsewhere a 400 naming updated_since."""
    since = iso(LONG_AGO)
    synced = 0
    for prefix, viewset, basename in router.registry:
        response = api_client.get(reverse(f"{basename}-list"), {"updated_since": since, "cursor": ""})
        if has_time_of_change(viewset):
            assert response.status_code == 200, (prefix, response.content[:300])
            body = response.json()
            assert isinstance(body, list) or {"next", "previous", "results", "next_updated_since"} <= set(body)
            synced += 1
        else:
            assert response.status_code in (200, 400), prefix
            assert response.status_code == 200 or "updated_since" in str(response.json()), prefix
    assert synced >= 28


@pytest.mark.django_db
def test_a_course_whose_tier_requirements_change_is_synced_again(api_client, staff_user):
    course = CourseFactory()
    Course.objects.update(updated_at=LONG_AGO)
    since = iso(timezone.now() - timedelta(seconds=1))

    training_services.tier_requirement_set(course=course, tier=PartnerTierFactory(), certified_people=2, by=staff_user)

    rows = api_client.get(reverse("course-list"), {"updated_since": since}).json()["results"]
    assert [row["id"] for row in rows] == [course.pk]
