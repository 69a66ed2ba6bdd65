"""The performance API: /api/v1/kpi-snapshots/, scorecards/, region-scorecards/, region-flags/
(with acknowledge, plan, resolve), flag-rules/, scorecard-templates/, scorecard-runs/ and
customer-satisfaction/.

The snapshot item is a contract with the CRM (issue 7): exactly partner, region, period, kpi,
value, the value a string. Data comes from the hand-computed world of tests/performance/world.py
computed by `services.month_compute`: partners A (city X, 2,000.00 in March 2026), B (city Y),
D (city Z); regions C → P (X, Y, W) and Q (Z). A key bound to a partner sees only that partner's
rows, never a region's; bad filters and bad input answer 400 by field and change nothing."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from performance import services, tasks
from performance.choices import FlagStatus, Kpi
from performance.models import (
    CustomerSatisfaction,
    FlagRule,
    KpiSnapshot,
    RegionFlag,
    RegionScorecard,
    Scorecard,
    ScorecardItem,
    ScorecardTemplate,
    SnapshotRun,
)
from prm.models import AuditEntry, JobRun
from tests.factories import (
    AnalystFactory,
    ChannelManagerFactory,
    PartnerFactory,
    PartnerTierFactory,
    PartnerUserFactory,
    RegionFactory,
    UserFactory,
)

from .world import MONTH, build

pytestmark = pytest.mark.django_db

SNAPSHOTS = "/api/v1/kpi-snapshots/"
SCORECARDS = "/api/v1/scorecards/"
REGION_SCORECARDS = "/api/v1/region-scorecards/"
FLAGS = "/api/v1/region-flags/"
RULES = "/api/v1/flag-rules/"
TEMPLATES = "/api/v1/scorecard-templates/"
RUNS = "/api/v1/scorecard-runs/"
SATISFACTION = "/api/v1/customer-satisfaction/"


def url(base, pk=None, action=""):
    path = base if pk is None else f"{base}{pk}/"
    return f"{path}{action}/" if action else path


def as_user(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


def assert_field_error(response, field, *texts):
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid", response.content
    body = response.json()["errors"]
    assert field in body, body
    for text in texts:
        assert any(text in str(message) for message in body[field]), body
    return body


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def state():
    """Every performance row, to prove a refused request changed nothing."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (
            KpiSnapshot,
            Scorecard,
            RegionScorecard,
            RegionFlag,
            FlagRule,
            ScorecardTemplate,
            ScorecardItem,
            CustomerSatisfaction,
            JobRun,
        )
    }


@pytest.fixture
def world(db):
    """The March 2026 world, computed (snapshots, scorecards, flags on C, P and X)."""
    built = build()
    services.month_compute(period=MONTH)
    return built


def flag_of(world, code):
    return RegionFlag.objects.get(region=world.regions[code], period=MONTH)


# KPI snapshots: the contract ----------------------------------------------------------------------


def test_a_snapshot_is_exactly_partner_region_period_kpi_and_value_as_a_string(api_client, world):
    rows = results(api_client.get(f"{SNAPSHOTS}?partner={world.a.pk}&period={MONTH}&page_size=100"))
    assert all(set(row) == {"partner", "region", "period", "kpi", "value"} for row in rows)
    by_kpi = {row["kpi"]: row for row in rows}
    assert by_kpi["revenue"] == {
        "partner": world.a.pk,
        "region": None,
        "period": "2026-03",
        "kpi": "revenue",
        "value": "2000.00",
    }
    # Money with two decimals; everything else as stored, without trailing zeros.
    assert by_kpi["revenue_target"]["value"] == "2500.00"
    assert by_kpi["incentive_spend"]["value"] == "400.00"
    assert by_kpi["target_attainment"]["value"] == "0.8"
    assert by_kpi["growth_yoy"]["value"] == "-0.2"
    assert by_kpi["units"]["value"] == "17"
    assert by_kpi["customer_satisfaction"]["value"] == "86.5"
    assert by_kpi["incentive_return"]["value"] == "5"
    stored = {row.kpi: row.value for row in KpiSnapshot.objects.filter(partner=world.a, period=MONTH)}
    assert {kpi: Decimal(row["value"]) for kpi, row in by_kpi.items()} == stored


def test_region_rows_name_the_region_and_no_partner(api_client, world):
    region = world.regions["P"]
    rows = results(api_client.get(f"{SNAPSHOTS}?region={region.pk}&kpi=revenue"))
    assert rows == [{"partner": None, "region": region.pk, "period": "2026-03", "kpi": "revenue", "value": "3000.00"}]


