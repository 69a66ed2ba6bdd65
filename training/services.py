"""Writes to training. Each service checks who acts (training.access), validates, writes in one
transaction, records history (prm.audit) and raises a ValidationError naming the field and the
reason when the input is wrong, or PermissionDenied when the actor may not do it. `by=None` is
the system (a background job, the demo seed): no permission check.

The rules: a course with sessions (classroom, webinar) is taken in a session of that course that
is neither cancelled nor started, and a session never holds more people than its capacity, even
when two enrolments race for the last seat (the session row is locked while counting); a person
has one open attempt per course; a record moves only along RECORD_TRANSITIONS; a pass has a
completion date and a score at or above the course's pass mark (a fail a score below it), and
grants a certification with a unique number until completion + the course's validity in months
(clamped to the end of a shorter month; never, when the course has no validity); the daily job
alone marks lapsed certifications expired.
"""

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from partners.choices import PartnerStatus
from partners.models import PartnerContact
from prm.audit import audit_record, diff, snapshot
from prm.models import AuditEntry
from prm.notifications import notify_many, page_url
from prm.roles import Role
from prm.uploads import COURSE_MATERIALS, validate_upload

from . import access, rules
from .choices import RECORD_TRANSITIONS, MaterialKind, RecordSource, RecordStatus, ReminderWindow
from .events import certifications_expiring
from .imports import ImportReport, records_import  # noqa: F401 (the import is one of the services)
from .models import CertificationReminder, Course, CourseMaterial, TierRequirement, TrainingRecord, TrainingSession

COURSE_FIELDS = (
    "code",
    "title",
    "course_type",
    "product_line",
    "level",
    "description",
    "duration_hours",
    "delivery",
    "pass_mark",
    "validity_months",
    "is_active",
)
SESSION_FIELDS = ("starts_at", "ends_at", "location", "capacity")


# Helpers ------------------------------------------------------------------------------------


def _check(user, rule, *args):
    if user is not None:
        rule(user, *args)


def _save(instance, *, exclude=None):
    instance.full_clean(exclude=exclude)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        raise ValidationError(
            _("Another change to the same data was saved at the same moment; reload and try again.")
        ) from error


def _apply(instance, data, allowed):
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    for name, value in data.items():
        setattr(instance, name, value.strip() if isinstance(value, str) else value)


def _moment(value):
    return date_format(timezone.localtime(value), "DATETIME_FORMAT")


def _audit_rows(model, rows, changes_of):
    """One STATUS history entry per (pk, repr) in `rows`, in one query (for set-based writes)."""
    AuditEntry.objects.bulk_create(
        AuditEntry(
            object_type=model._meta.label_lower,
            object_id=str(pk),
            object_repr=str(text)[:200],
            action=AuditEntry.Action.STATUS,
            changes=changes_of(pk),
        )
        for pk, text in rows
    )


def _partner_admins(partner_ids):
    """{partner_id: [active portal users who are the partner's admins]} in one query."""
    admins = defaultdict(list)
    for contact in PartnerContact.objects.filter(
        partner_id__in=set(partner_ids), user__is_active=True, user__groups__name=Role.PARTNER_ADMIN
    ).select_related("user"):
        admins[contact.partner_id].append(contact.user)
    return admins


# Courses ------------------------------------------------------------------------------------


def _clean_course(course):
    course.code = (course.code or "").strip().upper()
    if course.product_line_id and not course.product_line.is_active:
        raise ValidationError(
            {
                "product_line": _("%(line)s is no longer sold; choose an active product line.")
                % {"line": course.product_line}
            }
        )


@transaction.atomic
def course_create(*, by, **data):
    """Add a course to the catalogue; its code is unique (stored in capitals)."""
    _check(by, access.require_manage_training)
    course = Course()
    _apply(course, data, COURSE_FIELDS)
    _clean_course(course)
    _save(course)
    audit_record(instance=course, action=AuditEntry.Action.CREATE, by=by)
    return course


