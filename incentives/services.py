"""Writes to incentives. Each service checks who acts, validates, writes in one transaction,
records history (prm.audit) and raises a ValidationError naming the field and the reason (or
PermissionDenied). `by=None` is the system (a background job, the demo seed).

The rules: brackets pass `clean_brackets`; a statement is computed from the sales lines of its
period under every active policy assigned to one of the partner's agreements in force during
the period (active or expired, overlapping it), plus override commission on its sub-partners'
sales; each line is rounded half-up to the cent once and the total is the sum of the lines;
recalculating replaces a calculated statement's computed lines (adjustments stay); an approved
or paid statement never changes; statements move only along STATEMENT_TRANSITIONS.
"""

from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from agreements.choices import AgreementStatus
from partners.models import Partner
from prm.audit import audit_record, diff, snapshot
from prm.models import AuditEntry
from prm.money import round_cents, to_decimal
from prm.periods import Period
from prm.roles import can_write_as_staff
from sales.models import SalesLine

from .brackets import ONE, ZERO, clean_brackets, rebate_for
from .choices import STATEMENT_TRANSITIONS, LineKind, RebateBasis, StatementStatus
from .models import (
    OverridePolicy,
    OverrideRate,
    PolicyAssignment,
    RebateBracket,
    RebatePolicy,
    RebateStatement,
    StatementLine,
    TierMultiplier,
)

POLICY_FIELDS = ("name", "basis", "period", "method", "cap", "valid_from", "valid_to", "is_active")
# Agreements whose partner earns under their policies for a period they overlap.
EARNING_STATUSES = (AgreementStatus.ACTIVE, AgreementStatus.EXPIRED)
# StatementLine.base is shown, not summed: the amount comes from the exact value.
BASE_QUANTUM = Decimal("0.000001")


# Helpers ------------------------------------------------------------------------------------


def _require_writer(by):
    if by is not None and not can_write_as_staff(by):
        raise PermissionDenied(_("Only a channel admin or a channel manager can change incentives."))


def _period(value, field="period"):
    if isinstance(value, Period):
        return value
    try:
        return Period.parse(value)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from error


def _money(value, field, *, allow_negative=False):
    try:
        amount = to_decimal(value)
    except (TypeError, ValueError) as error:
        raise ValidationError({field: _("Enter an amount.")}) from error
    if not amount.is_finite():
        raise ValidationError({field: _("Enter an amount.")})
    if amount < 0 and not allow_negative:
        raise ValidationError({field: _("Must not be negative.")})
    return amount


# Policies -----------------------------------------------------------------------------------


def _policy_write(policy, *, by, fields, brackets, product_lines, tier_multipliers):
    for name, value in fields.items():
        setattr(policy, name, value)
    if policy.cap not in (None, ""):
        policy.cap = round_cents(_money(policy.cap, "cap"))
    else:
        policy.cap = None
    pairs = clean_brackets(brackets) if brackets is not None else None
    policy.full_clean()
    policy.save()
    if pairs is not None:
        policy.brackets.all().delete()
        RebateBracket.objects.bulk_create(
            RebateBracket(policy=policy, threshold=threshold, rate=rate) for threshold, rate in pairs
        )
    if product_lines is not None:
        policy.product_lines.set(product_lines)
    if tier_multipliers is not None:
        rows = []
        for tier, value in dict(tier_multipliers).items():
            row = TierMultiplier(policy=policy, tier=tier, multiplier=_money(value, "tier_multipliers"))
            try:
                row.full_clean(exclude=["policy"], validate_unique=False)
            except ValidationError as error:
                raise ValidationError(
                    {"tier_multipliers": [f"{tier}: {message}" for message in error.messages]}
                ) from error
            rows.append(row)
        policy.tier_multipliers.all().delete()
        TierMultiplier.objects.bulk_create(rows)
    return policy