def test_snapshot_filters(api_client, world):
    def count(query):
        return api_client.get(f"{SNAPSHOTS}?{query}").json()["count"]

    total = KpiSnapshot.objects.count()
    partner_rows = KpiSnapshot.objects.filter(partner__isnull=False).count()
    assert count("") == total
    assert count("subject=partner") == partner_rows
    assert count("subject=region") == total - partner_rows
    assert count("period=2026-03") == count("period=2026-Q1") == count("period=2026") == total
    assert count("period=2026-02") == count("period=2025") == 0
    assert count("period_from=2026-03&period_to=2026-03") == total
    assert count("period_from=2026-04") == count("period_to=2026-02") == 0
    assert count("kpi=revenue") == KpiSnapshot.objects.filter(kpi=Kpi.REVENUE).count()
    assert count("kpi=revenue&kpi=units") == KpiSnapshot.objects.filter(kpi__in=["revenue", "units"]).count()
    assert count(f"partner={world.b.pk}") == KpiSnapshot.objects.filter(partner=world.b).count() > 0


def test_snapshots_are_ordered_by_kpi_then_partner_then_region_and_stably(api_client, world):
    rows = results(api_client.get(f"{SNAPSHOTS}?page_size=500"))
    kpis = [row["kpi"] for row in rows]
    assert kpis == sorted(kpis)
    for kpi in set(kpis):
        partners = [row["partner"] for row in rows if row["kpi"] == kpi and row["partner"]]
        regions = [row["region"] for row in rows if row["kpi"] == kpi and row["region"]]
        assert partners == sorted(partners) and regions == sorted(regions)
    assert results(api_client.get(f"{SNAPSHOTS}?page_size=500")) == rows
    paged = results(api_client.get(f"{SNAPSHOTS}?page_size=7")) + results(
        api_client.get(f"{SNAPSHOTS}?page_size=7&page=2")
    )
    assert paged == rows[:14]


@pytest.mark.parametrize(
    ("base", "query", "field"),
    [
        (SNAPSHOTS, "period=March", "period"),
        (SNAPSHOTS, "period=2026-13", "period"),
        (SNAPSHOTS, "period_from=soon", "period_from"),
        (SNAPSHOTS, "period_to=2026-Q5", "period_to"),
        (SNAPSHOTS, "kpi=turnover", "kpi"),
        (SNAPSHOTS, "partner=999999", "partner"),
        (SNAPSHOTS, "partner=abc", "partner"),
        (SNAPSHOTS, "region=999999", "region"),
        (SNAPSHOTS, "subject=tier", "subject"),
        (SCORECARDS, "grade=E", "grade"),
        (SCORECARDS, "tier=999999", "tier"),
        (SCORECARDS, "period=last", "period"),
        (REGION_SCORECARDS, "region=x", "region"),
        (FLAGS, "status=closed", "status"),
        (FLAGS, "rule=too_low", "rule"),
        (FLAGS, "partner=999999", "partner"),
        (FLAGS, "is_firing=maybe", "is_firing"),
        (RUNS, "period=soon", "period"),
        (RUNS, "status=lost", "status"),
        (SATISFACTION, "period=20260", "period"),
    ],
)
def test_a_bad_filter_value_is_a_400_naming_the_filter_not_an_empty_list(api_client, world, base, query, field):
    assert_field_error(api_client.get(f"{base}?{query}"), field)


# Scorecards ---------------------------------------------------------------------------------------


def test_scorecards_with_their_grade_and_ranks_best_first(api_client, world):
    rows = results(api_client.get(f"{SCORECARDS}?period={MONTH}"))
    assert [(row["partner"], row["score"], row["grade"], row["rank_in_region"]) for row in rows] == [
        (world.b.pk, "100.00", "A", 1),
        (world.a.pk, "33.50", "D", 1),
        (world.d.pk, "33.33", "D", 1),
    ]
    assert {"partner", "period", "template", "score", "grade", "rank_in_region", "rank_in_tier"} <= set(rows[0])
    assert rows[0]["template"] == ScorecardTemplate.objects.get(is_default=True).pk
    single = api_client.get(url(SCORECARDS, rows[0]["id"]))
    assert single.status_code == 200 and single.json() == rows[0]


