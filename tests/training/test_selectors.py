"""Training selectors: certified people per partner and course (valid certifications, each person
once), tier requirements met or missing, completion rates by partner and by region subtree, the
partner × course matrix; each in a fixed number of queries however many partners there are."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from partners.choices import RegionKind
from partners.models import Partner
from tests.factories import (
    ChannelAdminFactory,
    CourseFactory,
    PartnerContactFactory,
    PartnerFactory,
    PartnerTierFactory,
    PartnerUserFactory,
    RegionFactory,
    TierRequirementFactory,
    TrainingRecordFactory,
)
from training import selectors
from training.choices import RecordStatus

from .builders import session

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def passed(contact, course, *, days_ago=30, expires_in=300):
    return TrainingRecordFactory(
        passed=True,
        contact=contact,
        course=course,
        completed_on=TODAY - timedelta(days=days_ago),
        expires_on=TODAY + timedelta(days=expires_in) if expires_in is not None else None,
    )


def test_certified_counts_people_once_and_ignores_lapsed_and_other_results():
    course, other_course = CourseFactory(), CourseFactory()
    partner, other = PartnerFactory(), PartnerFactory()
    wang, li, zhao = (PartnerContactFactory(partner=partner) for _ in range(3))
    passed(wang, course)
    passed(wang, course, days_ago=400, expires_in=-35)  # an older pass of the same person
    passed(li, course, expires_in=None)  # never expires
    passed(zhao, course, expires_in=-1)  # lapsed yesterday, job not run yet
    TrainingRecordFactory(
        contact=zhao,
        course=course,
        status=RecordStatus.EXPIRED,
        completed_on=TODAY,
        expires_on=TODAY - timedelta(days=400),
    )
    TrainingRecordFactory(failed=True, contact=zhao, course=other_course)
    TrainingRecordFactory(contact=zhao, course=other_course)  # enrolled
    passed(PartnerContactFactory(partner=other), other_course)

    counts = selectors.certified_counts(Partner.objects.filter(pk=partner.pk))

    assert counts == {(partner.pk, course.pk): 2}


def test_certified_on_a_past_day_counts_a_pass_expired_since():
    course, partner = CourseFactory(), PartnerFactory()
    record = passed(PartnerContactFactory(partner=partner), course, days_ago=400, expires_in=-10)
    record.status = RecordStatus.EXPIRED
    record.save()

    assert selectors.certified_counts(Partner.objects.all()) == {}
    assert selectors.certified_counts(Partner.objects.all(), on=TODAY - timedelta(days=30)) == {
        (partner.pk, course.pk): 1
    }
    assert selectors.certified_counts(Partner.objects.all(), on=TODAY - timedelta(days=401)) == {}


def test_tier_requirements_met_and_missing():
    gold, silver = PartnerTierFactory(name="Gold"), PartnerTierFactory(name="Silver")
    sales, tech = CourseFactory(code="SAL-1"), CourseFactory(code="TEC-1")
    TierRequirementFactory(tier=gold, course=sales, certified_people=2)
    TierRequirementFactory(tier=gold, course=tech, certified_people=1)
    meets, misses, untiered, other_tier = (
        PartnerFactory(tier=gold),
        PartnerFactory(tier=gold),
        PartnerFactory(tier=None),
        PartnerFactory(tier=silver),
    )
    for _ in range(2):
        passed(PartnerContactFactory(partner=meets), sales)
    passed(PartnerContactFactory(partner=meets), tech)
    passed(PartnerContactFactory(partner=misses), sales)

    status = selectors.tier_requirement_status(Partner.objects.all())

    assert [
        (row["course"].code, row["required"], row["certified"], row["missing"], row["met"]) for row in status[meets.pk]
    ] == [
        ("SAL-1", 2, 2, 0, True),
        ("TEC-1", 1, 1, 0, True),
    ]
    assert [(row["course"].code, row["missing"], row["met"]) for row in status[misses.pk]] == [
        ("SAL-1", 1, False),
        ("TEC-1", 1, False),
    ]
    assert status[untiered.pk] == [] and status[other_tier.pk] == []


def many_partners(count, tier, courses):
    for _ in range(count):
        partner = PartnerFactory(tier=tier)
        for course in courses:
            passed(PartnerContactFactory(partner=partner), course)
            TrainingRecordFactory(contact=PartnerContactFactory(partner=partner), course=course)


@pytest.mark.parametrize("count", [2, 10])
def test_selectors_use_a_fixed_number_of_queries(count, django_assert_max_num_queries):
    gold, courses = PartnerTierFactory(), [CourseFactory(), CourseFactory()]
    for course in courses:
        TierRequirementFactory(tier=gold, course=course)
    many_partners(count, gold, courses)
    partners = Partner.objects.order_by("code")

    with django_assert_max_num_queries(1):
        assert len(selectors.certified_counts(partners)) == count * 2
    with django_assert_max_num_queries(3):
        assert len(selectors.tier_requirement_status(partners)) == count
    with django_assert_max_num_queries(2):
        assert len(selectors.completion_rates(by="partner")) == count
    with django_assert_max_num_queries(2):
        selectors.completion_rates(by="region")
    with django_assert_max_num_queries(5):
        rows = selectors.training_matrix(partners, courses)
    assert [cell.certified for cell in rows[0]["cells"]] == [1, 1]
    assert [cell.in_progress for cell in rows[0]["cells"]] == [1, 1]


def test_completion_rates_by_partner():
    course = CourseFactory()
    partner = PartnerFactory()
    people = [PartnerContactFactory(partner=partner) for _ in range(6)]
    passed(people[0], course)
    passed(people[1], course)
    TrainingRecordFactory(failed=True, contact=people[2], course=course)
    TrainingRecordFactory(contact=people[3], course=course, status=RecordStatus.WITHDRAWN)
    TrainingRecordFactory(contact=people[4], course=course)  # enrolled today: not counted yet
    ended = session(days=-5)
    TrainingRecordFactory(contact=people[5], course=ended.course, session=ended)  # open after its session: overdue

    (row,) = selectors.completion_rates(by="partner")

    assert row["partner"] == partner
    assert {key: row[key] for key in ("enrolled", "passed", "failed", "withdrawn", "open", "overdue")} == {
        "enrolled": 6,
        "passed": 2,
        "failed": 1,
        "withdrawn": 1,
        "open": 2,
        "overdue": 1,
    }
    assert row["completion_rate"] == Decimal("40.0")  # 2 ÷ (2 + 1 + 1 + 1)


def test_completion_rates_by_region_aggregate_the_subtree_and_follow_the_period():
    china = RegionFactory(code="CN", kind=RegionKind.COUNTRY)
    east = RegionFactory(code="EAST", kind=RegionKind.AREA, parent=china)
    shanghai = RegionFactory(code="SH", parent=east)
    west = RegionFactory(code="WEST", kind=RegionKind.AREA, parent=china)
    course = CourseFactory()
    passed(PartnerContactFactory(partner=PartnerFactory(region=shanghai)), course, days_ago=10)
    TrainingRecordFactory(
        failed=True, contact=PartnerContactFactory(partner=PartnerFactory(region=east)), course=course
    )
    passed(PartnerContactFactory(partner=PartnerFactory(region=west)), course, days_ago=200)

    rows = {row["region"].code: row for row in selectors.completion_rates(by="region")}

    assert (rows["CN"]["enrolled"], rows["CN"]["passed"], rows["CN"]["completion_rate"]) == (3, 2, Decimal("66.7"))
    assert (rows["EAST"]["passed"], rows["EAST"]["failed"], rows["EAST"]["completion_rate"]) == (1, 1, Decimal("50.0"))
    assert (rows["SH"]["passed"], rows["SH"]["completion_rate"]) == (1, Decimal("100.0"))
    assert rows["WEST"]["passed"] == 1

    recent = selectors.completion_rates(by="region", region=east, since=TODAY - timedelta(days=60))
    assert [row["region"].code for row in recent] == ["EAST", "SH"]
    assert recent[0]["enrolled"] == 2
    nothing = selectors.completion_rates(by="region", region=west, since=TODAY - timedelta(days=60))
    assert nothing[0]["enrolled"] == 0 and nothing[0]["completion_rate"] is None


def test_expiring_certifications_are_those_the_user_may_see():
    partner = PartnerFactory()
    soon = passed(PartnerContactFactory(partner=partner), CourseFactory(), expires_in=20)
    passed(PartnerContactFactory(partner=partner), CourseFactory(), expires_in=90)
    foreign = passed(PartnerContactFactory(), CourseFactory(), expires_in=10)

    assert list(selectors.expiring_certifications(ChannelAdminFactory())) == [foreign, soon]
    assert list(selectors.expiring_certifications(PartnerUserFactory(partner=partner))) == [soon]


def test_the_matrix_shows_lapsed_people_without_a_renewal_and_the_tier_requirement():
    gold = PartnerTierFactory()
    course = CourseFactory()
    TierRequirementFactory(tier=gold, course=course, certified_people=3)
    partner = PartnerFactory(tier=gold)
    renewed, lapsed = PartnerContactFactory(partner=partner), PartnerContactFactory(partner=partner)
    passed(renewed, course, days_ago=800, expires_in=-70)
    passed(renewed, course)
    passed(lapsed, course, days_ago=800, expires_in=-70)

    (row,) = selectors.training_matrix(Partner.objects.all(), [course])

    cell = row["cells"][0]
    assert (cell.certified, cell.in_progress, cell.expired, cell.required, cell.missing) == (1, 0, 1, 3, 2)


def test_the_partner_360_section(django_assert_max_num_queries):
    gold = PartnerTierFactory()
    course = CourseFactory()
    TierRequirementFactory(tier=gold, course=course, certified_people=2)
    partner = PartnerFactory(tier=gold)
    passed(PartnerContactFactory(partner=partner), course, expires_in=15)
    TrainingRecordFactory(contact=PartnerContactFactory(partner=partner), course=course)
    staff = ChannelAdminFactory()

    with django_assert_max_num_queries(6):
        section = selectors.partner_training(partner, staff)

    assert len(section["records"]) == 2 and len(section["certifications"]) == 1
    assert section["counts"] == {"enrolled": 2, "open": 1, "passed": 1, "people_certified": 1}
    assert section["requirements"][0]["missing"] == 1
    assert len(section["expiring"]) == 1