@transaction.atomic
def policy_create(*, by, name, basis, period, method, brackets, product_lines=None, tier_multipliers=None, **fields):
    """A rebate policy with its brackets (see clean_brackets), eligible product lines (none:
    all) and tier multipliers ({tier: multiplier}; a tier left out earns × 1)."""
    _require_writer(by)
    fields.update(name=name, basis=basis, period=period, method=method)
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise TypeError(f"unknown policy fields: {sorted(unknown)}")
    policy = _policy_write(
        RebatePolicy(),
        by=by,
        fields=fields,
        brackets=brackets,
        product_lines=product_lines,
        tier_multipliers=tier_multipliers,
    )
    audit_record(instance=policy, action=AuditEntry.Action.CREATE, by=by, changes=_policy_values(policy))
    return policy


@transaction.atomic
def policy_update(*, policy, by, brackets=None, product_lines=None, tier_multipliers=None, **fields):
    """Change a policy; brackets, product lines and multipliers are replaced when given.
    Statements already calculated keep their lines until recalculated."""
    _require_writer(by)
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise TypeError(f"unknown policy fields: {sorted(unknown)}")
    policy = RebatePolicy.objects.select_for_update().get(pk=policy.pk)
    before = _policy_values(policy)
    _policy_write(
        policy,
        by=by,
        fields=fields,
        brackets=brackets,
        product_lines=product_lines,
        tier_multipliers=tier_multipliers,
    )
    changes = diff(before, _policy_values(policy))
    if changes:
        audit_record(instance=policy, action=AuditEntry.Action.UPDATE, by=by, changes=changes)
    return policy


def _policy_values(policy):
    values = snapshot(policy, POLICY_FIELDS)
    values["brackets"] = [f"{b.threshold}:{b.rate}" for b in policy.brackets.order_by("threshold")]
    return values


def _multiplier(policy, tier_id):
    for row in policy.tier_multipliers.all():
        if row.tier_id == tier_id:
            return row.multiplier
    return ONE


def policy_preview(*, policy, volume, partner=None):
    """What `volume` would earn under `policy`: {"amount", "lines"}. With a partner, its tier's
    multiplier applies, and the cap (which is per partner and period) too."""
    volume = _money(volume, "volume")
    multiplier = _multiplier(policy, partner.tier_id) if partner is not None else ONE
    amount, slices = rebate_for(
        volume,
        policy.brackets.all(),
        policy.method,
        multiplier=multiplier,
        cap=policy.cap if partner is not None else None,
    )
    return {
        "amount": amount,
        "lines": [
            {
                "kind": LineKind.CAP if piece.is_cap else LineKind.REBATE,
                "threshold": piece.threshold,
                "rate": piece.rate,
                "volume": piece.volume,
                "base": piece.base,
                "multiplier": piece.multiplier,
                "amount": piece.amount,
            }
            for piece in slices
        ],
    }


def clean_override_rates(rates):
    """{level: rate %} → sorted (level, Decimal rate) pairs: levels whole numbers from 1, rates
    between 0 and 100. Raises ValidationError({"rates": [...]})."""
    errors, cleaned = [], []
    for level, raw in dict(rates or {}).items():
        try:
            level = int(level)
            rate = to_decimal(raw)
        except (TypeError, ValueError):
            errors.append(_("Level %(level)s: give a whole level and a rate in percent.") % {"level": level})
            continue
        if level < 1:
            errors.append(_("Level %(level)s: levels start at 1 (the parent).") % {"level": level})
        elif not rate.is_finite() or not ZERO <= rate <= 100:
            errors.append(_("Level %(level)s: the rate must be between 0 and 100 (percent).") % {"level": level})
        else:
            cleaned.append((level, rate))
    if not errors and not cleaned:
        errors.append(_("Give a rate for at least one level."))
    if errors:
        raise ValidationError({"rates": errors})
    return sorted(cleaned)


@transaction.atomic
def override_policy_create(*, by, name, rates, product_lines=None, **fields):
    """An override commission policy: {level: rate %} (1: the parent, 2: the grandparent…)."""
    _require_writer(by)
    pairs = clean_override_rates(rates)
    policy = OverridePolicy(name=name, **fields)
    policy.full_clean()
    policy.save()
    OverrideRate.objects.bulk_create(OverrideRate(policy=policy, level=level, rate=rate) for level, rate in pairs)
    if product_lines:
        policy.product_lines.set(product_lines)
    audit_record(
        instance=policy,
        action=AuditEntry.Action.CREATE,
        by=by,
        changes={"rates": [None, {str(level): str(rate) for level, rate in pairs}]},
    )
    return policy