def test_scorecard_filters(api_client, world):
    def partners(query):
        return sorted(row["partner"] for row in results(api_client.get(f"{SCORECARDS}?{query}")))

    regions = world.regions
    assert partners(f"region={regions['P'].pk}") == sorted([world.a.pk, world.b.pk])  # X and Y are below P
    assert partners(f"region={regions['X'].pk}") == [world.a.pk]
    assert partners(f"region={regions['W'].pk}") == []
    assert partners("grade=D") == sorted([world.a.pk, world.d.pk])
    assert partners("grade=A&grade=B") == [world.b.pk]
    assert partners(f"partner={world.d.pk}") == [world.d.pk]
    gold = PartnerTierFactory(name="Gold")
    type(world.b).objects.filter(pk=world.b.pk).update(tier=gold)
    assert partners(f"tier={gold.pk}") == [world.b.pk]
    assert partners("period=2026-02") == []


def test_region_scorecards_and_their_filters(api_client, world):
    rows = results(api_client.get(REGION_SCORECARDS))
    by_code = {row["region_code"]: row for row in rows}
    assert set(by_code) == {"C", "P", "X", "Y"}
    assert (by_code["P"]["score"], by_code["P"]["grade"], by_code["P"]["partners"], by_code["P"]["revenue"]) == (
        "55.67",
        "C",
        2,
        "3000.00",
    )
    codes = [
        row["region_code"] for row in results(api_client.get(f"{REGION_SCORECARDS}?region={world.regions['P'].pk}"))
    ]
    assert sorted(codes) == ["P", "X", "Y"]
    assert [row["region_code"] for row in results(api_client.get(f"{REGION_SCORECARDS}?grade=A"))] == ["Y"]


# Who sees what ------------------------------------------------------------------------------------


def test_a_partner_key_sees_only_its_own_partners_rows_and_never_a_region(world, make_key):
    api = make_key(["performance:read"], partner=world.a)
    rows = results(api.get(f"{SNAPSHOTS}?page_size=500"))
    assert rows and {row["partner"] for row in rows} == {world.a.pk} and {row["region"] for row in rows} == {None}
    assert api.get(f"{SNAPSHOTS}?subject=region").json()["count"] == 0
    assert api.get(f"{SNAPSHOTS}?region={world.regions['X'].pk}").json()["count"] == 0
    assert api.get(f"{SNAPSHOTS}?partner={world.b.pk}").status_code == 400  # not a partner it may name
    assert [row["partner"] for row in results(api.get(SCORECARDS))] == [world.a.pk]
    foreign_card = Scorecard.objects.get(partner=world.b)
    assert api.get(url(SCORECARDS, foreign_card.pk)).status_code == 404
    assert [row["partner"] for row in results(api.get(SATISFACTION))] == [world.a.pk]
    foreign_score = CustomerSatisfaction.objects.get(partner=world.d)
    assert api.get(url(SATISFACTION, foreign_score.pk)).status_code == 404
    flag = flag_of(world, "X")
    run = JobRun.objects.create(job=tasks.JOB_NAME, params={"period": MONTH})
    for path in (
        REGION_SCORECARDS,
        url(REGION_SCORECARDS, RegionScorecard.objects.first().pk),
        FLAGS,
        url(FLAGS, flag.pk),
        f"{FLAGS}?partner={world.a.pk}",
        RULES,
        url(RULES, "score_below"),
        TEMPLATES,
        RUNS,
        url(RUNS, run.pk),
    ):
        assert api.get(path).status_code == 403, path


def test_partner_users_use_the_portal_not_the_api(world):
    api = as_user(PartnerUserFactory(partner=world.a))
    for path in (SNAPSHOTS, SCORECARDS, FLAGS, SATISFACTION):
        assert api.get(path).status_code == 403, path


def write_requests(world):
    """(method, path, payload) for every write of the performance API."""
    flag = flag_of(world, "X").pk
    template = ScorecardTemplate.objects.get().pk
    items = [{"kpi": "target_attainment", "weight": "100", "floor": "0.5", "target": "1"}]
    return [
        ("post", url(FLAGS, flag, "acknowledge"), {}),
        ("post", url(FLAGS, flag, "plan"), {"measures": ["training"]}),
        ("post", url(FLAGS, flag, "resolve"), {"resolution": "x"}),
        ("patch", url(RULES, "score_below"), {"threshold": "50"}),
        ("post", TEMPLATES, {"name": "New", "items": items}),
        ("patch", url(TEMPLATES, template), {"name": "Renamed"}),
        ("put", url(TEMPLATES, template), {"name": "Renamed", "items": items}),
        ("post", RUNS, {"period": MONTH}),
        ("post", SATISFACTION, {"partner": world.a.pk, "period": MONTH, "score": "50"}),
    ]


