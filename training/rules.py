"""The rules of a training result, shared by the services and the import of results: what a
score is, when a pass or a fail may be recorded, when its certification expires, and the next
certificate number."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from prm.periods import add_months

from .choices import RecordStatus
from .models import TrainingRecord

OPEN_STATUSES = (RecordStatus.ENROLLED, RecordStatus.IN_PROGRESS)
# A seat stays taken by whoever did not withdraw (attending and failing still took the seat).
SEAT_STATUSES = (
    RecordStatus.ENROLLED,
    RecordStatus.IN_PROGRESS,
    RecordStatus.PASSED,
    RecordStatus.FAILED,
    RecordStatus.EXPIRED,
)
CERTIFICATE_ATTEMPTS = 20
SCORE_QUANTUM = Decimal("0.01")


def actor(by):
    """The user to stamp on a row (`enrolled_by`, `uploaded_by`): none for the system or an API key."""
    if by is None or not by.is_authenticated or getattr(by, "api_key", None) is not None:
        return None
    return by


def date_text(value):
    return date_format(value, "DATE_FORMAT")


def number_text(value):
    """85.00 → "85", 72.50 → "72.5": how people write scores."""
    return f"{value.normalize():f}"


def parse_score(value, field="score"):
    """A score from 0 to 100 as a Decimal with two places (half-up), or None when empty."""
    if value in (None, ""):
        return None
    text = str(value).strip().rstrip("%").strip()
    try:
        score = Decimal(text)
    except (InvalidOperation, ValueError) as error:
        raise ValidationError({field: _("Enter a score from 0 to 100.")}) from error
    if not score.is_finite() or score < 0 or score > 100:
        raise ValidationError({field: _("Enter a score from 0 to 100.")})
    return score.quantize(SCORE_QUANTUM, rounding=ROUND_HALF_UP)


def expiry(course, completed_on):
    """The last day the certification is valid: completion + the course's validity in months,
    clamped to the end of a shorter month; None when the course's certification never expires."""
    if not course.validity_months:
        return None
    return add_months(completed_on, course.validity_months)


def next_certificate_number(year):
    """TC-<year>-<6-digit sequence>, one more than the highest of the year."""
    prefix = f"TC-{year}-"
    last = (
        TrainingRecord.objects.filter(certificate_number__startswith=prefix)
        .order_by(Length("certificate_number").desc(), "-certificate_number")
        .values_list("certificate_number", flat=True)
        .first()
    )
    tail = last.removeprefix(prefix) if last else ""
    return prefix, (int(tail) + 1 if tail.isdigit() else 1)


def check_result(course, status, score, completed_on, session=None):
    """The rules of a result; errors keyed by field."""
    if status not in (RecordStatus.PASSED, RecordStatus.FAILED):
        raise ValidationError({"status": _("A result is passed or failed.")})
    params = {"score": number_text(score) if score is not None else "", "pass_mark": number_text(course.pass_mark)}
    if status == RecordStatus.PASSED:
        if score is None:
            raise ValidationError({"score": _("Enter the score of the pass.")})
        if score < course.pass_mark:
            raise ValidationError(
                {"score": _("A score of %(score)s is below the pass mark of %(pass_mark)s: it is not a pass.") % params}
            )
    elif score is not None and score >= course.pass_mark:
        raise ValidationError(
            {
                "score": _("A score of %(score)s reaches the pass mark of %(pass_mark)s: record a pass, not a fail.")
                % params
            }
        )
    if completed_on is None:
        raise ValidationError({"completed_on": _("Enter the date the course was completed.")})
    if completed_on > timezone.localdate():
        raise ValidationError({"completed_on": _("The completion date cannot be in the future.")})
    if session is not None and completed_on < timezone.localtime(session.starts_at).date():
        raise ValidationError(
            {
                "completed_on": _("The completion date is before the session started (%(date)s).")
                % {"date": date_text(timezone.localtime(session.starts_at).date())}
            }
        )


def session_full(session):
    return ngettext(
        "The session is full (%(capacity)s place).", "The session is full (%(capacity)s places).", session.capacity
    ) % {"capacity": session.capacity}