@transaction.atomic
def policy_assign(*, agreement, policy, by):
    """Attach a rebate policy to an agreement (idempotent)."""
    _require_writer(by)
    link, created = PolicyAssignment.objects.get_or_create(agreement=agreement, policy=policy)
    if created:
        audit_record(
            instance=agreement, action=AuditEntry.Action.UPDATE, by=by, changes={"rebate_policy": [None, str(policy)]}
        )
    return link


# Calculation --------------------------------------------------------------------------------


def _rebate_policies(period):
    return list(
        RebatePolicy.objects.active()
        .filter(period=period.kind)
        .valid_during(period.start, period.end)
        .prefetch_related("brackets", "tier_multipliers", "product_lines")
    )


def _override_policies(period):
    return list(
        OverridePolicy.objects.active()
        .filter(period=period.kind)
        .valid_during(period.start, period.end)
        .prefetch_related("rates", "product_lines")
    )


def _assigned(period, policies, partner_ids):
    """{partner_id: [policy ids]} for agreements that earn during the period."""
    links = PolicyAssignment.objects.filter(
        policy__in=policies,
        agreement__status__in=EARNING_STATUSES,
        agreement__start_date__lte=period.end,
        agreement__end_date__gte=period.start,
    )
    if partner_ids is not None:
        links = links.filter(agreement__partner_id__in=partner_ids)
    found = defaultdict(set)
    for partner_id, policy_id in links.values_list("agreement__partner_id", "policy_id").distinct():
        found[partner_id].add(policy_id)
    return found


def _sales(period, partner_ids):
    """Revenue and units per (partner, product line) for the period: one aggregate query. For
    given partners, their sales and their sub-partners' (for overrides)."""
    lines = SalesLine.objects.filter(sold_on__gte=period.start, sold_on__lte=period.end)
    if partner_ids is not None:
        paths = list(Partner.objects.filter(pk__in=partner_ids).values_list("path", flat=True))
        scope = Q(partner_id__in=partner_ids)
        for path in paths:
            scope |= Q(partner__path__startswith=path)
        lines = lines.filter(scope)
    return list(
        lines.values("partner_id", "partner__path", "product_line_id")
        .annotate(revenue=Sum("amount"), units=Sum("quantity"))
        .order_by("partner_id", "product_line_id")
    )


def _eligibility(policies):
    """{policy: test(product_line_id)}: a policy without product lines takes every line."""
    tests = {}
    for policy in policies:
        ids = frozenset(line.pk for line in policy.product_lines.all())
        tests[policy.pk] = (lambda _line: True) if not ids else ids.__contains__
    return tests