@transaction.atomic
def course_update(*, course, by, **data):
    """Change a course. A course that has upcoming sessions keeps a delivery with sessions (cancel
    them first). A new pass mark or validity applies to results recorded from now on; the
    certifications already granted keep their expiry."""
    _check(by, access.require_manage_training)
    course = Course.objects.select_for_update().get(pk=course.pk)
    before = snapshot(course, [name for name in COURSE_FIELDS if name in data])
    _apply(course, data, COURSE_FIELDS)
    _clean_course(course)
    if not course.has_sessions and course.sessions.filter(is_cancelled=False, starts_at__gt=timezone.now()).exists():
        raise ValidationError(
            {"delivery": _("The course has upcoming sessions; cancel them before making it an online course.")}
        )
    _save(course)
    changes = diff(before, snapshot(course, list(before)))
    if changes:
        audit_record(instance=course, action=AuditEntry.Action.UPDATE, by=by, changes=changes)
    return course


# Tier requirements ----------------------------------------------------------------------------


def _course_touch(course):
    """A course lists its tier requirements: changing one changes the course for a system syncing
    with `updated_since`."""
    Course.objects.filter(pk=course.pk).update(updated_at=timezone.now())


@transaction.atomic
def tier_requirement_set(*, course, tier, certified_people, by):
    """Require `certified_people` (1 or more) people certified in `course` of every partner of
    `tier`: creates the requirement or changes the number."""
    _check(by, access.require_manage_training)
    requirement = TierRequirement.objects.select_for_update().filter(course=course, tier=tier).first()
    before = requirement.certified_people if requirement else None
    if requirement is None:
        requirement = TierRequirement(course=course, tier=tier)
    requirement.certified_people = certified_people
    _save(requirement)
    if before != requirement.certified_people:
        _course_touch(course)
        audit_record(
            instance=course,
            action=AuditEntry.Action.UPDATE,
            by=by,
            changes={
                "tier_requirement": [
                    f"{tier}: {before}" if before is not None else None,
                    f"{tier}: {requirement.certified_people}",
                ]
            },
        )
    return requirement


@transaction.atomic
def tier_requirement_delete(*, requirement, by):
    """The tier no longer requires the course."""
    _check(by, access.require_manage_training)
    text = f"{requirement.tier}: {requirement.certified_people}"
    course = requirement.course
    TierRequirement.objects.filter(pk=requirement.pk).delete()
    _course_touch(course)
    audit_record(instance=course, action=AuditEntry.Action.UPDATE, by=by, changes={"tier_requirement": [text, None]})


# Materials ------------------------------------------------------------------------------------


@transaction.atomic
def material_add(*, course, by, title, kind, file=None, url="", min_tier=None):
    """Add a manual, deck or link to a course. A file is a PDF, PNG, JPEG, Word, Excel or
    PowerPoint file (checked by extension and by content, at most settings.PRM_MAX_UPLOAD_MB); a
    link is an http(s) address. `min_tier` shows it only to partners of that tier or higher."""
    _check(by, access.require_manage_training)
    if kind not in MaterialKind.values:
        raise ValidationError({"kind": _("“%(kind)s” is not a type of material.") % {"kind": kind}})
    material = CourseMaterial(
        course=course, title=(title or "").strip(), kind=kind, min_tier=min_tier, uploaded_by=rules.actor(by)
    )
    if kind == MaterialKind.FILE:
        if url:
            raise ValidationError({"url": _("A file has no link; choose the link type to add a link.")})
        name, content_type = validate_upload(file, allowed=COURSE_MATERIALS)
        material.original_name, material.content_type, material.size = name, content_type, file.size
        material.full_clean(exclude=["file"])
        material.file.save(name, file, save=False)
        material.save()
    else:
        if file:
            raise ValidationError({"file": _("A link has no file; choose the file type to upload a file.")})
        material.url = (url or "").strip()
        if not material.url:
            raise ValidationError({"url": _("Enter the link.")})
        _save(material)
    audit_record(instance=course, action=AuditEntry.Action.UPDATE, by=by, changes={"material": [None, material.title]})
    return material


