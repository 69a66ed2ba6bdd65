"""Demo data for the partner registry: a believable channel in China with a three-level network.

Deterministic and idempotent: every row is keyed by a code or username, so running it again
creates nothing new. Later modules add their own `demo.py` with a `seed(*, log)` function.
"""

import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from prm.roles import Role

from . import services
from .choices import ContactRole, CreditRating, PartnerStatus, PartnerType, RegionKind
from .models import ManagerRegion, Partner, PartnerContact, PartnerTier, Region

DEMO_PASSWORD = "demo12345"

AREAS = {
    ("NORTH", "North China"): [("BJ", "Beijing"), ("TJ", "Tianjin"), ("HE", "Hebei"), ("SX", "Shanxi")],
    ("EAST", "East China"): [("SH", "Shanghai"), ("JS", "Jiangsu"), ("ZJ", "Zhejiang"), ("SD", "Shandong")],
    ("SOUTH", "South China"): [("GD", "Guangdong"), ("GX", "Guangxi"), ("FJ", "Fujian"), ("HI", "Hainan")],
    ("CENTRAL", "Central China"): [("HB", "Hubei"), ("HN", "Hunan"), ("HA", "Henan")],
    ("WEST", "West China"): [("SC", "Sichuan"), ("CQ", "Chongqing"), ("SN", "Shaanxi"), ("YN", "Yunnan")],
}
CITIES = [
    ("SH", "SH-PD", "Pudong"),
    ("GD", "GD-SZ", "Shenzhen"),
    ("GD", "GD-GZ", "Guangzhou"),
    ("SC", "SC-CD", "Chengdu"),
]

TIERS = [
    # name, rank, revenue, certified staff, score, discount %, rebate ×, MDF %
    ("Registered", 1, "0", 0, "0", "5", "1.000", "0"),
    ("Silver", 2, "2000000", 2, "60", "10", "1.100", "1"),
    ("Gold", 3, "8000000", 5, "70", "15", "1.250", "2"),
    ("Platinum", 4, "20000000", 10, "80", "20", "1.500", "3"),
]

USERS = [
    # username, display name, email, staff, superuser, role
    ("admin", "Alice Admin", "admin@example.com", True, True, Role.CHANNEL_ADMIN),
    ("manager", "Wang Lei", "manager@example.com", True, False, Role.CHANNEL_MANAGER),
    ("manager2", "Chen Jing", "manager2@example.com", True, False, Role.CHANNEL_MANAGER),
    ("analyst", "Liu Yang", "analyst@example.com", True, False, Role.ANALYST),
]
# Sales areas each channel manager looks after.
MANAGER_AREAS = {"manager": ["EAST", "NORTH"], "manager2": ["SOUTH", "CENTRAL", "WEST"]}

WORDS = [
    "Huaxin",
    "Tianyu",
    "Jinpeng",
    "Hengtai",
    "Ruida",
    "Zhongke",
    "Boyuan",
    "Xinghe",
    "Lianchuang",
    "Dingsheng",
    "Yuanfang",
    "Kaida",
    "Haoyun",
    "Shengshi",
    "Mingtai",
    "Jiahe",
    "Fengrui",
    "Tongda",
]
SUFFIX = {
    PartnerType.DISTRIBUTOR: "Distribution Co., Ltd.",
    PartnerType.RESELLER: "Technology Co., Ltd.",
    PartnerType.AGENT: "Trading Agency",
    PartnerType.RETAILER: "Retail Chain",
    PartnerType.ECOMMERCE: "Online Store",
    PartnerType.SERVICE_PROVIDER: "Service Co., Ltd.",
    PartnerType.REFERRAL: "Consulting",
}
SURNAMES = ["Zhang", "Li", "Wang", "Zhao", "Chen", "Yang", "Huang", "Zhou", "Wu", "Xu", "Sun", "Ma"]
GIVEN = ["Wei", "Fang", "Na", "Min", "Jie", "Qiang", "Lei", "Yan", "Hui", "Tao", "Jun", "Li"]


def _users(log):
    User = get_user_model()
    users = {}
    for username, display, email, staff, superuser, role in USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"display_name": display, "email": email, "is_staff": staff, "is_superuser": superuser},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
            log(f"user {username}")
        user.groups.add(Group.objects.get(name=role))
        users[username] = user
    return users