def _compute(period, partner_ids=None):
    """{partner_id: [StatementLine (unsaved, no statement)]} for every partner that earns in the
    period (or only `partner_ids`, which get an entry even when they earn nothing)."""
    policies = _rebate_policies(period)
    overrides = _override_policies(period)
    assigned = _assigned(period, policies, partner_ids) if policies else {}
    sales = _sales(period, partner_ids) if (assigned or overrides) else []
    wanted = None if partner_ids is None else set(partner_ids)
    result = {pk: [] for pk in (partner_ids or [])}
    for pk in assigned:
        result.setdefault(pk, [])
    by_id = {policy.pk: policy for policy in policies}
    eligible = _eligibility(policies)
    override_eligible = _eligibility(overrides)
    # Rebates: volume and revenue per partner and policy.
    totals = defaultdict(lambda: [ZERO, ZERO])  # (partner, policy) → [revenue, units]
    for row in sales:
        for policy_id in assigned.get(row["partner_id"], ()):
            if eligible[policy_id](row["product_line_id"]):
                total = totals[row["partner_id"], policy_id]
                total[0] += row["revenue"] or ZERO
                total[1] += row["units"] or ZERO
    tiers = dict(Partner.objects.filter(pk__in=list(result)).values_list("pk", "tier_id")) if result else {}
    for partner_id, policy_ids in assigned.items():
        for policy_id in sorted(policy_ids):
            policy = by_id[policy_id]
            revenue, units = totals.get((partner_id, policy_id), (ZERO, ZERO))
            result[partner_id].extend(_rebate_lines(policy, revenue, units, _multiplier(policy, tiers.get(partner_id))))
    # Overrides: each seller's eligible revenue, to each ancestor up to the policy's levels.
    for policy in overrides:
        rates = {rate.level: rate.rate for rate in policy.rates.all()}
        base = defaultdict(lambda: ZERO)  # (seller, path) → revenue
        for row in sales:
            if override_eligible[policy.pk](row["product_line_id"]):
                base[row["partner_id"], row["partner__path"]] += row["revenue"] or ZERO
        for (seller_id, path), revenue in sorted(base.items()):
            ancestors = [int(part) for part in path.strip("/").split("/")[:-1] if part]
            for level, rate in sorted(rates.items()):
                if level > len(ancestors) or revenue <= 0:
                    continue
                recipient = ancestors[-level]
                if wanted is not None and recipient not in wanted:
                    continue
                amount = round_cents(revenue * rate / 100)
                result.setdefault(recipient, []).append(
                    StatementLine(
                        kind=LineKind.OVERRIDE,
                        override_policy=policy,
                        base=revenue,
                        volume=revenue,
                        rate=rate,
                        level=level,
                        source_partner_id=seller_id,
                        amount=amount,
                    )
                )
    return result


def _rebate_lines(policy, revenue, units, multiplier):
    volume = units if policy.basis == RebateBasis.UNITS else revenue
    _amount, slices = rebate_for(
        volume, policy.brackets.all(), policy.method, value=revenue, multiplier=multiplier, cap=policy.cap
    )
    lines = []
    for piece in slices:
        lines.append(
            StatementLine(
                kind=LineKind.CAP if piece.is_cap else LineKind.REBATE,
                rebate_policy=policy,
                bracket_threshold=piece.threshold,
                volume=piece.volume if not piece.is_cap else None,
                base=piece.base.quantize(BASE_QUANTUM) if not piece.is_cap else None,
                rate=piece.rate,
                multiplier=piece.multiplier,
                amount=piece.amount,
            )
        )
    return lines


def _write(period, computed, *, strict):
    """Store the computed lines: one live statement per partner (created when missing, the
    unique constraint deciding between racing runs), computed lines replaced on calculated
    statements, approved and paid ones left alone (or refused when `strict`). A fixed number of
    queries whatever the number of partners."""
    partner_ids = sorted(computed)
    now = timezone.now()
    RebateStatement.objects.bulk_create(
        [
            RebateStatement(
                partner_id=pk, period=period.code, period_start=period.start, period_end=period.end, calculated_at=now
            )
            for pk in partner_ids
        ],
        ignore_conflicts=True,
    )
    # A run over every partner also revisits statements of partners that no longer earn (their
    # sales were corrected), so a calculated statement never keeps stale lines.
    statements = RebateStatement.objects.select_for_update().filter(period=period.code)
    if strict:
        statements = statements.filter(partner_id__in=partner_ids)
    statements = list(statements.exclude(status=StatementStatus.CANCELLED).order_by("pk"))
    locked = [s for s in statements if s.is_locked]
    if strict and locked:
        statement = locked[0]
        raise ValidationError(
            _(
                "The statement %(statement)s is %(status)s and never changes; "
                "correct it with an adjustment on a later statement."
            )
            % {"statement": statement, "status": statement.get_status_display()}
        )
    open_ = [s for s in statements if not s.is_locked]
    StatementLine.objects.filter(statement__in=open_).exclude(kind=LineKind.ADJUSTMENT).delete()
    adjustments = dict(
        StatementLine.objects.filter(statement__in=open_, kind=LineKind.ADJUSTMENT)
        .values("statement_id")
        .annotate(total=Sum("amount"))
        .values_list("statement_id", "total")
    )
    new_lines = []
    for statement in open_:
        lines = computed.get(statement.partner_id, [])
        for line in lines:
            line.statement = statement
        new_lines.extend(lines)
        statement.total = sum((line.amount for line in lines), adjustments.get(statement.pk) or ZERO)
        statement.calculated_at = statement.updated_at = now
    StatementLine.objects.bulk_create(new_lines)
    if open_:
        RebateStatement.objects.bulk_update(open_, ["total", "calculated_at", "updated_at"])
    return {"calculated": len(open_), "locked": len(locked), "lines": len(new_lines)}, statements


