"""Writes to agreements. Each service checks who acts, validates, writes in one transaction,
records history (prm.audit) and raises a ValidationError naming the field and the reason when
the input is wrong, or PermissionDenied when the actor may not do it. `by=None` is the system
(a background job, the demo seed): no permission check.

The rules: an agreement ends after it starts; it moves only along AGREEMENT_TRANSITIONS; its
commercial terms are fixed once it leaves draft (a change is an amendment or a renewal, a
successor draft); no two in-force agreements grant exclusivity on the same product line in
overlapping regions for overlapping dates (see `exclusivity_conflicts`); targets lie inside the
term; only a channel admin approves (see agreements.access).
"""

from collections import defaultdict
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from integrations.choices import EventType
from partners.choices import PartnerStatus
from partners.models import PartnerContact, Region
from partners.selectors import partner_admin_users
from prm.audit import acting_user, audit_record, diff, snapshot
from prm.models import AuditEntry
from prm.money import round_cents
from prm.notifications import notify_many, page_url
from prm.periods import Period
from prm.roles import Role
from prm.uploads import DOCUMENTS, validate_upload
from sales.models import SalesLine

from . import access
from .choices import AGREEMENT_TRANSITIONS, AgreementStatus, DocumentKind, ExpiryWindow
from .events import agreement_events
from .models import (
    Agreement,
    AgreementDocument,
    AgreementTarget,
    AgreementTerritory,
    ExpiryNotice,
    MinimumPrice,
    RegionTarget,
)

# Terms a draft may take at creation or change; `owner` and the free fields may change later too.
AGREEMENT_TERMS_FIELDS = (
    "discount_percent",
    "price_list",
    "currency",
    "payment_terms",
    "payment_days",
    "market_support",
    "after_sales_obligations",
    "penalty_clauses",
    "vendor_signatory",
    "partner_signatory",
    "signed_on",
    "notes",
    "owner",
)
# What a draft's update may change besides the terms.
AGREEMENT_DRAFT_FIELDS = ("partner", "agreement_type", "start_date", "end_date", *AGREEMENT_TERMS_FIELDS)
# What stays changeable once the agreement has left draft: none of it is a commercial term.
AGREEMENT_FREE_FIELDS = ("notes", "owner", "vendor_signatory", "partner_signatory", "signed_on")
# Recorded in the history on every change.
AUDITED_FIELDS = ("partner", "agreement_type", "start_date", "end_date", *AGREEMENT_TERMS_FIELDS)

NUMBER_ATTEMPTS = 20
UNITS_QUANTUM = Decimal("0.001")
CENT = Decimal("0.01")
ONE = Decimal("1")


# Helpers ------------------------------------------------------------------------------------


def _check(user, rule, *args):
    if user is not None:
        rule(user, *args)


def _locked(agreement):
    """Re-read the agreement under a row lock, so a stale copy never writes back a status or
    terms changed in the meantime."""
    return (
        Agreement.objects.select_for_update(of=("self",))
        .select_related("partner", "partner__region")
        .get(pk=agreement.pk)
    )


def _period(value, field="period"):
    if isinstance(value, Period):
        return value
    try:
        return Period.parse(value)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from error


def _date(value):
    return date_format(value, "DATE_FORMAT")


def _term(agreement):
    return _("%(start)s to %(end)s") % {"start": _date(agreement.start_date), "end": _date(agreement.end_date)}


def _amount(value, field, quantum):
    """A non-negative Decimal rounded half-up to `quantum`, or None."""
    if value in (None, ""):
        return None
    if isinstance(value, float):
        value = str(value)
    try:
        amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation as error:
        raise ValidationError({field: _("Enter a number.")}) from error
    if not amount.is_finite():
        raise ValidationError({field: _("Enter a number.")})
    if amount < 0:
        raise ValidationError({field: _("Must not be negative.")})
    return round_cents(amount) if quantum == CENT else amount.quantize(quantum)


def _save(instance, *, exclude=None):
    instance.full_clean(exclude=exclude)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        raise ValidationError(
            _("Another change to the same data was saved at the same moment; reload and try again.")
        ) from error


def _status_record(agreement, previous, by, reason=""):
    audit_record(
        instance=agreement,
        action=AuditEntry.Action.STATUS,
        by=by,
        changes={"status": [previous, agreement.status], **({"reason": [None, reason]} if reason else {})},
    )


def _move(agreement, status, by, *, reason="", **stamps):
    """Move along AGREEMENT_TRANSITIONS or refuse with the current and the wanted status."""
    if status not in AGREEMENT_TRANSITIONS[AgreementStatus(agreement.status)]:
        raise ValidationError(
            {
                "status": _("An agreement cannot go from %(current)s to %(new)s.")
                % {"current": agreement.get_status_display(), "new": AgreementStatus(status).label}
            }
        )
    previous = agreement.status
    agreement.status = status
    for name, value in stamps.items():
        setattr(agreement, name, value)
    agreement.save(update_fields=["status", "updated_at", *stamps])
    _status_record(agreement, previous, by, reason)
    return agreement


# Numbers ------------------------------------------------------------------------------------


def _next_number(year):
    """AG-<year>-<5-digit sequence>, one more than the highest of the year."""
    prefix = f"AG-{year}-"
    last = (
        Agreement.objects.filter(number__startswith=prefix)
        .order_by(Length("number").desc(), "-number")
        .values_list("number", flat=True)
        .first()
    )
    sequence = int(last.removeprefix(prefix)) + 1 if last and last.removeprefix(prefix).isdigit() else 1
    return f"{prefix}{sequence:05d}"


def _insert_numbered(agreement):
    """Save a new agreement under the next free number. Two creations racing for the same number:
    the unique constraint refuses the second, which takes the next one (inside a savepoint, so
    the surrounding transaction goes on)."""
    year = timezone.localdate().year
    for attempt in range(NUMBER_ATTEMPTS):
        agreement.number = _next_number(year)
        try:
            with transaction.atomic():
                agreement.save()
            return agreement
        except IntegrityError:
            agreement.pk = None
            if attempt == NUMBER_ATTEMPTS - 1:
                raise
    return agreement  # pragma: no cover


