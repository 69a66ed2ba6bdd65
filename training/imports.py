"""The import of training records from a spreadsheet (CSV or Excel): every row checked against
the database and the rows above it, every bad cell reported with its row and column, nothing
written when any row is bad, and the same file imported twice changing nothing the second time.
See `records_import`."""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from partners.models import Partner, PartnerContact
from prm.audit import audit_record
from prm.models import AuditEntry
from prm.tabular import header_key, read_table

from . import access, rules
from .choices import RecordSource, RecordStatus
from .models import Course, TrainingRecord, TrainingSession

# Import of results ----------------------------------------------------------------------------

IMPORT_COLUMNS = (
    "partner_code",
    "contact_email",
    "course_code",
    "session_starts",
    "status",
    "score",
    "completed_on",
    "certificate_number",
)
IMPORT_REQUIRED = ("partner_code", "contact_email", "course_code", "status")
IMPORTABLE_STATUSES = (
    RecordStatus.ENROLLED,
    RecordStatus.IN_PROGRESS,
    RecordStatus.PASSED,
    RecordStatus.FAILED,
    RecordStatus.WITHDRAWN,
)
# The words a Chinese spreadsheet uses besides the UI's own labels.
CHINESE_STATUSES = {
    "已报名": RecordStatus.ENROLLED,
    "报名": RecordStatus.ENROLLED,
    "已注册": RecordStatus.ENROLLED,
    "进行中": RecordStatus.IN_PROGRESS,
    "学习中": RecordStatus.IN_PROGRESS,
    "培训中": RecordStatus.IN_PROGRESS,
    "已通过": RecordStatus.PASSED,
    "通过": RecordStatus.PASSED,
    "合格": RecordStatus.PASSED,
    "未通过": RecordStatus.FAILED,
    "不通过": RecordStatus.FAILED,
    "不合格": RecordStatus.FAILED,
    "已退出": RecordStatus.WITHDRAWN,
    "退出": RecordStatus.WITHDRAWN,
    "已撤销": RecordStatus.WITHDRAWN,
    "撤销": RecordStatus.WITHDRAWN,
}
DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]0{1,2}:00(?::00)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
)
MOMENT_PATTERN = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})[ T](\d{1,2}):(\d{2})(?::\d{2})?$")


@dataclass
class ImportReport:
    """What an import did (or, in a dry run or with errors, would do). `errors` are
    (row number as the file shows it, column, message); with any error nothing was written."""

    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self):
        return not self.errors


def _status_aliases():
    aliases = {}
    for status in IMPORTABLE_STATUSES:
        aliases[header_key(status.value)] = status
        for language in ("en", "zh-hans"):
            with translation.override(language):
                aliases[header_key(str(status.label))] = status
    aliases.update(CHINESE_STATUSES)
    return aliases


def _text(value):
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value if value is not None else "").strip()


