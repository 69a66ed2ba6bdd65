"""Demo data for training: a dozen courses across the three types, the three deliveries and the
product lines (one retired), tier requirements for Silver, Gold and Platinum, materials (links,
some only for higher tiers, and one small PDF), sessions every quarter over the past two years
and in the next three months, and two years of training records for the demo partners' people.

Two partners in three meet their tier's requirements; the others fall one person short in each
required course (one of them lost a certification that lapsed). Some certifications expire within
60 days (one at D-EAST-1, the demo portal login's partner), older ones lapsed and are marked
expired (some renewed since), and there are fails, withdrawals, courses in progress and
enrolments in the coming sessions.

Deterministic and idempotent: courses are keyed by code, requirements by course and tier,
sessions and materials are made for a course that has none, and records for a partner none of
whose people has one. Records are written in bulk (they are consistent by construction: scores
against the pass mark, expiry from the validity, certificate numbers in sequence).
"""

import random
from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal
from io import BytesIO

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from partners.choices import PartnerStatus
from partners.models import Partner, PartnerTier
from prm.periods import add_months
from sales.models import ProductLine

from . import rules, services
from .choices import CourseLevel, CourseType, Delivery, MaterialKind, RecordSource, RecordStatus
from .models import Course, TierRequirement, TrainingRecord, TrainingSession

P, S, T = CourseType.PRODUCT, CourseType.SALES, CourseType.TECHNICAL
BASIC, MID, ADVANCED = CourseLevel.BASIC, CourseLevel.INTERMEDIATE, CourseLevel.ADVANCED
ONLINE, CLASSROOM, WEBINAR = Delivery.ONLINE, Delivery.CLASSROOM, Delivery.WEBINAR

# code, title, type, product line, level, delivery, hours, pass mark, validity (months), active
COURSES = [
    ("PRD-SEN-101", "Industrial sensors fundamentals", P, "SENSORS", BASIC, ONLINE, "4", 70, 24, True),
    ("PRD-SEN-201", "Sensor selection and sizing", P, "SENSORS", MID, WEBINAR, "3", 75, 24, True),
    ("PRD-PLC-101", "Controllers essentials", P, "CONTROL", BASIC, ONLINE, "6", 70, 24, True),
    ("PRD-PLC-301", "Modular PLC programming", P, "CONTROL", ADVANCED, CLASSROOM, "24", 80, 36, True),
    ("PRD-SW-101", "SCADA software overview", P, "SOFTWARE", BASIC, ONLINE, "2", 60, None, True),
    ("TEC-SW-201", "SCADA installation and commissioning", T, "SOFTWARE", MID, CLASSROOM, "16", 75, 24, True),
    ("TEC-SV-101", "Field service safety", T, "SERVICES", BASIC, ONLINE, "3", 80, 12, True),
    ("TEC-SV-201", "Maintenance and troubleshooting", T, "SERVICES", MID, CLASSROOM, "12", 75, 24, True),
    ("SAL-101", "Solution selling", S, None, BASIC, WEBINAR, "2.5", 60, 24, True),
    ("SAL-102", "Channel pricing and compliance", S, None, BASIC, ONLINE, "1.5", 70, 12, True),
    ("SAL-201", "Key account negotiation", S, None, MID, CLASSROOM, "8", 70, 36, True),
    ("TEC-SEN-301", "Sensor calibration lab", T, "SENSORS", ADVANCED, CLASSROOM, "8", 85, 24, False),
]
DESCRIPTIONS = {
    P: "What the products do, where they fit and how to position them against the competition.",
    S: "Selling the vendor's solutions: discovery, proposals, pricing rules and closing.",
    T: "Hands-on installation, commissioning and after-sales service, with a practical test.",
}
# Tier rank → {course code: certified people required}.
REQUIREMENTS = {
    2: {"PRD-SEN-101": 1, "SAL-101": 1},
    3: {"PRD-SEN-101": 2, "PRD-PLC-101": 1, "SAL-101": 2, "TEC-SV-101": 1},
    4: {"PRD-SEN-101": 2, "PRD-PLC-101": 2, "SAL-101": 2, "SAL-201": 1, "TEC-SW-201": 1, "TEC-SV-101": 2},
}
# title, url (or None: the generated PDF), minimum tier rank
MATERIALS = [
    ("Course handbook", "https://learning.example.com/{code}/handbook", None),
    ("Recorded session", "https://learning.example.com/{code}/video", None),
    ("Partner price and margin calculator", "https://learning.example.com/{code}/calculator", 3),
]
QUICK_REFERENCE = "PRD-SEN-101"
LOCATIONS = {
    CLASSROOM: ["Shanghai training centre, room 3", "Beijing office, academy floor", "Shenzhen demo lab"],
    WEBINAR: ["https://meet.example.com/academy"],
}
# The demo portal login's partner: it meets its requirements and has a certification expiring soon.
SHOWCASE = "D-EAST-1"