# Validation of terms ------------------------------------------------------------------------


def _clean_dates(start_date, end_date):
    if start_date and end_date and end_date <= start_date:
        raise ValidationError({"end_date": _("The agreement must end after it starts.")})


def _clean_product_lines(product_lines):
    lines = list(dict.fromkeys(product_lines))
    inactive = [line for line in lines if not line.is_active]
    if inactive:
        raise ValidationError(
            {
                "product_lines": _("%(lines)s is no longer sold; choose active product lines.")
                % {"lines": ", ".join(str(line) for line in inactive)}
            }
        )
    return lines


def _clean_territories(territories):
    cleaned, seen = [], set()
    for item in territories:
        region = item["region"] if isinstance(item, dict) else item
        exclusive = bool(item.get("exclusive", False)) if isinstance(item, dict) else False
        if region is None or not isinstance(region, Region):
            raise ValidationError({"territories": _("Each territory names a region.")})
        if region.pk in seen:
            raise ValidationError({"territories": _("%(region)s is listed twice.") % {"region": region}})
        seen.add(region.pk)
        cleaned.append((region, exclusive))
    return cleaned


def _clean_minimum_prices(minimum_prices, product_lines):
    cleaned, seen = [], set()
    allowed = {line.pk for line in product_lines}
    for item in minimum_prices:
        line = item.get("product_line")
        if line is None:
            raise ValidationError({"minimum_prices": _("Each minimum price names a product line.")})
        if line.pk in seen:
            raise ValidationError({"minimum_prices": _("%(line)s has two minimum prices.") % {"line": line}})
        if line.pk not in allowed:
            raise ValidationError(
                {"minimum_prices": _("%(line)s is not one of the agreement's product lines.") % {"line": line}}
            )
        try:
            price = _amount(item.get("min_unit_price"), "minimum_prices", CENT)
        except ValidationError as error:
            raise ValidationError(
                {"minimum_prices": _("%(line)s: enter a price of 0 or more.") % {"line": line}}
            ) from error
        if price is None:
            raise ValidationError({"minimum_prices": _("%(line)s: enter a price of 0 or more.") % {"line": line}})
        seen.add(line.pk)
        cleaned.append((line, price))
    return cleaned


def _apply(agreement, data, allowed):
    unknown = sorted(set(data) - set(AGREEMENT_DRAFT_FIELDS))
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    locked = sorted(name for name in data if name not in allowed and getattr(agreement, name) != data[name])
    if locked:
        raise ValidationError(
            {
                name: _(
                    "The agreement is %(status)s: its commercial terms are fixed. Amend or renew it to change them."
                )
                % {"status": agreement.get_status_display().lower()}
                for name in locked
            }
        )
    for name, value in data.items():
        setattr(agreement, name, value)


def _describe_territories(agreement):
    return ", ".join(
        f"{territory.region}{' *' if territory.exclusive else ''}"
        for territory in agreement.territories.select_related("region").order_by("region__path")
    )


def _describe_prices(agreement):
    return ", ".join(
        f"{price.product_line}: {price.min_unit_price}"
        for price in agreement.minimum_prices.select_related("product_line").order_by("product_line__name")
    )


def _write_children(agreement, territories, minimum_prices):
    if territories is not None:
        agreement.territories.all().delete()
        AgreementTerritory.objects.bulk_create(
            AgreementTerritory(agreement=agreement, region=region, exclusive=exclusive)
            for region, exclusive in territories
        )
    if minimum_prices is not None:
        agreement.minimum_prices.all().delete()
        MinimumPrice.objects.bulk_create(
            MinimumPrice(agreement=agreement, product_line=line, min_unit_price=price) for line, price in minimum_prices
        )


# Create and change --------------------------------------------------------------------------


@transaction.atomic
def agreement_create(
    *, partner, agreement_type, start_date, end_date, by, product_lines=(), territories=(), minimum_prices=(), **terms
):
    """Draft a new agreement for `partner`, numbered AG-<year>-<sequence>. Territories are
    [{"region": Region, "exclusive": bool}], minimum prices [{"product_line", "min_unit_price"}]
    for product lines of the agreement."""
    _check(by, access.require_manage_partner_agreements, partner)
    unknown = sorted(set(terms) - set(AGREEMENT_TERMS_FIELDS))
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in unknown})
    if partner.status == PartnerStatus.TERMINATED:
        raise ValidationError({"partner": _("%(partner)s is terminated.") % {"partner": partner}})
    _clean_dates(start_date, end_date)
    lines = _clean_product_lines(product_lines)
    cleaned_territories = _clean_territories(territories)
    prices = _clean_minimum_prices(minimum_prices, lines)
    agreement = Agreement(
        partner=partner,
        agreement_type=agreement_type,
        start_date=start_date,
        end_date=end_date,
        status=AgreementStatus.DRAFT,
        created_by=acting_user(by),
        **terms,
    )
    if "owner" not in terms:
        agreement.owner_id = partner.owner_id
    agreement.full_clean(exclude=["number"])
    _insert_numbered(agreement)
    agreement.product_lines.set(lines)
    _write_children(agreement, cleaned_territories, prices)
    audit_record(instance=agreement, action=AuditEntry.Action.CREATE, by=by)
    return agreement


