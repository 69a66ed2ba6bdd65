"""Demo data for incentives, built through the services from the demo sales and agreements.

- Rebate policies of both methods: a marginal revenue rebate on the hardware lines with the tiers'
  multipliers, a retroactive units rebate on the software licences with a cap, and a retroactive
  revenue rebate on field services with a cap; an override commission for the network (2 % to the
  parent, 1 % to the grandparent on hardware). Each is assigned to the active (or just expired)
  agreements that cover its product lines.
- Rebate statements for the last three months, calculated from the sales: the oldest month paid,
  the next approved (one statement cancelled and calculated again, with an adjustment for returned
  goods), the last month calculated and waiting for review, with an adjustment on the demo portal
  partner's statement for a sale reported late.
- MDF budgets for the previous and the current quarter: by hand for a few partners, from the
  tier allowance for the others; requests in every status (draft, submitted, approved, rejected,
  claimed with a small PDF proof, paid, cancelled), most of them at D-EAST-1, the demo portal
  login's partner, and a few in the managers' approval and claims queues.

Deterministic and idempotent: policies are keyed by name, assignments by agreement and policy, a
month's statements are made once (when it has none), a budget when its partner has none for the
period, a request when its partner has none with that title.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal
from io import BytesIO

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from agreements.choices import AgreementStatus
from agreements.models import Agreement
from partners.models import Partner, PartnerTier
from prm.periods import Period, PeriodKind
from sales.models import ProductLine

from . import access, services
from .choices import MdfActivity, MdfStatus, RebateBasis, RebateMethod
from .models import MdfBudget, MdfRequest, OverridePolicy, PolicyAssignment, RebatePolicy, RebateStatement

D = Decimal
HARDWARE = ("SENSORS", "CONTROL")
# name, basis, method, product lines, brackets (threshold, rate %), cap, tier multipliers
POLICIES = [
    (
        "Hardware volume rebate 硬件销量返利",
        RebateBasis.REVENUE,
        RebateMethod.MARGINAL,
        HARDWARE,
        [("0", "1"), ("20000", "2"), ("100000", "3"), ("300000", "4")],
        None,
        True,
    ),
    (
        "SCADA licence rebate 软件授权阶梯返利",
        RebateBasis.UNITS,
        RebateMethod.RETROACTIVE,
        ("SOFTWARE",),
        [("0", "0"), ("20", "2"), ("60", "3"), ("120", "4")],
        "60000.00",
        False,
    ),
    (
        "Field services rebate 服务返利",
        RebateBasis.REVENUE,
        RebateMethod.RETROACTIVE,
        ("SERVICES",),
        [("0", "1"), ("50000", "2.5")],
        "5000.00",
        False,
    ),
]
OVERRIDE = ("Network override commission 多级分销超额佣金", {1: "2", 2: "1"}, HARDWARE)
MONTHS = 3  # statements for this many past months
SHOWCASE = "D-EAST-1"  # the demo portal login's partner
# Its statement two months ago was cancelled (a customer returned goods) and calculated again.
RECALCULATED = "S-EAST-11"

# Budgets set by hand (the rest come from the tier allowance): code, quarter (0 current, -1
# previous), amount, note.
HAND_BUDGETS = [
    (SHOWCASE, -1, "150000.00", "East China launch plan, agreed with the sales director"),
    (SHOWCASE, 0, "200000.00", "East China launch plan, second half"),
    ("R-EAST-112", 0, "5000.00", "Pilot: a first co-marketing fund for a registered reseller"),
]

PARTNER_ADMIN, PARTNER_USER = "partner", "partner-user"
# code, quarter (0 current, -1 previous), days into it, (title, activity, plan, requested),
# status, story
REQUESTS = [
    (
        SHOWCASE, -1, 15,
        ("2026华东工业自动化展展位", MdfActivity.TRADE_SHOW,
         "54 m² booth at the East China Industrial Automation Expo with live SCADA demos; "
         "target 600 qualified leads and 40 quotations.", "60000.00"),
        MdfStatus.PAID, {"approved": "50000.00", "actual": "48760.00", "reference": "TT-2026-0815"},
    ),
    (
        SHOWCASE, -1, 40,
        ("Hongqiao airport billboard 虹桥机场广告牌", MdfActivity.ADVERTISING,
         "Three months of a light-box billboard in Hongqiao T2 arrivals.", "120000.00"),
        MdfStatus.REJECTED,
        {"reason": "Brand advertising is paid centrally; co-marketing funds go to lead generation."},
    ),
    (
        SHOWCASE, -1, 60,
        ("杭州客户路演", MdfActivity.PROMOTION,
         "Half-day roadshow for 80 plant managers in Hangzhou, with a partner integrator.", "18000.00"),
        MdfStatus.CANCELLED, {"approved": "15000.00"},
    ),
    (
        SHOWCASE, 0, 19,
        ("Q4 channel partner summit 渠道伙伴大会", MdfActivity.TRAINING_EVENT,
         "Two-day summit for our 12 sub-distributors and resellers: product roadmap, pricing, "
         "joint business plans for next year.", "45000.00"),
        MdfStatus.CLAIMED, {"approved": "40000.00", "actual": "38215.50"},
    ),
    (
        SHOWCASE, 0, 30,
        ("微信与百度搜索推广", MdfActivity.ADVERTISING,
         "Eight weeks of WeChat moments ads and Baidu search keywords on SCADA upgrades.", "36000.00"),
        MdfStatus.APPROVED, {"approved": "30000.00"},
    ),
    (
        SHOWCASE, 0, 70,
        ("Year-end SCADA upgrade promotion 年终升级促销", MdfActivity.PROMOTION,
         "10 % off upgrades from legacy SCADA licences for orders placed by 31 December.", "25000.00"),
        MdfStatus.SUBMITTED, {},
    ),
    (
        SHOWCASE, 0, 80,
        ("经销商技术培训巡讲", MdfActivity.TRAINING_EVENT,
         "Technical training tour in Nanjing, Suzhou and Ningbo for resellers' engineers.", "18000.00"),
        MdfStatus.DRAFT, {},
    ),
    (
        "D-NORTH-1", 0, 75,
        ("Beijing smart factory forum booth 北京智能工厂论坛", MdfActivity.TRADE_SHOW,
         "Booth and a 20-minute talk at the Beijing smart factory forum.", "9000.00"),
        MdfStatus.SUBMITTED, {},
    ),
    (
        "S-SOUTH-11", 0, 68,
        ("广州传感器促销月", MdfActivity.PROMOTION,
         "A month of bundle pricing on pressure and flow sensors for OEM customers.", "1200.00"),
        MdfStatus.SUBMITTED, {},
    ),
    (
        "D-WEST-1", 0, 10,
        ("Chengdu partner training day 成都伙伴培训日", MdfActivity.TRAINING_EVENT,
         "One-day hands-on training for 30 engineers of West China resellers.", "9800.00"),
        MdfStatus.CLAIMED, {"approved": "9800.00", "actual": "9650.00"},
    ),
    (
        "A-GD-1", -1, 20,
        ("Shenzhen industrial fair leaflets 深圳工博会宣传册", MdfActivity.OTHER,
         "5,000 bilingual leaflets and sample kits for the Shenzhen industrial fair.", "3000.00"),
        MdfStatus.PAID, {"approved": "3000.00", "actual": "2870.40", "reference": "TT-2026-0902"},
    ),
]  # fmt: skip


def _at(day, hour=10):
    return timezone.make_aware(datetime.combine(day, time(hour)))


# Policies and assignments ---------------------------------------------------------------------


def _policies(by, start):
    lines = {line.code: line for line in ProductLine.objects.all()}
    multipliers = {tier: tier.rebate_multiplier for tier in PartnerTier.objects.filter(rebate_multiplier__gt=1)}
    existing = {policy.name: policy for policy in RebatePolicy.objects.filter(name__in=[p[0] for p in POLICIES])}
    policies = {}
    for name, basis, method, codes, brackets, cap, with_multipliers in POLICIES:
        policies[name] = existing.get(name) or services.policy_create(
            by=by,
            name=name,
            basis=basis,
            period=PeriodKind.MONTH,
            method=method,
            brackets=[{"threshold": threshold, "rate": rate} for threshold, rate in brackets],
            product_lines=[lines[code] for code in codes if code in lines],
            tier_multipliers=multipliers if with_multipliers else None,
            cap=cap,
            valid_from=start,
        )
    name, rates, codes = OVERRIDE
    if not OverridePolicy.objects.filter(name=name).exists():
        services.override_policy_create(
            by=by,
            name=name,
            rates=rates,
            product_lines=[lines[code] for code in codes if code in lines],
            period=PeriodKind.MONTH,
            valid_from=start,
        )
    return policies


def _assign(by, policies):
    """Each active (or just expired) agreement gets the policies of the product lines it covers."""
    by_line = {}
    for policy in policies.values():
        for line in policy.product_lines.all():
            by_line.setdefault(line.pk, []).append(policy)
    linked = set(PolicyAssignment.objects.values_list("agreement_id", "policy_id"))
    agreements = Agreement.objects.filter(status__in=(AgreementStatus.ACTIVE, AgreementStatus.EXPIRED)).order_by("pk")
    for agreement in agreements.prefetch_related("product_lines"):
        wanted = {policy.pk: policy for line in agreement.product_lines.all() for policy in by_line.get(line.pk, ())}
        for policy in wanted.values():
            if (agreement.pk, policy.pk) not in linked:
                services.policy_assign(agreement=agreement, policy=policy, by=by)


# Statements ------------------------------------------------------------------------------------


def _statements(by, today, log):
    month = Period.containing(today)
    months = [month]
    for _step in range(MONTHS):
        months.insert(0, months[0].previous())
    months.pop()  # the current month has not closed yet
    done = set(RebateStatement.objects.filter(period__in=[m.code for m in months]).values_list("period", flat=True))
    created = 0
    for age, period in zip(range(MONTHS, 0, -1), months, strict=True):
        if period.code in done:
            continue
        services.statements_calculate_all(period=period)
        statements = list(RebateStatement.objects.filter(period=period.code).select_related("partner").order_by("pk"))
        created += len(statements)
        _statements_story(by, period, age, statements)
    log(f"rebate statements created: {created}, in total: {RebateStatement.objects.count()}")


def _statements_story(by, period, age, statements):
    """Paid for the oldest month, approved for the next (one cancelled and calculated again with
    an adjustment), calculated for the last one (with an adjustment)."""
    reviewed = period.end + timedelta(days=8)
    if age == 1:
        showcase = next((s for s in statements if s.partner.code == SHOWCASE), None)
        if showcase is not None:
            services.statement_add_adjustment(
                statement=showcase,
                amount="1850.00",
                reason=f"Licence sale of {period.previous()} reported late 上月补报销量",
                by=by,
            )
        return
    for statement in statements:
        if age == 2 and statement.partner.code == RECALCULATED:
            services.statement_cancel(statement=statement, by=by)
            again = services.statement_calculate(partner=statement.partner, period=period, by=by)
            services.statement_add_adjustment(
                statement=again, amount="-420.00", reason="Goods returned by a customer 客户退货冲减", by=by
            )
            continue
        services.statement_approve(statement=statement, by=by)
        if age > 2:
            services.statement_mark_paid(statement=statement, by=by)
    # When it happened, not when the demo was loaded.
    live = RebateStatement.objects.filter(period=period.code)
    live.update(calculated_at=_at(period.end + timedelta(days=1), 2))
    live.exclude(approved_at=None).update(approved_at=_at(reviewed))
    live.exclude(paid_at=None).update(paid_at=_at(reviewed + timedelta(days=20)))
    live.exclude(cancelled_at=None).update(cancelled_at=_at(reviewed - timedelta(days=2)))


# MDF ------------------------------------------------------------------------------------------


def _proof_pdf(title):
    from reportlab.pdfgen import canvas

    buffer = BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.setTitle("Proof of performance")
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(72, 760, "Proof of performance")
    pdf.setFont("Helvetica", 11)
    for index, line in enumerate(
        [
            title.encode("ascii", "ignore").decode().strip() or "Market development activity",
            "Attendance list, photos and supplier invoices attached.",
            "Signed: channel operations lead",
        ]
    ):
        pdf.drawString(72, 730 - 18 * index, line)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _budgets(by, today, log):
    quarter = Period.containing(today, PeriodKind.QUARTER)
    quarters = {0: quarter, -1: quarter.previous()}
    partners = {p.code: p for p in Partner.objects.filter(code__in=[code for code, *_rest in HAND_BUDGETS])}
    have = set(MdfBudget.objects.values_list("partner__code", "period"))
    for code, offset, amount, note in HAND_BUDGETS:
        if code in partners and (code, quarters[offset].code) not in have:
            services.budget_set(partner=partners[code], period=quarters[offset], allocated=amount, by=by, note=note)
    for offset in (-1, 0):
        services.budgets_allocate_from_tiers(period=quarters[offset], by=by)
    log(f"MDF budgets in total: {MdfBudget.objects.count()}")
    return quarters


def _requests(users, quarters, log):
    User = get_user_model()
    people = {user.username: user for user in User.objects.filter(username__in=[PARTNER_ADMIN, PARTNER_USER])}
    budgets = {
        (budget.partner.code, budget.period): budget
        for budget in MdfBudget.objects.filter(period__in=[q.code for q in quarters.values()]).select_related(
            "partner__region"
        )
    }
    have = set(MdfRequest.objects.values_list("partner__code", "title"))
    created = 0
    for code, offset, day, (title, activity, plan, requested), status, story in REQUESTS:
        budget = budgets.get((code, quarters[offset].code))
        if budget is None or (code, title) in have:
            continue
        # The portal logins act for their own partner; the channel team drafts for the others.
        requester = people.get(PARTNER_USER if status == MdfStatus.DRAFT else PARTNER_ADMIN)
        requester = requester if code == SHOWCASE and requester else users["admin"]
        # The manager of the partner's area decides (the admin if neither manager may).
        decider = next(
            user for user in (users["manager"], users["manager2"], users["admin"])
            if access.can_decide_mdf(user, budget.partner)
        )  # fmt: skip
        start = quarters[offset].start + timedelta(days=day)
        _request_story(
            requester, decider, users["admin"], budget, start, title, activity, plan, requested, status, story
        )
        created += 1
    log(f"MDF requests created: {created}, in total: {MdfRequest.objects.count()}")


def _request_story(requester, decider, admin, budget, start, title, activity, plan, requested, status, story):
    request = services.mdf_request_create(
        by=requester,
        budget=budget,
        title=title,
        activity_type=activity,
        plan=plan,
        start_date=start,
        end_date=start + timedelta(days=2),
        requested_amount=requested,
    )
    stamps = {"created_at": _at(start - timedelta(days=30))}
    if status == MdfStatus.DRAFT:
        return _stamp(request, stamps)
    services.mdf_request_submit(request=request, by=requester)
    stamps["submitted_at"] = _at(start - timedelta(days=28))
    if status == MdfStatus.SUBMITTED:
        return _stamp(request, stamps)
    stamps["decided_at"] = _at(start - timedelta(days=25))
    if status == MdfStatus.REJECTED:
        services.mdf_request_reject(request=request, by=decider, reason=story["reason"])
        return _stamp(request, stamps)
    services.mdf_request_approve(
        request=request, by=decider, approved_amount=story["approved"], note="Approved within this quarter's plan."
    )
    if status == MdfStatus.CANCELLED:
        services.mdf_request_cancel(request=request, by=requester)
        return _stamp(request, stamps)
    if status == MdfStatus.APPROVED:
        return _stamp(request, stamps)
    proof = SimpleUploadedFile("proof-of-performance.pdf", _proof_pdf(title), content_type="application/pdf")
    services.mdf_request_claim(
        request=request,
        by=requester,
        actual_amount=story["actual"],
        note="Photos, attendance list and invoices attached.",
        files=[proof],
    )
    stamps["claimed_at"] = _at(start + timedelta(days=9))
    if status == MdfStatus.PAID:
        services.mdf_request_mark_paid(request=request, by=admin, payment_reference=story["reference"])
        stamps["paid_at"] = _at(start + timedelta(days=30))
    return _stamp(request, stamps)


def _stamp(request, stamps):
    """When each step happened in the story, not when the demo was loaded (never in the future)."""
    now = timezone.now()
    MdfRequest.objects.filter(pk=request.pk).update(**{name: min(at, now) for name, at in stamps.items()})


@transaction.atomic
def seed(*, log=print):
    User = get_user_model()
    users = {user.username: user for user in User.objects.filter(username__in=["admin", "manager", "manager2"])}
    if len(users) < 3 or not ProductLine.objects.exists():
        return
    by, today = users["admin"], timezone.localdate()
    policies = _policies(by, today.replace(month=1, day=1) - timedelta(days=365))
    _assign(by, policies)
    _statements(by, today, log)
    quarters = _budgets(by, today, log)
    _requests(users, quarters, log)
