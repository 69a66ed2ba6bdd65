"""factory_boy factories for every model; tests build exactly the rows they need."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from agreements.choices import AgreementStatus, AgreementType
from agreements.models import Agreement, AgreementTarget, AgreementTerritory
from incentives.choices import LineKind, MdfActivity, MdfStatus, RebateBasis, RebateMethod, StatementStatus
from incentives.models import (
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
)
from partners.choices import PartnerStatus, PartnerType, RegionKind
from partners.models import ManagerRegion, Partner, PartnerContact, PartnerTier, Region
from prm.periods import Period, add_months
from prm.roles import Role
from sales.models import Product, ProductLine, SalesLine
from training.choices import Delivery, MaterialKind, RecordStatus
from training.models import Course, CourseMaterial, TierRequirement, TrainingRecord, TrainingSession


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    display_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "pass12345")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class StaffFactory(UserFactory):
    """Vendor staff; `roles=[Role.CHANNEL_MANAGER]` puts them in role groups (none: read only)."""

    is_staff = True

    @factory.post_generation
    def roles(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.groups.add(*Group.objects.filter(name__in=[str(role) for role in extracted]))


class ChannelAdminFactory(StaffFactory):
    roles = factory.PostGeneration(
        lambda obj, create, extracted, **kw: create and obj.groups.add(Group.objects.get(name=Role.CHANNEL_ADMIN))
    )


class ChannelManagerFactory(StaffFactory):
    roles = factory.PostGeneration(
        lambda obj, create, extracted, **kw: create and obj.groups.add(Group.objects.get(name=Role.CHANNEL_MANAGER))
    )


class AnalystFactory(StaffFactory):
    roles = factory.PostGeneration(
        lambda obj, create, extracted, **kw: create and obj.groups.add(Group.objects.get(name=Role.ANALYST))
    )


class AdminFactory(StaffFactory):
    is_superuser = True


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region

    code = factory.Sequence(lambda n: f"R{n:04d}")
    name = factory.Sequence(lambda n: f"Region {n}")
    kind = RegionKind.PROVINCE
    parent = None


class PartnerTierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerTier

    name = factory.Sequence(lambda n: f"Tier {n}")
    rank = factory.Sequence(lambda n: n + 1)
    min_annual_revenue = Decimal("1000000.00")
    discount_percent = Decimal("10.00")
    rebate_multiplier = Decimal("1.100")
    mdf_allowance_percent = Decimal("2.00")


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    code = factory.Sequence(lambda n: f"P{n:05d}")
    name = factory.Sequence(lambda n: f"Partner {n} Co., Ltd.")
    partner_type = PartnerType.RESELLER
    status = PartnerStatus.ACTIVE
    region = factory.SubFactory(RegionFactory)
    tier = None
    parent = None


class DistributorFactory(PartnerFactory):
    partner_type = PartnerType.DISTRIBUTOR


class PartnerContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerContact

    partner = factory.SubFactory(PartnerFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@partner.example.cn")
    phone = "+86 138 0000 0000"


class ManagerRegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ManagerRegion

    manager = factory.SubFactory(ChannelManagerFactory)
    region = factory.SubFactory(RegionFactory)


def _portal_login(role):
    """A post-generation hook that makes the user a portal login of the partner passed as
    `partner=`: the role group, and the contact record the login belongs to."""

    def link(obj, create, extracted, **kwargs):
        if create and extracted is not None:
            obj.groups.add(Group.objects.get(name=role))
            PartnerContactFactory(
                partner=extracted,
                user=obj,
                name=obj.display_name or obj.username,
                email=obj.email,
                is_partner_admin=role == Role.PARTNER_ADMIN,
            )

    return factory.PostGeneration(link)


class PartnerUserFactory(UserFactory):
    """A partner user with a portal login: `PartnerUserFactory(partner=partner)`."""

    partner = _portal_login(Role.PARTNER_USER)


class PartnerAdminUserFactory(UserFactory):
    """A partner admin with a portal login: `PartnerAdminUserFactory(partner=partner)`."""

    partner = _portal_login(Role.PARTNER_ADMIN)


class ProductLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductLine
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"PL{n:04d}")
    name = factory.Sequence(lambda n: f"Product line {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    product_line = factory.SubFactory(ProductLineFactory)
    list_price = Decimal("100.00")


class SalesLineFactory(factory.django.DjangoModelFactory):
    """A reported sale; `amount` defaults to quantity × unit price."""

    class Meta:
        model = SalesLine

    partner = factory.SubFactory(PartnerFactory)
    product_line = factory.SubFactory(ProductLineFactory)
    product = None
    sold_on = factory.LazyFunction(lambda: date.today())
    quantity = Decimal("1.000")
    unit_price = Decimal("100.00")
    amount = factory.LazyAttribute(
        lambda line: (Decimal(str(line.quantity)) * Decimal(str(line.unit_price))).quantize(Decimal("0.01"))
    )


class AgreementFactory(factory.django.DjangoModelFactory):
    """An agreement (active unless `status=` says otherwise) for this year.

    `AgreementFactory(territories=[region, (other_region, True)])` grants regions (a tuple sets the
    exclusive flag); `product_lines=[line, ...]` sets the product lines."""

    class Meta:
        model = Agreement
        skip_postgeneration_save = True

    partner = factory.SubFactory(PartnerFactory)
    number = factory.Sequence(lambda n: f"AG-T-{n:05d}")
    agreement_type = AgreementType.RESELLER
    status = AgreementStatus.ACTIVE
    start_date = factory.LazyFunction(lambda: date(date.today().year, 1, 1))
    end_date = factory.LazyFunction(lambda: date(date.today().year, 12, 31))

    @factory.post_generation
    def product_lines(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.product_lines.set(extracted)

    @factory.post_generation
    def territories(obj, create, extracted, **kwargs):
        if create and extracted:
            for item in extracted:
                region, exclusive = item if isinstance(item, tuple) else (item, False)
                AgreementTerritory.objects.create(agreement=obj, region=region, exclusive=exclusive)


class AgreementTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgreementTarget

    agreement = factory.SubFactory(AgreementFactory)
    period = factory.LazyAttribute(lambda target: f"{target.agreement.start_date.year}-Q1")
    revenue = Decimal("100000.00")
    units = None
    product_line = None


class CourseFactory(factory.django.DjangoModelFactory):
    """An active online product course: pass mark 60, certification valid 24 months."""

    class Meta:
        model = Course
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"C{n:04d}")
    title = factory.Sequence(lambda n: f"Course {n}")
    course_type = "product"
    level = "basic"
    duration_hours = Decimal("4.0")
    delivery = Delivery.ONLINE
    pass_mark = Decimal("60.00")
    validity_months = 24
    is_active = True


class ClassroomCourseFactory(CourseFactory):
    delivery = Delivery.CLASSROOM


class TierRequirementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TierRequirement

    course = factory.SubFactory(CourseFactory)
    tier = factory.SubFactory(PartnerTierFactory)
    certified_people = 1


def _aware(day, hour):
    return timezone.make_aware(datetime.combine(day, time(hour)))


class TrainingSessionFactory(factory.django.DjangoModelFactory):
    """A classroom session two weeks ahead, 09:00–17:00, for 20 people."""

    class Meta:
        model = TrainingSession

    course = factory.SubFactory(ClassroomCourseFactory)
    starts_at = factory.LazyFunction(lambda: _aware(timezone.localdate() + timedelta(days=14), 9))
    ends_at = factory.LazyAttribute(lambda session: session.starts_at + timedelta(hours=8))
    location = "Shanghai training centre, room 3"
    capacity = 20
    is_cancelled = False


class TrainingRecordFactory(factory.django.DjangoModelFactory):
    """An enrolment (status "enrolled"). `TrainingRecordFactory(passed=True)` makes a pass
    consistent with its course: completed 30 days ago (or `completed_on=`), score 85 (or
    `score=`), expiry = completion + the course validity (month end clamped), and a certificate
    number. `failed=True` likewise: completed, score below the pass mark."""

    class Meta:
        model = TrainingRecord

    class Params:
        passed = factory.Trait(
            status=RecordStatus.PASSED,
            completed_on=factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30)),
            score=Decimal("85.00"),
            expires_on=factory.LazyAttribute(
                lambda record: (
                    add_months(record.completed_on, record.course.validity_months)
                    if record.course.validity_months
                    else None
                )
            ),
            certificate_number=factory.Sequence(lambda n: f"CERT-T-{n:06d}"),
        )
        failed = factory.Trait(
            status=RecordStatus.FAILED,
            completed_on=factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30)),
            score=factory.LazyAttribute(lambda record: max(record.course.pass_mark - 20, Decimal("0"))),
        )

    contact = factory.SubFactory(PartnerContactFactory)
    course = factory.SubFactory(CourseFactory)
    session = None
    status = RecordStatus.ENROLLED


class CourseMaterialFactory(factory.django.DjangoModelFactory):
    """A link material visible to every partner (`min_tier=` limits it)."""

    class Meta:
        model = CourseMaterial

    course = factory.SubFactory(CourseFactory)
    title = factory.Sequence(lambda n: f"Material {n}")
    kind = MaterialKind.LINK
    url = factory.Sequence(lambda n: f"https://learning.example.com/material/{n}")
    min_tier = None


class RebatePolicyFactory(factory.django.DjangoModelFactory):
    """A monthly marginal revenue policy. `brackets=[(0, 10), (1000, 20)]` sets its brackets
    (default: 0 at 10 %, 1000 at 20 %, 3000 at 30 %); `product_lines=[...]` limits it."""

    class Meta:
        model = RebatePolicy
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Rebate policy {n}")
    basis = RebateBasis.REVENUE
    period = "month"
    method = RebateMethod.MARGINAL

    @factory.post_generation
    def brackets(obj, create, extracted, **kwargs):
        if create:
            pairs = extracted if extracted is not None else [(0, 10), (1000, 20), (3000, 30)]
            for threshold, rate in pairs:
                RebateBracket.objects.create(policy=obj, threshold=Decimal(threshold), rate=Decimal(rate))

    @factory.post_generation
    def product_lines(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.product_lines.set(extracted)


class OverridePolicyFactory(factory.django.DjangoModelFactory):
    """A monthly override policy; `rates={1: 3, 2: 1}` (the default) by level above the seller."""

    class Meta:
        model = OverridePolicy
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Override policy {n}")
    period = "month"

    @factory.post_generation
    def rates(obj, create, extracted, **kwargs):
        if create:
            for level, rate in (extracted if extracted is not None else {1: 3, 2: 1}).items():
                OverrideRate.objects.create(policy=obj, level=level, rate=Decimal(rate))

    @factory.post_generation
    def product_lines(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.product_lines.set(extracted)


class PolicyAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyAssignment

    agreement = factory.SubFactory(AgreementFactory)
    policy = factory.SubFactory(RebatePolicyFactory)


class RebateStatementFactory(factory.django.DjangoModelFactory):
    """A statement with no lines (add StatementLineFactory rows; `total` is not recomputed)."""

    class Meta:
        model = RebateStatement

    partner = factory.SubFactory(DistributorFactory)
    period = "2026-03"
    status = StatementStatus.CALCULATED
    total = Decimal("0.00")
    calculated_at = factory.LazyFunction(timezone.now)


class StatementLineFactory(factory.django.DjangoModelFactory):
    """A rebate line of a statement under a fresh policy: 10 % of 1000.00 = 100.00."""

    class Meta:
        model = StatementLine

    statement = factory.SubFactory(RebateStatementFactory)
    kind = LineKind.REBATE
    rebate_policy = factory.SubFactory(RebatePolicyFactory)
    bracket_threshold = Decimal("0")
    volume = Decimal("1000.000")
    base = Decimal("1000.000000")
    rate = Decimal("10.0000")
    multiplier = Decimal("1.000")
    amount = Decimal("100.00")


def current_quarter():
    return Period.containing(timezone.localdate(), "quarter").code


class MdfBudgetFactory(factory.django.DjangoModelFactory):
    """A hand-set budget of 10,000.00 for the current quarter."""

    class Meta:
        model = MdfBudget

    partner = factory.SubFactory(DistributorFactory)
    period = factory.LazyFunction(current_quarter)
    allocated = Decimal("10000.00")


class MdfRequestFactory(factory.django.DjangoModelFactory):
    """A draft trade-show request of 1,000.00 on a budget (the budget's partner, an activity
    starting on the budget's first day). For another status give `status` and the amounts it
    needs (`approved_amount` from approved on, `actual_amount` from claimed on)."""

    class Meta:
        model = MdfRequest

    budget = factory.SubFactory(MdfBudgetFactory)
    partner = factory.LazyAttribute(lambda o: o.budget.partner)
    title = factory.Sequence(lambda n: f"Trade show {n}")
    activity_type = MdfActivity.TRADE_SHOW
    plan = "A booth at the regional trade fair, with two demo stations."
    start_date = factory.LazyAttribute(lambda o: Period.parse(o.budget.period).start)
    end_date = factory.LazyAttribute(lambda o: Period.parse(o.budget.period).start + timedelta(days=2))
    requested_amount = Decimal("1000.00")
    status = MdfStatus.DRAFT


PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class MdfProofFactory(factory.django.DjangoModelFactory):
    """A PDF proof of performance on a request."""

    class Meta:
        model = MdfProof

    request = factory.SubFactory(MdfRequestFactory)
    file = factory.django.FileField(filename="proof.pdf", data=PDF_BYTES)
    original_name = "proof.pdf"
    content_type = "application/pdf"
    size = len(PDF_BYTES)


def key_client(by, scopes, partner=None, name="CRM"):
    """An API client that calls with a new API key of `scopes` (bound to `partner` when given),
    created by the channel admin `by`: how the CRM or a partner's own system calls."""
    from rest_framework.test import APIClient

    from partners.services import api_key_create

    _key, plaintext = api_key_create(name=name, scopes=list(scopes), partner=partner, by=by)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {plaintext}")
    return api