@transaction.atomic
def agreement_update(*, agreement, by, product_lines=None, territories=None, minimum_prices=None, **data):
    """Change an agreement. A draft changes everything (partner, type, dates, terms, product
    lines, territories, minimum prices); once submitted only AGREEMENT_FREE_FIELDS change, and
    naming a commercial term with a new value is a field error that changes nothing."""
    agreement = _locked(agreement)
    _check(by, access.require_manage_agreement, agreement)
    is_draft = agreement.status == AgreementStatus.DRAFT
    if not is_draft:
        fixed = [
            name
            for name, value in (
                ("product_lines", product_lines),
                ("territories", territories),
                ("minimum_prices", minimum_prices),
            )
            if value is not None
        ]
        if fixed:
            raise ValidationError(
                {
                    name: _(
                        "The agreement is %(status)s: its commercial terms are fixed. Amend or renew it to change them."
                    )
                    % {"status": agreement.get_status_display().lower()}
                    for name in fixed
                }
            )
    if "partner" in data and data["partner"] is not None and data["partner"].pk != agreement.partner_id:
        _check(by, access.require_manage_partner_agreements, data["partner"])
    before = snapshot(agreement, AUDITED_FIELDS)
    before_children = (_describe_territories(agreement), _describe_prices(agreement))
    before_lines = ", ".join(sorted(str(line) for line in agreement.product_lines.all()))
    _apply(agreement, data, AGREEMENT_DRAFT_FIELDS if is_draft else AGREEMENT_FREE_FIELDS)
    _clean_dates(agreement.start_date, agreement.end_date)
    lines = _clean_product_lines(product_lines) if product_lines is not None else list(agreement.product_lines.all())
    cleaned_territories = _clean_territories(territories) if territories is not None else None
    if minimum_prices is None and product_lines is not None:
        # Minimum prices of product lines taken off the agreement go with them.
        kept = agreement.minimum_prices.filter(product_line__in=lines).select_related("product_line")
        minimum_prices = [{"product_line": p.product_line, "min_unit_price": p.min_unit_price} for p in kept]
    prices = _clean_minimum_prices(minimum_prices, lines) if minimum_prices is not None else None
    _save(agreement)
    if product_lines is not None:
        agreement.product_lines.set(lines)
    _write_children(agreement, cleaned_territories, prices)
    changes = diff(before, snapshot(agreement, AUDITED_FIELDS))
    after_lines = ", ".join(sorted(str(line) for line in agreement.product_lines.all()))
    if after_lines != before_lines:
        changes["product_lines"] = [before_lines, after_lines]
    after_children = (_describe_territories(agreement), _describe_prices(agreement))
    for key, old, new in zip(("territories", "minimum_prices"), before_children, after_children, strict=True):
        if old != new:
            changes[key] = [old, new]
    if changes:
        audit_record(instance=agreement, action=AuditEntry.Action.UPDATE, by=by, changes=changes)
    return agreement


# Exclusivity --------------------------------------------------------------------------------


def _overlap_q(regions):
    """Regions overlapping any of `regions`: each itself, its ancestors and its descendants (by
    the materialized path), in one condition."""
    related_ids = set()
    condition = Q()
    for region in regions:
        related_ids.update(region.ancestor_ids())
        related_ids.add(region.pk)
        condition |= Q(region__path__startswith=region.path)
    return condition | Q(region_id__in=related_ids)


def _regions_overlap(first, second):
    return first.path.startswith(second.path) or second.path.startswith(first.path)


def exclusivity_conflicts(*, partner, start_date, end_date, territories, product_lines, exclude=None):
    """The in-force agreements (active or pending approval) whose territories clash with
    `territories` ([{"region", "exclusive"}] or AgreementTerritory rows) on a shared product line
    in an overlapping region (the same, an ancestor or a descendant) for overlapping dates
    (both ends inclusive), as [(agreement, region, product line)].

    A clash is two exclusive grants, or an exclusive grant and another partner's non-exclusive
    one (exclusivity means nobody else sells there). `exclude` is the agreement being checked,
    or several; an amendment's predecessor never clashes with it (the amendment supersedes it).
    Three queries whatever the number of territories."""
    wanted = [
        (item.region, item.exclusive) if isinstance(item, AgreementTerritory) else (item["region"], item["exclusive"])
        for item in territories
    ]
    lines = {line.pk: line for line in product_lines}
    if not wanted or not lines:
        return []
    any_exclusive = any(exclusive for _region, exclusive in wanted)
    candidates = AgreementTerritory.objects.filter(
        _overlap_q([region for region, _exclusive in wanted]),
        agreement__status__in=AgreementStatus.IN_FORCE,
        agreement__start_date__lte=end_date,
        agreement__end_date__gte=start_date,
        agreement__product_lines__in=list(lines),
    )
    if any_exclusive:
        candidates = candidates.filter(Q(exclusive=True) | ~Q(agreement__partner=partner))
    else:
        candidates = candidates.filter(exclusive=True).exclude(agreement__partner=partner)
    excluded = [exclude] if isinstance(exclude, Agreement) else list(exclude or ())
    skip = {agreement.pk for agreement in excluded if agreement.pk}
    skip.update(
        agreement.predecessor_id for agreement in excluded if agreement.is_amendment and agreement.predecessor_id
    )
    if skip:
        candidates = candidates.exclude(agreement_id__in=skip)
    found = list(candidates.select_related("agreement__partner", "region").distinct().order_by("agreement_id", "pk"))
    if not found:
        return []
    shared = defaultdict(set)
    for agreement_id, line_id in Agreement.product_lines.through.objects.filter(
        agreement_id__in={t.agreement_id for t in found}, productline_id__in=list(lines)
    ).values_list("agreement_id", "productline_id"):
        shared[agreement_id].add(line_id)
    conflicts, seen = [], set()
    for other in found:
        same_partner = other.agreement.partner_id == partner.pk
        for region, exclusive in wanted:
            if not _regions_overlap(region, other.region):
                continue
            if not ((exclusive and other.exclusive) or ((exclusive or other.exclusive) and not same_partner)):
                continue
            for line_id in sorted(shared[other.agreement_id]):
                key = (other.agreement_id, other.region_id, line_id)
                if key not in seen:
                    seen.add(key)
                    conflicts.append((other.agreement, other.region, lines[line_id]))
    return conflicts


def _lock_regions(regions):
    """Lock the rows of the territories' regions and all their ancestors, in a fixed order. Two
    overlapping regions always share one of these rows (the higher of the two), so two checks of
    clashing territories run one after the other (PostgreSQL; SQLite serialises writers anyway)."""
    ids = set()
    for region in regions:
        ids.update(region.ancestor_ids())
        ids.add(region.pk)
    list(Region.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))


