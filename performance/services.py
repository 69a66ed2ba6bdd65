"""Writes of the performance module. `by=None` is the system (the scheduled job, a command).

- `snapshots_compute` (re)computes one month's KPI snapshots (performance.kpis) and replaces
  that month's snapshots in one transaction, recording who and when (SnapshotRun). Two runs of
  the same month take turns on the month's PeriodComputation row, so racing runs leave one
  consistent set; running it twice on the same data writes the same rows. Until someone
  recomputes a month, its snapshots do not move when sales are corrected.
- `scorecards_compute` scores every partner of a month from its stored snapshots under the
  default template, grades and ranks them, rolls the scores up the regions, and replaces that
  month's scorecards in one transaction, under the same lock (rules: performance.scoring). For
  a month that has ended, each new card, or one whose score or grade changed, is published
  (the scorecard.published event, performance.events).
- `scorecard_template_save` validates and saves a template with its items (weights sum to
  100) and makes it the default when asked.
- `customer_satisfaction_set` enters (or replaces) a partner's score for a month.
- `month_compute` runs all of a month (snapshots, scorecards, flags) in one transaction;
  `month_run_start` queues it for a page or the API (performance.tasks.month_run).
- `flags_evaluate` writes the month's region flags (rules: performance.flags), keeping their
  workflow, and records region.flagged for each flag it opens; `flag_acknowledge`,
  `flag_plan`, `flag_resolve` move a flag; `flag_rule_save` edits a rule's threshold.
"""

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from partners.models import Region
from prm.audit import acting_user, audit_record
from prm.models import AuditEntry
from prm.periods import Period, PeriodKind
from prm.roles import can_write_as_staff, is_integration
from prm.sync import tombstones_record
from prm.tree import path_ids

from . import flags, kpis, scoring
from .choices import FLAG_TRANSITIONS, LOWER_IS_BETTER_KPIS, SCORABLE_KPIS, FlagRuleCode, FlagStatus, Kpi, Measure
from .events import regions_flagged, scorecards_published
from .models import (
    CustomerSatisfaction,
    FlagRule,
    KpiSnapshot,
    PeriodComputation,
    RegionFlag,
    RegionScorecard,
    Scorecard,
    ScorecardItem,
    ScorecardTemplate,
    SnapshotRun,
)

BATCH_SIZE = 1000
SCORE_MAX = Decimal("100")
ZERO = Decimal("0")


def can_compute(user):
    return can_write_as_staff(user) or is_integration(user)


def _require_writer(by):
    if by is not None and not can_compute(by):
        raise PermissionDenied(_("Only a channel admin or a channel manager can change performance figures."))


def _month(value, field="period"):
    """A month from a Period or its code; a clear error for anything else."""
    try:
        period = value if isinstance(value, Period) else Period.parse(value)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from error
    if period.kind != PeriodKind.MONTH:
        raise ValidationError({field: _("Enter a month, such as 2026-10.")})
    return period


def _lock_month(month):
    """The month's PeriodComputation row, created if missing and locked until the end of the
    transaction: computations of one month (snapshots, scorecards) take turns on it."""
    PeriodComputation.objects.get_or_create(period=month.code, defaults={"period_start": month.start})
    return PeriodComputation.objects.select_for_update().get(period=month.code)


SNAPSHOT_COLUMNS = (
    "partner_id",
    "region_id",
    "period",
    "period_start",
    "kpi",
    "value",
    "computed_at",
    "updated_at",
    "run_id",
)


def _insert_snapshots(rows):
    """Insert snapshot rows given as tuples in SNAPSHOT_COLUMNS order. On PostgreSQL with COPY
    (a month of 10,000 partners is ~100,000 rows: model instances, Django's SQL compiler or even
    multi-row INSERTs cost more than the database's own work); elsewhere bulk_create."""
    if connection.vendor == "postgresql":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in rows:
            # An empty unquoted CSV field is NULL (partner or region).
            writer.writerow("" if value is None else value for value in row)
        buffer.seek(0)
        columns = ", ".join(connection.ops.quote_name(column) for column in SNAPSHOT_COLUMNS)
        table = connection.ops.quote_name(KpiSnapshot._meta.db_table)
        with connection.cursor() as cursor:
            cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)", buffer)
        return
    KpiSnapshot.objects.bulk_create(
        [KpiSnapshot(**dict(zip(SNAPSHOT_COLUMNS, row, strict=True))) for row in rows], batch_size=BATCH_SIZE
    )