def _manager_regions(users):
    for username, area_codes in MANAGER_AREAS.items():
        for region in Region.objects.filter(code__in=area_codes):
            ManagerRegion.objects.get_or_create(manager=users[username], region=region)


def _regions(by):
    country = Region.objects.filter(code="CN").first() or services.region_create(
        code="CN", name="China", kind=RegionKind.COUNTRY, by=by
    )
    provinces = {}
    for (area_code, area_name), members in AREAS.items():
        area = Region.objects.filter(code=area_code).first() or services.region_create(
            code=area_code, name=area_name, kind=RegionKind.AREA, parent=country, by=by
        )
        for code, name in members:
            provinces[code] = Region.objects.filter(code=code).first() or services.region_create(
                code=code, name=name, kind=RegionKind.PROVINCE, parent=area, by=by
            )
    for province, code, name in CITIES:
        if not Region.objects.filter(code=code).exists():
            services.region_create(code=code, name=name, kind=RegionKind.CITY, parent=provinces[province], by=by)
    return provinces


def _tiers(by):
    tiers = {}
    for name, rank, revenue, staff, score, discount, rebate, mdf in TIERS:
        tiers[rank] = PartnerTier.objects.filter(rank=rank).first() or services.tier_create(
            by=by,
            name=name,
            rank=rank,
            min_annual_revenue=Decimal(revenue),
            min_certified_staff=staff,
            min_scorecard_score=Decimal(score),
            discount_percent=Decimal(discount),
            rebate_multiplier=Decimal(rebate),
            mdf_allowance_percent=Decimal(mdf),
        )
    return tiers


class _Builder:
    def __init__(self, *, by, owners, tiers, log):
        self.by, self.owners, self.tiers, self.log = by, owners, tiers, log
        self.rng = random.Random(20261124)
        self.created = 0

    def partner(self, code, partner_type, region, *, parent=None, tier_rank=2, status=PartnerStatus.ACTIVE):
        existing = Partner.objects.filter(code=code).first()
        # Draw from the generator whether or not the row exists, so reruns stay deterministic.
        word = self.rng.choice(WORDS)
        owner = self.rng.choice(self.owners)
        rating = self.rng.choice([CreditRating.AAA, CreditRating.AA, CreditRating.A, CreditRating.A, CreditRating.B])
        contacts = [
            (f"{self.rng.choice(SURNAMES)} {self.rng.choice(GIVEN)}", role)
            for role in (ContactRole.OWNER, ContactRole.SALES, ContactRole.TECHNICAL)
        ]
        if existing:
            return existing
        name = f"{region.name} {word} {SUFFIX[partner_type]}"
        start = status if status in (PartnerStatus.PROSPECT, PartnerStatus.ONBOARDING) else PartnerStatus.ACTIVE
        partner = services.partner_create(
            by=self.by,
            code=code,
            name=name,
            legal_name=name,
            partner_type=partner_type,
            region=region,
            parent=parent,
            status=start,
            tier=self.tiers[tier_rank],
            owner=owner,
            credit_rating=rating,
            email=f"info@{code.lower()}.example.cn",
            phone=f"+86 400 {self.rng.randint(100, 999)} {self.rng.randint(1000, 9999)}",
            external_id=f"CRM-{code}",
        )
        if status in (PartnerStatus.SUSPENDED, PartnerStatus.TERMINATED):
            services.partner_change_status(
                partner=partner, status=PartnerStatus.SUSPENDED, by=self.by, reason="Overdue payments"
            )
        if status == PartnerStatus.TERMINATED:
            services.partner_change_status(
                partner=partner, status=PartnerStatus.TERMINATED, by=self.by, reason="Contract not renewed"
            )
        for index, (person, role) in enumerate(contacts):
            services.contact_create(
                partner=partner,
                by=self.by,
                name=person,
                job_role=role,
                is_primary=index == 0,
                email=f"{person.split()[0].lower()}.{person.split()[1].lower()}@{code.lower()}.example.cn",
                phone=f"+86 13{self.rng.randint(0, 9)} {self.rng.randint(1000, 9999)} {self.rng.randint(1000, 9999)}",
            )
        self.created += 1
        return partner