@transaction.atomic
def material_delete(*, material, by):
    """Remove a material, and its file once the transaction commits."""
    _check(by, access.require_manage_training)
    course, title, stored = material.course, material.title, material.file
    CourseMaterial.objects.filter(pk=material.pk).delete()
    if stored:
        storage, path = stored.storage, stored.name
        transaction.on_commit(lambda: storage.delete(path))
    audit_record(instance=course, action=AuditEntry.Action.UPDATE, by=by, changes={"material": [title, None]})


# Sessions -------------------------------------------------------------------------------------


def seats_taken(session):
    """People holding a seat in the session: everyone enrolled in it who did not withdraw."""
    return session.records.filter(status__in=rules.SEAT_STATUSES).count()


def _clean_session(session):
    session.location = (session.location or "").strip()
    session.clean_fields()
    if session.ends_at <= session.starts_at:
        raise ValidationError({"ends_at": _("The session must end after it starts.")})
    session.full_clean()


def _locked_session(session):
    return TrainingSession.objects.select_for_update(of=("self",)).select_related("course").get(pk=session.pk)


@transaction.atomic
def session_create(*, course, by, starts_at, ends_at, location, capacity):
    """Schedule a session of a classroom or webinar course that is still offered."""
    _check(by, access.require_manage_training)
    if not course.has_sessions:
        raise ValidationError(
            {"course": _("%(course)s is an online course: it has no sessions.") % {"course": course.title}}
        )
    if not course.is_active:
        raise ValidationError({"course": _("%(course)s is no longer offered.") % {"course": course.title}})
    session = TrainingSession(course=course, starts_at=starts_at, ends_at=ends_at, location=location, capacity=capacity)
    _clean_session(session)
    session.save()
    audit_record(instance=session, action=AuditEntry.Action.CREATE, by=by)
    return session


@transaction.atomic
def session_update(*, session, by, **data):
    """Change a session's times, place or capacity; the capacity never drops below the people
    already holding a seat. A cancelled session does not change."""
    _check(by, access.require_manage_training)
    session = _locked_session(session)
    if session.is_cancelled:
        raise ValidationError(_("The session is cancelled; it cannot change."))
    before = snapshot(session, [name for name in SESSION_FIELDS if name in data])
    _apply(session, data, SESSION_FIELDS)
    _clean_session(session)
    taken = seats_taken(session)
    if session.capacity < taken:
        raise ValidationError(
            {
                "capacity": _("%(count)s people hold a seat in this session; the capacity cannot be lower.")
                % {"count": taken}
            }
        )
    session.save()
    changes = diff(before, snapshot(session, list(before)))
    if changes:
        audit_record(instance=session, action=AuditEntry.Action.UPDATE, by=by, changes=changes)
    return session


def _cancellation_texts(session):
    params = {"course": session.course.title}

    def subject():
        return _("The %(course)s session on %(date)s is cancelled") % {
            **params,
            "date": rules.date_text(session.starts_at),
        }

    def message():
        return _(
            "The %(course)s session of %(when)s at %(place)s is cancelled, and the enrolments in it are "
            "withdrawn. Enrol again in another session of the course."
        ) % {**params, "when": _moment(session.starts_at), "place": session.location}

    return subject, message