def _check_partner_open(agreement):
    if agreement.partner.status == PartnerStatus.TERMINATED:
        raise ValidationError({"partner": _("%(partner)s is terminated.") % {"partner": agreement.partner}})


def _check_exclusivity(agreement):
    territories = list(agreement.territories.select_related("region"))
    _lock_regions([territory.region for territory in territories])
    conflicts = exclusivity_conflicts(
        partner=agreement.partner,
        start_date=agreement.start_date,
        end_date=agreement.end_date,
        territories=territories,
        product_lines=list(agreement.product_lines.all()),
        exclude=agreement,
    )
    if conflicts:
        raise ValidationError(
            {
                "territories": [
                    _(
                        "Exclusivity conflict: %(number)s of %(partner)s holds %(line)s in %(region)s "
                        "from %(start)s to %(end)s."
                    )
                    % {
                        "number": other.number,
                        "partner": other.partner,
                        "line": line,
                        "region": region,
                        "start": _date(other.start_date),
                        "end": _date(other.end_date),
                    }
                    for other, region, line in conflicts
                ]
            }
        )


# Lifecycle ----------------------------------------------------------------------------------


def _approvers(agreement):
    """Who may approve: the channel admins (and the owning manager when the setting allows)."""
    User = get_user_model()
    approvers = list(
        User.objects.filter(is_active=True, is_staff=True)
        .filter(Q(is_superuser=True) | Q(groups__name=Role.CHANNEL_ADMIN))
        .distinct()
    )
    owner = agreement.owner or agreement.partner.owner
    if settings.PRM_AGREEMENT_OWNER_MAY_APPROVE and owner is not None:
        approvers.append(owner)
    return approvers


def _partner_admins(partner):
    return partner_admin_users(partner)


def _notify_workflow(agreement, event, by, reason=""):
    """Tell the people the next step waits for: approvers when an agreement is submitted, the
    owning manager when it is approved or rejected, and the partner's admins when it becomes
    active (they acknowledge it in the portal). The person who acted is not told."""
    params = {"number": agreement.number, "partner": agreement.partner.name, "reason": reason}
    owner = agreement.owner or agreement.partner.owner
    staff_url = page_url("agreements:agreement-detail", agreement.pk)
    texts = {
        "submitted": (
            lambda: _("Agreement %(number)s with %(partner)s waits for your approval") % params,
            lambda: _("%(number)s with %(partner)s was submitted for approval.") % params,
        ),
        "approved": (
            lambda: _("Agreement %(number)s with %(partner)s is active") % params,
            lambda: _("%(number)s with %(partner)s was approved and is now in force.") % params,
        ),
        "rejected": (
            lambda: _("Agreement %(number)s with %(partner)s was sent back") % params,
            lambda: _("%(number)s with %(partner)s was rejected and is a draft again. Reason: %(reason)s") % params,
        ),
    }
    subject, message = texts[event]
    staff = {"submitted": _approvers(agreement), "approved": [owner], "rejected": [owner]}[event]
    acting = getattr(by, "pk", None)
    notices = [
        {
            "recipients": [user for user in staff if user is not None and user.pk != acting],
            "subject": subject,
            "message": message,
            "url": staff_url,
        }
    ]
    if event == "approved":
        notices.append(
            {
                "recipients": [user for user in _partner_admins(agreement.partner) if user.pk != acting],
                "subject": subject,
                "message": lambda: _("%(number)s is now in force. Read it in the portal and acknowledge it.") % params,
                "url": page_url("portal-agreements:detail", agreement.pk),
            }
        )
    notify_many(notices)


@transaction.atomic
def agreement_submit(*, agreement, by):
    """Draft → pending approval: the agreement needs a product line, and must not clash with
    another agreement's exclusive territory (or hold an exclusive one another partner sells in)."""
    agreement = _locked(agreement)
    _check(by, access.require_manage_agreement, agreement)
    if agreement.status != AgreementStatus.DRAFT:
        _move(agreement, AgreementStatus.PENDING_APPROVAL, by)  # raises: only a draft is submitted
    if not agreement.product_lines.exists():
        raise ValidationError({"product_lines": _("Choose at least one product line before submitting.")})
    _check_partner_open(agreement)
    _check_exclusivity(agreement)
    _move(agreement, AgreementStatus.PENDING_APPROVAL, by, submitted_at=timezone.now())
    _notify_workflow(agreement, "submitted", by)
    return agreement


@transaction.atomic
def agreement_approve(*, agreement, by):
    """Pending approval → active, by a channel admin (or the owning manager when the setting
    allows). Exclusivity is checked again; an approved amendment terminates its predecessor as
    superseded."""
    agreement = _locked(agreement)
    _check(by, access.require_approve_agreement, agreement)
    if agreement.status != AgreementStatus.PENDING_APPROVAL:
        _move(agreement, AgreementStatus.ACTIVE, by)  # raises
    if agreement.end_date < timezone.localdate():
        raise ValidationError(
            {
                "end_date": _("The agreement ended on %(date)s; it cannot start now.")
                % {"date": _date(agreement.end_date)}
            }
        )
    _check_partner_open(agreement)
    _check_exclusivity(agreement)
    actor = acting_user(by)
    _move(agreement, AgreementStatus.ACTIVE, by, approved_by=actor, approved_at=timezone.now())
    predecessor = agreement.predecessor
    if agreement.is_amendment and predecessor is not None and predecessor.status in AgreementStatus.IN_FORCE:
        predecessor = Agreement.objects.select_for_update().get(pk=predecessor.pk)
        _move(
            predecessor,
            AgreementStatus.TERMINATED,
            by,
            reason=_("Superseded by %(number)s.") % {"number": agreement.number},
            ended_at=timezone.now(),
            termination_reason=_("Superseded by %(number)s.") % {"number": agreement.number},
        )
    _notify_workflow(agreement, "approved", by)
    agreement_events(EventType.AGREEMENT_ACTIVATED, [agreement])
    return agreement


