"""Reads of training: certified people per partner and course, tier requirements met or missing,
completion rates per partner and per region, expiring certifications, the partner × course
matrix, and the partner 360° section. Each is set-based: a fixed number of queries whatever the
number of partners, courses or records. These are the training inputs the performance work turns
into KPIs (certified staff, training completion).

A person is *certified* in a course on a day when they passed it on or before that day and the
certification had not lapsed by then (TrainingRecord.objects.certified): several passes of the
same person count once.

The *completion rate* of a set of attempts is passed ÷ (passed + failed + withdrawn + overdue),
as a percentage with one decimal (half-up), or None when nothing is finished or overdue yet.
*Overdue* attempts are still open (enrolled or in progress) although their session has ended,
or, for a course without sessions, although they were enrolled more than OVERDUE_DAYS ago; other
open attempts are not counted yet (they may still pass). An expired certification was a pass. An
attempt belongs to the period of its completion date, or of its enrolment while it has none.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, DateField, Exists, OuterRef, Prefetch, Q
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from partners.models import Partner, Region
from prm.roles import is_staff_user
from prm.tenancy import partner_of

from .access import can_see_material
from .choices import RecordStatus
from .models import Course, CourseMaterial, TierRequirement, TrainingRecord, TrainingSession
from .rules import OPEN_STATUSES, SEAT_STATUSES

OVERDUE_DAYS = 90
EXPIRY_WINDOW_DAYS = 60
PASSED_STATUSES = (RecordStatus.PASSED, RecordStatus.EXPIRED)


def _partner_ids(partners_qs):
    """A subquery of a queryset's ids, or the ids of a list of partners (or of ids)."""
    if hasattr(partners_qs, "values_list"):
        return partners_qs.values_list("pk", flat=True)
    return [getattr(partner, "pk", partner) for partner in partners_qs]


def certified_counts(partners_qs, on=None):
    """{(partner_id, course_id): number of distinct people of the partner certified in the
    course on `on` (default today)}; pairs with nobody certified are absent. One query."""
    rows = (
        TrainingRecord.objects.certified(on)
        .filter(contact__partner_id__in=_partner_ids(partners_qs))
        .order_by()
        .values("contact__partner_id", "course_id")
        .annotate(people=Count("contact_id", distinct=True))
        .values_list("contact__partner_id", "course_id", "people")
    )
    return {(partner_id, course_id): people for partner_id, course_id, people in rows}


def tier_requirement_status(partners_qs, on=None):
    """{partner_id: [{"course", "required", "certified", "missing", "met"}]} for the requirements
    of each partner's tier (a partner without a tier, or whose tier requires nothing, has an
    empty list), ordered by course code. Three queries."""
    partners = list(Partner.objects.filter(pk__in=_partner_ids(partners_qs)).values_list("pk", "tier_id"))
    tier_ids = {tier_id for _pk, tier_id in partners if tier_id}
    requirements = defaultdict(list)
    for requirement in (
        TierRequirement.objects.filter(tier_id__in=tier_ids).select_related("course").order_by("course__code")
    ):
        requirements[requirement.tier_id].append(requirement)
    counts = certified_counts([pk for pk, tier_id in partners if tier_id in requirements], on) if requirements else {}
    status = {}
    for partner_id, tier_id in partners:
        rows = []
        for requirement in requirements.get(tier_id, ()):
            certified = counts.get((partner_id, requirement.course_id), 0)
            missing = max(requirement.certified_people - certified, 0)
            rows.append(
                {
                    "course": requirement.course,
                    "required": requirement.certified_people,
                    "certified": certified,
                    "missing": missing,
                    "met": missing == 0,
                }
            )
        status[partner_id] = rows
    return status


