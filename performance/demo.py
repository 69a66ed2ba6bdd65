"""Demo data for performance: customer-satisfaction scores for some partners, then the KPI
snapshots, scorecards and region flags of the last 24 months (the current one included),
computed oldest first through `services.month_compute` from the demo sales (sales.demo tells
their story: seasons, growth, two declining provinces, one underperforming, one selling across
its territory, one selling below the minimum prices), so the dashboard shows scores, trends and
real flags on the first run.

The flags are worked through as a channel team would, by the region's channel manager: those of
months three or more months back are resolved after an action plan, the last closed month's are
acknowledged with an action plan for the declining regions, the month before's are open (the
current month is judged when it closes).

Deterministic and idempotent: a score is entered once per partner and month, and a month that
was computed already is left as it is (compute it again from its page to refresh it).
"""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from partners.choices import PartnerStatus
from partners.models import ManagerRegion, Partner
from prm.periods import Period
from sales.demo import UNDERPERFORMING

from . import services
from .choices import FlagRuleCode, FlagStatus, Measure
from .models import CustomerSatisfaction, PeriodComputation, RegionFlag

MONTHS = 24
SURVEYED_MONTHS = 6  # the closed months with a customer-satisfaction survey
# The measures a manager picks for a flag, by the first rule that fired.
MEASURES = {
    FlagRuleCode.DECLINE: [Measure.MARKET_SUPPORT, Measure.INCENTIVES],
    FlagRuleCode.ATTAINMENT: [Measure.TRAINING, Measure.MARKET_SUPPORT],
    FlagRuleCode.SCORE: [Measure.TRAINING],
    FlagRuleCode.CROSS_TERRITORY: [Measure.OTHER],
}
PLANS = {
    FlagRuleCode.CROSS_TERRITORY: "Audit the orders shipped outside the territory; warn the partners under the "
    "agreement's penalty clause 核查窜货订单并按协议处罚.",
}


def _months(today):
    """The MONTHS months ending with the current one, oldest first."""
    months = [Period.containing(today)]
    while len(months) < MONTHS:
        months.append(months[-1].previous())
    return months[::-1]


def _scores(months, log):
    """A score (0–100) for every other active partner for the last closed months: most between
    72 and 95, the partners of the underperforming province lower."""
    surveyed = months[-1 - SURVEYED_MONTHS : -1]
    partners = Partner.objects.filter(status=PartnerStatus.ACTIVE).select_related("region").order_by("code")
    rows = []
    for partner in partners[::2]:
        rng = random.Random(f"satisfaction-{partner.code}")
        low = partner.region.code in UNDERPERFORMING
        for month in surveyed:
            score = Decimal(rng.randint(5500, 7000) if low else rng.randint(7200, 9500)) / 100
            rows.append(CustomerSatisfaction(partner=partner, period=month.code, period_start=month.start, score=score))
    before = CustomerSatisfaction.objects.count()
    CustomerSatisfaction.objects.bulk_create(rows, ignore_conflicts=True)
    log(f"customer satisfaction scores created: {CustomerSatisfaction.objects.count() - before}")


def _compute(months, log):
    """Each month not computed yet, oldest first: a month's growth and decline read the ones
    before it."""
    done = set(PeriodComputation.objects.filter(current_run__isnull=False).values_list("period", flat=True))
    todo = [month for month in months if month.code not in done]
    flags = sum(services.month_compute(period=month).flags_opened for month in todo)
    log(f"months computed: {len(todo)}, region flags opened: {flags}")


def _managers():
    """{region path: the channel manager looking after it} from the demo's area assignments."""
    return dict(ManagerRegion.objects.order_by("region__path").values_list("region__path", "manager__username"))


def _manager_of(flag, managers, users):
    for path, username in managers.items():
        if flag.region.path.startswith(path):
            return users[username]
    return users["admin"]


def _work_flags(months, log):
    """Resolve the old flags, plan the last closed month's declines, leave the month before's
    open (only flags still open are touched: a rerun changes nothing)."""
    users = {
        user.username: user for user in get_user_model().objects.filter(username__in=["admin", "manager", "manager2"])
    }
    if "admin" not in users:
        return
    managers = _managers()
    today = timezone.localdate()
    old = {month.code for month in months[:-3]}
    last = months[-2].code
    flags = RegionFlag.objects.filter(status=FlagStatus.OPEN, period__in=old | {last}).select_related("region")
    worked = 0
    for flag in flags.order_by("period_start", "region__path"):
        by = _manager_of(flag, managers, users)
        rule = FlagRuleCode.DECLINE if FlagRuleCode.DECLINE in flag.rules else flag.rules[0]
        if flag.period == last and rule != FlagRuleCode.DECLINE:
            services.flag_acknowledge(flag=flag, by=by)
            continue
        services.flag_acknowledge(flag=flag, by=by)
        services.flag_plan(
            flag=flag,
            measures=MEASURES[rule],
            owner=by,
            due_date=today + timedelta(days=30),
            plan=PLANS.get(rule, ""),
            by=by,
        )
        if flag.period in old:
            services.flag_resolve(flag=flag, resolution="Back on track the following quarter 次季度已恢复.", by=by)
        worked += 1
    _backdate(months)
    log(f"region flags worked through: {worked}")


def _backdate(months):
    """The stamps of the worked flags as the team would have left them, days after each month
    (never later than now)."""
    now = timezone.now()
    for month in months[:-1]:
        flags = RegionFlag.objects.filter(period=month.code)
        after = timezone.make_aware(datetime.combine(month.end + timedelta(days=1), time(10)))
        flags.filter(acknowledged_at__isnull=False).update(acknowledged_at=min(after + timedelta(days=2), now))
        flags.filter(resolved_at__isnull=False).update(
            resolved_at=min(after + timedelta(days=40), now), due_date=(after + timedelta(days=45)).date()
        )


@transaction.atomic
def seed(*, log=print):
    months = _months(timezone.localdate())
    _scores(months, log)
    _compute(months, log)
    _work_flags(months, log)