@transaction.atomic
def agreement_reject(*, agreement, by, reason):
    """Pending approval → draft, with the approver's reason, for the manager to rework."""
    agreement = _locked(agreement)
    _check(by, access.require_approve_agreement, agreement)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the agreement is rejected.")})
    _move(agreement, AgreementStatus.DRAFT, by, reason=reason, submitted_at=None)
    _notify_workflow(agreement, "rejected", by, reason=reason)
    return agreement


@transaction.atomic
def agreement_terminate(*, agreement, by, reason):
    """End an agreement early: a draft or pending one is withdrawn, an active one terminated (a
    reason is then required)."""
    agreement = _locked(agreement)
    _check(by, access.require_manage_agreement, agreement)
    reason = (reason or "").strip()
    if agreement.status == AgreementStatus.ACTIVE and not reason:
        raise ValidationError({"reason": _("Say why the agreement is terminated.")})
    return _move(
        agreement, AgreementStatus.TERMINATED, by, reason=reason, ended_at=timezone.now(), termination_reason=reason
    )


@transaction.atomic
def agreement_expire(*, agreement, by=None):
    """Active → expired, once its last day has passed."""
    agreement = _locked(agreement)
    if agreement.status == AgreementStatus.ACTIVE and agreement.end_date >= timezone.localdate():
        raise ValidationError(
            {"end_date": _("The agreement runs until %(date)s.") % {"date": _date(agreement.end_date)}}
        )
    return _move(agreement, AgreementStatus.EXPIRED, by, ended_at=timezone.now())


def _open_successor(agreement):
    return agreement.successors.filter(status__in=(AgreementStatus.DRAFT, *AgreementStatus.IN_FORCE)).first()


def _successor(agreement, *, by, start_date, end_date, is_amendment):
    existing = _open_successor(agreement)
    if existing is not None:
        raise ValidationError(
            _("%(number)s already follows this agreement; finish or withdraw it first.") % {"number": existing.number}
        )
    lines = list(agreement.product_lines.all())
    successor = agreement_create(
        partner=agreement.partner,
        agreement_type=agreement.agreement_type,
        start_date=start_date,
        end_date=end_date,
        by=by,
        product_lines=[line for line in lines if line.is_active],
        territories=[
            {"region": t.region, "exclusive": t.exclusive} for t in agreement.territories.select_related("region")
        ],
        minimum_prices=[
            {"product_line": p.product_line, "min_unit_price": p.min_unit_price}
            for p in agreement.minimum_prices.select_related("product_line")
            if p.product_line.is_active
        ],
        **{name: getattr(agreement, name) for name in AGREEMENT_TERMS_FIELDS if name not in ("signed_on",)},
        signed_on=None,
    )
    successor.predecessor = agreement
    successor.is_amendment = is_amendment
    successor.version = agreement.version + 1 if is_amendment else 1
    successor.save(update_fields=["predecessor", "is_amendment", "version", "updated_at"])
    audit_record(
        instance=agreement,
        action=AuditEntry.Action.UPDATE,
        by=by,
        changes={"successors": [None, successor.number]},
    )
    return successor


def _renewal_end(agreement, start):
    """The same length of term as the predecessor's: whole months when it ran whole months."""
    after_end = agreement.end_date + timedelta(days=1)
    months = relativedelta(after_end, agreement.start_date)
    if months.days == 0:
        return start + relativedelta(months=months.years * 12 + months.months) - timedelta(days=1)
    return start + (agreement.end_date - agreement.start_date)


@transaction.atomic
def agreement_renew(*, agreement, by, start_date=None, end_date=None):
    """A successor draft with the same terms, territories and prices, starting the day after the
    agreement ends (by default) for a term of the same length. From an active or expired
    agreement; one open successor at a time."""
    agreement = _locked(agreement)
    _check(by, access.require_manage_agreement, agreement)
    if agreement.status not in (AgreementStatus.ACTIVE, AgreementStatus.EXPIRED):
        raise ValidationError(
            {
                "status": _("Only an active or expired agreement can be renewed; this one is %(status)s.")
                % {"status": agreement.get_status_display().lower()}
            }
        )
    start = start_date or agreement.end_date + timedelta(days=1)
    if start <= agreement.start_date:
        raise ValidationError({"start_date": _("A renewal starts after the agreement it renews starts.")})
    end = end_date or _renewal_end(agreement, start)
    return _successor(agreement, by=by, start_date=start, end_date=end, is_amendment=False)


@transaction.atomic
def agreement_amend(*, agreement, by, start_date=None):
    """A new version of an active agreement, as a draft with the same terms to change, running
    from `start_date` (today by default) to the same end. Once approved it supersedes the
    agreement, which is then terminated."""
    agreement = _locked(agreement)
    _check(by, access.require_manage_agreement, agreement)
    if agreement.status != AgreementStatus.ACTIVE:
        raise ValidationError(
            {
                "status": _("Only an active agreement can be amended; this one is %(status)s.")
                % {"status": agreement.get_status_display().lower()}
            }
        )
    start = start_date or max(timezone.localdate(), agreement.start_date)
    if not agreement.start_date <= start < agreement.end_date:
        raise ValidationError(
            {
                "start_date": _("An amendment starts within the agreement's term (%(term)s).")
                % {"term": _term(agreement)}
            }
        )
    return _successor(agreement, by=by, start_date=start, end_date=agreement.end_date, is_amendment=True)


@transaction.atomic
def agreement_acknowledge(*, agreement, by):
    """A user of the partner confirms they have read the active agreement: who and when are
    recorded, once."""
    agreement = _locked(agreement)
    access.require_acknowledge_agreement(by, agreement)
    if agreement.status != AgreementStatus.ACTIVE:
        raise ValidationError(_("Only an active agreement can be acknowledged."))
    if agreement.acknowledged_at is not None:
        raise ValidationError(
            _("This agreement was already acknowledged on %(date)s.")
            % {"date": _date(timezone.localtime(agreement.acknowledged_at))}
        )
    agreement.acknowledged_by, agreement.acknowledged_at = by, timezone.now()
    agreement.save(update_fields=["acknowledged_by", "acknowledged_at", "updated_at"])
    audit_record(
        instance=agreement,
        action=AuditEntry.Action.UPDATE,
        by=by,
        changes={"acknowledged_at": [None, agreement.acknowledged_at.isoformat()]},
    )
    return agreement