def _cell_date(value):
    """A date from an Excel date cell or text such as 2026-03-01, 2026/3/1 or 2026年3月1日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    for pattern in DATE_PATTERNS:
        match = pattern.match(_text(value))
        if match:
            try:
                return date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                return None
    return None


def _cell_moment(value):
    """A minute in local time, from an Excel date-time cell or text such as 2026-03-01 09:30."""
    if isinstance(value, datetime):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    match = MOMENT_PATTERN.match(_text(value))
    if not match:
        return None
    try:
        return datetime(int(match[1]), int(match[2]), int(match[3]), int(match[4]), int(match[5]))
    except ValueError:
        return None


class _RecordImport:
    """Validates every row of an import against the database and the rows above it, and plans
    the writes. Lookups are set-based: a fixed number of queries whatever the number of rows."""

    def __init__(self, rows, by):
        self.rows, self.by = rows, by
        self.errors, self.created, self.updated, self.unchanged = [], [], {}, 0
        self.aliases = _status_aliases()
        self.today = timezone.localdate()
        self._load()

    # Loading ------------------------------------------------------------------------------

    def _load(self):
        codes = {_text(cells.get("partner_code")).upper() for _row, cells in self.rows}
        self.partners = {
            partner.code: partner for partner in Partner.objects.filter(code__in=codes).select_related("region")
        }
        self.contacts = defaultdict(list)
        for contact in PartnerContact.objects.filter(partner__in=list(self.partners.values())).exclude(email=""):
            self.contacts[(contact.partner_id, contact.email.strip().lower())].append(contact)
        course_codes = {_text(cells.get("course_code")).upper() for _row, cells in self.rows}
        self.courses = {course.code: course for course in Course.objects.filter(code__in=course_codes)}
        self.sessions = {}
        sessions = TrainingSession.objects.select_for_update().filter(course__in=list(self.courses.values()))
        for session in sessions.order_by("pk"):
            start = timezone.localtime(session.starts_at).replace(second=0, microsecond=0, tzinfo=None)
            self.sessions[(session.course_id, start)] = session
        self.seats = dict(
            TrainingRecord.objects.filter(session__in=list(self.sessions.values()), status__in=rules.SEAT_STATUSES)
            .order_by()
            .values("session_id")
            .annotate(taken=Count("pk"))
            .values_list("session_id", "taken")
        )
        contact_ids = [contact.pk for people in self.contacts.values() for contact in people]
        self.state = defaultdict(lambda: {"open": None, "results": {}, "withdrawn": {}})
        existing = TrainingRecord.objects.select_for_update(of=("self",)).filter(
            contact_id__in=contact_ids, course__in=list(self.courses.values())
        )
        for record in existing.order_by("pk"):
            state = self.state[(record.contact_id, record.course_id)]
            if record.status in rules.OPEN_STATUSES:
                state["open"] = record
            elif record.status == RecordStatus.WITHDRAWN:
                state["withdrawn"][record.completed_on] = record
            else:
                state["results"][record.completed_on] = record
        numbers = {_text(cells.get("certificate_number")) for _row, cells in self.rows} - {""}
        self.numbers = dict(
            TrainingRecord.objects.filter(certificate_number__in=numbers).values_list("certificate_number", "pk")
        )
        self.numbers_in_file = {}
        self.identities = {}

    # Reading one row ------------------------------------------------------------------------

    def run(self):
        for number, cells in self.rows:
            self._row(number, cells)

    def _row(self, number, cells):
        self.row, errors = number, []

        def error(column, message):
            errors.append((number, column, str(message)))

        partner = self._partner(cells, error)
        contact = self._contact(cells, partner, error)
        course = self._course(cells, error)
        status = self._status(cells, error)
        score = self._score(cells, error)
        completed_on = self._completed_on(cells, error)
        session = self._session(cells, course, error)
        certificate = _text(cells.get("certificate_number"))
        if len(certificate) > 40:
            error("certificate_number", _("A certificate number has at most 40 characters."))
        if course is not None and status is not None and not errors:
            self._status_rules(course, status, score, completed_on, session, certificate, error)
        if not errors:
            self._plan(number, contact, course, status, score, completed_on, session, certificate, error)
        self.errors.extend(errors)

    def _partner(self, cells, error):
        code = _text(cells.get("partner_code")).upper()
        if not code:
            error("partner_code", _("Enter the partner's code."))
            return None
        partner = self.partners.get(code)
        if partner is None:
            error("partner_code", _("No partner has the code “%(code)s”.") % {"code": code})
            return None
        if self.by is not None and not access.can_manage_partner_training(self.by, partner):
            error(
                "partner_code",
                _("You can change only the training records of partners you own or that are in your regions."),
            )
            return None
        return partner

    def _contact(self, cells, partner, error):
        email = _text(cells.get("contact_email")).lower()
        if not email:
            error("contact_email", _("Enter the person's email."))
            return None
        if partner is None:
            return None
        people = self.contacts.get((partner.pk, email), [])
        if not people:
            error(
                "contact_email",
                _("%(email)s is not a contact of %(partner)s.") % {"email": email, "partner": partner.code},
            )
            return None
        if len(people) > 1:
            error(
                "contact_email",
                _("%(partner)s has several contacts with the email %(email)s; give each its own email first.")
                % {"email": email, "partner": partner.code},
            )
            return None
        return people[0]

    def _course(self, cells, error):
        code = _text(cells.get("course_code")).upper()
        if not code:
            error("course_code", _("Enter the course's code."))
            return None
        course = self.courses.get(code)
        if course is None:
            error("course_code", _("No course has the code “%(code)s”.") % {"code": code})
        return course

    def _status(self, cells, error):
        value = _text(cells.get("status"))
        status = self.aliases.get(header_key(value)) or self.aliases.get(value)
        if not value:
            error("status", _("Enter the status."))
        elif status is None:
            if header_key(value) == RecordStatus.EXPIRED.value:
                error("status", _("Expired is set by the daily job when a certification lapses; import it as passed."))
            else:
                error(
                    "status",
                    _("“%(value)s” is not a status: use %(choices)s.")
                    % {"value": value, "choices": ", ".join(status.value for status in IMPORTABLE_STATUSES)},
                )
        return status

    def _score(self, cells, error):
        value = cells.get("score")
        try:
            return rules.parse_score(value)
        except ValidationError:
            error("score", _("“%(value)s” is not a score: enter a number from 0 to 100.") % {"value": _text(value)})
            return None

    def _completed_on(self, cells, error):
        value = cells.get("completed_on")
        if value in (None, ""):
            return None
        day = _cell_date(value)
        if day is None:
            error("completed_on", _("“%(value)s” is not a date: use YYYY-MM-DD.") % {"value": _text(value)})
        elif day > self.today:
            error("completed_on", _("The completion date cannot be in the future."))
            return None
        return day

    def _session(self, cells, course, error):
        value = cells.get("session_starts")
        if value in (None, ""):
            return None
        moment = _cell_moment(value)
        if moment is None:
            error(
                "session_starts",
                _("“%(value)s” is not a date and time: use YYYY-MM-DD HH:MM.") % {"value": _text(value)},
            )
            return None
        if course is None:
            return None
        session = self.sessions.get((course.pk, moment))
        if session is None:
            error(
                "session_starts",
                _("%(course)s has no session starting at %(moment)s.")
                % {"course": course.code, "moment": f"{moment:%Y-%m-%d %H:%M}"},
            )
        elif session.is_cancelled:
            error("session_starts", _("That session of %(course)s was cancelled.") % {"course": course.code})
            return None
        return session

    def _status_rules(self, course, status, score, completed_on, session, certificate, error):
        if status in rules.OPEN_STATUSES:
            for column, value in (("score", score), ("completed_on", completed_on)):
                if value is not None:
                    error(column, _("An enrolled or in-progress attempt has no result yet; leave this empty."))
        elif status in (RecordStatus.PASSED, RecordStatus.FAILED):
            try:
                rules.check_result(course, status, score, completed_on, session)
            except ValidationError as problem:
                for column, messages in problem.message_dict.items():
                    error(column, messages[0])
        if certificate and status != RecordStatus.PASSED:
            error("certificate_number", _("Only a pass has a certificate number."))

    # Planning ------------------------------------------------------------------------------

    def _identity(self, number, key, error):
        first = self.identities.setdefault(key, number)
        if first != number:
            error(
                "contact_email",
                _("Row %(row)s already has this person and course with the same status and date.") % {"row": first},
            )
            return False
        return True

    def _take_seat(self, session, record, error):
        """Whether the session has room for one more (a record moving into it, or a new one)."""
        if session is None or (record is not None and record.session_id == session.pk):
            return True
        if self.seats.get(session.pk, 0) >= session.capacity:
            error(
                "session_starts",
                rules.session_full(session),
            )
            return False
        self.seats[session.pk] = self.seats.get(session.pk, 0) + 1
        if record is not None and record.session_id:
            self.seats[record.session_id] = self.seats.get(record.session_id, 0) - 1
        return True

    def _certificate_ok(self, certificate, record, error):
        if not certificate:
            return True
        owner = self.numbers.get(certificate)
        taken_here = self.numbers_in_file.setdefault(certificate, self.row) != self.row
        if (owner is not None and (record is None or owner != record.pk)) or taken_here:
            error(
                "certificate_number",
                _("The certificate number %(number)s belongs to another training record.") % {"number": certificate},
            )
            return False
        return True

    def _plan(self, number, contact, course, status, score, completed_on, session, certificate, error):
        state = self.state[(contact.pk, course.pk)]
        if status in rules.OPEN_STATUSES:
            if self._identity(number, (contact.pk, course.pk, "open"), error):
                self._plan_open(state, contact, course, status, session, error)
        elif status == RecordStatus.WITHDRAWN:
            if self._identity(number, (contact.pk, course.pk, status, completed_on), error):
                self._plan_withdrawn(state, contact, course, completed_on, session, error)
        elif self._identity(number, (contact.pk, course.pk, "result", completed_on), error):
            self._plan_result(state, contact, course, status, score, completed_on, session, certificate, error)

    def _new(self, contact, course, **values):
        record = TrainingRecord(
            contact=contact, course=course, source=RecordSource.IMPORT, enrolled_by=rules.actor(self.by), **values
        )
        self.created.append(record)
        return record

    def _change(self, record, **values):
        """Set the values that differ; count the record updated (once) when any did."""
        changed = {name: value for name, value in values.items() if getattr(record, name) != value}
        if not changed:
            return False
        for name, value in changed.items():
            setattr(record, name, value)
        if record.pk is not None:
            self.updated[record.pk] = record
        return True

    def _plan_open(self, state, contact, course, status, session, error):
        record = state["open"]
        if record is None:
            if not course.is_active:
                error("course_code", _("%(course)s is no longer offered.") % {"course": course.code})
            elif self._take_seat(session, None, error):
                state["open"] = self._new(contact, course, status=status, session=session)
            return
        if record.status == RecordStatus.IN_PROGRESS and status == RecordStatus.ENROLLED:
            error(
                "status",
                _("%(person)s is already in progress in %(course)s; an attempt does not go back to enrolled.")
                % {"person": contact, "course": course.code},
            )
            return
        if not self._take_seat(session, record, error):
            return
        values = {"status": status, **({"session": session} if session is not None else {})}
        if not self._change(record, **values) and record.pk is not None:
            self.unchanged += 1

    def _consumable_open(self, state):
        """The open attempt a result or a withdrawal completes: one already in the database. An
        attempt a row above created stays as it is (so the file imported again matches it)."""
        record = state["open"]
        return record if record is not None and record.pk is not None else None

    def _plan_withdrawn(self, state, contact, course, completed_on, session, error):
        if completed_on in state["withdrawn"]:
            self.unchanged += 1
            return
        record = self._consumable_open(state)
        if record is not None:
            state["open"] = None
            if record.session_id:
                self.seats[record.session_id] = self.seats.get(record.session_id, 0) - 1
            self._change(record, status=RecordStatus.WITHDRAWN, completed_on=completed_on)
            state["withdrawn"][completed_on] = record
        else:
            state["withdrawn"][completed_on] = self._new(
                contact, course, status=RecordStatus.WITHDRAWN, completed_on=completed_on, session=session
            )

    def _plan_result(self, state, contact, course, status, score, completed_on, session, certificate, error):
        record = state["results"].get(completed_on)
        if record is not None:
            held = RecordStatus.FAILED if record.status == RecordStatus.FAILED else RecordStatus.PASSED
            if held != status:
                error(
                    "status",
                    _("The result of %(date)s is already recorded as %(status)s; a result does not change.")
                    % {"date": completed_on.isoformat(), "status": str(held.label).lower()},
                )
                return
            if certificate and record.certificate_number and certificate != record.certificate_number:
                error(
                    "certificate_number",
                    _("This pass already has the certificate number %(number)s.")
                    % {"number": record.certificate_number},
                )
                return
            values = {"score": score}
            if certificate and not record.certificate_number:
                values["certificate_number"] = certificate
            if session is not None:
                values["session"] = session
            if self._certificate_ok(certificate, record, error) and not self._change(record, **values):
                self.unchanged += 1
            return
        record = self._consumable_open(state)
        if not self._certificate_ok(certificate, record, error):
            return
        values = {
            "status": status,
            "score": score,
            "completed_on": completed_on,
            "expires_on": rules.expiry(course, completed_on) if status == RecordStatus.PASSED else None,
            "certificate_number": certificate,
        }
        if record is not None:
            if session is not None and not self._take_seat(session, record, error):
                return
            state["open"] = None
            self._change(record, **values, **({"session": session} if session is not None else {}))
        else:
            if session is not None and not self._take_seat(session, None, error):
                return
            record = self._new(contact, course, session=session, **values)
        state["results"][completed_on] = record

    # Writing -------------------------------------------------------------------------------

    def write(self):
        now = timezone.now()
        for record in self.updated.values():
            record.updated_at = now
        unnumbered = [
            record
            for record in [*self.created, *self.updated.values()]
            if record.status == RecordStatus.PASSED and not record.certificate_number
        ]
        for attempt in range(rules.CERTIFICATE_ATTEMPTS):
            self._number(unnumbered)
            try:
                with transaction.atomic():
                    TrainingRecord.objects.bulk_update(
                        list(self.updated.values()),
                        [
                            "status",
                            "session",
                            "score",
                            "completed_on",
                            "expires_on",
                            "certificate_number",
                            "updated_at",
                        ],
                        batch_size=500,
                    )
                    TrainingRecord.objects.bulk_create(self.created, batch_size=500)
                return
            except IntegrityError as error:
                for record in self.created:
                    record.pk = None
                if attempt == rules.CERTIFICATE_ATTEMPTS - 1:
                    raise ValidationError(
                        _("Another change to the same data was saved at the same moment; reload and try again.")
                    ) from error

    @staticmethod
    def _number(records):
        """Consecutive certificate numbers from the next free one of each completion year."""
        by_year = defaultdict(list)
        for record in records:
            by_year[record.completed_on.year].append(record)
        for year, passes in by_year.items():
            prefix, sequence = rules.next_certificate_number(year)
            for offset, record in enumerate(passes):
                record.certificate_number = f"{prefix}{sequence + offset:06d}"


class _ImportSubject:
    """What the history entry of an import is about: the training records, as a whole."""

    _meta = TrainingRecord._meta
    pk = "import"

    def __init__(self, name):
        self.name = name

    def __str__(self):
        return self.name


def records_import(*, file, by, dry_run=False):
    """Import training records from a CSV (UTF-8, or GB18030 as Chinese Excel saves it) or .xlsx
    file with the columns partner_code, contact_email, course_code, status (required) and
    session_starts (YYYY-MM-DD HH:MM), score, completed_on (YYYY-MM-DD), certificate_number
    (optional); headers in any case. Status is a code (enrolled, in_progress, passed, failed,
    withdrawn) or its English or Chinese label.

    Every row is checked and every bad cell reported as (row, column, reason), the header being
    row 1; with any error, or in a dry run, nothing is written and the report says what would
    happen. A row is identified by (person, course, completion date), or (person, course) for an
    open attempt: a result for a person with an open attempt completes it, the same file imported
    twice changes nothing the second time (all rows unchanged). A pass without a certificate
    number gets one. One history entry records each import that wrote. The file itself (type,
    size, unreadable) is refused with a ValidationError on "file"."""
    if by is not None:
        access.require_manage_training(by)
    table = read_table(file)
    report = ImportReport(dry_run=dry_run, total=len(table.rows))
    missing = [column for column in IMPORT_REQUIRED if column not in table.header]
    if missing:
        report.errors = [
            (
                table.header_row,
                column,
                _("The column “%(column)s” is missing; the required columns are %(columns)s.")
                % {"column": column, "columns": ", ".join(IMPORT_REQUIRED)},
            )
            for column in missing
        ]
        return report
    with transaction.atomic():
        plan = _RecordImport(table.rows, by)
        plan.run()
        report.errors = sorted(plan.errors, key=lambda item: (item[0], _column_order(item[1])))
        report.created, report.updated, report.unchanged = len(plan.created), len(plan.updated), plan.unchanged
        if report.errors or dry_run:
            return report
        plan.write()
        audit_record(
            instance=_ImportSubject(_("Import of %(file)s") % {"file": getattr(file, "name", "")}),
            action=AuditEntry.Action.CREATE,
            by=by,
            changes={
                "file": [None, getattr(file, "name", "")],
                "total": [None, report.total],
                "created": [None, report.created],
                "updated": [None, report.updated],
                "unchanged": [None, report.unchanged],
            },
        )
    return report


def _column_order(column):
    return IMPORT_COLUMNS.index(column) if column in IMPORT_COLUMNS else len(IMPORT_COLUMNS)