def snapshots_compute(*, period, by=None, job_run=None, figures=None):
    """Compute the KPIs of the month `period` for every partner and region and replace that
    month's snapshots atomically. Returns the SnapshotRun (who, when, rows written).

    The month's PeriodComputation row is created if missing and then locked for the whole
    computation: a second run of the same month waits and then computes from the data as it is
    then, replacing the first run's rows (never adding to them). `figures`: the month's partner
    figures when already read in parts (performance.tasks), see kpis.compute_month."""
    _require_writer(by)
    month = _month(period)
    with transaction.atomic():
        computation = _lock_month(month)
        run = SnapshotRun.objects.create(period=month.code, computed_by=acting_user(by), job_run=job_run)
        if connection.vendor == "postgresql":
            # The month's sales aggregate sorts a few hundred thousand lines: in memory, not on disk.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '128MB'")
        values = kpis.compute_month(month, figures)
        now = timezone.now()
        tombstones_record(KpiSnapshot.objects.filter(period=month.code))
        KpiSnapshot.objects.filter(period=month.code).delete()
        _insert_snapshots(
            [(p, r, month.code, month.start, kpi, value, now, now, run.pk) for p, r, kpi, value in values]
        )
        run.rows, run.finished_at = len(values), timezone.now()
        run.save(update_fields=["rows", "finished_at"])
        computation.current_run = run
        computation.computations += 1
        computation.save(update_fields=["current_run", "computations"])
    return run


def _score(value):
    try:
        score = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as error:
        raise ValidationError({"score": _("Enter a number from 0 to 100.")}) from error
    if not score.is_finite() or not Decimal("0") <= score <= SCORE_MAX:
        raise ValidationError({"score": _("Enter a number from 0 to 100.")})
    if score != score.quantize(Decimal("0.01")):
        raise ValidationError({"score": _("Use at most two decimals.")})
    return score.quantize(Decimal("0.01"))


def customer_satisfaction_set(*, partner, period, score, by=None):
    """Enter the partner's customer-satisfaction score (0–100, two decimals at most) for a
    month; entering it again replaces it. The month's snapshots change only when it is
    recomputed."""
    _require_writer(by)
    month = _month(period)
    score = _score(score)
    with transaction.atomic():
        entry, created = CustomerSatisfaction.objects.select_for_update().get_or_create(
            partner=partner,
            period=month.code,
            defaults={"period_start": month.start, "score": score, "entered_by": acting_user(by)},
        )
        before = None if created else str(entry.score)
        if not created:
            entry.score, entry.entered_by = score, acting_user(by)
            entry.save()
        audit_record(
            instance=entry,
            action=AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE,
            by=by,
            changes={"score": [before, str(score)]},
        )
    return entry


# Scorecards -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScorecardResult:
    period: str
    template: ScorecardTemplate
    scorecards: int
    region_scorecards: int


def _default_template():
    template = ScorecardTemplate.objects.filter(is_default=True, is_active=True).first()
    if template is None:
        raise ValidationError({"template": _("There is no default scorecard template: make one the default.")})
    return template


def _partner_values(month, kpi_codes):
    """{partner_id: {kpi: value}} and {partner_id: (region_id, region path, tier_id)} from the
    month's stored partner snapshots: one query."""
    rows = (
        KpiSnapshot.objects.filter(period=month.code, partner__isnull=False, kpi__in=kpi_codes)
        .order_by()
        .values_list("partner_id", "partner__region_id", "partner__region__path", "partner__tier_id", "kpi", "value")
    )
    values, where = defaultdict(dict), {}
    for partner_id, region_id, path, tier_id, kpi, value in rows:
        values[partner_id][kpi] = value
        where[partner_id] = (region_id, path, tier_id)
    return values, where