def agreement_allowed_actions(agreement, user):
    """The actions `user` may take on `agreement` now, for the pages and the API to offer:
    "edit", "submit", "approve", "reject", "terminate", "renew", "amend", "acknowledge", "upload"."""
    status = agreement.status
    actions = set()
    if access.can_acknowledge_agreement(user, agreement):
        if status == AgreementStatus.ACTIVE and agreement.acknowledged_at is None:
            actions.add("acknowledge")
        return actions
    if access.can_manage_agreement(user, agreement):
        actions.add("upload")
        if status in (AgreementStatus.DRAFT, *AgreementStatus.IN_FORCE):
            actions.update({"edit", "terminate"})
        if status == AgreementStatus.DRAFT:
            actions.add("submit")
        if status in (AgreementStatus.ACTIVE, AgreementStatus.EXPIRED) and not _has_open_successor(agreement):
            actions.add("renew")
            if status == AgreementStatus.ACTIVE:
                actions.add("amend")
    if status == AgreementStatus.PENDING_APPROVAL and access.can_approve_agreement(user, agreement):
        actions.update({"approve", "reject"})
    return actions


def _has_open_successor(agreement):
    open_statuses = {AgreementStatus.DRAFT, *AgreementStatus.IN_FORCE}
    cache = getattr(agreement, "_prefetched_objects_cache", {})
    if "successors" in cache:
        return any(successor.status in open_statuses for successor in cache["successors"])
    return agreement.successors.filter(status__in=open_statuses).exists()


# Targets ------------------------------------------------------------------------------------

TARGET_STATUSES = (AgreementStatus.DRAFT, *AgreementStatus.IN_FORCE)


def _clean_target_amounts(revenue, units):
    revenue, units = _amount(revenue, "revenue", CENT), _amount(units, "units", UNITS_QUANTUM)
    if revenue is None and units is None:
        raise ValidationError({"revenue": _("Enter a revenue target, a units target or both.")})
    return revenue, units


def _check_inside_term(agreement, period):
    if not period.within(agreement.start_date, agreement.end_date):
        raise ValidationError(
            {
                "period": _(
                    "%(period)s (%(start)s to %(end)s) lies outside the agreement's term (%(term)s); "
                    "a target's whole period must lie inside the term."
                )
                % {
                    "period": period.code,
                    "start": _date(period.start),
                    "end": _date(period.end),
                    "term": _term(agreement),
                }
            }
        )


@transaction.atomic
def target_set(*, agreement, period, by, revenue=None, units=None, product_line=None):
    """Set the agreement's target for a period (a code like "2026-Q1" or a Period), for all its
    product lines or for one of them: created, or replaced when one exists. The whole period must
    lie inside the term. Setting a target by hand detaches it from a region target's split."""
    agreement = _locked(agreement)
    _check(by, access.require_manage_agreement, agreement)
    if agreement.status not in TARGET_STATUSES:
        raise ValidationError(
            _("The agreement is %(status)s; its targets no longer change.")
            % {"status": agreement.get_status_display().lower()}
        )
    period = _period(period)
    revenue, units = _clean_target_amounts(revenue, units)
    _check_inside_term(agreement, period)
    if product_line is not None and not agreement.product_lines.filter(pk=product_line.pk).exists():
        raise ValidationError(
            {"product_line": _("%(line)s is not one of the agreement's product lines.") % {"line": product_line}}
        )
    target = AgreementTarget.objects.filter(agreement=agreement, period=period.code, product_line=product_line).first()
    before = snapshot(target, ("revenue", "units")) if target else {"revenue": None, "units": None}
    target = target or AgreementTarget(agreement=agreement, period=period.code, product_line=product_line)
    target.revenue, target.units, target.region_target = revenue, units, None
    _save(target)
    changes = diff(before, snapshot(target, ("revenue", "units")))
    if changes:
        label = f"{period.code}{f' {product_line}' if product_line else ''}"
        audit_record(
            instance=agreement,
            action=AuditEntry.Action.UPDATE,
            by=by,
            changes={"target": [label, label]}
            | {f"{AgreementTarget._meta.label_lower}:{name}": value for name, value in changes.items()},
        )
    return target


@transaction.atomic
def target_delete(*, target, by):
    """Remove a target of an agreement that is not over yet."""
    agreement = _locked(target.agreement)
    _check(by, access.require_manage_agreement, agreement)
    if agreement.status not in TARGET_STATUSES:
        raise ValidationError(
            _("The agreement is %(status)s; its targets no longer change.")
            % {"status": agreement.get_status_display().lower()}
        )
    label = f"{target.period}{f' {target.product_line}' if target.product_line_id else ''}"
    AgreementTarget.objects.filter(pk=target.pk).delete()
    audit_record(instance=agreement, action=AuditEntry.Action.UPDATE, by=by, changes={"target": [label, None]})


# Region targets and their split (目标分解) ----------------------------------------------------


@transaction.atomic
def region_target_set(*, region, period, by, revenue=None, units=None, product_line=None):
    """Set a region's target for a period (for all product lines or one): created, or replaced."""
    _check(by, access.require_manage_region_targets, region)
    period = _period(period)
    revenue, units = _clean_target_amounts(revenue, units)
    target = (
        RegionTarget.objects.select_for_update(of=("self",))
        .filter(region=region, period=period.code, product_line=product_line)
        .order_by("pk")
        .first()
    )
    created = target is None
    before = snapshot(target, ("revenue", "units")) if target else {"revenue": None, "units": None}
    target = target or RegionTarget(region=region, period=period.code, product_line=product_line)
    target.revenue, target.units = revenue, units
    target.set_by = acting_user(by)
    _save(target)
    changes = diff(before, snapshot(target, ("revenue", "units")))
    if created or changes:
        audit_record(
            instance=target,
            action=AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE,
            by=by,
            changes=changes,
        )
    return target