@transaction.atomic
def session_cancel(*, session, by):
    """Cancel a session that has not started: the open enrolments in it are withdrawn (freeing
    the people to enrol in another session), and the enrolled people (with a portal login) and
    their partners' admins are notified, in the list and by email."""
    _check(by, access.require_manage_training)
    session = _locked_session(session)
    if session.is_cancelled:
        raise ValidationError(_("The session is already cancelled."))
    if session.starts_at <= timezone.now():
        raise ValidationError(_("The session has already started; it can no longer be cancelled."))
    session.is_cancelled = True
    session.save(update_fields=["is_cancelled", "updated_at"])
    audit_record(instance=session, action=AuditEntry.Action.STATUS, by=by, changes={"is_cancelled": [False, True]})
    records = list(
        TrainingRecord.objects.select_for_update(of=("self",))
        .filter(session=session, status__in=rules.OPEN_STATUSES)
        .select_related("contact", "contact__user", "course")
        .order_by("pk")
    )
    if not records:
        return session
    previous = {record.pk: record.status for record in records}
    TrainingRecord.objects.filter(pk__in=previous).update(status=RecordStatus.WITHDRAWN, updated_at=timezone.now())
    _audit_rows(
        TrainingRecord,
        [(record.pk, record) for record in records],
        lambda pk: {"status": [previous[pk], RecordStatus.WITHDRAWN.value], "reason": [None, "session cancelled"]},
    )
    admins = _partner_admins(record.contact.partner_id for record in records)
    people = [record.contact.user for record in records if record.contact.user and record.contact.user.is_active]
    subject, message = _cancellation_texts(session)
    notify_many(
        [
            {
                "recipients": people + [user for partner_id in admins for user in admins[partner_id]],
                "subject": subject,
                "message": message,
                "url": page_url("portal-training:course", session.course_id),
                "dedupe_key": f"training.session_cancelled:{session.pk}",
            }
        ]
    )
    return session


# Enrolment ------------------------------------------------------------------------------------


def _clean_enrolment_session(course, session):
    if not course.has_sessions:
        if session is not None:
            raise ValidationError(
                {"session": _("%(course)s is an online course: it has no sessions.") % {"course": course.title}}
            )
        return None
    if session is None:
        raise ValidationError({"session": _("Choose a session of %(course)s.") % {"course": course.title}})
    if session.course_id != course.pk:
        raise ValidationError({"session": _("The session is not one of %(course)s.") % {"course": course.title}})
    session = _locked_session(session)
    if session.is_cancelled:
        raise ValidationError({"session": _("The session is cancelled; choose another one.")})
    if session.starts_at <= timezone.now():
        raise ValidationError({"session": _("The session has already started; choose a later one.")})
    return session


@transaction.atomic
def enrol(*, contact, course, by, session=None, source=RecordSource.STAFF):
    """Enrol a partner's person in a course that is still offered; a classroom or webinar course
    in one of its sessions that is neither cancelled nor started and still has a free seat. The
    session row is locked while the seats are counted, so two enrolments racing for the last
    seat never both get it. One open attempt per person and course. Staff enrol the people of the
    partners they manage; a partner's portal users the people of their own partner."""
    partner = contact.partner
    _check(by, access.require_enrol, partner)
    if partner.status == PartnerStatus.TERMINATED:
        raise ValidationError({"contact": _("%(partner)s is terminated.") % {"partner": partner}})
    if not course.is_active:
        raise ValidationError({"course": _("%(course)s is no longer offered.") % {"course": course.title}})
    if source not in RecordSource.values:
        raise ValidationError({"source": _("This field cannot be set here.")})
    session = _clean_enrolment_session(course, session)
    already = TrainingRecord.objects.filter(contact=contact, course=course, status__in=rules.OPEN_STATUSES).exists()
    if already:
        raise ValidationError(
            {
                "contact": _("%(person)s is already enrolled in %(course)s.")
                % {"person": contact, "course": course.title}
            }
        )
    if session is not None and seats_taken(session) >= session.capacity:
        raise ValidationError({"session": rules.session_full(session)})
    record = TrainingRecord(
        contact=contact,
        course=course,
        session=session,
        status=RecordStatus.ENROLLED,
        source=source,
        enrolled_by=rules.actor(by),
    )
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError as error:  # the same person enrolled at the same moment
        raise ValidationError(
            {
                "contact": _("%(person)s is already enrolled in %(course)s.")
                % {"person": contact, "course": course.title}
            }
        ) from error
    audit_record(
        instance=record,
        action=AuditEntry.Action.CREATE,
        by=by,
        changes={"session": [None, str(session)]} if session else None,
    )
    return record


# Results --------------------------------------------------------------------------------------


def _locked_record(record):
    return (
        TrainingRecord.objects.select_for_update(of=("self",))
        .select_related("contact", "contact__partner", "contact__partner__region", "course", "session")
        .get(pk=record.pk)
    )