def _published(month, cards):
    """The partners whose scorecard of `month` is published by this computation: only once the
    month has ended (the nightly runs of the current month publish nothing), and only a card
    that is new or whose score or grade differs from the one it replaces."""
    if month.end >= timezone.localdate():
        return set()
    before = {
        partner_id: (score, grade)
        for partner_id, score, grade in Scorecard.objects.filter(period=month.code).values_list(
            "partner_id", "score", "grade"
        )
    }
    return {card.partner_id for card in cards if before.get(card.partner_id) != (card.score, card.grade)}


def scorecards_compute(*, period, by=None, template=None):
    """Score every partner of the month `period` from its stored KPI snapshots under `template`
    (the default template when None), grade it, rank it in its primary region and in its tier,
    score every region from its partners (revenue-weighted mean through the hierarchy), and
    replace the month's partner and region scorecards in one transaction (rules:
    performance.scoring). Under the month's lock, like snapshots_compute: racing runs take
    turns; running it twice on the same snapshots writes the same cards. A fixed number of
    queries whatever the number of partners. Refused while the month's snapshots have never
    been computed."""
    _require_writer(by)
    month = _month(period)
    with transaction.atomic():
        computation = _lock_month(month)
        if computation.current_run_id is None:
            raise ValidationError(
                {"period": _("Compute the KPI snapshots of %(period)s first.") % {"period": month.code}}
            )
        template = template or _default_template()
        if not template.is_active:
            raise ValidationError({"template": _("This scorecard template is not active.")})
        items = [(item.kpi, item.weight, item.floor, item.target) for item in template.items.all()]
        values, where = _partner_values(month, [kpi for kpi, *_rest in items] + [Kpi.REVENUE])
        scores = {}
        for partner_id, kpi_values in values.items():
            score = scoring.weighted_score(kpi_values, items)
            if score is not None:
                scores[partner_id] = score
        in_region = scoring.ranks_within(scores, {pk: where[pk][0] for pk in scores})
        in_tier = scoring.ranks_within(scores, {pk: where[pk][2] for pk in scores})
        regions = defaultdict(list)
        for partner_id, score in scores.items():
            revenue = values[partner_id].get(Kpi.REVENUE, ZERO)
            for region_id in path_ids(where[partner_id][1]):
                regions[region_id].append((score, revenue))
        now = timezone.now()
        common = {"period": month.code, "period_start": month.start, "template": template, "computed_at": now}
        cards = [
            Scorecard(
                partner_id=partner_id,
                score=score,
                grade=scoring.grade(score),
                rank_in_region=in_region.get(partner_id),
                rank_in_tier=in_tier.get(partner_id),
                **common,
            )
            for partner_id, score in sorted(scores.items())
        ]
        region_cards = []
        for region_id, pairs in sorted(regions.items()):
            score = scoring.revenue_weighted_mean(pairs)
            if score is not None:
                revenue = sum((max(revenue, ZERO) for _score, revenue in pairs), ZERO)
                region_cards.append(
                    RegionScorecard(
                        region_id=region_id,
                        score=score,
                        grade=scoring.grade(score),
                        partners=len(pairs),
                        revenue=revenue,
                        **common,
                    )
                )
        published = _published(month, cards)
        tombstones_record(Scorecard.objects.filter(period=month.code))
        tombstones_record(RegionScorecard.objects.filter(period=month.code))
        Scorecard.objects.filter(period=month.code).delete()
        RegionScorecard.objects.filter(period=month.code).delete()
        Scorecard.objects.bulk_create(cards, batch_size=BATCH_SIZE)
        RegionScorecard.objects.bulk_create(region_cards, batch_size=BATCH_SIZE)
        scorecards_published(month.code, published)
    return ScorecardResult(month.code, template, len(cards), len(region_cards))