def statement_calculate(*, partner, period, by=None):
    """Calculate (or recalculate) the partner's statement for the period. An approved or paid
    statement is refused: it never changes."""
    _require_writer(by)
    period = _period(period)
    try:
        with transaction.atomic():
            computed = _compute(period, [partner.pk])
            _counts, statements = _write(period, computed, strict=True)
    except IntegrityError as error:
        raise ValidationError(
            _("Another change to the same data was saved at the same moment; reload and try again.")
        ) from error
    statement = statements[0]
    audit_record(
        instance=statement, action=AuditEntry.Action.UPDATE, by=by, changes={"total": [None, str(statement.total)]}
    )
    return statement


def statements_calculate_all(*, period):
    """Every partner that earns in the period gets its statement calculated: set-based (one
    aggregate of the period's sales), idempotent (same data, same lines, no duplicates), safe
    when two workers run it at once (the unique constraint and row locks decide). Approved and
    paid statements are left as they are. Returns counts."""
    period = _period(period)
    with transaction.atomic():
        computed = _compute(period)
        counts, _statements = _write(period, computed, strict=False)
    return counts


# Statements: adjustments and transitions -----------------------------------------------------


def _locked_statement(statement):
    return RebateStatement.objects.select_for_update().get(pk=statement.pk)


@transaction.atomic
def statement_add_adjustment(*, statement, amount, reason, by):
    """A correction (positive or negative) on a calculated statement, with its reason: the way
    to fix what an approved statement got wrong is an adjustment on a later one."""
    _require_writer(by)
    statement = _locked_statement(statement)
    if statement.status != StatementStatus.CALCULATED:
        raise ValidationError(
            {
                "statement": _("Adjustments go only on a calculated statement; this one is %(status)s.")
                % {"status": statement.get_status_display()}
            }
        )
    amount = _money(amount, "amount", allow_negative=True)
    if amount != round_cents(amount):
        raise ValidationError({"amount": _("Give the amount in whole cents.")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the statement is adjusted.")})
    line = StatementLine.objects.create(
        statement=statement, kind=LineKind.ADJUSTMENT, amount=amount, description=reason[:300], created_by=by
    )
    statement.total += amount
    statement.save(update_fields=["total", "updated_at"])
    audit_record(
        instance=statement,
        action=AuditEntry.Action.UPDATE,
        by=by,
        changes={"adjustment": [None, str(amount)], "reason": [None, reason]},
    )
    return line


def _move(statement, status, by, **stamps):
    statement = _locked_statement(statement)
    if status not in STATEMENT_TRANSITIONS[StatementStatus(statement.status)]:
        raise ValidationError(
            {
                "status": _("A rebate statement cannot go from %(current)s to %(new)s.")
                % {"current": statement.get_status_display(), "new": StatementStatus(status).label}
            }
        )
    previous = statement.status
    statement.status = status
    for name, value in stamps.items():
        setattr(statement, name, value)
    statement.save(update_fields=["status", "updated_at", *stamps])
    audit_record(instance=statement, action=AuditEntry.Action.STATUS, by=by, changes={"status": [previous, status]})
    return statement


@transaction.atomic
def statement_approve(*, statement, by):
    """Calculated → approved: from now on the statement never changes."""
    _require_writer(by)
    return _move(statement, StatementStatus.APPROVED, by, approved_by=by, approved_at=timezone.now())


@transaction.atomic
def statement_mark_paid(*, statement, by):
    """Approved → paid."""
    _require_writer(by)
    return _move(statement, StatementStatus.PAID, by, paid_at=timezone.now())


@transaction.atomic
def statement_cancel(*, statement, by):
    """Calculated or approved (not yet paid) → cancelled; the period may then be calculated anew."""
    _require_writer(by)
    return _move(statement, StatementStatus.CANCELLED, by, cancelled_at=timezone.now())