@pytest.mark.parametrize("who", ["read key", "partner read key", "partner write key", "analyst"])
def test_a_reader_gets_403_on_every_write_and_nothing_changes(world, make_key, who):
    api = {
        "read key": lambda: make_key(["performance:read"]),
        "partner read key": lambda: make_key(["performance:read"], partner=world.a),
        "partner write key": lambda: make_key(["performance:write"], partner=world.a),
        "analyst": lambda: as_user(AnalystFactory()),
    }[who]()
    writes = write_requests(world)
    before = state()
    for method, path, payload in writes:
        response = getattr(api, method)(path, payload, format="json")
        assert response.status_code == 403, (method, path, response.content)
    assert state() == before


def test_keys_need_the_performance_scope(world, make_key):
    refused = make_key(["sales:write"]).get(SNAPSHOTS)
    assert refused.status_code == 403
    assert refused.json()["message"] == "This API key does not have the scope “performance:read”."
    reader = make_key(["performance:read"])
    assert reader.get(SNAPSHOTS).json()["count"] == KpiSnapshot.objects.count()
    refused = reader.patch(url(RULES, "score_below"), {"threshold": "50"}, format="json")
    assert refused.json()["message"] == "This API key does not have the scope “performance:write”."


# Region flags -------------------------------------------------------------------------------------


def test_a_flag_shows_its_rules_findings_and_contributing_partners(api_client, world):
    flag = flag_of(world, "P")
    body = api_client.get(url(FLAGS, flag.pk)).json()
    assert (body["region"], body["region_code"], body["period"], body["status"]) == (
        world.regions["P"].pk,
        "P",
        "2026-03",
        "open",
    )
    assert body["rules"] == ["attainment_below", "score_below"] and body["is_firing"] is True
    attainment = body["findings"][0]
    assert attainment["threshold"] == "0.8"
    assert attainment["figures"] == {"target_attainment": "0.6", "revenue": "3000.00", "revenue_target": "5000.00"}
    assert attainment["partners"] == [
        {"id": world.a.pk, "code": world.a.code, "name": world.a.name, "figure": "500.00"}
    ]
    assert {"measures", "plan", "owner", "due_date", "resolution", "opened_at", "acknowledged_at"} <= set(body)


def test_flag_filters(api_client, world):
    def regions(query):
        return sorted(row["region_code"] for row in results(api_client.get(f"{FLAGS}?{query}")))

    assert regions("") == ["C", "P", "X"]
    assert regions("rule=cross_territory_above") == ["X"]
    assert regions("rule=attainment_below") == ["P"]
    assert regions("rule=revenue_decline") == []
    assert regions(f"region={world.regions['P'].pk}") == ["P", "X"]
    assert regions(f"partner={world.a.pk}") == ["C", "P", "X"]
    assert regions(f"partner={world.b.pk}") == []  # scored 100: drives no flag
    assert regions("period=2026-03&status=open&is_firing=true") == ["C", "P", "X"]
    services.flag_acknowledge(flag=flag_of(world, "X"), by=None)
    assert regions("status=acknowledged") == ["X"]
    assert regions("status=open&status=resolved") == ["C", "P"]


def test_a_flag_goes_through_acknowledge_plan_and_resolve(world, make_key):
    api = make_key(["performance:write"])
    owner = ChannelManagerFactory()
    flag = flag_of(world, "X")
    acknowledged = api.post(url(FLAGS, flag.pk, "acknowledge"))
    assert acknowledged.status_code == 200, acknowledged.content
    assert acknowledged.json()["status"] == "acknowledged" and acknowledged.json()["acknowledged_at"]
    due = (timezone.localdate() + timedelta(days=30)).isoformat()
    plan = {"measures": ["training", "market_support"], "owner": owner.pk, "due_date": due, "plan": "Two trainings"}
    planned = api.post(url(FLAGS, flag.pk, "plan"), plan, format="json")
    assert planned.status_code == 200, planned.content
    body = planned.json()
    assert (body["status"], body["measures"], body["owner"], body["due_date"], body["plan"]) == (
        "action_plan",
        ["training", "market_support"],
        owner.pk,
        due,
        "Two trainings",
    )
    assert owner.notifications.exists()  # the owner is told
    resolved = api.post(url(FLAGS, flag.pk, "resolve"), {"resolution": "Replaced the reseller"}, format="json")
    assert resolved.status_code == 200, resolved.content
    assert resolved.json()["status"] == "resolved" and resolved.json()["resolution"] == "Replaced the reseller"
    assert AuditEntry.objects.filter(object_type="performance.regionflag", object_id=str(flag.pk)).count() == 3