def _number(value):
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _template_items(items):
    """[ScorecardItem (unsaved)] and [error message] for the rows `items` ({kpi, weight,
    floor, target}); every row is checked, each error names its row and KPI."""
    rows, errors, seen = [], [], set()
    labels = dict(Kpi.choices)
    for number, item in enumerate(items, start=1):
        kpi = str(item.get("kpi", "")).strip()
        label = {"number": number, "kpi": labels.get(kpi, kpi or "?")}
        if kpi not in SCORABLE_KPIS:
            errors.append(_("Item %(number)s: “%(kpi)s” is not a KPI a scorecard can score.") % label)
            continue
        if kpi in seen:
            errors.append(_("Item %(number)s (%(kpi)s): this KPI is already in an earlier item.") % label)
            continue
        seen.add(kpi)
        weight, floor, target = (_number(item.get(name)) for name in ("weight", "floor", "target"))
        if weight is None or not ZERO < weight <= SCORE_MAX or weight != weight.quantize(Decimal("0.01")):
            errors.append(
                _("Item %(number)s (%(kpi)s): enter a weight above 0 and up to 100, two decimals at most.") % label
            )
            continue
        if floor is None or target is None:
            errors.append(_("Item %(number)s (%(kpi)s): enter a number for the floor and the target.") % label)
            continue
        if kpi in LOWER_IS_BETTER_KPIS and not floor > target:
            errors.append(
                _("Item %(number)s (%(kpi)s): lower is better, so the floor must be above the target.") % label
            )
            continue
        if kpi not in LOWER_IS_BETTER_KPIS and not floor < target:
            errors.append(_("Item %(number)s (%(kpi)s): the floor must be below the target.") % label)
            continue
        rows.append(ScorecardItem(kpi=kpi, weight=weight, floor=floor, target=target))
    if not items:
        errors.append(_("Add at least one KPI."))
    elif not errors:
        total = sum((row.weight for row in rows), ZERO)
        if total != SCORE_MAX:
            errors.append(_("The weights add up to %(total)s; they must add up to 100.") % {"total": total})
    return rows, errors


def _describe(items):
    return [f"{item.kpi} {item.weight} {item.floor} {item.target}" for item in items]


def scorecard_template_save(*, template, items, by=None):
    """Save a scorecard template with its items ({kpi, weight, floor, target} each), replacing
    its previous items. Every item is checked (a scorable KPI, once; a weight above 0; the
    floor below the target, or above it for a lower-is-better KPI) and the weights must add up
    to 100; nothing is written unless all is right. A template saved as the default becomes the
    only default (the default must be active; to change it, make another template the
    default). Recorded in the history."""
    _require_writer(by)
    errors = {}
    template.name = (template.name or "").strip()
    if not template.name:
        errors["name"] = _("Enter a name.")
    elif ScorecardTemplate.objects.filter(name__iexact=template.name).exclude(pk=template.pk).exists():
        errors["name"] = _("Another scorecard template has this name.")
    if template.is_default and not template.is_active:
        errors["is_active"] = _("The default template must be active.")
    if (
        template.pk
        and not template.is_default
        and ScorecardTemplate.objects.filter(pk=template.pk, is_default=True).exists()
    ):
        errors["is_default"] = _("This is the default template: make another template the default instead.")
    rows, item_errors = _template_items(list(items))
    if item_errors:
        errors["items"] = item_errors
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        created = template.pk is None
        before = [] if created else _describe(template.items.all())
        if template.is_default:
            ScorecardTemplate.objects.select_for_update().filter(is_default=True).exclude(pk=template.pk).update(
                is_default=False, updated_at=timezone.now()
            )
        template.save()
        template.items.all().delete()
        for row in rows:
            row.template = template
        ScorecardItem.objects.bulk_create(rows)
        audit_record(
            instance=template,
            action=AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE,
            by=by,
            changes={"items": [before, _describe(rows)]},
        )
    return template


# The whole month, and the runs that compute it ------------------------------------------------


