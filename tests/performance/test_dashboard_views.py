"""The channel team's performance pages: the channel dashboard (tiles, trends, region table and
its export, ranking), the partner scorecard list, a region's page, the partner 360° section and
the home panel. Data comes from the real monthly computation (services.month_compute) over the
hand-computed worlds of tests/performance."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from agreements.models import AgreementTarget
from partners.choices import RegionKind
from performance import services
from performance.choices import FlagRuleCode, FlagStatus
from performance.models import PeriodComputation, RegionFlag, Scorecard
from tests.factories import (
    AgreementFactory,
    AnalystFactory,
    PartnerFactory,
    PartnerUserFactory,
    RegionFactory,
    SalesLineFactory,
)

from . import portal_world, world

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("performance:dashboard")
SCORECARDS = reverse("performance:scorecard-list")


def text(response):
    return response.content.decode()


@pytest.fixture
def march(db):
    """world.py (March 2026) plus a second country, E, whose partner sells 500.00 in March with
    no target; computed for March 2025 (the base of growth year over year), February and March
    2026."""
    built = world.build()
    east = RegionFactory(code="E", name="Eastland", kind=RegionKind.COUNTRY)
    eastern = PartnerFactory(code="EAST1", name="Eastern Trading", region=east)
    SalesLineFactory(partner=eastern, sold_on=date(2026, 3, 9), quantity=Decimal("5"), unit_price=Decimal("100.00"))
    for month in ("2025-03", "2026-02", world.MONTH):
        services.month_compute(period=month)
    built.east, built.eastern = east, eastern
    return built


@pytest.fixture
def analyst_client(client):
    client.force_login(AnalystFactory())
    return client


# Access and the empty state ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["performance:dashboard", "performance:scorecard-list"])
def test_a_partner_user_is_refused_and_an_anonymous_visitor_sent_to_sign_in(client, name):
    url = reverse(name)
    assert client.get(url).status_code == 302
    client.force_login(PartnerUserFactory())
    assert client.get(url).status_code == 403


def test_the_region_page_is_refused_to_a_partner_user(client):
    region = RegionFactory()
    client.force_login(PartnerUserFactory())
    assert client.get(reverse("performance:region-detail", args=[region.pk])).status_code == 403


def test_an_unknown_region_is_a_404(analyst_client):
    assert analyst_client.get(reverse("performance:region-detail", args=[999999])).status_code == 404


@pytest.mark.parametrize("name", ["performance:dashboard", "performance:scorecard-list"])
def test_before_any_month_is_computed_the_pages_say_so(analyst_client, name):
    response = analyst_client.get(reverse(name))
    assert response.status_code == 200
    assert "No month has been computed yet" in text(response)
    assert 'data-testid="not-computed"' in text(response)


def test_a_month_not_computed_says_so_and_a_bad_period_is_a_clear_error(analyst_client, march):
    response = analyst_client.get(DASHBOARD, {"period": "2024-01"})
    assert "The KPIs of 2024-01 have not been computed yet." in text(response)
    response = analyst_client.get(DASHBOARD, {"period": "2026-13"})
    assert response.status_code == 200
    assert "is not a period" in text(response)
    assert response.context["month"].code == world.MONTH  # the latest month instead
    response = analyst_client.get(DASHBOARD, {"period": "2026-Q1"})
    assert "Choose a month, such as 2026-03." in text(response)


# The dashboard -----------------------------------------------------------------------------------


def test_the_dashboard_defaults_to_the_latest_computed_month(analyst_client, march):
    PeriodComputation.objects.create(period="2026-04")  # locked once, never computed: not offered
    response = analyst_client.get(DASHBOARD)
    assert response.context["month"].code == world.MONTH
    assert response.context["months"] == [world.MONTH, "2026-02", "2025-03"]


def test_the_tiles_add_up_the_top_level_regions(analyst_client, march):
    response = analyst_client.get(DASHBOARD)
    kpis = response.context["summary"]["kpis"]
    # C: A 2,000.00 + B 1,000.00 (+ D nothing); E: 500.00.
    assert kpis["revenue"] == Decimal("3500.00")
    # Only C has a target (its partners' 2,500.00): 3,000.00 ÷ 2,500.00; E's revenue does not count.
    assert kpis["target_attainment"] == Decimal("1.2")
    # March 2025: A's 2,500.00.
    assert kpis["growth_yoy"] == Decimal("0.4")
    # Outside revenue: A's 400.00 of 3,500.00 (E's partner has no territory: all inside).
    assert abs(kpis["cross_territory_share"] - Decimal(400) / Decimal(3500)) < Decimal("0.000002")
    page = text(response)
    assert 'data-testid="tile-revenue">3,500.00<' in page
    assert 'data-testid="tile-attainment">120.0%<' in page
    assert 'data-testid="tile-growth">40.0%<' in page
    assert 'data-testid="tile-cross-territory">11.4%<' in page
    mean = (
        sum(Scorecard.objects.filter(period=world.MONTH).values_list("score", flat=True))
        / Scorecard.objects.filter(period=world.MONTH).count()
    )
    assert response.context["summary"]["mean_score"] == pytest.approx(mean)


def test_the_trends_cover_24_months_ending_at_the_period(analyst_client, march):
    summary = analyst_client.get(DASHBOARD).context["summary"]
    revenue = summary["revenue_trend"]
    assert len(revenue) == 24
    assert revenue[0][0] == "2024-04" and revenue[-1] == (world.MONTH, Decimal("3500.00"))
    assert dict(revenue)["2026-02"] == Decimal("2100.00")  # A 1,600.00 + D 500.00
    assert dict(revenue)["2025-12"] is None  # never computed: a gap, not a zero
    assert dict(summary["attainment_trend"])[world.MONTH] == Decimal("1.2")


def test_the_region_table_lists_every_scored_region_with_its_figures_and_flag(analyst_client, march):
    p = march.regions["P"]
    response = analyst_client.get(DASHBOARD)
    rows = {row.region.code: row for row in response.context["object_list"]}
    # Q and Z hold only D, scored without revenue: no weight, so no region score.
    assert set(rows) == {"C", "P", "X", "Y", "E"}
    assert rows["P"].revenue_kpi == Decimal("3000.00")
    assert rows["P"].attainment == Decimal("0.6")  # P's own target, 5,000.00
    assert rows["X"].cross_territory == Decimal("0.2")
    page = text(response)
    assert reverse("performance:region-detail", args=[p.pk]) + f"?period={world.MONTH}" in page
    # P's attainment, 0.6, is below the default 0.8: the month's run flagged it; E is fine.
    flag = RegionFlag.objects.get(region=p, period=world.MONTH)
    assert (rows["P"].flag_id, rows["P"].flag_status) == (flag.pk, FlagStatus.OPEN)
    assert rows["E"].flag_id is None
    assert flag.get_absolute_url() in page


def test_a_flagged_region_links_to_its_flag(analyst_client, march):
    services.flag_rule_save(code=FlagRuleCode.ATTAINMENT, threshold=Decimal("0.9"), is_active=True)
    services.flags_evaluate(period=world.MONTH)
    flag = RegionFlag.objects.get(region=march.regions["P"], period=world.MONTH)
    response = analyst_client.get(DASHBOARD)
    rows = {row.region.code: row for row in response.context["object_list"]}
    assert rows["P"].flag_id == flag.pk and rows["P"].flag_status == FlagStatus.OPEN
    assert response.context["summary"]["unresolved_flags"] >= 1
    assert flag.get_absolute_url() in text(response)


def test_the_region_table_sorts_by_score(analyst_client, march):
    scores = [row.score for row in analyst_client.get(DASHBOARD, {"sort": "-score"}).context["object_list"]]
    assert scores == sorted(scores, reverse=True)
    scores = [row.score for row in analyst_client.get(DASHBOARD, {"sort": "score"}).context["object_list"]]
    assert scores == sorted(scores)


def test_the_region_table_exports_as_csv_and_excel(analyst_client, march):
    response = analyst_client.get(DASHBOARD, {"export": "csv", "sort": "region"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:4] == ["Region code", "Region", "Period", "Score"]
    by_code = {row[0]: row for row in rows[1:]}
    assert set(by_code) == {"C", "P", "X", "Y", "E"}
    assert by_code["P"][6] == "3000.000000" or Decimal(by_code["P"][6]) == Decimal("3000")
    response = analyst_client.get(DASHBOARD, {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert values[0][0] == "Region code" and len(values) == 6
    assert {row[0]: row[6] for row in values[1:]}["E"] == 500


def test_the_ranking_shows_the_best_and_the_worst_without_repeating_a_partner(analyst_client, db):
    portal_world.build(extra_gold=12, compute=[portal_world.MAY])
    response = analyst_client.get(DASHBOARD)
    top, bottom = response.context["top"], response.context["bottom"]
    assert len(top) == 10 and top[0].partner.code in ("ZETA", "SILVER")  # both score 100
    assert [card.score for card in top] == sorted((card.score for card in top), reverse=True)
    assert not {card.pk for card in top} & {card.pk for card in bottom}
    assert len(bottom) == 6  # 16 partners: the 10 best, then the 6 others, the worst first
    assert [card.score for card in bottom] == sorted(card.score for card in bottom)
    assert top[0].partner.get_absolute_url() in text(response)


# The scorecard list --------------------------------------------------------------------------


def test_the_scorecard_list_shows_ranks_revenue_and_attainment(analyst_client, db):
    built = portal_world.build()
    response = analyst_client.get(SCORECARDS)
    assert response.context["month"].code == portal_world.MAY
    cards = {card.partner.code: card for card in response.context["object_list"]}
    assert set(cards) == {"HUAXIN", "ZETA", "THIRD", "SILVER"}
    own = cards["HUAXIN"]
    assert own.score == Decimal("87.88") and own.grade == "A"
    assert (own.rank_in_region, own.ranked_in_region) == (3, 4)  # after ZETA and SILVER, both 100
    assert (own.rank_in_tier, own.ranked_in_tier) == (2, 3)
    assert own.revenue == Decimal("3000.00") and own.attainment == Decimal("1.2")
    page = text(response)
    assert "3 of 4" in page and "2 of 3" in page and "120.0%" in page and "3,000.00" in page
    assert built.own.get_absolute_url() in page


def test_the_scorecard_list_filters_by_period_region_tier_and_grade(analyst_client, db):
    built = portal_world.build()
    elsewhere = RegionFactory(code="FAR", name="Faraway")
    PartnerFactory(code="FARAWAY", region=elsewhere)
    SalesLineFactory(
        partner__code="FARAWAY2", partner__region=elsewhere, sold_on=date(2026, 5, 2), unit_price=Decimal("10")
    )
    services.month_compute(period=portal_world.MAY)

    def codes(**query):
        return {card.partner.code for card in analyst_client.get(SCORECARDS, query).context["object_list"]}

    assert codes(period="2026-03") == {"HUAXIN", "ZETA", "THIRD"}  # with targets, scored without sales
    assert codes(region=built.shanghai.pk) == {"HUAXIN", "ZETA", "THIRD", "SILVER"}
    assert codes(tier=built.gold.pk) == {"HUAXIN", "ZETA", "THIRD"}
    assert codes(grade="C") == {"THIRD"}
    assert "FARAWAY2" in codes()
    response = analyst_client.get(SCORECARDS, {"period": "March"})
    assert response.status_code == 200 and not response.context["object_list"]
    assert "is not a period" in text(response)


def test_the_scorecard_list_exports_every_filtered_row(analyst_client, db):
    portal_world.build()
    response = analyst_client.get(SCORECARDS, {"export": "csv", "sort": "-score"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "Partner code" and len(rows) == 5
    huaxin = next(row for row in rows if row[0] == "HUAXIN")
    assert huaxin[5:11] == ["87.88", "A", "3", "4", "2", "3"]
    response = analyst_client.get(SCORECARDS, {"export": "xlsx", "grade": "A"})
    values = list(load_workbook(io.BytesIO(response.content)).active.values)
    assert {row[0] for row in values[1:]} == {"HUAXIN", "ZETA", "SILVER"}


# The region page -------------------------------------------------------------------------------


def test_the_region_page_shows_its_kpis_scorecard_children_and_partners(analyst_client, march):
    p = march.regions["P"]
    response = analyst_client.get(reverse("performance:region-detail", args=[p.pk]))
    assert response.status_code == 200
    context = response.context
    kpis = {kpi: (value, quarter, year) for kpi, value, quarter, year in context["kpi_rows"]}
    assert kpis["revenue"][0] == Decimal("3000.00")
    # Q1 and 2026 from the months computed: February (A 1,600.00) and March.
    assert kpis["revenue"][1] == Decimal("4600.00") and kpis["revenue"][2] == Decimal("4600.00")
    assert kpis["target_attainment"][0] == Decimal("0.6")
    assert context["page"]["scorecard"].region == p
    assert {child.code for child in context["page"]["children"]} == {"X", "Y", "W"}
    assert {card.partner for card in context["page"]["partners"]} == {march.a, march.b}
    assert context["page"]["partner_count"] == 2
    assert dict(context["page"]["revenue_trend"])["2026-02"] == Decimal("1600.00")
    page = text(response)
    assert "60.0%" in page and "3,000.00" in page and march.a.name in page


def test_the_region_page_shows_the_flag_findings_and_workflow(analyst_client, march):
    services.flag_rule_save(code=FlagRuleCode.ATTAINMENT, threshold=Decimal("0.9"), is_active=True)
    services.flags_evaluate(period=world.MONTH)
    p = march.regions["P"]
    response = analyst_client.get(reverse("performance:region-detail", args=[p.pk]))
    findings = response.context["findings"]
    attainment = next(f for f in findings if f["label"] == FlagRuleCode.ATTAINMENT.label)
    assert attainment["threshold"] == "90.0%"
    assert ("Target attainment", "60.0%") in attainment["figures"]
    assert ("Revenue target", "CNY 5,000.00") in attainment["figures"]
    assert attainment["partners"][0]["code"] == march.a.code
    assert attainment["partners"][0]["figure"] == "CNY 500.00"  # 2,500.00 target − 2,000.00
    page = text(response)
    assert "Why the region is flagged" in page and march.a.get_absolute_url() in page


def test_the_region_page_of_a_region_without_a_flag_or_score(analyst_client, march):
    w = march.regions["W"]
    response = analyst_client.get(reverse("performance:region-detail", args=[w.pk]))
    assert response.status_code == 200
    assert "No rule flagged this region this month." in text(response)
    assert "No partner at or below this region was scored this month." in text(response)


# The partner 360° section and the home panel ---------------------------------------------------


def test_the_partner_page_shows_the_latest_scorecard_ranks_trend_and_kpis(staff_client, db):
    built = portal_world.build()
    response = staff_client.get(built.own.get_absolute_url())
    section = next(s for s in response.context["sections"] if s["template"] == "performance/_partner_section.html")
    assert section["scorecard"].period == portal_world.MAY
    assert [code for code, _score in section["score_trend"]][-3:] == list(portal_world.MONTHS)
    assert len(section["score_trend"]) == 12
    assert section["kpi_period"] == portal_world.MAY
    page = text(response)
    assert 'data-testid="rank-in-region">3 of 4' in page
    assert 'data-testid="rank-in-tier">2 of 3' in page
    assert "87.88" in page and "120.0%" in page


def test_a_partner_never_scored_shows_no_scorecard_yet(staff_client):
    partner = PartnerFactory()
    response = staff_client.get(partner.get_absolute_url())
    assert "No scorecard yet." in text(response)


def test_the_home_panel_counts_open_flags_and_shows_the_grade_distribution(staff_client, march):
    services.flag_rule_save(code=FlagRuleCode.ATTAINMENT, threshold=Decimal("0.9"), is_active=True)
    services.flags_evaluate(period=world.MONTH)
    response = staff_client.get(reverse("home"))
    panel = next(p for p in response.context["panels"] if p["template"] == "performance/_home_panel.html")
    unresolved = RegionFlag.objects.exclude(status=FlagStatus.RESOLVED).count()
    assert panel["flag_count"] == unresolved >= 1
    assert panel["month"] == world.MONTH
    grades = dict(panel["grades"])
    assert sum(grades.values()) == Scorecard.objects.filter(period=world.MONTH).count()
    assert set(grades) == {"A", "B", "C", "D"}


def test_the_home_panel_stays_hidden_before_anything_is_computed(staff_client):
    response = staff_client.get(reverse("home"))
    assert not [p for p in response.context["panels"] if p["template"] == "performance/_home_panel.html"]


# Query counts -------------------------------------------------------------------------------------


def _network(size):
    """`size` regions under one country, a partner with a target in each selling in March 2026,
    computed."""
    country = RegionFactory(kind=RegionKind.COUNTRY)
    for index in range(size):
        region = RegionFactory(parent=country)
        partner = PartnerFactory(region=region)
        agreement = AgreementFactory(
            partner=partner, start_date=date(2026, 1, 1), end_date=date(2026, 12, 31), territories=[region]
        )
        AgreementTarget.objects.create(agreement=agreement, period="2026-03", revenue=Decimal("1000.00"))
        SalesLineFactory(
            partner=partner, sold_on=date(2026, 3, 5), quantity=Decimal("1"), unit_price=Decimal(100 + index)
        )
    services.month_compute(period="2026-03")
    return country, partner


@pytest.mark.parametrize("size", [3, 30])
def test_the_pages_read_a_fixed_number_of_queries(analyst_client, django_assert_max_num_queries, size):
    country, partner = _network(size)
    pages = [
        # Each with the session, the user and the top bar's unread notifications.
        (DASHBOARD, 12),
        (DASHBOARD + "?export=csv", 4),
        (SCORECARDS, 9),
        (reverse("performance:region-detail", args=[country.pk]), 15),
        (reverse("performance:region-detail", args=[partner.region_id]), 15),
    ]
    for url, bound in pages:
        with django_assert_max_num_queries(bound):
            response = analyst_client.get(url)
            if url.endswith("csv"):
                b"".join(response.streaming_content)
        assert response.status_code == 200


@pytest.mark.parametrize("size", [3, 30])
def test_the_partner_section_and_home_panel_read_a_fixed_number_of_queries(django_assert_max_num_queries, size):
    from performance.dashboard import partner_performance_section, performance_home_panel

    _country, partner = _network(size)
    user = AnalystFactory()
    with django_assert_max_num_queries(2):
        section = partner_performance_section(user, partner)
    assert section["scorecard"] is not None
    with django_assert_max_num_queries(4):
        panel = performance_home_panel(user)
    assert sum(count for _grade, count in panel["grades"]) == size