def test_an_illegal_move_is_a_400_under_status_and_changes_nothing(api_client, world):
    flag = flag_of(world, "X")
    before = state()
    body = assert_field_error(api_client.post(url(FLAGS, flag.pk, "resolve"), {"resolution": "x"}), "status")
    assert "cannot become" in body["status"][0]
    assert_field_error(api_client.post(url(FLAGS, flag.pk, "plan"), {"measures": ["training"]}), "status")
    assert state() == before
    assert api_client.post(url(FLAGS, flag.pk, "acknowledge")).status_code == 200
    assert_field_error(api_client.post(url(FLAGS, flag.pk, "acknowledge")), "status")


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"measures": []}, "measures", "at least one"),
        ({"measures": ["prayer"]}, "measures", "prayer"),
        ({"owner": None}, "owner", "Choose"),
        ({"owner": 999999}, "owner", "No user"),
        ({"owner": "partner"}, "owner", "channel team"),
        ({"due_date": "2020-01-01"}, "due_date", "past"),
        ({"due_date": "soon"}, "due_date", ""),
        ({"measures": ["other"], "plan": ""}, "plan", "Describe"),
    ],
)
def test_a_bad_plan_is_a_400_by_field_and_changes_nothing(api_client, world, change, field, text):
    flag = flag_of(world, "X")
    services.flag_acknowledge(flag=flag, by=None)
    good = {"measures": ["training"], "owner": ChannelManagerFactory().pk, "due_date": "2099-01-01", "plan": ""}
    payload = {**good, **change}
    if payload["owner"] == "partner":
        payload["owner"] = UserFactory().pk
    before = state()
    assert_field_error(api_client.post(url(FLAGS, flag.pk, "plan"), payload, format="json"), field, text)
    assert state() == before


def test_a_resolution_is_required(api_client, world):
    flag = flag_of(world, "X")
    RegionFlag.objects.filter(pk=flag.pk).update(status=FlagStatus.ACTION_PLAN)
    assert_field_error(api_client.post(url(FLAGS, flag.pk, "resolve"), {"resolution": "  "}), "resolution")
    assert RegionFlag.objects.get(pk=flag.pk).status == FlagStatus.ACTION_PLAN


def test_actions_on_an_unknown_flag_are_404(api_client, world):
    assert api_client.post(url(FLAGS, 999999, "acknowledge")).status_code == 404
    assert api_client.get(url(FLAGS, 999999)).status_code == 404


# Flag rules ---------------------------------------------------------------------------------------