def _qualifying_agreements(region_target):
    """One active agreement per partner whose primary region is the region or below it, whose
    term contains the whole period and which covers the product line (when the target has one);
    the one that started last when a partner has several."""
    period = Period.parse(region_target.period)
    agreements = Agreement.objects.filter(
        status=AgreementStatus.ACTIVE,
        partner__region__path__startswith=region_target.region.path,
        start_date__lte=period.start,
        end_date__gte=period.end,
    )
    if region_target.product_line_id:
        agreements = agreements.filter(product_lines=region_target.product_line_id)
    chosen = {}
    for agreement in agreements.select_related("partner").order_by("partner__code", "-start_date", "-pk"):
        chosen.setdefault(agreement.partner_id, agreement)
    return list(chosen.values())


def largest_remainder(total, weights, quantum):
    """Split `total` in proportion to `weights` into multiples of `quantum` that add up to exactly
    `total`: each share is rounded down, and the quanta left over go to the largest remainders
    (ties to the earlier weight)."""
    total_weight = sum(weights)
    if total_weight <= 0:
        raise ValueError("weights must add up to more than zero")
    units = (total / quantum).to_integral_value(rounding=ROUND_DOWN)
    raw = [units * weight / total_weight for weight in weights]
    shares = [value.to_integral_value(rounding=ROUND_DOWN) for value in raw]
    leftover = int(units - sum(shares))
    order = sorted(range(len(raw)), key=lambda index: (-(raw[index] - shares[index]), index))
    for index in order[:leftover]:
        shares[index] += 1
    return [share * quantum for share in shares]


def region_target_preview(*, region_target):
    """How the region target would split, without writing: [{"partner", "agreement", "sales"
    (their sales in the same period last year), "weight" (their share, 0–1), "basis" ("sales" or
    "even"), "revenue", "units"}]. Weighted by last year's sales when any partner sold, evenly
    otherwise; amounts add up exactly to the region target (cents; whole units when the units
    target is whole)."""
    agreements = _qualifying_agreements(region_target)
    if not agreements:
        return []
    last_year = Period.parse(region_target.period).same_period_last_year()
    sales = SalesLine.objects.filter(
        partner_id__in=[agreement.partner_id for agreement in agreements],
        sold_on__gte=last_year.start,
        sold_on__lte=last_year.end,
    )
    if region_target.product_line_id:
        sales = sales.filter(product_line_id=region_target.product_line_id)
    by_partner = dict(
        sales.order_by().values("partner_id").annotate(total=Sum("amount")).values_list("partner_id", "total")
    )
    amounts = [max(by_partner.get(agreement.partner_id) or Decimal(0), Decimal(0)) for agreement in agreements]
    basis = "sales" if sum(amounts) > 0 else "even"
    weights = amounts if basis == "sales" else [ONE] * len(agreements)
    total_weight = sum(weights)
    revenues = units = [None] * len(agreements)
    if region_target.revenue is not None:
        revenues = largest_remainder(region_target.revenue, weights, CENT)
    if region_target.units is not None:
        whole = region_target.units == region_target.units.to_integral_value()
        units = largest_remainder(region_target.units, weights, ONE if whole else UNITS_QUANTUM)
    return [
        {
            "partner": agreement.partner,
            "agreement": agreement,
            "sales": amount,
            "weight": (weight / total_weight).quantize(Decimal("0.000001")),
            "basis": basis,
            "revenue": revenue,
            "units": unit,
        }
        for agreement, amount, weight, revenue, unit in zip(agreements, amounts, weights, revenues, units, strict=True)
    ]


@transaction.atomic
def region_target_decompose(*, region_target, by):
    """Split the region target across its partners (see `region_target_preview`) into agreement
    targets linked to it. Splitting again replaces the previous split; a partner's existing target
    for the same period and product line is overwritten. Refused when no partner qualifies."""
    region_target = (
        RegionTarget.objects.select_for_update(of=("self",))
        .select_related("region", "product_line")
        .get(pk=region_target.pk)
    )
    _check(by, access.require_manage_region_targets, region_target.region)
    rows = region_target_preview(region_target=region_target)
    period = Period.parse(region_target.period)
    if not rows:
        line = region_target.product_line
        raise ValidationError(
            _(
                "No partner in %(region)s holds an active agreement covering all of %(period)s%(line)s, "
                "so there is nobody to split the target to."
            )
            % {
                "region": region_target.region,
                "period": period.code,
                "line": _(" for %(line)s") % {"line": line} if line else "",
            }
        )
    agreement_ids = [row["agreement"].pk for row in rows]
    existing = {
        target.agreement_id: target
        for target in AgreementTarget.objects.select_for_update(of=("self",))
        .filter(agreement_id__in=agreement_ids, period=period.code, product_line_id=region_target.product_line_id)
        .order_by("pk")
    }
    # The previous split's rows for partners that no longer qualify go.
    AgreementTarget.objects.filter(region_target=region_target).exclude(agreement_id__in=agreement_ids).delete()
    to_update, to_create = [], []
    for row in rows:
        target = existing.get(row["agreement"].pk)
        if target is None:
            target = AgreementTarget(
                agreement=row["agreement"],
                period=period.code,
                period_start=period.start,
                period_end=period.end,
                product_line_id=region_target.product_line_id,
            )
            to_create.append(target)
        else:
            to_update.append(target)
        target.revenue, target.units, target.region_target = row["revenue"], row["units"], region_target
        target.updated_at = timezone.now()
    AgreementTarget.objects.bulk_update(to_update, ["revenue", "units", "region_target", "updated_at"])
    AgreementTarget.objects.bulk_create(to_create)
    region_target.decomposed_at = timezone.now()
    region_target.save(update_fields=["decomposed_at", "updated_at"])
    audit_record(
        instance=region_target,
        action=AuditEntry.Action.UPDATE,
        by=by,
        changes={"decomposed_at": [None, region_target.decomposed_at.isoformat()]},
    )
    return list(
        AgreementTarget.objects.filter(region_target=region_target)
        .select_related("agreement__partner")
        .order_by("agreement__partner__code")
    )