@dataclass(frozen=True)
class MonthResult:
    period: str
    snapshots: int
    scorecards: int
    region_scorecards: int
    flags_opened: int
    flags_updated: int

    def as_dict(self):
        return {
            "snapshots": self.snapshots,
            "scorecards": self.scorecards,
            "region_scorecards": self.region_scorecards,
            "flags_opened": self.flags_opened,
            "flags_updated": self.flags_updated,
        }

    @property
    def rows(self):
        return self.snapshots + self.scorecards + self.region_scorecards + self.flags_opened + self.flags_updated


def month_compute(*, period, by=None, job_run=None, figures=None):
    """Everything of a month, in one transaction under the month's lock: its KPI snapshots,
    then its scorecards from them, then its region flags. What the nightly job, the period close,
    the pages, the API and `compute_scorecards` all run (the first three through
    performance.tasks.month_run). A fixed number of queries whatever the number of partners."""
    _require_writer(by)
    month = _month(period)
    with transaction.atomic():
        run = snapshots_compute(period=month, by=by, job_run=job_run, figures=figures)
        cards = scorecards_compute(period=month, by=by)
        opened, updated = flags_evaluate(period=month, by=by)
    return MonthResult(month.code, run.rows, cards.scorecards, cards.region_scorecards, opened, updated)


def month_run_start(*, period, by):
    """Queue the computation of a month (performance.tasks.month_run) for someone on a page or
    the API: checks the month now (a clear error, nothing queued) and returns the JobRun to
    follow. A month after the current one is refused: it has no sales yet."""
    _require_writer(by)
    month = _month(period)
    if month.start > timezone.localdate():
        raise ValidationError({"period": _("%(period)s has not started yet.") % {"period": month.code}})
    from prm.jobs import job_queue

    from .tasks import JOB_NAME, month_run

    run = job_queue(JOB_NAME, by=by, params={"period": month.code})
    user = acting_user(by)
    transaction.on_commit(lambda: month_run.delay(month.code, run_id=run.pk, by_id=user.pk if user else None))
    return run


# Region flags ------------------------------------------------------------------------------------


def _flag_notices(flags, regions):
    """Tell the managers of each newly flagged region (assigned to it or to a region above it)."""
    from partners.models import ManagerRegion
    from prm.notifications import notify_many, page_url

    wanted = {region_id for flag in flags for region_id in path_ids(regions[flag.region_id].path)}
    managers = defaultdict(list)
    for assignment in ManagerRegion.objects.filter(region_id__in=wanted, manager__is_active=True).select_related(
        "manager"
    ):
        managers[assignment.region_id].append(assignment.manager)
    notices = []
    for flag in flags:
        region = regions[flag.region_id]
        params = {"region": region.name, "period": flag.period}
        recipients = [user for region_id in path_ids(region.path) for user in managers.get(region_id, [])]
        notices.append(
            {
                "recipients": recipients,
                "subject": lambda params=params: _("%(region)s is flagged as underperforming in %(period)s") % params,
                "message": lambda params=params, rules=flag.rules: (
                    _("Rules that fired: %(rules)s. Acknowledge the flag and agree an action plan.")
                    % {**params, "rules": ", ".join(str(dict(FlagRuleCode.choices).get(rule, rule)) for rule in rules)}
                ),
                "url": page_url("performance:flag-detail", flag.pk),
                "dedupe_key": f"region-flag-{flag.pk}",
            }
        )
    notify_many(notices)