def _refuse_move(record, status):
    if status not in RECORD_TRANSITIONS[RecordStatus(record.status)]:
        raise ValidationError(
            {
                "status": _("A training record cannot go from %(current)s to %(new)s.")
                % {"current": record.get_status_display(), "new": RecordStatus(status).label}
            }
        )


def _move(record, status, by, **stamps):
    """Move along RECORD_TRANSITIONS or refuse naming the current and the wanted status."""
    _refuse_move(record, status)
    fields = ["status", *stamps]
    before = snapshot(record, fields)
    record.status = status
    for name, value in stamps.items():
        setattr(record, name, value)
    record.save(update_fields=[*fields, "updated_at"])
    audit_record(
        instance=record, action=AuditEntry.Action.STATUS, by=by, changes=diff(before, snapshot(record, fields))
    )
    return record


@transaction.atomic
def record_start(*, record, by):
    """The person has started the course (enrolled → in progress)."""
    record = _locked_record(record)
    _check(by, access.require_record_results, record)
    return _move(record, RecordStatus.IN_PROGRESS, by)


def _as_date(value, field):
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as error:
        raise ValidationError({field: _("Enter a date as YYYY-MM-DD.")}) from error


def _save_numbered(record, fields):
    """Save a pass under the next free certificate number. Two passes racing for the same number:
    the unique constraint refuses the second, which takes the next one (inside a savepoint)."""
    for attempt in range(rules.CERTIFICATE_ATTEMPTS):
        prefix, sequence = rules.next_certificate_number(record.completed_on.year)
        record.certificate_number = f"{prefix}{sequence:06d}"
        try:
            with transaction.atomic():
                record.save(update_fields=[*fields, "certificate_number"])
            return record
        except IntegrityError:
            if attempt == rules.CERTIFICATE_ATTEMPTS - 1:
                raise
    return record  # pragma: no cover


@transaction.atomic
def record_result(*, record, by, status, score=None, completed_on=None):
    """Record the result of an open attempt. A pass needs its completion date and a score at or
    above the course's pass mark; it gets a unique certificate number (TC-<year>-<sequence>) and
    expires `validity_months` after completion (clamped to the end of a shorter month; never when
    the course has no validity). A fail with a score at or above the pass mark is refused; a fail
    without a date is dated today."""
    record = _locked_record(record)
    _check(by, access.require_record_results, record)
    _refuse_move(record, status)
    score = rules.parse_score(score)
    completed_on = _as_date(completed_on, "completed_on")
    if status == RecordStatus.FAILED and completed_on is None:
        completed_on = timezone.localdate()
    rules.check_result(record.course, status, score, completed_on, record.session)
    previous = snapshot(record, ["status", "score", "completed_on", "expires_on"])
    record.status, record.score, record.completed_on = status, score, completed_on
    fields = ["status", "score", "completed_on", "expires_on", "updated_at"]
    if status == RecordStatus.PASSED:
        record.expires_on = rules.expiry(record.course, completed_on)
        _save_numbered(record, fields)
    else:
        record.expires_on = None
        record.save(update_fields=fields)
    changes = diff(previous, snapshot(record, list(previous)))
    if record.certificate_number:
        changes["certificate_number"] = [None, record.certificate_number]
    audit_record(instance=record, action=AuditEntry.Action.STATUS, by=by, changes=changes)
    return record


@transaction.atomic
def record_withdraw(*, record, by):
    """The person leaves the course before a result (enrolled or in progress → withdrawn), which
    frees their seat. A partner's portal user withdraws an enrolment of their own partner that has
    not started."""
    record = _locked_record(record)
    _check(by, access.require_withdraw, record)
    return _move(record, RecordStatus.WITHDRAWN, by)


# The certificate ------------------------------------------------------------------------------


def certificate_pdf(*, record, language):
    """The certificate of a pass as PDF bytes, in `language` ("en", "zh-hans"): course, person,
    partner, certificate number, completion and expiry dates, score. Refused for a record without
    a certificate."""
    if not access.can_download_certificate(None, record):
        raise ValidationError(_("Only a pass has a certificate."))
    from .certificates import render_certificate  # reportlab loads only when a certificate is asked for

    return render_certificate(record, language)


