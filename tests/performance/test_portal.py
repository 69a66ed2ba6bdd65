"""The portal's performance page and dashboard panel: a partner's users (admin and plain user
alike) see their own scorecard (score, grade, each item's value, score and weight), their rank in
their tier as "2 of 3" and target attainment for the month, quarter and year, every KPI of the
month and the 24-month trends; never another partner's name, code or figures, even one ranked
above them; a bad `?period=` is a clear message, a month without a scorecard and a partner with
nothing computed get an empty state; a fixed number of queries; the page in Chinese."""

import re

import pytest
from django.urls import reverse

from performance.models import ScorecardItem
from tests.factories import (
    ChannelAdminFactory,
    DistributorFactory,
    PartnerAdminUserFactory,
    PartnerFactory,
    PartnerUserFactory,
)

from .portal_world import FOREIGN_MARKERS, MAY, build

pytestmark = pytest.mark.django_db

PAGE = reverse("portal-performance:index")
DASHBOARD = reverse("portal:dashboard")
# Session, user, roles, partner, scorecards, snapshots, template items, quarter and year, counts.
QUERIES = 12


def html(response):
    return response.content.decode()


def text_of(response):
    """The page's text with tags and runs of white space collapsed, for phrases split by markup."""

    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html(response)))


def assert_nothing_foreign(page):
    for marker in FOREIGN_MARKERS:
        assert marker not in page, marker


@pytest.fixture
def world():
    return build()


@pytest.fixture
def own_client(client, world):
    client.force_login(PartnerUserFactory(partner=world.own))
    return client


def test_a_partner_user_sees_its_own_scorecard_of_the_latest_month(own_client, world):
    response = own_client.get(PAGE)
    assert response.status_code == 200
    page = text_of(response)
    assert response.context["month"].code == MAY
    assert "Your scorecard and KPIs for 2026-05" in page
    assert response.context["scorecard"].partner == world.own
    assert "87.88" in page
    assert response.context["scorecard"].grade == "A"
    # Rank in the Gold tier among the 3 Gold scorecards (Zeta above, Third Wheel below; the
    # Silver partner is not counted), and in Shanghai among the 4.
    assert "Rank in the Gold tier 2 of 3" in page
    assert "Rank in Shanghai 3 of 4" in page
    assert_nothing_foreign(html(response))


def test_the_items_explain_the_score(own_client):
    response = own_client.get(PAGE)
    rows = {row["kpi"]: row for row in response.context["items"]}
    attainment = rows["target_attainment"]
    assert (str(attainment["value"]), str(attainment["score"]), str(attainment["share"])) == (
        "1.200000",
        "100.00",
        "54.5",
    )
    assert str(rows["cross_territory_share"]["score"]) == "33.33"
    assert rows["customer_satisfaction"]["score"] is None  # no figure: its weight is shared out
    # 54.55 + 27.27 + 6.06: the points add up to the score.
    assert str(sum(row["points"] for row in rows.values() if row["points"] is not None)) == "87.88"
    page = text_of(response)
    # Value, floor, target, score, weight, share, points, as people read them.
    assert "Target attainment 120.0% 50.0% 100.0% 100.00 30 54.5% 54.55" in page
    assert "Cross-territory sales share 20.0% 30.0% 0.0% 33.33 10 18.2% 6.06" in page
    assert "Customer satisfaction — 60.00 90.00 no figure 10 — —" in page
    assert not response.context["template_changed"]


def test_attainment_for_the_month_quarter_and_year(own_client):
    response = own_client.get(PAGE)
    page = text_of(response)
    assert "Month 2026-05 120.0%" in page
    assert "Quarter 2026-Q2 100.0%" in page
    assert "Year 2026 80.0%" in page
    assert "revenue 3,000.00 against a target of 2,500.00" in page


def test_every_kpi_of_the_month_and_the_trends(own_client):
    response = own_client.get(PAGE)
    values = dict(response.context["kpi_values"])
    assert str(values["revenue"]) == "3000.000000"
    assert str(values["active_customers"]) == "2.000000"
    assert values["customer_satisfaction"] is None
    revenue = response.context["revenue_points"]
    assert len(revenue) == 24 and revenue[0][0] == "2024-06" and revenue[-1][0] == MAY
    assert [str(value) for _code, value in revenue[-3:]] == ["1000.000000", "2000.000000", "3000.000000"]
    assert revenue[-4][1] is None
    scores = dict(response.context["score_points"])
    assert str(scores[MAY]) == "87.88"
    page = html(response)
    assert page.count("<svg") == 2
    assert "Revenue by month" in page and "Score by month" in page
    assert reverse("portal-sales:sales") in page


def test_another_month_is_chosen_with_period(own_client):
    response = own_client.get(PAGE, {"period": "2026-04"})
    assert response.context["month"].code == "2026-04"
    page = text_of(response)
    assert "Month 2026-04 80.0%" in page
    # The quarter counts every month of Q2 computed so far (April and May).
    assert "Quarter 2026-Q2 100.0%" in page
    assert response.context["months"] == ["2026-05", "2026-04", "2026-03"]
    assert '<option value="2026-04" selected>' in html(response)