def flags_evaluate(*, period, by=None):
    """Evaluate the flag rules over the month's stored snapshots and scorecards
    (performance.flags) and write the month's flags: a region the rules flag for the first time
    gets an open flag and its managers are told; a flagged region keeps its flag and workflow
    (acknowledged, action plan, resolved), only its findings change; a flag whose rules no longer
    fire is kept with its last findings and marked as no longer firing. Under the month's lock:
    racing runs take turns and never duplicate a flag. (opened, updated).

    A month still running is not judged: its sales so far would be held against a whole month's
    target, and against whole earlier months, so every region would look underperforming. Its
    flags come when it closes (the nightly run on the 1st computes the month that ended)."""
    _require_writer(by)
    month = _month(period)
    if month.end >= timezone.localdate():
        return 0, 0
    with transaction.atomic():
        _lock_month(month)
        findings = flags.evaluate(month)
        now = timezone.now()
        existing = {flag.region_id: flag for flag in RegionFlag.objects.filter(period=month.code)}
        new, changed = [], []
        for region_id, fired in findings.items():
            rules = [finding["rule"] for finding in fired]
            flag = existing.get(region_id)
            if flag is None:
                new.append(
                    RegionFlag(
                        region_id=region_id,
                        period=month.code,
                        period_start=month.start,
                        findings=fired,
                        rules=rules,
                        opened_at=now,
                        evaluated_at=now,
                    )
                )
            else:
                flag.findings, flag.rules, flag.is_firing, flag.evaluated_at = fired, rules, True, now
                flag.updated_at = now
                changed.append(flag)
        for region_id, flag in existing.items():
            if region_id not in findings and flag.is_firing:
                # The last findings stay, so the flag still says why it was opened.
                flag.is_firing, flag.evaluated_at, flag.updated_at = False, now, now
                changed.append(flag)
        RegionFlag.objects.bulk_create(new, batch_size=BATCH_SIZE)
        RegionFlag.objects.bulk_update(
            changed, ["findings", "rules", "is_firing", "evaluated_at", "updated_at"], batch_size=BATCH_SIZE
        )
        if new:
            # bulk_create has set their ids (PostgreSQL, SQLite ≥ 3.35 both return them).
            regions = {region.pk: region for region in Region.objects.filter(pk__in=[f.region_id for f in new])}
            _flag_notices(new, regions)
            regions_flagged(new)
    return len(new), len(changed)


def can_handle_flags(user):
    return can_write_as_staff(user) or is_integration(user)


def _flag_locked(flag, to, by):
    if by is not None and not can_handle_flags(by):
        raise PermissionDenied(_("Only a channel admin or a channel manager can work on region flags."))
    flag = RegionFlag.objects.select_for_update().get(pk=flag.pk)
    if to not in FLAG_TRANSITIONS[flag.status]:
        raise ValidationError(
            {
                "status": _("A flag that is %(status)s cannot become %(to)s.")
                % {"status": flag.get_status_display(), "to": FlagStatus(to).label}
            }
        )
    return flag


def _flag_record(flag, before, by, changes=None):
    audit_record(
        instance=flag,
        action=AuditEntry.Action.UPDATE,
        by=by,
        changes={"status": [before, flag.status], **(changes or {})},
    )


@transaction.atomic
def flag_acknowledge(*, flag, by):
    """Open → acknowledged: someone has seen the flag and owns finding out why."""
    flag = _flag_locked(flag, FlagStatus.ACKNOWLEDGED, by)
    before = flag.status
    flag.status, flag.acknowledged_at, flag.acknowledged_by = FlagStatus.ACKNOWLEDGED, timezone.now(), acting_user(by)
    flag.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "updated_at"])
    _flag_record(flag, before, by)
    return flag


def _clean_plan(measures, owner, due_date, plan, *, today):
    errors = {}
    measures = [str(code).strip() for code in (measures or []) if str(code).strip()]
    unknown = [code for code in measures if code not in Measure.values]
    if not measures:
        errors["measures"] = _("Choose at least one measure.")
    elif unknown:
        errors["measures"] = _("Unknown measure: %(codes)s.") % {"codes": ", ".join(unknown)}
    if owner is None:
        errors["owner"] = _("Choose who owns the action plan.")
    elif not (owner.is_active and owner.is_staff):
        errors["owner"] = _("The owner must be an active member of the channel team.")
    if due_date is None:
        errors["due_date"] = _("Enter the date the plan is due.")
    elif due_date < today:
        errors["due_date"] = _("The due date cannot be in the past.")
    plan = (plan or "").strip()
    if Measure.OTHER in measures and not plan:
        errors["plan"] = _("Describe the measure when you choose “Other”.")
    if errors:
        raise ValidationError(errors)
    return list(dict.fromkeys(measures)), plan