def test_flag_rules_are_read_by_code_and_patched_through_the_service(api_client, world):
    rules = api_client.get(RULES).json()
    assert [rule["code"] for rule in rules] == sorted(
        ["attainment_below", "cross_territory_above", "revenue_decline", "score_below"]
    )
    assert api_client.get(url(RULES, "score_below")).json()["threshold"] == "60"
    changed = api_client.patch(url(RULES, "attainment_below"), {"threshold": "0.75"}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["threshold"] == "0.75" and changed.json()["is_active"] is True
    off = api_client.patch(url(RULES, "revenue_decline"), {"is_active": False}, format="json")
    assert off.json()["is_active"] is False and off.json()["threshold"] == "3"
    assert FlagRule.objects.get(code="attainment_below").threshold == Decimal("0.75")
    assert AuditEntry.objects.filter(object_type="performance.flagrule").count() == 2
    assert api_client.get(url(RULES, "too_low")).status_code == 404
    assert api_client.put(url(RULES, "score_below"), {"threshold": "50"}, format="json").status_code == 405
    assert api_client.delete(url(RULES, "score_below")).status_code == 405


@pytest.mark.parametrize(
    ("code", "threshold", "text"),
    [
        ("revenue_decline", "2.5", "whole number"),
        ("score_below", "150", "from 1 to 100"),
        ("attainment_below", "lots", "number"),
        ("attainment_below", "0.123456", "four decimals"),
    ],
)
def test_a_bad_threshold_is_a_400_and_changes_nothing(api_client, world, code, threshold, text):
    before = state()
    assert_field_error(api_client.patch(url(RULES, code), {"threshold": threshold}, format="json"), "threshold", text)
    assert state() == before


# Scorecard templates ------------------------------------------------------------------------------

GROWTH = {
    "name": "Growth",
    "items": [
        {"kpi": "growth_yoy", "weight": "60", "floor": "-0.1", "target": "0.2"},
        {"kpi": "cross_territory_share", "weight": "40", "floor": "0.3", "target": "0"},
    ],
}


def test_a_template_is_created_and_read_with_its_items(api_client, world):
    response = api_client.post(TEMPLATES, GROWTH, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["is_default"], body["is_active"]) == ("Growth", False, True)
    assert body["items"] == [
        {"kpi": "growth_yoy", "weight": "60.00", "floor": "-0.1", "target": "0.2"},
        {"kpi": "cross_territory_share", "weight": "40.00", "floor": "0.3", "target": "0"},
    ]
    assert api_client.get(url(TEMPLATES, body["id"])).json() == body
    assert [row["name"] for row in results(api_client.get(TEMPLATES))] == ["Standard", "Growth"]  # default first


def test_a_template_made_default_replaces_the_default_and_a_patch_without_items_keeps_them(api_client, world):
    created = api_client.post(TEMPLATES, {**GROWTH, "is_default": True}, format="json").json()
    assert ScorecardTemplate.objects.get(is_default=True).pk == created["id"]
    renamed = api_client.patch(url(TEMPLATES, created["id"]), {"name": "Growth 2027"}, format="json")
    assert renamed.status_code == 200, renamed.content
    assert renamed.json()["name"] == "Growth 2027" and renamed.json()["items"] == created["items"]
    replaced = api_client.put(
        url(TEMPLATES, created["id"]),
        {
            "name": "Growth 2027",
            "is_default": True,
            "items": [{"kpi": "revenue", "weight": 100, "floor": 0, "target": 1e6}],
        },
        format="json",
    )
    assert replaced.status_code == 200, replaced.content
    assert replaced.json()["items"] == [{"kpi": "revenue", "weight": "100.00", "floor": "0", "target": "1000000"}]


@pytest.mark.parametrize(
    ("payload", "field", "text"),
    [
        ({**GROWTH, "items": [{**GROWTH["items"][0], "weight": "50"}, GROWTH["items"][1]]}, "items", "add up to 90"),
        (
            {**GROWTH, "items": [{**GROWTH["items"][0], "kpi": "incentive_spend"}, GROWTH["items"][1]]},
            "items",
            "Item 1",
        ),
        (
            {**GROWTH, "items": [GROWTH["items"][0], {**GROWTH["items"][1], "floor": "0", "target": "0.3"}]},
            "items",
            "Item 2",
        ),
        ({**GROWTH, "items": [GROWTH["items"][0], GROWTH["items"][0]]}, "items", "already"),
        ({**GROWTH, "items": [{"kpi": "growth_yoy", "weight": "100"}]}, "items", "Item 1"),
        ({**GROWTH, "items": "all of them"}, "items", "list"),
        ({**GROWTH, "items": []}, "items", "at least one"),
        ({**GROWTH, "name": "standard"}, "name", "Another"),
        ({**GROWTH, "name": " "}, "name", ""),
        ({"name": "No items"}, "items", ""),
        ({**GROWTH, "is_default": True, "is_active": False}, "is_active", "default"),
    ],
)
def test_a_bad_template_is_a_400_naming_the_item_and_changes_nothing(api_client, world, payload, field, text):
    before = state()
    assert_field_error(api_client.post(TEMPLATES, payload, format="json"), field, text)
    assert state() == before


def test_the_default_template_cannot_stop_being_the_default_by_itself(api_client, world):
    standard = ScorecardTemplate.objects.get(is_default=True)
    assert_field_error(
        api_client.patch(url(TEMPLATES, standard.pk), {"is_default": False}, format="json"), "is_default"
    )
    assert api_client.delete(url(TEMPLATES, standard.pk)).status_code == 405


# Runs ---------------------------------------------------------------------------------------------


def run_tasks_now(monkeypatch):
    """The background run, done at once in this process when the transaction commits."""
    monkeypatch.setattr(tasks.month_run, "delay", lambda *args, **kwargs: tasks.month_run(*args, **kwargs))


def test_posting_a_month_answers_202_with_the_run_which_then_completes(
    api_client, world, monkeypatch, django_capture_on_commit_callbacks
):
    run_tasks_now(monkeypatch)
    CustomerSatisfaction.objects.filter(partner=world.a, period=MONTH).update(score=Decimal("90"))
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(RUNS, {"period": "2026-03"}, format="json")
    assert response.status_code == 202, response.content
    run = response.json()
    assert (run["status"], run["period"], run["finished"]) == ("queued", "2026-03", False)
    assert run["url"].endswith(f"{RUNS}{run['id']}/") and response["Location"] == run["url"]
    followed = api_client.get(run["url"]).json()
    assert (followed["status"], followed["finished"], followed["percent"], followed["error"]) == (
        "succeeded",
        True,
        100,
        "",
    )
    assert followed["rows_written"] > 0 and followed["started_by"] == JobRun.objects.get().started_by_id
    # The month was recomputed from the data as it is now.
    value = KpiSnapshot.objects.get(partner=world.a, period=MONTH, kpi=Kpi.CUSTOMER_SATISFACTION).value
    assert value == Decimal("90")
    assert [row["id"] for row in results(api_client.get(f"{RUNS}?period=2026-03&status=succeeded"))] == [run["id"]]
    assert results(api_client.get(f"{RUNS}?period=2026-04")) == []


def test_a_vendor_key_with_write_scope_starts_a_run(world, make_key, monkeypatch, django_capture_on_commit_callbacks):
    run_tasks_now(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        response = make_key(["performance:write"]).post(RUNS, {"period": MONTH}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["started_by"] is None
    assert JobRun.objects.get().status == JobRun.Status.SUCCEEDED


@pytest.mark.parametrize(
    ("payload", "text"),
    [
        ({"period": "March"}, "not a period"),
        ({"period": "2026-Q1"}, "month"),
        ({}, ""),
        ({"period": "2099-01"}, "not started"),
    ],
)
def test_a_bad_period_is_a_400_naming_the_field_and_queues_nothing(api_client, world, payload, text):
    assert_field_error(api_client.post(RUNS, payload, format="json"), "period", text)
    assert not JobRun.objects.exists()


def test_only_month_runs_are_listed(api_client, world):
    other = JobRun.objects.create(job="partners.region_paths_rebuild")
    assert api_client.get(url(RUNS, other.pk)).status_code == 404
    assert results(api_client.get(RUNS)) == []


# Customer satisfaction ----------------------------------------------------------------------------


def test_a_score_is_entered_then_replaced(api_client, world):
    payload = {"partner": world.b.pk, "period": "2026-03", "score": "91.5"}
    created = api_client.post(SATISFACTION, payload, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["partner"], body["partner_code"], body["period"], body["score"]) == (
        world.b.pk,
        world.b.code,
        "2026-03",
        "91.50",
    )
    replaced = api_client.post(SATISFACTION, {**payload, "score": 88}, format="json")
    assert replaced.status_code == 200, replaced.content
    assert replaced.json()["id"] == body["id"] and replaced.json()["score"] == "88.00"
    assert CustomerSatisfaction.objects.get(partner=world.b, period=MONTH).score == Decimal("88")
    rows = results(api_client.get(f"{SATISFACTION}?period=2026-03&region={world.regions['P'].pk}"))
    assert sorted(row["partner"] for row in rows) == sorted([world.a.pk, world.b.pk])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"score": "101"}, "score"),
        ({"score": "-1"}, "score"),
        ({"score": "86.555"}, "score"),
        ({"score": "high"}, "score"),
        ({"period": "2026-Q1"}, "period"),
        ({"period": "March"}, "period"),
        ({"partner": 999999}, "partner"),
        ({"partner": None}, "partner"),
    ],
)
def test_a_bad_score_is_a_400_by_field_and_changes_nothing(api_client, world, change, field):
    before = state()
    payload = {"partner": world.b.pk, "period": "2026-03", "score": "90", **change}
    assert_field_error(api_client.post(SATISFACTION, payload, format="json"), field)
    assert state() == before