def _courses(by, log):
    lines = {line.code: line for line in ProductLine.objects.all()}
    courses = {course.code: course for course in Course.objects.all()}
    for code, title, kind, line, level, delivery, hours, mark, validity, active in COURSES:
        if code in courses:
            continue
        courses[code] = services.course_create(
            by=by,
            code=code,
            title=title,
            course_type=kind,
            product_line=lines.get(line),
            level=level,
            description=DESCRIPTIONS[kind],
            duration_hours=Decimal(hours),
            delivery=delivery,
            pass_mark=Decimal(mark),
            validity_months=validity,
            is_active=active,
        )
        log(f"course {code}")
    return courses


def _requirements(by, courses):
    tiers = {tier.rank: tier for tier in PartnerTier.objects.all()}
    existing = set(TierRequirement.objects.values_list("tier__rank", "course__code"))
    for rank, wanted in REQUIREMENTS.items():
        for code, people in wanted.items():
            if rank in tiers and (rank, code) not in existing:
                services.tier_requirement_set(course=courses[code], tier=tiers[rank], certified_people=people, by=by)


def _quick_reference_pdf():
    from reportlab.pdfgen import canvas

    buffer = BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.setTitle("Sensors quick reference")
    pdf.setFont("Helvetica-Bold", 18)
    pdf.drawString(72, 760, "Industrial sensors: quick reference")
    pdf.setFont("Helvetica", 11)
    for index, line in enumerate(
        [
            "P100 pressure sensor: 0-40 bar, 4-20 mA, IP67.",
            "T200 temperature probe: -50 to 400 C, PT100.",
            "F300 flow meter: DN15-DN200, pulse and Modbus output.",
        ]
    ):
        pdf.drawString(72, 720 - 18 * index, line)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _materials(by, courses):
    tiers = {tier.rank: tier for tier in PartnerTier.objects.all()}
    with_materials = set(Course.objects.filter(materials__isnull=False).values_list("code", flat=True))
    for code, course in courses.items():
        if code in with_materials:
            continue
        for index, (title, url, rank) in enumerate(MATERIALS):
            if index == 2 and course.course_type != S:
                continue
            services.material_add(
                course=course,
                by=by,
                title=title,
                kind=MaterialKind.LINK,
                url=url.format(code=code.lower()),
                min_tier=tiers.get(rank),
            )
        if code == QUICK_REFERENCE:
            services.material_add(
                course=course,
                by=by,
                title="Quick reference card",
                kind=MaterialKind.FILE,
                file=SimpleUploadedFile("sensors-quick-reference.pdf", _quick_reference_pdf()),
            )


def _at(day, hour):
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _sessions(courses, today):
    """Per course with sessions: one every quarter over the past 21 months and two in the next
    three months (a retired course: only past ones)."""
    have = set(TrainingSession.objects.values_list("course__code", flat=True))
    rows = []
    for code, course in courses.items():
        if not course.has_sessions or code in have:
            continue
        offsets = [-21, -18, -15, -12, -9, -6, -3] + ([1, 2] if course.is_active else [])
        hours = 8 if course.delivery == CLASSROOM else 2
        for index, months in enumerate(offsets):
            day = add_months(today, months).replace(day=10 + index % 3 * 5)
            places = LOCATIONS[course.delivery]
            rows.append(
                TrainingSession(
                    course=course,
                    starts_at=_at(day, 9),
                    ends_at=_at(day, 9) + timedelta(hours=hours),
                    location=places[index % len(places)],
                    capacity=24 if course.delivery == CLASSROOM else 200,
                )
            )
    TrainingSession.objects.bulk_create(rows)