def _rate(passed, finished):
    if not finished:
        return None
    return (Decimal(passed) * 100 / Decimal(finished)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _attempts(since=None, until=None):
    """Records annotated with their period day (completion, else enrolment) and filtered to
    [since, until]."""
    records = TrainingRecord.objects.annotate(
        day=Coalesce("completed_on", TruncDate("created_at"), output_field=DateField())
    )
    if since:
        records = records.filter(day__gte=since)
    if until:
        records = records.filter(day__lte=until)
    return records


def _overdue_q(now):
    ended = Q(session__isnull=False, session__ends_at__lt=now)
    stale = Q(session__isnull=True, created_at__lt=now - timedelta(days=OVERDUE_DAYS))
    return Q(status__in=OPEN_STATUSES) & (ended | stale)


COUNTS = ("enrolled", "passed", "failed", "withdrawn", "open", "overdue")


def _aggregates(now):
    return {
        "enrolled": Count("pk"),
        "passed": Count("pk", filter=Q(status__in=PASSED_STATUSES)),
        "failed": Count("pk", filter=Q(status=RecordStatus.FAILED)),
        "withdrawn": Count("pk", filter=Q(status=RecordStatus.WITHDRAWN)),
        "open": Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        "overdue": Count("pk", filter=_overdue_q(now)),
    }


def _with_rate(row):
    finished = row["passed"] + row["failed"] + row["withdrawn"] + row["overdue"]
    row["completion_rate"] = _rate(row["passed"], finished)
    return row


def completion_rates(by="partner", region=None, since=None, until=None):
    """Attempts and completion rate (see the module's docstring) per partner or per region, for
    attempts whose completion (else enrolment) date lies in [since, until].

    by="partner": [{"partner", "enrolled", "passed", "failed", "withdrawn", "open", "overdue",
    "completion_rate"}] for the partners (in `region`'s subtree when given) with at least one
    attempt, by partner name. Two queries.

    by="region": the same counts with "region" instead of "partner", for `region` and every
    region below it (every region when None), in tree order; each region aggregates its whole
    subtree. Two queries."""
    if by not in ("partner", "region"):
        raise ValueError("by is 'partner' or 'region'")
    now = timezone.now()
    records = _attempts(since, until)
    if region is not None:
        records = records.filter(contact__partner__region__path__startswith=region.path)
    if by == "partner":
        rows = list(records.order_by().values("contact__partner_id").annotate(**_aggregates(now)))
        partners = Partner.objects.select_related("region", "tier").in_bulk(
            [row["contact__partner_id"] for row in rows]
        )
        result = [
            _with_rate({"partner": partners[row["contact__partner_id"]], **{key: row[key] for key in COUNTS}})
            for row in rows
        ]
        return sorted(result, key=lambda row: (row["partner"].name, row["partner"].pk))
    rows = list(records.order_by().values("contact__partner__region__path").annotate(**_aggregates(now)))
    regions = Region.objects.order_by("path")
    if region is not None:
        regions = regions.filter(path__startswith=region.path)
    result = []
    for node in regions:
        totals = dict.fromkeys(COUNTS, 0)
        for row in rows:
            if row["contact__partner__region__path"].startswith(node.path):
                for key in COUNTS:
                    totals[key] += row[key]
        result.append(_with_rate({"region": node, **totals}))
    return result


def expiring_certifications(user, within_days=EXPIRY_WINDOW_DAYS):
    """Certifications the user may see that are valid today and expire within `within_days`
    (today included), soonest first, with the person, their partner and the course."""
    today = timezone.localdate()
    return (
        TrainingRecord.objects.visible_to(user)
        .filter(status=RecordStatus.PASSED, expires_on__gte=today, expires_on__lte=today + timedelta(days=within_days))
        .select_related("contact", "contact__partner", "course")
        .order_by("expires_on", "pk")
    )


@dataclass
class MatrixCell:
    """One partner and one course: people certified now, people with an open attempt, people
    whose certification lapsed and who hold no valid one now, and the number their tier requires
    (None when it requires none)."""

    certified: int = 0
    in_progress: int = 0
    expired: int = 0
    required: int | None = None

    @property
    def missing(self):
        return max((self.required or 0) - self.certified, 0)


def training_matrix(partners_qs, courses_qs, on=None):
    """[{"partner", "cells": [MatrixCell for each course, in `courses_qs` order]}] for the
    partners in `partners_qs` (in its order). Five queries whatever the numbers of partners and
    courses."""
    on = on or timezone.localdate()
    partners = list(partners_qs.select_related("tier") if hasattr(partners_qs, "select_related") else partners_qs)
    courses = list(courses_qs)
    partner_ids, course_ids = [partner.pk for partner in partners], [course.pk for course in courses]
    in_scope = TrainingRecord.objects.filter(contact__partner_id__in=partner_ids, course_id__in=course_ids).order_by()
    certified = certified_counts(partners, on)
    people = Count("contact_id", distinct=True)
    key = ("contact__partner_id", "course_id")
    in_progress = {
        (row[0], row[1]): row[2]
        for row in in_scope.filter(status__in=OPEN_STATUSES).values(*key).annotate(n=people).values_list(*key, "n")
    }
    still_valid = TrainingRecord.objects.certified(on).filter(
        contact_id=OuterRef("contact_id"), course_id=OuterRef("course_id")
    )
    lapsed = (
        in_scope.filter(status__in=PASSED_STATUSES, expires_on__lt=on)
        .annotate(renewed=Exists(still_valid))
        .filter(renewed=False)
    )
    expired = {(row[0], row[1]): row[2] for row in lapsed.values(*key).annotate(n=people).values_list(*key, "n")}
    required = {
        (tier_id, course_id): number
        for tier_id, course_id, number in TierRequirement.objects.filter(course_id__in=course_ids).values_list(
            "tier_id", "course_id", "certified_people"
        )
    }
    return [
        {
            "partner": partner,
            "cells": [
                MatrixCell(
                    certified=certified.get((partner.pk, course.pk), 0),
                    in_progress=in_progress.get((partner.pk, course.pk), 0),
                    expired=expired.get((partner.pk, course.pk), 0),
                    required=required.get((partner.tier_id, course.pk)),
                )
                for course in courses
            ],
        }
        for partner in partners
    ]


def partner_training(partner, user):
    """The training section of the partner's 360° page: its people's recent attempts, the valid
    certifications, the tier requirements (met or missing how many), and the certifications
    expiring within 60 days. Six queries."""
    records = TrainingRecord.objects.visible_to(user).filter(contact__partner=partner)
    today = timezone.localdate()
    certifications = list(
        records.certified(today).select_related("contact", "course").order_by("expires_on", "contact__name", "pk")
    )
    return {
        "records": list(records.select_related("contact", "course", "session").order_by("-created_at", "-pk")[:20]),
        "counts": {
            **records.order_by().aggregate(
                enrolled=Count("pk"),
                open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
                passed=Count("pk", filter=Q(status__in=PASSED_STATUSES)),
            ),
            "people_certified": len({record.contact_id for record in certifications}),
        },
        "certifications": certifications,
        "requirements": tier_requirement_status(Partner.objects.filter(pk=partner.pk), today).get(partner.pk, []),
        "expiring": [
            record
            for record in certifications
            if record.expires_on and record.expires_on <= today + timedelta(days=EXPIRY_WINDOW_DAYS)
        ],
    }


# The catalogue ------------------------------------------------------------------------------


def upcoming_sessions(course=None):
    """Sessions not cancelled that have not started, soonest first, with `seats_taken` and
    `seats_left` (never below 0)."""
    sessions = TrainingSession.objects.filter(is_cancelled=False, starts_at__gt=timezone.now()).select_related("course")
    if course is not None:
        sessions = sessions.filter(course=course)
    sessions = sessions.annotate(seats_taken=Count("records", filter=Q(records__status__in=SEAT_STATUSES)))
    result = list(sessions.order_by("starts_at", "pk"))
    for session in result:
        session.seats_left = max(session.capacity - session.seats_taken, 0)
    return result


def material_list(*, user):
    """The course materials `user` may see, as one queryset with the course and the tier: staff
    (and vendor API keys) every one; a partner (its users, a key bound to it) those of active
    courses without a minimum tier or whose minimum tier ranks at or below the partner's tier, the
    rule of access.can_see_material."""
    materials = CourseMaterial.objects.select_related("course", "min_tier")
    if is_staff_user(user):
        return materials
    if not getattr(user, "is_authenticated", False):
        return materials.none()
    partner = partner_of(user)
    visible = Q(min_tier__isnull=True)
    if partner is not None and partner.tier_id is not None:
        visible |= Q(min_tier__rank__lte=partner.tier.rank)
    return materials.filter(visible, course__is_active=True)


def materials_for(user, course, partner=None):
    """The course's materials the user may see: all for staff; for a partner those without a
    minimum tier and those at or below the partner's tier (see access.can_see_material). One query."""
    materials = CourseMaterial.objects.filter(course=course).select_related("min_tier").order_by("title", "pk")
    return [material for material in materials if can_see_material(user, material, partner)]


def catalogue(user):
    """Active courses for the catalogue, by code, with their product line and upcoming sessions
    prefetched. Three queries."""
    upcoming = TrainingSession.objects.filter(is_cancelled=False, starts_at__gt=timezone.now()).order_by("starts_at")
    return (
        Course.objects.visible_to(user)
        .active()
        .select_related("product_line")
        .prefetch_related(Prefetch("sessions", queryset=upcoming, to_attr="upcoming_sessions"))
        .order_by("code")
    )