# Query counts -------------------------------------------------------------------------------------


def build_rows(size):
    """`size` partners with a snapshot, a scorecard and a satisfaction score; `size` regions
    with a region scorecard and a flag; `size` runs and templates."""
    template = ScorecardTemplate.objects.get(is_default=True)
    now = timezone.now()
    run = SnapshotRun.objects.create(period=MONTH)
    common = {"period": MONTH, "period_start": date(2026, 3, 1)}
    for index in range(size):
        region = RegionFactory()
        partner = PartnerFactory(region=region)
        KpiSnapshot.objects.create(partner=partner, kpi=Kpi.REVENUE, value=1, computed_at=now, run=run, **common)
        KpiSnapshot.objects.create(region=region, kpi=Kpi.REVENUE, value=1, computed_at=now, run=run, **common)
        Scorecard.objects.create(partner=partner, template=template, score=50, grade="D", computed_at=now, **common)
        RegionScorecard.objects.create(
            region=region, template=template, score=50, grade="D", partners=1, revenue=1, computed_at=now, **common
        )
        RegionFlag.objects.create(region=region, opened_at=now, evaluated_at=now, rules=["score_below"], **common)
        CustomerSatisfaction.objects.create(partner=partner, score=80, **common)
        JobRun.objects.create(job=tasks.JOB_NAME, params={"period": MONTH})
        other = ScorecardTemplate.objects.create(name=f"Template {index}")
        ScorecardItem.objects.create(template=other, kpi=Kpi.REVENUE, weight=100, floor=0, target=1)