@transaction.atomic
def seed(*, log=print):
    users = _users(log)
    by = users["admin"]
    provinces = _regions(by)
    tiers = _tiers(by)
    _manager_regions(users)
    builder = _Builder(by=by, owners=[users["manager"], users["manager2"]], tiers=tiers, log=log)

    # Three-level network: per area two distributors, each with two sub-distributors, each with
    # two resellers, spread over the area's provinces.
    for (area_code, _name), members in AREAS.items():
        codes = [code for code, _n in members]
        for d in range(1, 3):
            region = provinces[codes[(d - 1) % len(codes)]]
            distributor = builder.partner(
                f"D-{area_code}-{d}", PartnerType.DISTRIBUTOR, region, tier_rank=4 if d == 1 else 3
            )
            for s in range(1, 3):
                sub_region = provinces[codes[(d + s) % len(codes)]]
                sub = builder.partner(
                    f"S-{area_code}-{d}{s}",
                    PartnerType.DISTRIBUTOR,
                    sub_region,
                    parent=distributor,
                    tier_rank=3 if s == 1 else 2,
                )
                for r in range(1, 3):
                    status = PartnerStatus.ACTIVE
                    if (d, s, r) == (2, 2, 2):
                        status = PartnerStatus.SUSPENDED
                    builder.partner(
                        f"R-{area_code}-{d}{s}{r}",
                        PartnerType.RESELLER,
                        sub_region,
                        parent=sub,
                        tier_rank=1 if r == 2 else 2,
                        status=status,
                    )

    # Partners outside the distribution tree: agents, retailers, shops, service providers, referrals.
    others = [
        ("A-BJ-1", PartnerType.AGENT, "BJ", 2, PartnerStatus.ACTIVE),
        ("A-GD-1", PartnerType.AGENT, "GD", 3, PartnerStatus.ACTIVE),
        ("T-SH-1", PartnerType.RETAILER, "SH", 2, PartnerStatus.ACTIVE),
        ("T-SC-1", PartnerType.RETAILER, "SC", 1, PartnerStatus.ONBOARDING),
        ("E-ZJ-1", PartnerType.ECOMMERCE, "ZJ", 3, PartnerStatus.ACTIVE),
        ("E-GD-1", PartnerType.ECOMMERCE, "GD", 2, PartnerStatus.ACTIVE),
        ("P-JS-1", PartnerType.SERVICE_PROVIDER, "JS", 2, PartnerStatus.ACTIVE),
        ("P-HB-1", PartnerType.SERVICE_PROVIDER, "HB", 1, PartnerStatus.ACTIVE),
        ("P-CQ-1", PartnerType.SERVICE_PROVIDER, "CQ", 1, PartnerStatus.PROSPECT),
        ("F-FJ-1", PartnerType.REFERRAL, "FJ", 1, PartnerStatus.ACTIVE),
        ("F-HN-1", PartnerType.REFERRAL, "HN", 1, PartnerStatus.PROSPECT),
        ("A-YN-1", PartnerType.AGENT, "YN", 1, PartnerStatus.TERMINATED),
    ]
    for code, partner_type, province, tier_rank, status in others:
        builder.partner(code, partner_type, provinces[province], tier_rank=tier_rank, status=status)

    for login in PORTAL_USERS:
        _portal_login(users, log, *login)
    log(f"partners created: {builder.created}, in registry: {Partner.objects.count()}")


# The demo portal logins, both at the East China distributor D-EAST-1:
# username, display name, email, role, job role, job title.
PORTAL_USERS = [
    (
        "partner",
        "Zhou Min",
        "partner@example.com",
        Role.PARTNER_ADMIN,
        ContactRole.OPERATIONS,
        "Channel operations lead",
    ),
    ("partner-user", "Sun Tao", "partner-user@example.com", Role.PARTNER_USER, ContactRole.SALES, "Sales manager"),
]


def _portal_login(users, log, username, name, email, role, job_role, title):
    User = get_user_model()
    distributor = Partner.objects.get(code="D-EAST-1")
    user, created = User.objects.get_or_create(username=username, defaults={"display_name": name, "email": email})
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
        log(f"user {username}")
    if not PartnerContact.objects.filter(user=user).exists():
        contact = services.contact_create(
            partner=distributor, by=users["admin"], name=name, email=email, job_role=job_role, title=title
        )
        contact.user = user
        contact.is_partner_admin = role == Role.PARTNER_ADMIN
        contact.save(update_fields=["user", "is_partner_admin", "updated_at"])
    user.groups.add(Group.objects.get(name=role))