# The daily job --------------------------------------------------------------------------------


def _expire_lapsed(today):
    lapsed = list(
        TrainingRecord.objects.select_for_update(of=("self",))
        .filter(status=RecordStatus.PASSED, expires_on__lt=today)
        .select_related("contact", "course")
        .order_by("pk")
    )
    if not lapsed:
        return 0
    TrainingRecord.objects.filter(pk__in=[record.pk for record in lapsed], status=RecordStatus.PASSED).update(
        status=RecordStatus.EXPIRED, updated_at=timezone.now()
    )
    _audit_rows(
        TrainingRecord,
        [(record.pk, record) for record in lapsed],
        lambda pk: {"status": [RecordStatus.PASSED.value, RecordStatus.EXPIRED.value]},
    )
    return len(lapsed)


def _applicable_window(days_left):
    """The smallest reminder window the certification is inside (30 when 20 days are left), or None."""
    inside = [window for window in ReminderWindow.values if days_left <= window]
    return min(inside) if inside else None


def _reminder_texts(record, window):
    params = {"person": record.contact.name, "course": record.course.title, "number": record.certificate_number}

    def subject():
        return _("%(person)s's %(course)s certification expires within %(days)s days") % {**params, "days": window}

    def message():
        return _(
            "The %(course)s certification of %(person)s (certificate %(number)s) expires on %(date)s. "
            "Enrol in the course again to renew it."
        ) % {**params, "date": rules.date_text(record.expires_on)}

    return subject, message


def _send_reminders(today):
    longest = max(ReminderWindow.values)
    due = list(
        TrainingRecord.objects.select_for_update(of=("self",))
        .filter(status=RecordStatus.PASSED, expires_on__gte=today, expires_on__lte=today + timedelta(days=longest))
        .select_related("contact", "contact__user", "course")
        .order_by("pk")
    )
    if not due:
        return 0
    sent = defaultdict(set)
    for record_id, window in CertificationReminder.objects.filter(record__in=due).values_list(
        "record_id", "window_days"
    ):
        sent[record_id].add(window)
    admins = _partner_admins(record.contact.partner_id for record in due)
    reminders, notices, mails = [], [], []
    for record in due:
        window = _applicable_window((record.expires_on - today).days)
        # Once a window's reminder went out the larger windows are over: nothing more until the
        # certification enters a smaller one.
        if window is None or any(previous <= window for previous in sent[record.pk]):
            continue
        reminders.append(CertificationReminder(record=record, window_days=window))
        subject, message = _reminder_texts(record, window)
        person = record.contact.user if record.contact.user and record.contact.user.is_active else None
        notices.append(
            {
                "recipients": [person, *admins[record.contact.partner_id]],
                "subject": subject,
                "message": message,
                "url": page_url("portal-training:certifications"),
                "dedupe_key": f"training.expiry:{record.pk}:{window}",
            }
        )
        if person is None and record.contact.email:
            # No portal login: an email to the address on the contact, in the site's language.
            with translation.override(settings.LANGUAGE_CODE):
                mails.append((subject(), message(), None, [record.contact.email]))
    CertificationReminder.objects.bulk_create(reminders, ignore_conflicts=True)
    notify_many(notices)
    certifications_expiring([reminder.record for reminder in reminders])
    if mails:
        transaction.on_commit(lambda: send_mass_mail(mails, fail_silently=True))
    return len(reminders)


@transaction.atomic
def certifications_expiry_run(*, today=None):
    """The daily job: passes whose certification lapsed (expires_on before today) become expired;
    then each certification entering a reminder window (60 and 30 days before its expiry) gets
    one reminder for that window, to the person (in the notifications list when they have a
    portal login, else by email to the contact's address) and their partner's admins. A
    certification first seen inside 30 days gets only the 30-day reminder. Idempotent: a
    CertificationReminder per record and window, and the rows locked while the run decides. A
    fixed number of queries however many certifications."""
    today = today or timezone.localdate()
    expired = _expire_lapsed(today)
    reminders = _send_reminders(today)
    return {"expired": expired, "reminders": reminders}