@pytest.mark.parametrize("raw", ["2026-13", "banana", "2026-Q2", "2026", "<script>x</script>"])
def test_a_bad_period_is_a_clear_message_and_the_latest_month_shows(own_client, raw):
    response = own_client.get(PAGE, {"period": raw})
    assert response.status_code == 200
    assert "is not a month: choose one in the list or use the form 2026-10." in html(response)
    assert response.context["month"].code == MAY
    assert "Showing 2026-05 instead." in html(response)
    assert "<script>x</script>" not in html(response)


def test_a_month_too_far_back_is_refused(own_client):
    response = own_client.get(PAGE, {"period": "1900-01"})
    assert response.status_code == 200
    assert "There are no figures for 1900-01: choose a month in the list." in html(response)
    assert response.context["month"].code == MAY


def test_a_month_without_a_scorecard_says_so(own_client):
    response = own_client.get(PAGE, {"period": "2025-01"})
    assert response.status_code == 200
    assert response.context["scorecard"] is None
    page = text_of(response)
    assert "There is no scorecard for 2025-01" in page
    assert "Your latest scorecard is for 2026-05." in page
    assert "No KPI has been computed for you in 2025-01." in page
    assert_nothing_foreign(html(response))


def test_a_partner_with_nothing_computed_gets_an_empty_state(client, world):
    newcomer = PartnerFactory(code="NEWBIE", name="Newbie Trading", region=world.shanghai, tier=world.gold)
    client.force_login(PartnerUserFactory(partner=newcomer))
    response = client.get(PAGE)
    assert response.status_code == 200
    page = text_of(response)
    assert "No scorecard yet" in page
    assert reverse("portal-sales:sales") in html(response)
    assert "Huaxin" not in page
    assert_nothing_foreign(html(response))


def test_a_partner_admin_sees_it_too(client, world):
    client.force_login(PartnerAdminUserFactory(partner=world.own))
    response = client.get(PAGE)
    assert response.status_code == 200
    assert "87.88" in html(response)


def test_the_partner_ranked_first_sees_only_its_own_figures(client, world):
    client.force_login(PartnerUserFactory(partner=world.rival))
    page = text_of(client.get(PAGE))
    assert "Rank in the Gold tier 1 of 3" in page
    for marker in ("Huaxin", "HUAXIN", "87.88", "3,000.00", "Third Wheel"):
        assert marker not in page, marker


def test_staff_are_pointed_to_the_staff_pages(client, world):
    client.force_login(ChannelAdminFactory())
    assert client.get(PAGE).status_code == 403


def test_anonymous_visitors_sign_in_first(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_changed_template_is_pointed_out(own_client):
    ScorecardItem.objects.filter(kpi="target_attainment", template__is_default=True).update(weight=50)
    response = own_client.get(PAGE)
    assert response.context["template_changed"]
    assert "87.88" in html(response)  # the stored score stands


def test_the_page_reads_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    small = build(extra_gold=0)
    client.force_login(PartnerUserFactory(partner=small.own))
    with django_assert_max_num_queries(QUERIES):
        assert client.get(PAGE).status_code == 200
    assert "Rank in the Gold tier 2 of 3" in text_of(client.get(PAGE))


def test_the_query_count_does_not_grow_with_the_partners_in_the_tier(client, django_assert_max_num_queries):
    big = build(extra_gold=27)
    client.force_login(PartnerUserFactory(partner=big.own))
    with django_assert_max_num_queries(QUERIES):
        response = client.get(PAGE)
    assert "Rank in the Gold tier 2 of 30" in text_of(response)


def test_the_dashboard_panel_shows_score_grade_rank_and_attainment(own_client):
    response = own_client.get(DASHBOARD)
    assert response.status_code == 200
    page = text_of(response)
    assert "Your scorecard for 2026-05" in page
    assert "Score 87.88" in page
    assert "Rank in your tier 2 of 3" in page
    assert "Target attainment 120.0%" in page
    assert reverse("portal-performance:index") in html(response)
    assert_nothing_foreign(html(response))


def test_the_dashboard_panel_hides_until_there_is_a_scorecard(client, world):
    newcomer = PartnerFactory(code="NEWBIE", region=world.shanghai)
    client.force_login(PartnerUserFactory(partner=newcomer))
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    assert 'id="performance-panel"' not in html(response)


def test_the_page_in_chinese(client, world):
    user = PartnerUserFactory(partner=world.own, preferred_language="zh-hans")
    client.force_login(user)
    for target in (PAGE, f"{PAGE}?period=banana", DASHBOARD):
        response = client.get(target)
        assert response.status_code == 200, target
        page = html(response)
        assert 'lang="zh-hans"' in page, target
        assert "绩效" in page and "目标达成率" in page and "87.88" in page, target
        assert_nothing_foreign(page)


def test_a_distributor_does_not_see_its_sub_partners_scorecard(client, world):
    distributor = DistributorFactory(code="PARENT", name="Parent Distribution", region=world.shanghai)
    world.own.parent = distributor
    world.own.save()
    client.force_login(PartnerUserFactory(partner=distributor))
    page = html(client.get(PAGE))
    assert "No scorecard yet" in page
    for marker in ("Huaxin", "HUAXIN", "87.88"):
        assert marker not in page, marker
    assert 'id="performance-panel"' not in html(client.get(DASHBOARD))