class _Records:
    """Builds the records of the demo partners' people, in memory, then writes them at once."""

    def __init__(self, courses, today):
        self.courses, self.today = courses, today
        self.rng = random.Random(20261125)
        self.rows, self.open = [], set()
        self.past, self.upcoming = defaultdict(list), defaultdict(list)
        for session in TrainingSession.objects.filter(is_cancelled=False).order_by("starts_at"):
            (self.upcoming if session.starts_at.date() > today else self.past)[session.course_id].append(session)
        self.seats = defaultdict(int)

    def _session_before(self, course, day):
        """The latest past session of the course on or before `day` with a free seat."""
        for session in reversed(self.past[course.pk]):
            if session.starts_at.date() <= day and self.seats[session.pk] < session.capacity:
                self.seats[session.pk] += 1
                return session
        return None

    def result(self, contact, course, day, *, passed=True, status=None):
        session = self._session_before(course, day) if course.has_sessions else None
        if session is not None:
            day = session.starts_at.date()
        mark = int(course.pass_mark)
        score = self.rng.randint(mark, 100) if passed else self.rng.randint(max(mark - 35, 0), mark - 1)
        self.rows.append(
            TrainingRecord(
                contact=contact,
                course=course,
                session=session,
                status=status or (RecordStatus.PASSED if passed else RecordStatus.FAILED),
                score=Decimal(score),
                completed_on=day,
                expires_on=rules.expiry(course, day) if passed else None,
                source=RecordSource.IMPORT if self.rng.random() < 0.3 else RecordSource.STAFF,
            )
        )

    def valid_pass(self, contact, course):
        """A pass still valid today, completed within the validity (or two years)."""
        months = min(course.validity_months or 24, 24)
        self.result(contact, course, self.today - timedelta(days=self.rng.randint(20, months * 30 - 20)))

    def expiring_pass(self, contact, course, days):
        self.result(contact, course, add_months(self.today + timedelta(days=days), -course.validity_months))

    def lapsed_pass(self, contact, course):
        """A pass whose certification lapsed 1–4 months ago, marked expired."""
        lapsed_on = self.today - timedelta(days=self.rng.randint(30, 120))
        self.result(contact, course, add_months(lapsed_on, -course.validity_months), status=RecordStatus.EXPIRED)

    def attempt(self, contact, course, status):
        if (contact.pk, course.pk) in self.open:
            return
        session = None
        if course.has_sessions:
            free = [item for item in self.upcoming[course.pk] if self.seats[item.pk] < item.capacity]
            if not free:
                return
            session = free[0]
            self.seats[session.pk] += 1
        self.open.add((contact.pk, course.pk))
        self.rows.append(
            TrainingRecord(contact=contact, course=course, session=session, status=status, source=RecordSource.PORTAL)
        )

    def partner(self, index, partner, people):
        rank = partner.tier.rank if partner.tier else 1
        meets = partner.code == SHOWCASE or index % 3 != 2
        needed = REQUIREMENTS.get(rank, {})
        for offset, (code, count) in enumerate(sorted(needed.items())):
            course = self.courses[code]
            holders = [people[(offset + n) % len(people)] for n in range(count if meets else count - 1)]
            for holder in holders:
                if course.validity_months and self.rng.random() < 0.25:
                    self.lapsed_pass(holder, course)  # certified before, renewed since
                self.valid_pass(holder, course)
            if not meets and course.validity_months:
                self.lapsed_pass(people[(offset + count - 1) % len(people)], course)  # lost, not renewed
        self._history(index, partner, people)

    def _history(self, index, partner, people):
        """Beyond the requirements: expiring certifications, fails, withdrawals, open attempts."""
        online = [course for course in self.courses.values() if course.is_active and not course.has_sessions]
        if partner.code == SHOWCASE or index % 4 == 0:
            self.expiring_pass(people[-1], self.courses["SAL-102"], 12 + index % 40)
        if index % 5 == 1:
            course = self.courses["SAL-102"]
            self.result(people[0], course, self.today - timedelta(days=300), passed=False)
        if index % 6 == 3:
            course = self.courses["PRD-PLC-301"]
            self.result(people[1 % len(people)], course, self.today - timedelta(days=200), passed=False)
        if index % 7 == 2:
            self.rows.append(
                TrainingRecord(
                    contact=people[0],
                    course=self.courses["PRD-SW-101"],
                    status=RecordStatus.WITHDRAWN,
                    source=RecordSource.STAFF,
                )
            )
        if index % 2 == 0:
            self.attempt(people[index % len(people)], self.rng.choice(online), RecordStatus.IN_PROGRESS)
        if index % 3 == 0:
            self.attempt(people[0], self.courses["SAL-101"], RecordStatus.ENROLLED)
        if index % 5 == 0:
            self.attempt(people[-1], self.courses["TEC-SW-201"], RecordStatus.ENROLLED)

    def write(self):
        passes = sorted(
            (row for row in self.rows if row.status in (RecordStatus.PASSED, RecordStatus.EXPIRED)),
            key=lambda row: (row.completed_on, row.contact_id, row.course_id),
        )
        sequences = {}
        for row in passes:
            year = row.completed_on.year
            if year not in sequences:
                sequences[year] = rules.next_certificate_number(year)
            prefix, sequence = sequences[year]
            row.certificate_number = f"{prefix}{sequence:06d}"
            sequences[year] = (prefix, sequence + 1)
        TrainingRecord.objects.bulk_create(self.rows, batch_size=500)
        return len(self.rows)


@transaction.atomic
def seed(*, log=print):
    by = get_user_model().objects.filter(username="admin").first()
    if by is None:
        return
    today = timezone.localdate()
    courses = _courses(by, log)
    _requirements(by, courses)
    _materials(by, courses)
    _sessions(courses, today)
    builder = _Records(courses, today)
    trained = set(TrainingRecord.objects.values_list("contact__partner_id", flat=True).distinct())
    partners = (
        Partner.objects.filter(status=PartnerStatus.ACTIVE)
        .select_related("tier")
        .prefetch_related("contacts")
        .order_by("code")
    )
    # The index over every active partner decides each one's story, so a rerun draws the same.
    for index, partner in enumerate(partners):
        people = sorted(partner.contacts.all(), key=lambda contact: contact.pk)
        if people and partner.pk not in trained:
            builder.partner(index, partner, people)
    created = builder.write()
    log(f"training records created: {created}, in total: {TrainingRecord.objects.count()}")
