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

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Q, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from agreements.choices import AgreementStatus
from partners.choices import PartnerStatus
from partners.models import Partner
from partners.selectors import partner_admin_users
from prm.audit import acting_user, audit_record, diff, snapshot
from prm.jobs import job_queue
from prm.models import AuditEntry
from prm.money import round_cents, to_decimal
from prm.notifications import notify_many, page_url
from prm.periods import Period
from prm.tree import path_ids
from prm.uploads import DOCUMENTS, validate_upload
from sales.models import SalesLine

from . import access, selectors
from .brackets import ONE, ZERO, clean_brackets, rebate_for
from .choices import (
    MDF_TRANSITIONS,
    STATEMENT_TRANSITIONS,
    BudgetSource,
    LineKind,
    MdfActivity,
    MdfStatus,
    RebateBasis,
    RebateMethod,
    StatementStatus,
)
from .events import mdf_request_approved, statement_approved
from .models import (
    MdfBudget,
    MdfProof,
    MdfRequest,
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
    access.require_manage_incentives(by)


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
    if amount.adjusted() >= 14:  # beyond what a money column holds (16 digits, 2 of them decimals)
        raise ValidationError({field: _("The amount is too large.")})
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
    return {"amount": amount, "lines": _preview_lines(slices)}


def _preview_lines(slices):
    return [
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
    ]


def _preview_number(value, field, *, upper=None):
    amount = _money(value, field)
    if upper is not None and amount > upper:
        raise ValidationError({field: _("Must be at most %(limit)s.") % {"limit": upper}})
    return amount


def policy_preview_draft(*, basis, method, brackets, cap, volume, multiplier=ONE, value=None):
    """What `volume` would earn under a policy not saved yet (the policy editor's live preview):
    the same {"amount", "lines"} as policy_preview, from the same bracket maths. Every wrong
    input is named at once, by field: the brackets (clean_brackets, by row), the method, the
    basis, the cap, the multiplier (0 to 10), the volume. For a units basis `value` is the revenue
    of those units, which the rate applies to (empty: the volume). Nothing is written."""
    errors = {}

    def check(parse):
        try:
            return parse()
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                errors.setdefault(name, []).extend(messages)
        return None

    if method not in RebateMethod.values:
        errors["method"] = [_("Choose retroactive or marginal.")]
    if basis not in RebateBasis.values:
        errors["basis"] = [_("Choose revenue or units.")]
    pairs = check(lambda: clean_brackets(brackets))
    volume = check(lambda: _preview_number(volume, "volume"))
    cap = None if cap in (None, "") else check(lambda: round_cents(_preview_number(cap, "cap")))
    multiplier = check(lambda: _preview_number(multiplier, "multiplier", upper=Decimal("10")))
    if basis == RebateBasis.UNITS and value not in (None, ""):
        value = check(lambda: _preview_number(value, "value"))
    else:
        value = None
    if errors:
        raise ValidationError(errors)
    amount, slices = rebate_for(volume, pairs, method, value=value, multiplier=multiplier, cap=cap)
    return {"amount": amount, "lines": _preview_lines(slices)}


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
def override_policy_update(*, policy, by, rates=None, product_lines=None, **fields):
    """Change an override policy; rates ({level: rate %}) and product lines are replaced when
    given. Statements already calculated keep their lines until recalculated."""
    _require_writer(by)
    unknown = set(fields) - {"name", "period", "valid_from", "valid_to", "is_active"}
    if unknown:
        raise TypeError(f"unknown override policy fields: {sorted(unknown)}")
    policy = OverridePolicy.objects.select_for_update().get(pk=policy.pk)
    before = {"rates": {str(r.level): str(r.rate) for r in policy.rates.all()}, **snapshot(policy, list(fields))}
    pairs = clean_override_rates(rates) if rates is not None else None
    for name, value in fields.items():
        setattr(policy, name, value)
    policy.full_clean()
    policy.save()
    if pairs is not None:
        policy.rates.all().delete()
        OverrideRate.objects.bulk_create(OverrideRate(policy=policy, level=level, rate=rate) for level, rate in pairs)
    if product_lines is not None:
        policy.product_lines.set(product_lines)
    after = {"rates": {str(r.level): str(r.rate) for r in policy.rates.all()}, **snapshot(policy, list(fields))}
    changes = diff(before, after)
    if changes:
        audit_record(instance=policy, action=AuditEntry.Action.UPDATE, by=by, changes=changes)
    return policy


@transaction.atomic
def policy_unassign(*, agreement, policy, by):
    """Detach a rebate policy from an agreement. Statements already calculated keep their lines
    until recalculated; approved and paid ones never change."""
    _require_writer(by)
    deleted, _rows = PolicyAssignment.objects.filter(agreement=agreement, policy=policy).delete()
    if deleted:
        audit_record(
            instance=agreement, action=AuditEntry.Action.UPDATE, by=by, changes={"rebate_policy": [str(policy), None]}
        )
    return bool(deleted)


@transaction.atomic
def policy_assign(*, agreement, policy, by):
    """Attach a rebate policy to an agreement (idempotent); not to a terminated agreement."""
    _require_writer(by)
    if agreement.status == AgreementStatus.TERMINATED:
        raise ValidationError(
            {"agreement": _("The agreement %(number)s is terminated; it earns nothing.") % {"number": agreement.number}}
        )
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
            ancestors = path_ids(path)[:-1]
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


def _write(period, computed, *, strict, only=None):
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
    elif only is not None:
        statements = statements.filter(partner_id__in=only)
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
    # One UPDATE per 300 statements (3 parameters each, within any SQLite's limit of 999): a CASE
    # for the totals and the same stamps for all (bulk_update compiles a CASE per field and row:
    # slow).
    for start in range(0, len(open_), 300):
        batch = open_[start : start + 300]
        totals = [When(pk=statement.pk, then=Value(statement.total)) for statement in batch]
        RebateStatement.objects.filter(pk__in=[statement.pk for statement in batch]).update(
            total=Case(*totals, output_field=RebateStatement._meta.get_field("total")),
            calculated_at=now,
            updated_at=now,
        )
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


def statements_calculate_all(*, period, progress=None, chunk_size=500):
    """Every partner that earns in the period gets its statement calculated: set-based (one
    aggregate of the period's sales, then bulk writes by chunks of `chunk_size` partners, each in
    its own transaction), idempotent (same data, same lines, no duplicates), safe when two workers
    run it at once (the unique constraint and row locks decide). Approved and paid statements are
    left as they are; calculated ones of partners that no longer earn are emptied. `progress`
    (prm.jobs.JobProgress) sees one step per chunk. Returns counts."""
    period = _period(period)
    computed = _compute(period)
    stale = RebateStatement.objects.filter(period=period.code).exclude(status=StatementStatus.CANCELLED)
    partner_ids = sorted(set(computed) | set(stale.values_list("partner_id", flat=True)))
    chunks = [partner_ids[start : start + chunk_size] for start in range(0, len(partner_ids), chunk_size)]
    if progress is not None:
        progress.set_total(len(chunks))
    counts = {"calculated": 0, "locked": 0, "lines": 0}
    for chunk in chunks:
        with transaction.atomic():
            written, _statements = _write(period, {pk: computed.get(pk, []) for pk in chunk}, strict=False, only=chunk)
        for key in counts:
            counts[key] += written[key]
        if progress is not None:
            progress.advance(1, rows=written["calculated"])
    return counts


def statement_run_start(*, by, period, partner=None):
    """Start (re)calculating the period's statements, for one partner or all, in the background:
    returns the run (prm.JobRun) whose progress the page shows."""
    from .tasks import rebate_statements_run

    _require_writer(by)
    period = _period(period)
    if partner is not None:
        locked = (
            RebateStatement.objects.filter(partner=partner, period=period.code, status__in=StatementStatus.LOCKED)
            .select_related("partner")
            .first()
        )
        if locked is not None:
            raise ValidationError(
                {
                    "partner": _(
                        "The statement %(statement)s is %(status)s and never changes; "
                        "correct it with an adjustment on a later statement."
                    )
                    % {"statement": locked, "status": locked.get_status_display()}
                }
            )
    run = job_queue(
        "incentives.rebate_statements_run",
        by=by,
        params={"period": period.code, "partner": partner.pk if partner else None},
    )
    transaction.on_commit(lambda: rebate_statements_run.delay(run.pk))
    return run


# Statements: adjustments and transitions -----------------------------------------------------


def _locked_statement(statement):
    # With its partner (history names it), whose row is read, not locked.
    return RebateStatement.objects.select_for_update(of=("self",)).select_related("partner").get(pk=statement.pk)


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
        statement=statement,
        kind=LineKind.ADJUSTMENT,
        amount=amount,
        description=reason[:300],
        created_by=acting_user(by),
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
    statement = _move(statement, StatementStatus.APPROVED, by, approved_by=acting_user(by), approved_at=timezone.now())
    statement_approved(statement)
    return statement


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


# Market development funds ---------------------------------------------------------------------
#
# A budget's commitments are summed from its requests (`selectors.budget_usage`): approved
# requests hold their approved amount, claimed and paid ones their actual amount. Every write that
# changes what a budget holds locks the budget row first (then the request), so two approvals
# racing for the last of a budget are decided one after the other and the second sees the first.

REQUEST_FIELDS = ("title", "activity_type", "plan", "start_date", "end_date", "requested_amount")


def _cents(value, field, *, positive=False):
    amount = _money(value, field)
    if amount != round_cents(amount):
        raise ValidationError({field: _("Give the amount in whole cents.")})
    if positive and amount <= 0:
        raise ValidationError({field: _("Must be more than zero.")})
    return round_cents(amount)


def _locked_budget(budget_id):
    # of=("self",): lock the budget row only, not the partner row the join reads (budget_set locks
    # the partner first, then the budget; locking both here, in the other order, deadlocks).
    return MdfBudget.objects.select_for_update(of=("self",)).select_related("partner").get(pk=budget_id)


def _locked_request(request):
    """Lock the request's budget, then the request: the one order every MDF write takes."""
    budget = _locked_budget(MdfRequest.objects.values_list("budget_id", flat=True).get(pk=request.pk))
    request = MdfRequest.objects.select_for_update(of=("self",)).select_related("partner").get(pk=request.pk)
    request.budget = budget
    return request


def _budget_overlap(partner, period, exclude_pk=None):
    others = MdfBudget.objects.filter(
        partner=partner, period_start__lte=period.end, period_end__gte=period.start
    ).exclude(period=period.code)
    if exclude_pk:
        others = others.exclude(pk=exclude_pk)
    return others.first()


@transaction.atomic
def budget_set(*, partner, period, allocated, by, note=None):
    """Set (create or change) the partner's MDF budget for a period by hand. Never below what its
    requests already hold; never overlapping another budget of the partner (a month inside a
    budgeted quarter, say)."""
    access.require_decide_mdf(by, partner)
    period = _period(period)
    allocated = _cents(allocated, "allocated")
    # One budget write per partner at a time; no_key: rows that only point at the partner (an
    # approval's webhook event) are not held up, which would deadlock with that approval.
    Partner.objects.select_for_update(no_key=True).filter(pk=partner.pk).first()
    other = _budget_overlap(partner, period)
    if other is not None:
        raise ValidationError(
            {
                "period": _("%(partner)s already has a budget for %(period)s, which overlaps it.")
                % {"partner": partner, "period": other.period}
            }
        )
    budget = MdfBudget.objects.select_for_update().filter(partner=partner, period=period.code).first()
    if budget is None:
        budget = MdfBudget.objects.create(
            partner=partner,
            period=period.code,
            allocated=allocated,
            source=BudgetSource.MANUAL,
            note=(note or "")[:300],
            created_by=acting_user(by),
        )
        audit_record(
            instance=budget, action=AuditEntry.Action.CREATE, by=by, changes={"allocated": [None, str(allocated)]}
        )
        return budget
    committed = selectors.budget_usage(budget)["committed"]
    if allocated < committed:
        raise ValidationError(
            {
                "allocated": _("Requests already hold %(committed)s of this budget; it cannot be less.")
                % {"committed": committed}
            }
        )
    before = str(budget.allocated)
    budget.allocated, budget.source = allocated, BudgetSource.MANUAL
    if note is not None:  # None keeps the note; "" clears it
        budget.note = note.strip()[:300]
    budget.basis_revenue = budget.allowance_percent = None
    budget.save()
    if before != str(allocated):
        audit_record(
            instance=budget, action=AuditEntry.Action.UPDATE, by=by, changes={"allocated": [before, str(allocated)]}
        )
    return budget


def budgets_allocate_from_tiers(*, period, by=None):
    """Budgets for the period from each active partner's tier allowance: the allowance % of the
    partner's revenue in the previous period of the same length, rounded half-up to the cent.
    Set-based (one aggregate of the previous period's sales, bulk writes). A budget set by hand
    is left alone; one from an earlier allowance run is updated, never below what its requests
    hold. Idempotent. Returns counts: created, updated, kept (set by hand, or overlapping
    another budget of the partner) and unchanged (already right)."""
    access.require_manage_incentives(by)
    period = _period(period)
    previous = period.previous()
    with transaction.atomic():
        partners = list(
            Partner.objects.filter(status=PartnerStatus.ACTIVE, tier__mdf_allowance_percent__gt=0)
            .values_list("pk", "tier__mdf_allowance_percent")
            .order_by("pk")
        )
        revenue = dict(
            SalesLine.objects.filter(
                partner_id__in=[pk for pk, _percent in partners],
                sold_on__gte=previous.start,
                sold_on__lte=previous.end,
            )
            .values("partner_id")
            .annotate(total=Sum("amount"))
            .values_list("partner_id", "total")
        )
        existing = {
            budget.partner_id: budget for budget in MdfBudget.objects.select_for_update().filter(period=period.code)
        }
        overlapping = set(
            MdfBudget.objects.filter(period_start__lte=period.end, period_end__gte=period.start)
            .exclude(period=period.code)
            .values_list("partner_id", flat=True)
        )
        committed = selectors.committed_by_budget([b.pk for b in existing.values()])
        created, updated, kept, unchanged = [], [], 0, 0
        for partner_id, percent in partners:
            base = round_cents(revenue.get(partner_id) or ZERO)
            amount = round_cents(base * percent / 100)
            budget = existing.get(partner_id)
            if partner_id in overlapping or (budget is not None and budget.source == BudgetSource.MANUAL):
                kept += 1
                continue
            if budget is None:
                created.append(
                    MdfBudget(
                        partner_id=partner_id,
                        period=period.code,
                        period_start=period.start,
                        period_end=period.end,
                        allocated=amount,
                        source=BudgetSource.TIER,
                        basis_revenue=base,
                        allowance_percent=percent,
                        created_by=acting_user(by),
                    )
                )
            else:
                allocated = max(amount, committed.get(budget.pk, ZERO))
                if (budget.allocated, budget.basis_revenue, budget.allowance_percent) == (allocated, base, percent):
                    unchanged += 1  # a rerun on the same data writes nothing
                    continue
                budget.allocated = allocated
                budget.basis_revenue, budget.allowance_percent = base, percent
                budget.updated_at = timezone.now()
                updated.append(budget)
        MdfBudget.objects.bulk_create(created, ignore_conflicts=True)
        MdfBudget.objects.bulk_update(updated, ["allocated", "basis_revenue", "allowance_percent", "updated_at"])
    return {"created": len(created), "updated": len(updated), "kept": kept, "unchanged": unchanged}


def _clean_request_fields(fields, budget):
    values = dict(fields)
    if "requested_amount" in values:
        values["requested_amount"] = _cents(values["requested_amount"], "requested_amount", positive=True)
    if "activity_type" in values and values["activity_type"] not in MdfActivity.values:
        raise ValidationError(
            {"activity_type": _("“%(value)s” is not an activity type.") % {"value": values["activity_type"]}}
        )
    for name in ("title", "plan"):
        if name in values:
            values[name] = (values[name] or "").strip()
            if not values[name]:
                raise ValidationError({name: _("This field is required.")})
    return values


def _check_request_dates(request):
    if request.start_date and request.end_date and request.end_date < request.start_date:
        raise ValidationError({"end_date": _("The end date must not be before the start date.")})
    budget = request.budget
    if request.start_date and not budget.period_start <= request.start_date <= budget.period_end:
        raise ValidationError(
            {
                "start_date": _("The activity must start within the budget's period (%(start)s to %(end)s).")
                % {"start": budget.period_start, "end": budget.period_end}
            }
        )


@transaction.atomic
def mdf_request_create(*, by, budget, title, activity_type, plan, start_date, end_date, requested_amount):
    """A draft request against one of the partner's budgets."""
    budget = MdfBudget.objects.select_related("partner").get(pk=budget.pk)
    access.require_request_mdf(by, budget.partner)
    values = _clean_request_fields(
        {
            "title": title,
            "activity_type": activity_type,
            "plan": plan,
            "start_date": start_date,
            "end_date": end_date,
            "requested_amount": requested_amount,
        },
        budget,
    )
    request = MdfRequest(partner=budget.partner, budget=budget, created_by=acting_user(by), **values)
    _check_request_dates(request)
    request.full_clean()
    request.save()
    audit_record(
        instance=request,
        action=AuditEntry.Action.CREATE,
        by=by,
        changes={"requested_amount": [None, str(request.requested_amount)]},
    )
    return request


@transaction.atomic
def mdf_request_update(*, request, by, budget=None, **fields):
    """Change a draft (or move it to another budget of the same partner)."""
    unknown = set(fields) - set(REQUEST_FIELDS)
    if unknown:
        raise TypeError(f"unknown MDF request fields: {sorted(unknown)}")
    request = _locked_request(request)
    access.require_request_mdf(by, request.partner)
    if request.status != MdfStatus.DRAFT:
        raise ValidationError(
            {
                "status": _("Only a draft can be changed; this request is %(status)s.")
                % {"status": request.get_status_display()}
            }
        )
    before = snapshot(request, REQUEST_FIELDS)
    if budget is not None and budget.pk != request.budget_id:
        if budget.partner_id != request.partner_id:
            raise ValidationError({"budget": _("Choose a budget of the request's own partner.")})
        request.budget = budget
    for name, value in _clean_request_fields(fields, request.budget).items():
        setattr(request, name, value)
    _check_request_dates(request)
    request.full_clean()
    request.save()
    changes = diff(before, snapshot(request, REQUEST_FIELDS))
    if changes:
        audit_record(instance=request, action=AuditEntry.Action.UPDATE, by=by, changes=changes)
    return request


def _mdf_move(request, status, by, **stamps):
    if status not in MDF_TRANSITIONS[MdfStatus(request.status)]:
        raise ValidationError(
            {
                "status": _("An MDF request cannot go from %(current)s to %(new)s.")
                % {"current": request.get_status_display(), "new": MdfStatus(status).label}
            }
        )
    previous = request.status
    request.status = status
    for name, value in stamps.items():
        setattr(request, name, value)
    request.save()
    audit_record(instance=request, action=AuditEntry.Action.STATUS, by=by, changes={"status": [previous, status]})
    return request


def _mdf_notify(request, event, by, reason=""):
    """Tell the people the next step waits for: the managers who decide when a request is
    submitted or claimed; the partner's admins (and the portal user who drafted it) when it is
    decided, sent back or paid. The person who acted is not told."""
    params = {"reference": request.reference, "title": request.title, "partner": request.partner.name, "reason": reason}
    texts = {
        "submitted": (
            lambda: _("MDF request %(reference)s from %(partner)s waits for your decision") % params,
            lambda: _("%(partner)s asks for market development funds: %(title)s.") % params,
        ),
        "claimed": (
            lambda: _("MDF claim %(reference)s from %(partner)s waits for review") % params,
            lambda: _("%(partner)s claimed %(title)s with proof of performance.") % params,
        ),
        "approved": (
            lambda: _("MDF request %(reference)s was approved") % params,
            lambda: _("%(title)s was approved. Claim it with proof of performance once it is done.") % params,
        ),
        "rejected": (
            lambda: _("MDF request %(reference)s was rejected") % params,
            lambda: _("%(title)s was rejected. Reason: %(reason)s") % params,
        ),
        "returned": (
            lambda: _("MDF claim %(reference)s was sent back") % params,
            lambda: _("The claim for %(title)s was sent back. Reason: %(reason)s") % params,
        ),
        "paid": (
            lambda: _("MDF claim %(reference)s was paid") % params,
            lambda: _("The claim for %(title)s was paid.") % params,
        ),
    }
    subject, message = texts[event]
    if event in ("submitted", "claimed"):
        recipients = selectors.mdf_deciders(request.partner)
        url = page_url("incentives:mdf-request-detail", request.pk)
    else:
        # The partner's admins, and whoever in the portal drafted the request.
        recipients = partner_admin_users(request.partner)
        if request.created_by is not None and not request.created_by.is_staff and request.created_by.is_active:
            recipients = [*recipients, request.created_by]
        url = page_url("portal-incentives:mdf-request-detail", request.pk)
    acting = getattr(by, "pk", None)
    notify_many(
        [
            {
                "recipients": [user for user in recipients if user is not None and user.pk != acting],
                "subject": subject,
                "message": message,
                "url": url,
            }
        ]
    )


@transaction.atomic
def mdf_request_submit(*, request, by):
    """Draft → submitted: the managers who decide are told."""
    request = _locked_request(request)
    access.require_request_mdf(by, request.partner)
    _mdf_move(request, MdfStatus.SUBMITTED, by, submitted_at=timezone.now())
    _mdf_notify(request, "submitted", by)
    return request


@transaction.atomic
def mdf_request_approve(*, request, by, approved_amount=None, note=""):
    """Submitted → approved, reserving `approved_amount` (default: the amount requested; never
    more) of the budget. Refused when the budget's remainder does not cover it: of two approvals
    racing for the last of a budget, the second is refused."""
    request = _locked_request(request)
    access.require_decide_mdf(by, request.partner)
    amount = (
        request.requested_amount
        if approved_amount in (None, "")
        else _cents(approved_amount, "approved_amount", positive=True)
    )
    if amount > request.requested_amount:
        raise ValidationError(
            {
                "approved_amount": _("Approve at most the amount requested (%(amount)s).")
                % {"amount": request.requested_amount}
            }
        )
    if request.status != MdfStatus.SUBMITTED:
        # Not through _mdf_move: a claim may go back to approved (mdf_claim_return), not be approved.
        raise ValidationError(
            {
                "status": _("Only a submitted request can be approved; this one is %(status)s.")
                % {"status": request.get_status_display()}
            }
        )
    remaining = selectors.budget_usage(request.budget)["remaining"]
    if amount > remaining:
        raise ValidationError(
            {
                "approved_amount": _("The budget %(budget)s has %(remaining)s left; %(amount)s cannot be approved.")
                % {"budget": request.budget, "remaining": remaining, "amount": amount}
            }
        )
    _mdf_move(
        request,
        MdfStatus.APPROVED,
        by,
        approved_amount=amount,
        decided_at=timezone.now(),
        decided_by=acting_user(by),
        decision_note=(note or "").strip()[:500],
    )
    _mdf_notify(request, "approved", by)
    mdf_request_approved(request)
    return request


@transaction.atomic
def mdf_request_reject(*, request, by, reason):
    """Submitted → rejected, with the reason the partner reads."""
    request = _locked_request(request)
    access.require_decide_mdf(by, request.partner)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the request is rejected.")})
    _mdf_move(
        request,
        MdfStatus.REJECTED,
        by,
        decided_at=timezone.now(),
        decided_by=acting_user(by),
        decision_note=reason[:500],
    )
    _mdf_notify(request, "rejected", by, reason=reason)
    return request


@transaction.atomic
def mdf_request_cancel(*, request, by):
    """Draft, submitted or approved (not yet claimed) → cancelled: an approved request gives its
    reservation back to the budget."""
    request = _locked_request(request)
    if not (access.can_request_mdf(by, request.partner) or by is None):
        access.require_decide_mdf(by, request.partner)
    return _mdf_move(request, MdfStatus.CANCELLED, by)


@transaction.atomic
def mdf_proof_add(*, request, by, file):
    """Attach proof of performance (PDF, image, Word or Excel, at most settings.PRM_MAX_UPLOAD_MB)
    to an approved request, before or while claiming it."""
    request = _locked_request(request)
    access.require_request_mdf(by, request.partner)
    if request.status != MdfStatus.APPROVED:
        raise ValidationError(
            {
                "file": _("Proof is added to an approved request before it is claimed; this one is %(status)s.")
                % {"status": request.get_status_display()}
            }
        )
    name, content_type = validate_upload(file, allowed=DOCUMENTS)
    return _store_proof(request, by, file, name, content_type)


def _request_touch(request):
    """A request lists its proofs: adding or removing one changes the request for a system
    syncing with `updated_since`."""
    MdfRequest.objects.filter(pk=request.pk).update(updated_at=timezone.now())


def _store_proof(request, by, file, name, content_type):
    """Save a validated proof file. Called only once everything else has been checked, so that a
    refused request leaves no file behind in storage."""
    proof = MdfProof(
        request=request, original_name=name, content_type=content_type, size=file.size, uploaded_by=acting_user(by)
    )
    proof.file.save(name, file, save=False)
    proof.save()
    _request_touch(request)
    audit_record(instance=request, action=AuditEntry.Action.UPDATE, by=by, changes={"proof": [None, name]})
    return proof


@transaction.atomic
def mdf_proof_delete(*, proof, by):
    """Remove a proof file while the request is still approved (not yet claimed)."""
    request = _locked_request(proof.request)
    access.require_request_mdf(by, request.partner)
    if request.status != MdfStatus.APPROVED:
        raise ValidationError({"file": _("Proof of a claimed request stays as it is.")})
    name, stored = proof.original_name, proof.file.name
    proof.delete()
    _request_touch(request)
    transaction.on_commit(lambda: MdfProof._meta.get_field("file").storage.delete(stored))
    audit_record(instance=request, action=AuditEntry.Action.UPDATE, by=by, changes={"proof": [name, None]})


@transaction.atomic
def mdf_request_claim(*, request, by, actual_amount, note="", files=()):
    """Approved → claimed: what the activity actually cost (at most the approved amount; the rest
    goes back to the budget), with proof of performance (`files` are added first; at least one
    proof is required)."""
    request = _locked_request(request)
    access.require_request_mdf(by, request.partner)
    if request.status != MdfStatus.APPROVED:
        _mdf_move(request, MdfStatus.CLAIMED, by)  # raises: not a move from here
    amount = _cents(actual_amount, "actual_amount", positive=True)
    if amount > request.approved_amount:
        raise ValidationError(
            {
                "actual_amount": _("Claim at most the approved amount (%(amount)s).")
                % {"amount": request.approved_amount}
            }
        )
    # Every file is checked before any is stored: a refused claim leaves nothing behind.
    checked = []
    for file in files or ():
        checked.append((file, *validate_upload(file, allowed=DOCUMENTS, field="files")))
    if not checked and not request.proofs.exists():
        raise ValidationError({"files": _("Attach proof of performance (photos, invoices, a report) to claim.")})
    for file, name, content_type in checked:
        _store_proof(request, by, file, name, content_type)
    _mdf_move(
        request,
        MdfStatus.CLAIMED,
        by,
        actual_amount=amount,
        claimed_at=timezone.now(),
        claim_note=(note or "").strip()[:500],
    )
    _mdf_notify(request, "claimed", by)
    return request


@transaction.atomic
def mdf_claim_return(*, request, by, reason):
    """Claimed → approved: the proof is not enough; the partner adds to it and claims again. The
    approved amount is reserved again, as far as the budget still covers it (never overspent)."""
    request = _locked_request(request)
    access.require_decide_mdf(by, request.partner)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say what the claim lacks.")})
    if request.status != MdfStatus.CLAIMED:
        # Not through _mdf_move alone: submitted → approved is a move, but an approval's, not this one's.
        raise ValidationError(
            {
                "status": _("Only a claimed request can be sent back; this one is %(status)s.")
                % {"status": request.get_status_display()}
            }
        )
    # The claim released what it did not use, which another approval may have taken since: the
    # request reserves its approved amount again only as far as the budget still covers it.
    remaining = max(selectors.budget_usage(request.budget)["remaining"], ZERO)
    approved = min(request.approved_amount, request.actual_amount + remaining)
    if approved != request.approved_amount:
        audit_record(
            instance=request,
            action=AuditEntry.Action.UPDATE,
            by=by,
            changes={"approved_amount": [str(request.approved_amount), str(approved)]},
        )
    _mdf_move(
        request,
        MdfStatus.APPROVED,
        by,
        approved_amount=approved,
        actual_amount=None,
        claimed_at=None,
        decision_note=reason[:500],
    )
    _mdf_notify(request, "returned", by, reason=reason)
    return request


@transaction.atomic
def mdf_request_mark_paid(*, request, by, payment_reference=""):
    """Claimed → paid (the actual amount)."""
    request = _locked_request(request)
    access.require_pay_mdf(by)
    _mdf_move(
        request, MdfStatus.PAID, by, paid_at=timezone.now(), payment_reference=(payment_reference or "").strip()[:100]
    )
    _mdf_notify(request, "paid", by)
    return request