@transaction.atomic
def flag_plan(*, flag, measures, owner, due_date, plan="", by):
    """Acknowledged → action plan, or change the plan: the measures (from Measure, at least
    one), the owner (an active member of the channel team), the due date (not in the past) and
    a description (required with "Other")."""
    flag = _flag_locked(flag, FlagStatus.ACTION_PLAN, by)
    measures, plan = _clean_plan(measures, owner, due_date, plan, today=timezone.localdate())
    before = flag.status
    old = [flag.measures, flag.owner_id, str(flag.due_date) if flag.due_date else None, flag.plan]
    flag.status, flag.measures, flag.owner, flag.due_date, flag.plan = (
        FlagStatus.ACTION_PLAN,
        measures,
        owner,
        due_date,
        plan,
    )
    flag.save(update_fields=["status", "measures", "owner", "due_date", "plan", "updated_at"])
    _flag_record(flag, before, by, {"plan": [old, [measures, owner.pk, str(due_date), plan]]})
    if owner != acting_user(by):
        from prm.notifications import notify, page_url

        params = {"region": flag.region.name, "period": flag.period, "due": due_date.isoformat()}
        notify(
            recipients=[owner],
            subject=lambda: _("You own the action plan for %(region)s (%(period)s)") % params,
            message=lambda: _("The plan is due on %(due)s.") % params,
            url=page_url("performance:flag-detail", flag.pk),
        )
    return flag


@transaction.atomic
def flag_resolve(*, flag, resolution, by):
    """Action plan → resolved, saying what was done."""
    flag = _flag_locked(flag, FlagStatus.RESOLVED, by)
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationError({"resolution": _("Say how the flag was resolved.")})
    before = flag.status
    flag.status, flag.resolution, flag.resolved_at, flag.resolved_by = (
        FlagStatus.RESOLVED,
        resolution,
        timezone.now(),
        acting_user(by),
    )
    flag.save(update_fields=["status", "resolution", "resolved_at", "resolved_by", "updated_at"])
    _flag_record(flag, before, by, {"resolution": ["", resolution]})
    return flag


# Limits of each rule's threshold: (lowest, highest, whole numbers only).
RULE_LIMITS = {
    FlagRuleCode.ATTAINMENT: (Decimal("0.01"), Decimal("10"), False),
    FlagRuleCode.SCORE: (Decimal("1"), Decimal("100"), False),
    FlagRuleCode.DECLINE: (Decimal("1"), Decimal("12"), True),
    FlagRuleCode.CROSS_TERRITORY: (Decimal("0"), Decimal("0.99"), False),
}


def flag_rule_save(*, code, threshold, is_active=True, by=None):
    """Set a flag rule's threshold and whether it is in force (the row is created on first
    save). Checked against the rule's limits: a ratio for attainment and cross-territory share,
    a score for the region score, a whole number of months for the decline. Recorded in the
    history. Takes effect the next time a month is computed."""
    _require_writer(by)
    if code not in FlagRuleCode.values:
        raise ValidationError({"code": _("Unknown flag rule.")})
    low, high, whole = RULE_LIMITS[code]
    number = _number(threshold)
    if number is None or not low <= number <= high or (whole and number != number.to_integral()):
        message = (
            _("Enter a whole number from %(low)s to %(high)s.")
            if whole
            else _("Enter a number from %(low)s to %(high)s.")
        )
        raise ValidationError({"threshold": message % {"low": low, "high": high}})
    if number != number.quantize(Decimal("0.0001")):
        raise ValidationError({"threshold": _("Use at most four decimals.")})
    with transaction.atomic():
        rule, created = FlagRule.objects.select_for_update().get_or_create(
            code=code, defaults={"threshold": number, "is_active": is_active, "updated_by": acting_user(by)}
        )
        before = [str(rule.threshold), rule.is_active]
        rule.threshold, rule.is_active, rule.updated_by = number, bool(is_active), acting_user(by)
        rule.save()
        audit_record(
            instance=rule,
            action=AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE,
            by=by,
            changes={
                "threshold": [None if created else before[0], str(number)],
                "is_active": [before[1], rule.is_active],
            },
        )
    return rule