# count + page, and one query per prefetched relation
LIST_QUERIES = {
    SNAPSHOTS: 2,
    SCORECARDS: 2,
    REGION_SCORECARDS: 2,
    FLAGS: 2,
    RULES: 1,
    TEMPLATES: 3,
    RUNS: 2,
    SATISFACTION: 2,
}


@pytest.mark.parametrize("size", [3, 30])
@pytest.mark.parametrize("base", list(LIST_QUERIES))
def test_lists_issue_the_same_few_queries_for_few_and_many_rows(
    api_client, staff_user, django_assert_max_num_queries, size, base
):
    build_rows(size)
    with django_assert_max_num_queries(LIST_QUERIES[base]):
        response = api_client.get(f"{base}?page_size=500")
    assert response.status_code == 200
    body = response.json()
    if base != RULES:
        assert len(body["results"]) == body["count"] >= size


@pytest.mark.parametrize("size", [3, 30])
def test_the_partner_filter_on_flags_costs_a_fixed_number_of_queries(api_client, django_assert_max_num_queries, size):
    build_rows(size)
    partner = PartnerFactory()
    with django_assert_max_num_queries(5):
        response = api_client.get(f"{FLAGS}?partner={partner.pk}&page_size=500")
    assert response.status_code == 200 and response.json()["count"] == 0


# Schema -------------------------------------------------------------------------------------------

PATHS = {
    "/api/v1/kpi-snapshots/": {"get"},
    "/api/v1/scorecards/": {"get"},
    "/api/v1/scorecards/{id}/": {"get"},
    "/api/v1/region-scorecards/": {"get"},
    "/api/v1/region-scorecards/{id}/": {"get"},
    "/api/v1/region-flags/": {"get"},
    "/api/v1/region-flags/{id}/": {"get"},
    "/api/v1/region-flags/{id}/acknowledge/": {"post"},
    "/api/v1/region-flags/{id}/plan/": {"post"},
    "/api/v1/region-flags/{id}/resolve/": {"post"},
    "/api/v1/flag-rules/": {"get"},
    "/api/v1/flag-rules/{code}/": {"get", "patch"},
    "/api/v1/scorecard-templates/": {"get", "post"},
    "/api/v1/scorecard-templates/{id}/": {"get", "put", "patch"},
    "/api/v1/scorecard-runs/": {"get", "post"},
    "/api/v1/scorecard-runs/{id}/": {"get"},
    "/api/v1/customer-satisfaction/": {"get", "post"},
    "/api/v1/customer-satisfaction/{id}/": {"get"},
}


def test_the_schema_documents_every_performance_endpoint_without_warnings():
    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert not GENERATOR_STATS._warn_cache and not GENERATOR_STATS._error_cache, (
        dict(GENERATOR_STATS._warn_cache),
        dict(GENERATOR_STATS._error_cache),
    )
    paths = schema["paths"]
    for path, methods in PATHS.items():
        assert path in paths, path
        assert set(paths[path]) - {"parameters"} == methods, path
        for method in methods:
            operation = paths[path][method]
            assert operation.get("summary"), (path, method)
            assert "403" in operation["responses"], (path, method)
            if "{" in path:
                assert "404" in operation["responses"], (path, method)
            if method != "get":
                assert "400" in operation["responses"], (path, method)
    for path in FILTERED:
        assert "400" in paths[path]["get"]["responses"], path
    assert "202" in paths["/api/v1/scorecard-runs/"]["post"]["responses"]
    components = schema["components"]["schemas"]
    assert set(components["KpiSnapshot"]["properties"]) == {"partner", "region", "period", "kpi", "value"}
    assert set(components["ScorecardItem"]["properties"]) == {"kpi", "weight", "floor", "target"}
    for name, filters in FILTERED.items():
        assert filters <= {p["name"] for p in paths[name]["get"]["parameters"]}, name


FILTERED = {
    "/api/v1/kpi-snapshots/": {"period", "period_from", "period_to", "kpi", "partner", "region", "subject"},
    "/api/v1/scorecards/": {"period", "partner", "region", "tier", "grade", "ordering", "page"},
    "/api/v1/region-scorecards/": {"period", "region", "grade"},
    "/api/v1/region-flags/": {"period", "region", "status", "rule", "partner", "is_firing"},
    "/api/v1/scorecard-runs/": {"period", "status"},
    "/api/v1/customer-satisfaction/": {"period", "partner", "region"},
}
