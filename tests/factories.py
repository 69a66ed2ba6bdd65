"""factory_boy factories for every model; tests build exactly the rows they need."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from partners.choices import PartnerStatus, PartnerType, RegionKind
from partners.models import ManagerRegion, Partner, PartnerContact, PartnerTier, Region
from prm.roles import Role


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
