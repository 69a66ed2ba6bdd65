"""Shared builders for the agreements domain tests: a region tree, a term, and agreements made
through the services (so every rule applies while building)."""

from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from agreements import services
from partners.choices import RegionKind
from tests.factories import ChannelAdminFactory, PartnerFactory, ProductLineFactory, RegionFactory

NEXT_YEAR = timezone.localdate().year + 1
START, END = date(NEXT_YEAR, 1, 1), date(NEXT_YEAR, 12, 31)


@dataclass
class Tree:
    """China → East → Shanghai → Pudong, and East → Jiangsu (Shanghai's sibling)."""

    china: object
    east: object
    shanghai: object
    pudong: object
    jiangsu: object


def region_tree():
    china = RegionFactory(code="CN", name="China", kind=RegionKind.COUNTRY)
    east = RegionFactory(code="EAST", name="East China", kind=RegionKind.AREA, parent=china)
    shanghai = RegionFactory(code="SH", name="Shanghai", parent=east)
    pudong = RegionFactory(code="SH-PD", name="Pudong", kind=RegionKind.CITY, parent=shanghai)
    jiangsu = RegionFactory(code="JS", name="Jiangsu", parent=east)
    return Tree(china, east, shanghai, pudong, jiangsu)


def admin():
    return ChannelAdminFactory(username="agreements-admin")


def draft(*, by, partner=None, lines=None, territories=(), start=START, end=END, **terms):
    """A draft through agreement_create; `territories` is [(region, exclusive)]."""
    partner = partner or PartnerFactory()
    return services.agreement_create(
        partner=partner,
        agreement_type="reseller",
        start_date=start,
        end_date=end,
        by=by,
        product_lines=lines if lines is not None else [ProductLineFactory()],
        territories=[{"region": region, "exclusive": exclusive} for region, exclusive in territories],
        **terms,
    )


def active(*, by, **kwargs):
    """A draft, submitted and approved."""
    agreement = draft(by=by, **kwargs)
    services.agreement_submit(agreement=agreement, by=by)
    return services.agreement_approve(agreement=agreement, by=by)