# Documents ----------------------------------------------------------------------------------


@transaction.atomic
def document_add(*, agreement, by, file, kind, visible_to_partner=True):
    """Attach a file: PDF, PNG, JPEG, DOCX or XLSX (by extension and by content), at most
    settings.PRM_MAX_UPLOAD_MB."""
    agreement = _locked(agreement)
    _check(by, access.require_manage_agreement, agreement)
    if kind not in DocumentKind.values:
        raise ValidationError({"kind": _("“%(kind)s” is not a kind of document.") % {"kind": kind}})
    name, content_type = validate_upload(file, allowed=DOCUMENTS)
    document = AgreementDocument(
        agreement=agreement,
        kind=kind,
        original_name=name,
        content_type=content_type,
        size=file.size,
        visible_to_partner=bool(visible_to_partner),
        uploaded_by=acting_user(by),
    )
    document.file.save(name, file, save=False)
    document.save()
    audit_record(
        instance=agreement,
        action=AuditEntry.Action.UPDATE,
        by=by,
        changes={"document": [None, f"{name} ({document.get_kind_display()})"]},
    )
    return document


@transaction.atomic
def document_delete(*, document, by):
    """Remove a document and its file (once the transaction commits)."""
    agreement = _locked(document.agreement)
    _check(by, access.require_manage_agreement, agreement)
    name, file = document.original_name, document.file
    AgreementDocument.objects.filter(pk=document.pk).delete()
    if file:
        storage, path = file.storage, file.name
        transaction.on_commit(lambda: storage.delete(path))
    audit_record(instance=agreement, action=AuditEntry.Action.UPDATE, by=by, changes={"document": [name, None]})


# The daily job --------------------------------------------------------------------------------


def _applicable_window(days_left):
    """The smallest reminder window the agreement is inside (30 when 20 days are left), or None."""
    inside = [window for window in ExpiryWindow.values if days_left <= window]
    return min(inside) if inside else None


def _expire_past(today):
    now = timezone.now()
    past = list(
        Agreement.objects.select_for_update()
        .filter(status=AgreementStatus.ACTIVE, end_date__lt=today)
        .order_by("pk")
        .values_list("pk", "number")
    )
    if not past:
        return 0
    Agreement.objects.filter(pk__in=[pk for pk, _number in past], status=AgreementStatus.ACTIVE).update(
        status=AgreementStatus.EXPIRED, ended_at=now, updated_at=now
    )
    AuditEntry.objects.bulk_create(
        AuditEntry(
            object_type=Agreement._meta.label_lower,
            object_id=str(pk),
            object_repr=number,
            action=AuditEntry.Action.STATUS,
            changes={"status": [AgreementStatus.ACTIVE.value, AgreementStatus.EXPIRED.value]},
        )
        for pk, number in past
    )
    return len(past)


def _reminder_texts(agreement, window):
    params = {"number": agreement.number, "partner": agreement.partner.name}

    def subject():
        return _("Agreement %(number)s with %(partner)s ends within %(days)s days") % {**params, "days": window}

    def message():
        return _("The agreement %(number)s with %(partner)s ends on %(date)s. Renew it, or let it expire.") % {
            **params,
            "date": _date(agreement.end_date),
        }

    return subject, message


def _send_reminders(today):
    longest = max(ExpiryWindow.values)
    due = list(
        Agreement.objects.select_for_update(of=("self",))
        .filter(status=AgreementStatus.ACTIVE, end_date__gte=today, end_date__lte=today + timedelta(days=longest))
        .select_related("partner", "owner", "partner__owner")
        .order_by("pk")
    )
    if not due:
        return 0
    sent = defaultdict(set)
    for agreement_id, window in ExpiryNotice.objects.filter(agreement__in=due).values_list(
        "agreement_id", "window_days"
    ):
        sent[agreement_id].add(window)
    admins = defaultdict(list)
    for contact in PartnerContact.objects.filter(
        partner_id__in={agreement.partner_id for agreement in due},
        user__is_active=True,
        user__groups__name=Role.PARTNER_ADMIN,
    ).select_related("user"):
        admins[contact.partner_id].append(contact.user)
    notices, messages = [], []
    for agreement in due:
        window = _applicable_window((agreement.end_date - today).days)
        # Once a window's reminder went out, the larger windows are over: nothing more to send
        # until the agreement enters a smaller one.
        if window is None or any(previous <= window for previous in sent[agreement.pk]):
            continue
        notices.append(ExpiryNotice(agreement=agreement, window_days=window))
        subject, message = _reminder_texts(agreement, window)
        key = f"agreements.expiry:{agreement.pk}:{window}"
        manager = agreement.owner or agreement.partner.owner
        if manager is not None:
            messages.append(
                {
                    "recipients": [manager],
                    "subject": subject,
                    "message": message,
                    "url": page_url("agreements:agreement-detail", agreement.pk),
                    "dedupe_key": key,
                }
            )
        if admins[agreement.partner_id]:
            messages.append(
                {
                    "recipients": admins[agreement.partner_id],
                    "subject": subject,
                    "message": message,
                    "url": page_url("portal-agreements:detail", agreement.pk),
                    "dedupe_key": key,
                }
            )
    ExpiryNotice.objects.bulk_create(notices, ignore_conflicts=True)
    notify_many(messages)
    agreement_events(EventType.AGREEMENT_EXPIRING, [notice.agreement for notice in notices])
    return len(notices)


@transaction.atomic
def agreements_expiry_run(*, today=None):
    """The daily job: expire active agreements whose last day has passed, then send each active
    agreement entering a reminder window (90, 60, 30 days before its end) one reminder for that
    window, to its channel manager and its partner's admins (in the list, and by email). An
    agreement first seen inside 30 days gets only the 30-day reminder. Idempotent: an
    ExpiryNotice per agreement and window, and the due agreements locked while the run decides.
    A fixed number of queries however many agreements."""
    today = today or timezone.localdate()
    expired = _expire_past(today)
    notices = _send_reminders(today)
    return {"expired": expired, "notices": notices}
