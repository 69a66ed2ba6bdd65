"""The incentives API: /api/v1/rebate-policies/ (with preview, assign, unassign),
/api/v1/override-policies/, /api/v1/rebate-statements/ (lifecycle actions, recalculation and
background runs), /api/v1/mdf-budgets/ (with allocation from the tiers) and /api/v1/mdf-requests/
(lifecycle actions, claims with proof, downloads).

The policy shape is a contract with the CRM and finance systems (issue 6, item 8): those examples
are here verbatim. Every write goes through incentives.services: bad input and illegal moves answer
400 by field and change nothing; approved statements never change; MDF money reconciles; a key
bound to a partner sees only its own partner's rows (another's answer 404)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from incentives import tasks
from incentives.choices import LineKind, MdfStatus, StatementStatus
from incentives.models import (
    MdfBudget,
    MdfProof,
    MdfRequest,
    OverridePolicy,
    PolicyAssignment,
    RebatePolicy,
    RebateStatement,
    StatementLine,
    TierMultiplier,
)
from prm.models import AuditEntry, JobRun
from tests.factories import (
    PDF_BYTES,
    AgreementFactory,
    AnalystFactory,
    ChannelManagerFactory,
    DistributorFactory,
    MdfBudgetFactory,
    MdfProofFactory,
    MdfRequestFactory,
    OverridePolicyFactory,
    PartnerAdminUserFactory,
    PartnerFactory,
    PartnerTierFactory,
    PartnerUserFactory,
    ProductLineFactory,
    RebatePolicyFactory,
    RebateStatementFactory,
    RegionFactory,
    StatementLineFactory,
)

from .world import PERIOD, assign, sell

pytestmark = pytest.mark.django_db

POLICIES = "/api/v1/rebate-policies/"
OVERRIDES = "/api/v1/override-policies/"
STATEMENTS = "/api/v1/rebate-statements/"
BUDGETS = "/api/v1/mdf-budgets/"
REQUESTS = "/api/v1/mdf-requests/"

# Issue 6, item 8: what the CRM and finance systems send.
CONTRACT_POLICY = {
    "name": "Sensors 2026",
    "basis": "revenue",
    "period": "quarter",
    "method": "marginal",
    "brackets": [
        {"threshold": "0.00", "rate": "10.00"},
        {"threshold": "1000.00", "rate": "20.00"},
        {"threshold": "3000.00", "rate": "30.00"},
    ],
}


def url(base, pk=None, action=""):
    path = base if pk is None else f"{base}{pk}/"
    return f"{path}{action}/" if action else path


def assert_field_error(response, field, *texts):
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid", response.content
    body = response.json()["errors"]
    assert field in body, body
    for text in texts:
        assert any(text in str(message) for message in body[field]), body
    return body


def as_user(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


def pdf(name="invoice.pdf"):
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def snapshot():
    """Every incentives row, to prove a refused request changed nothing."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (
            RebatePolicy,
            TierMultiplier,
            PolicyAssignment,
            OverridePolicy,
            RebateStatement,
            StatementLine,
            MdfBudget,
            MdfRequest,
            MdfProof,
        )
    }


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(db, staff_user):
    """Huaxin (gold, owned by a channel manager) and Zeta, another partner in another region.
    The issue's marginal policy (0 at 10 %, 1000 at 20 %, 3000 at 30 %); a statement for March
    2026 each; an MDF budget of 10,000.00 each for this quarter, with a draft request each."""
    east = RegionFactory(code="EAST", name="East China")
    south = RegionFactory(code="SOUTH", name="South China")
    gold = PartnerTierFactory(name="Gold", rank=3)
    manager = ChannelManagerFactory(username="li.manager")
    huaxin = DistributorFactory(code="HUAXIN", name="Huaxin Distribution", region=east, tier=gold, owner=manager)
    zeta = PartnerFactory(code="ZETA", name="Zeta Trading", region=south)
    policy = RebatePolicyFactory(name="Issue example")
    own_statement = RebateStatementFactory(partner=huaxin, period=PERIOD, total=Decimal("100.00"))
    StatementLineFactory(statement=own_statement, rebate_policy=policy)
    foreign_statement = RebateStatementFactory(partner=zeta, period=PERIOD, total=Decimal("100.00"))
    StatementLineFactory(statement=foreign_statement, rebate_policy=policy)
    own_budget = MdfBudgetFactory(partner=huaxin)
    foreign_budget = MdfBudgetFactory(partner=zeta)
    return {
        "admin": staff_user,
        "manager": manager,
        "gold": gold,
        "huaxin": huaxin,
        "zeta": zeta,
        "policy": policy,
        "own_statement": own_statement,
        "foreign_statement": foreign_statement,
        "own_budget": own_budget,
        "foreign_budget": foreign_budget,
        "own_request": MdfRequestFactory(budget=own_budget, title="Huaxin booth"),
        "foreign_request": MdfRequestFactory(budget=foreign_budget, title="Zeta booth"),
    }


# Rebate policies: the contract ------------------------------------------------------------------


def test_a_policy_is_created_with_only_name_basis_period_method_and_brackets(api_client, world):
    response = api_client.post(POLICIES, CONTRACT_POLICY, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["brackets"] == CONTRACT_POLICY["brackets"]
    assert (body["name"], body["basis"], body["period"], body["method"]) == (
        "Sensors 2026",
        "revenue",
        "quarter",
        "marginal",
    )
    assert body["product_lines"] == [] and body["tier_multipliers"] == [] and body["agreements"] == []
    assert body["cap"] is None and body["is_active"] is True
    assert body["valid_from"] is None and body["valid_to"] is None
    policy = RebatePolicy.objects.get(pk=body["id"])
    assert [(b.threshold, b.rate) for b in policy.brackets.all()] == [(0, 10), (1000, 20), (3000, 30)]
    assert AuditEntry.objects.filter(object_type="incentives.rebatepolicy", object_id=str(policy.pk)).exists()
    assert api_client.get(url(POLICIES, policy.pk)).json() == body


def test_preview_of_3800_under_the_issues_marginal_brackets_answers_740(api_client, world):
    policy = api_client.post(POLICIES, CONTRACT_POLICY, format="json").json()
    response = api_client.post(url(POLICIES, policy["id"], "preview"), {"volume": "3800.00"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["amount"] == "740.00"
    assert [
        (line["kind"], line["threshold"], line["rate"], line["volume"], line["amount"]) for line in body["lines"]
    ] == [
        ("rebate", "0.00", "10.00", "1000.00", "100.00"),
        ("rebate", "1000.00", "20.00", "2000.00", "400.00"),
        ("rebate", "3000.00", "30.00", "800.00", "240.00"),
    ]
    assert {line["multiplier"] for line in body["lines"]} == {"1.000"}
    assert not RebateStatement.objects.exclude(pk__in=[world["own_statement"].pk, world["foreign_statement"].pk])


def test_a_retroactive_policy_pays_the_whole_volume_at_the_highest_bracket_reached(api_client, world):
    payload = {**CONTRACT_POLICY, "method": "retroactive"}
    policy = api_client.post(POLICIES, payload, format="json").json()
    preview = url(POLICIES, policy["id"], "preview")
    body = api_client.post(preview, {"volume": "3800.00"}, format="json").json()
    assert body["amount"] == "1140.00"
    assert [(line["threshold"], line["rate"], line["volume"]) for line in body["lines"]] == [
        ("3000.00", "30.00", "3800.00")
    ]
    assert api_client.post(preview, {"volume": "2999.99"}, format="json").json()["amount"] == "600.00"  # 599.998
    assert api_client.post(preview, {"volume": "0"}, format="json").json() == {"amount": "0.00", "lines": []}


def test_brackets_may_be_sent_as_json_numbers(api_client, world):
    brackets = [{"threshold": 0, "rate": 10}, {"threshold": 1000, "rate": 20.5}, {"threshold": 3000.25, "rate": 30}]
    response = api_client.post(POLICIES, {**CONTRACT_POLICY, "brackets": brackets}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["brackets"] == [
        {"threshold": "0.00", "rate": "10.00"},
        {"threshold": "1000.00", "rate": "20.50"},
        {"threshold": "3000.25", "rate": "30.00"},
    ]


def test_a_partners_tier_multiplier_and_the_cap_apply_to_its_preview(api_client, world):
    payload = {
        **CONTRACT_POLICY,
        "tier_multipliers": [{"tier": world["gold"].pk, "multiplier": "1.100"}],
        "cap": "800.00",
    }
    created = api_client.post(POLICIES, payload, format="json")
    assert created.status_code == 201, created.content
    policy = created.json()
    assert policy["tier_multipliers"] == [{"tier": world["gold"].pk, "multiplier": "1.100"}]
    assert policy["cap"] == "800.00"
    preview = url(POLICIES, policy["id"], "preview")
    body = api_client.post(preview, {"volume": "3800.00", "partner": world["huaxin"].pk}, format="json").json()
    assert body["amount"] == "800.00"  # 110 + 440 + 264 = 814.00, capped
    assert [(line["kind"], line["amount"]) for line in body["lines"]] == [
        ("rebate", "110.00"),
        ("rebate", "440.00"),
        ("rebate", "264.00"),
        ("cap", "-14.00"),
    ]
    assert body["lines"][-1]["threshold"] is None and body["lines"][0]["multiplier"] == "1.100"
    # Without a partner: neither multiplier nor cap; a partner without a multiplier earns × 1.
    assert api_client.post(preview, {"volume": "3800.00"}, format="json").json()["amount"] == "740.00"
    untiered = {"volume": "3800.00", "partner": world["zeta"].pk}
    assert api_client.post(preview, untiered, format="json").json()["amount"] == "740.00"


@pytest.mark.parametrize(
    ("brackets", "texts"),
    [
        ([{"threshold": "0", "rate": "10"}, {"threshold": "1000", "rate": "20"}, {"threshold": "1000", "rate": "30"}],
         ["Row 3", "repeats row 2"]),
        ([{"threshold": "0", "rate": "10"}, {"threshold": "3000", "rate": "30"}, {"threshold": "1000", "rate": "20"}],
         ["Row 3", "must be above the previous row's (3000)"]),
        ([{"threshold": "0", "rate": "-5"}], ["Row 1", "between 0 and 100"]),
        ([{"threshold": "100", "rate": "10"}], ["Row 1: the first threshold must be 0."]),
        ([{"threshold": "0", "rate": "10"}, {"threshold": "1000", "rate": "120"}], ["Row 2", "between 0 and 100"]),
        ([{"threshold": "0", "rate": "ten"}], ["Row 1: the rate “ten” is not a number"]),
        ([{"threshold": "zero", "rate": "10"}], ["Row 1: the threshold “zero” is not a number"]),
        ([{"threshold": "0", "rate": "10"}, {"threshold": "-5", "rate": "2"}], ["Row 2", "must not be negative"]),
        ([{"threshold": "0", "rate": "10"}, {"threshold": "50"}], ["Row 2: give a threshold and a rate."]),
        ([["0", "10"]], ["Row 1: give a threshold and a rate."]),
        ([], ["Give at least one bracket"]),
        ("0:10,1000:20", ["list of rows"]),
    ],
)  # fmt: skip
def test_bad_brackets_are_a_400_under_brackets_naming_the_row(api_client, world, brackets, texts):
    before = snapshot()
    response = api_client.post(POLICIES, {**CONTRACT_POLICY, "brackets": brackets}, format="json")
    assert_field_error(response, "brackets", *texts)
    policy = world["policy"]
    patched = api_client.patch(url(POLICIES, policy.pk), {"brackets": brackets}, format="json")
    assert_field_error(patched, "brackets", *texts)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"method": "flat"}, "method", "not a valid choice"),
        ({"basis": None}, "basis", ""),
        ({"period": "week"}, "period", "not a valid choice"),
        ({"cap": "-1"}, "cap", ""),
        ({"cap": "10.001"}, "cap", ""),
        ({"valid_from": "2026-06-01", "valid_to": "2026-01-01"}, "valid_to", "must not be before"),
        ({"product_lines": [999999]}, "product_lines", ""),
        ({"tier_multipliers": [{"tier": 999999, "multiplier": "1"}]}, "tier_multipliers", ""),
        ({"tier_multipliers": [{"tier": "{gold}", "multiplier": "11"}]}, "tier_multipliers", ""),
        ({"tier_multipliers": [{"tier": "{gold}", "multiplier": "1"}, {"tier": "{gold}", "multiplier": "2"}]},
         "tier_multipliers", "listed twice"),
    ],
)  # fmt: skip
def test_bad_policy_fields_are_a_400_on_the_field_and_create_nothing(api_client, world, overrides, field, text):
    for row in overrides.get("tier_multipliers", ()):
        if row["tier"] == "{gold}":
            row["tier"] = world["gold"].pk
    before = snapshot()
    assert_field_error(api_client.post(POLICIES, {**CONTRACT_POLICY, **overrides}, format="json"), field, text)
    assert snapshot() == before


def test_the_five_contract_fields_are_required(api_client, world):
    for name in CONTRACT_POLICY:
        payload = {key: value for key, value in CONTRACT_POLICY.items() if key != name}
        assert_field_error(api_client.post(POLICIES, payload, format="json"), name, "required")
    assert not RebatePolicy.objects.exclude(pk=world["policy"].pk).exists()


def test_a_policy_changes_and_its_brackets_are_replaced(api_client, world):
    policy = api_client.post(POLICIES, CONTRACT_POLICY, format="json").json()
    lines = [ProductLineFactory().pk]
    response = api_client.patch(
        url(POLICIES, policy["id"]),
        {"name": "Sensors 2026 (revised)", "product_lines": lines, "valid_from": "2026-01-01"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Sensors 2026 (revised)" and body["product_lines"] == lines
    assert body["brackets"] == CONTRACT_POLICY["brackets"]  # not sent: kept
    full = {**body, "brackets": [{"threshold": "0", "rate": "2.125"}], "method": "retroactive"}
    replaced = api_client.put(url(POLICIES, policy["id"]), full, format="json")
    assert replaced.status_code == 200, replaced.content
    assert replaced.json()["brackets"] == [{"threshold": "0.00", "rate": "2.125"}]
    assert replaced.json()["method"] == "retroactive"
    assert AuditEntry.objects.filter(object_id=str(policy["id"]), action="update").count() == 2


def test_a_policy_is_assigned_to_and_unassigned_from_agreements(api_client, world):
    policy = world["policy"]
    agreement = AgreementFactory(partner=world["huaxin"])
    assigned = api_client.post(url(POLICIES, policy.pk, "assign"), {"agreement": agreement.pk}, format="json")
    assert assigned.status_code == 200, assigned.content
    assert assigned.json()["agreements"] == [agreement.pk]
    again = api_client.post(url(POLICIES, policy.pk, "assign"), {"agreement": agreement.pk}, format="json")
    assert again.status_code == 200 and PolicyAssignment.objects.filter(policy=policy).count() == 1
    unassigned = api_client.post(url(POLICIES, policy.pk, "unassign"), {"agreement": agreement.pk}, format="json")
    assert unassigned.status_code == 200 and unassigned.json()["agreements"] == []
    assert_field_error(api_client.post(url(POLICIES, policy.pk, "assign"), {"agreement": 999999}), "agreement")
    assert not PolicyAssignment.objects.exists()


def test_policies_are_retired_not_deleted(api_client, world):
    policy = world["policy"]
    assert api_client.delete(url(POLICIES, policy.pk)).status_code == 405
    response = api_client.patch(url(POLICIES, policy.pk), {"is_active": False}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert api_client.get(f"{POLICIES}?is_active=true").json()["count"] == 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"volume": "abc"}, "volume"),
        ({"volume": "-1"}, "volume"),
        ({}, "volume"),
        ({"volume": "1", "partner": 0}, "partner"),
    ],
)
def test_a_bad_preview_is_a_400_on_the_field(api_client, world, payload, field):
    assert_field_error(api_client.post(url(POLICIES, world["policy"].pk, "preview"), payload, format="json"), field)


def test_the_policy_list_filters(api_client, world):
    api_client.post(POLICIES, {**CONTRACT_POLICY, "method": "retroactive"}, format="json")
    assert [row["name"] for row in api_client.get(f"{POLICIES}?method=retroactive").json()["results"]] == [
        "Sensors 2026"
    ]
    assert api_client.get(f"{POLICIES}?period=quarter").json()["count"] == 1
    assert api_client.get(f"{POLICIES}?q=example").json()["count"] == 1
    assert_field_error(api_client.get(f"{POLICIES}?method=flat"), "method")


# Override commission ------------------------------------------------------------------------------


def test_an_override_policy_is_created_and_its_rates_replaced(api_client, world):
    payload = {
        "name": "Network 2026",
        "period": "month",
        "rates": [{"level": 1, "rate": "3.00"}, {"level": 2, "rate": "1"}],
    }
    response = api_client.post(OVERRIDES, payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["rates"] == [{"level": 1, "rate": "3.00"}, {"level": 2, "rate": "1.00"}]
    assert body["product_lines"] == [] and body["is_active"] is True
    patched = api_client.patch(url(OVERRIDES, body["id"]), {"rates": [{"level": "1", "rate": 2.5}]}, format="json")
    assert patched.status_code == 200 and patched.json()["rates"] == [{"level": 1, "rate": "2.50"}]
    assert api_client.get(url(OVERRIDES, body["id"])).json()["rates"] == [{"level": 1, "rate": "2.50"}]
    assert api_client.delete(url(OVERRIDES, body["id"])).status_code == 405


@pytest.mark.parametrize(
    ("rates", "text"),
    [
        ([{"level": 1, "rate": "3"}, {"level": 1, "rate": "2"}], "Level 1 is listed twice."),
        ([{"level": 0, "rate": "3"}], "Row 1: the level must be a whole number from 1"),
        ([{"level": 1.5, "rate": "3"}], "Row 1: the level must be a whole number from 1"),
        ([{"level": 1, "rate": "101"}], "Level 1: the rate must be between 0 and 100"),
        ([{"level": 1, "rate": "three"}], "Level 1: give a whole level and a rate"),
        ([{"level": 1}], "Row 1: give a level and a rate."),
        ([], "Give a rate for at least one level."),
    ],
)
def test_bad_override_rates_are_a_400_under_rates(api_client, world, rates, text):
    before = snapshot()
    response = api_client.post(OVERRIDES, {"name": "Bad", "period": "month", "rates": rates}, format="json")
    assert_field_error(response, "rates", text)
    assert snapshot() == before


# Statements ---------------------------------------------------------------------------------------


def test_a_statement_reads_with_the_lines_that_explain_it(api_client, world):
    statement = world["own_statement"]
    body = api_client.get(url(STATEMENTS, statement.pk)).json()
    assert (body["partner"], body["partner_code"], body["period"]) == (world["huaxin"].pk, "HUAXIN", "2026-03")
    assert (body["period_start"], body["period_end"]) == ("2026-03-01", "2026-03-31")
    assert body["status"] == "calculated" and body["total"] == "100.00"
    [line] = body["lines"]
    assert line["kind"] == "rebate" and line["rebate_policy"] == world["policy"].pk
    assert line["policy_name"] == "Issue example" and line["override_policy"] is None
    assert (line["bracket_threshold"], line["volume"], line["base"], line["rate"], line["multiplier"]) == (
        "0.00",
        "1000.00",
        "1000.00",
        "10.00",
        "1.000",
    )
    assert line["amount"] == "100.00"
    assert line["explanation"] == "Issue example: the slice from 0 at 10%"


def test_statements_filter_by_period_status_and_partner(api_client, world):
    RebateStatementFactory(partner=world["huaxin"], period="2026-04", status=StatementStatus.APPROVED)
    codes = lambda query: sorted(  # noqa: E731
        (row["partner_code"], row["period"]) for row in api_client.get(f"{STATEMENTS}?{query}").json()["results"]
    )
    assert codes("period=2026-03") == [("HUAXIN", "2026-03"), ("ZETA", "2026-03")]
    assert codes("status=approved") == [("HUAXIN", "2026-04")]
    assert codes(f"partner={world['zeta'].pk}") == [("ZETA", "2026-03")]
    assert codes("partner_q=huaxin&period=2026-04") == [("HUAXIN", "2026-04")]
    assert_field_error(api_client.get(f"{STATEMENTS}?period=March"), "period", "is not a period")
    assert_field_error(api_client.get(f"{STATEMENTS}?status=signed"), "status")
    assert api_client.get(url(STATEMENTS, 999999)).status_code == 404


def test_statements_are_never_posted_changed_or_deleted(api_client, world):
    statement = world["own_statement"]
    assert api_client.post(STATEMENTS, {"partner": world["huaxin"].pk, "period": "2026-05"}).status_code == 405
    assert api_client.patch(url(STATEMENTS, statement.pk), {"total": "1.00"}, format="json").status_code == 405
    assert api_client.delete(url(STATEMENTS, statement.pk)).status_code == 405


@pytest.fixture
def earning(world):
    """Huaxin sells 3800.00 in March 2026 under the issue's policy, through an active agreement."""
    assign(world["huaxin"], world["policy"])
    sell(world["huaxin"], "3800.00")
    RebateStatement.objects.filter(pk=world["own_statement"].pk).delete()
    return world


def run_tasks_now(monkeypatch):
    """The background run, done at once in this process when the transaction commits."""
    monkeypatch.setattr(tasks.rebate_statements_run, "delay", lambda run_id: tasks.rebate_statements_run(run_id))


def test_calculate_starts_a_run_answered_202_and_followed_to_the_statement(
    api_client, earning, monkeypatch, django_capture_on_commit_callbacks
):
    run_tasks_now(monkeypatch)
    payload = {"period": "2026-03", "partner": earning["huaxin"].pk}
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(url(STATEMENTS, action="calculate"), payload, format="json")
    assert response.status_code == 202, response.content
    run = response.json()
    assert (run["status"], run["period"], run["partner"], run["finished"]) == (
        "queued",
        "2026-03",
        earning["huaxin"].pk,
        False,
    )
    assert response["Location"].endswith(f"{STATEMENTS}runs/{run['id']}/")
    followed = api_client.get(response["Location"])
    assert followed.status_code == 200, followed.content
    assert followed.json()["status"] == "succeeded" and followed.json()["finished"] is True
    assert followed.json()["rows_written"] == 1 and followed.json()["percent"] == 100
    statement = api_client.get(f"{STATEMENTS}?partner={earning['huaxin'].pk}").json()["results"][0]
    assert statement["total"] == "740.00"
    assert [line["amount"] for line in statement["lines"]] == ["100.00", "400.00", "240.00"]
    assert sum(Decimal(line["amount"]) for line in statement["lines"]) == Decimal(statement["total"])


def test_a_run_for_every_partner_and_a_failed_run_say_so(
    api_client, earning, monkeypatch, django_capture_on_commit_callbacks
):
    run_tasks_now(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        every = api_client.post(url(STATEMENTS, action="calculate"), {"period": "2026-03"}, format="json").json()
    assert every["partner"] is None
    assert api_client.get(url(STATEMENTS, action=f"runs/{every['id']}")).json()["status"] == "succeeded"
    statement = RebateStatement.objects.get(partner=earning["huaxin"], period="2026-03")
    one = {"period": "2026-03", "partner": earning["huaxin"].pk}
    # Approved while its run waited in the queue: the run fails and says why.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queued = api_client.post(url(STATEMENTS, action="calculate"), one, format="json").json()
    RebateStatement.objects.filter(pk=statement.pk).update(status=StatementStatus.APPROVED)
    with pytest.raises(Exception, match="never changes"):
        for callback in callbacks:
            callback()
    body = api_client.get(url(STATEMENTS, action=f"runs/{queued['id']}")).json()
    assert body["status"] == "failed" and "never changes" in body["error"]
    # Asked again once approved: refused at once, and no run is recorded.
    runs = JobRun.objects.count()
    refused = api_client.post(url(STATEMENTS, action="calculate"), one, format="json")
    assert refused.status_code == 400 and "never changes" in refused.json()["errors"]["partner"][0]
    assert JobRun.objects.count() == runs


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"period": "March"}, "period"), ({}, "period"), ({"period": "2026-03", "partner": 999999}, "partner")],
)
def test_a_bad_calculation_is_a_400_and_starts_nothing(api_client, world, payload, field):
    assert_field_error(api_client.post(url(STATEMENTS, action="calculate"), payload, format="json"), field)
    assert not JobRun.objects.exists()


def test_only_statement_runs_are_followed_here(api_client, world):
    other = JobRun.objects.create(job="partners.region_paths_rebuild")
    assert api_client.get(url(STATEMENTS, action=f"runs/{other.pk}")).status_code == 404
    assert api_client.get(url(STATEMENTS, action="runs/999999")).status_code == 404


def test_the_statement_lifecycle_and_an_approved_statement_never_changes(api_client, earning):
    statement = RebateStatement.objects.get(
        pk=api_client.post(url(STATEMENTS, RebateStatementFactory(partner=earning["huaxin"]).pk, "recalculate")).json()[
            "id"
        ]
    )
    assert statement.total == Decimal("740.00")
    adjusted = api_client.post(
        url(STATEMENTS, statement.pk, "adjust"), {"amount": "-40.00", "reason": "Returned goods"}, format="json"
    )
    assert adjusted.status_code == 200, adjusted.content
    assert adjusted.json()["total"] == "700.00"
    adjustment = [line for line in adjusted.json()["lines"] if line["kind"] == "adjustment"]
    assert [(line["amount"], line["explanation"]) for line in adjustment] == [("-40.00", "Returned goods")]
    recalculated = api_client.post(url(STATEMENTS, statement.pk, "recalculate"))
    assert recalculated.status_code == 200 and recalculated.json()["total"] == "700.00"  # adjustments stay

    approved = api_client.post(url(STATEMENTS, statement.pk, "approve"))
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert approved.json()["approved_by"] == earning["admin"].pk and approved.json()["approved_at"]
    before = snapshot()
    refused = api_client.post(url(STATEMENTS, statement.pk, "adjust"), {"amount": "1.00", "reason": "x"})
    assert_field_error(refused, "status", "only on a calculated statement")
    assert_field_error(
        api_client.post(url(STATEMENTS, statement.pk, "recalculate")), "non_field_errors", "never changes"
    )
    assert_field_error(api_client.post(url(STATEMENTS, statement.pk, "approve")), "status", "cannot go from Approved")
    assert snapshot() == before

    paid = api_client.post(url(STATEMENTS, statement.pk, "mark-paid"))
    assert paid.status_code == 200 and paid.json()["status"] == "paid" and paid.json()["paid_at"]
    assert_field_error(api_client.post(url(STATEMENTS, statement.pk, "cancel")), "status", "cannot go from Paid")
    statement.refresh_from_db()
    assert statement.status == StatementStatus.PAID and statement.total == Decimal("700.00")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"amount": "abc", "reason": "x"}, "amount"),
        ({"amount": "1.005", "reason": "x"}, "amount"),
        ({"amount": "10.00"}, "reason"),
        ({"amount": "10.00", "reason": "   "}, "reason"),
    ],
)
def test_a_bad_adjustment_is_a_400_on_the_field(api_client, world, payload, field):
    before = snapshot()
    assert_field_error(api_client.post(url(STATEMENTS, world["own_statement"].pk, "adjust"), payload), field)
    assert snapshot() == before


def test_a_calculated_statement_is_cancelled_and_the_period_calculated_anew(api_client, earning):
    statement = RebateStatementFactory(partner=earning["huaxin"])
    cancelled = api_client.post(url(STATEMENTS, statement.pk, "cancel"))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancelled_at"]


# MDF budgets --------------------------------------------------------------------------------------


def test_a_budget_is_set_and_changed_through_the_service(api_client, world):
    partner = PartnerFactory(region=world["huaxin"].region)
    created = api_client.post(BUDGETS, {"partner": partner.pk, "period": "2026-q3", "allocated": "5000"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["period"], body["period_start"], body["period_end"]) == ("2026-Q3", "2026-07-01", "2026-09-30")
    assert (body["allocated"], body["remaining"], body["reserved"], body["source"]) == (
        "5000.00",
        "5000.00",
        "0.00",
        "manual",
    )
    changed = api_client.patch(url(BUDGETS, body["id"]), {"allocated": "6000.50"}, format="json")
    assert changed.status_code == 200 and changed.json()["allocated"] == "6000.50"
    same = api_client.post(BUDGETS, {"partner": partner.pk, "period": "2026-Q3", "allocated": "7000"}, format="json")
    assert same.json()["id"] == body["id"] and same.json()["allocated"] == "7000.00"  # the one budget, set again
    assert MdfBudget.objects.filter(partner=partner).count() == 1


@pytest.mark.parametrize(
    ("payload", "field", "text"),
    [
        ({"period": "2026-Q5"}, "period", "is not a period"),
        ({"allocated": "-1"}, "allocated", ""),
        ({"allocated": "abc"}, "allocated", ""),
        ({"partner": 999999}, "partner", ""),
        ({"period": "2026-08", "partner": "{huaxin}"}, "period", "overlaps"),
    ],
)
def test_a_bad_budget_is_a_400_on_the_field(api_client, world, payload, field, text):
    partner = world["huaxin"] if payload.get("partner") == "{huaxin}" else PartnerFactory()
    MdfBudgetFactory(partner=world["huaxin"], period="2026-Q3")
    before = snapshot()
    body = {"partner": partner.pk, "period": "2026-Q4", "allocated": "1000", **payload}
    if body["partner"] == "{huaxin}":
        body["partner"] = world["huaxin"].pk
    assert_field_error(api_client.post(BUDGETS, body, format="json"), field, text)
    assert snapshot() == before


def test_a_budget_never_moves_nor_drops_below_what_its_requests_hold(api_client, world):
    budget = world["own_budget"]
    MdfRequestFactory(
        budget=budget,
        status=MdfStatus.APPROVED,
        requested_amount=Decimal("4000.00"),
        approved_amount=Decimal("4000.00"),
    )
    before = snapshot()
    assert_field_error(api_client.patch(url(BUDGETS, budget.pk), {"allocated": "3999.99"}), "allocated", "4000.00")
    assert_field_error(api_client.patch(url(BUDGETS, budget.pk), {"period": "2020-Q1"}), "period", "cannot change")
    assert_field_error(api_client.patch(url(BUDGETS, budget.pk), {"partner": world["zeta"].pk}), "partner")
    assert snapshot() == before
    assert api_client.delete(url(BUDGETS, budget.pk)).status_code == 405


def test_budgets_are_allocated_from_the_tiers_allowance(api_client, world):
    sell(world["huaxin"], "50000.00", on=date(2025, 12, 10))
    response = api_client.post(url(BUDGETS, action="allocate"), {"period": "2026-01"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 1, "updated": 0, "kept": 0, "unchanged": 0}
    budget = api_client.get(f"{BUDGETS}?period=2026-01").json()["results"][0]
    assert (budget["partner_code"], budget["allocated"], budget["source"]) == ("HUAXIN", "1000.00", "tier")
    assert budget["basis_revenue"] == "50000.00" and budget["allowance_percent"] == "2.00"
    again = api_client.post(url(BUDGETS, action="allocate"), {"period": "2026-01"}, format="json").json()
    assert again == {"created": 0, "updated": 0, "kept": 0, "unchanged": 1}  # a rerun writes nothing
    assert MdfBudget.objects.filter(period="2026-01").count() == 1
    assert_field_error(api_client.post(url(BUDGETS, action="allocate"), {"period": "soon"}), "period")


# MDF requests -------------------------------------------------------------------------------------


def request_payload(budget, **overrides):
    start = budget.period_start.isoformat()
    payload = {
        "budget": budget.pk,
        "title": "Autumn trade fair",
        "activity_type": "trade_show",
        "plan": "A booth with two demo stations.",
        "start_date": start,
        "end_date": start,
        "requested_amount": "3000.00",
    }
    payload.update(overrides)
    return payload


def budget_figures(api, budget):
    body = api.get(url(BUDGETS, budget.pk)).json()
    figures = {
        name: Decimal(body[name]) for name in ("allocated", "pending", "reserved", "claimed", "paid", "remaining")
    }
    assert figures["allocated"] == figures["reserved"] + figures["claimed"] + figures["paid"] + figures["remaining"]
    return {name: str(value) for name, value in figures.items() if name != "allocated"}


def test_the_mdf_lifecycle_through_the_actions_with_the_money_reconciling(api_client, world):
    budget = world["own_budget"]
    created = api_client.post(REQUESTS, request_payload(budget), format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    pk = body["id"]
    assert body["status"] == "draft" and body["reference"] == f"MDF-{pk:05d}"
    assert (body["partner"], body["period"], body["committed"]) == (world["huaxin"].pk, budget.period, "0.00")
    edited = api_client.patch(url(REQUESTS, pk), {"title": "Autumn trade fair, Shanghai"}, format="json")
    assert edited.status_code == 200 and edited.json()["title"] == "Autumn trade fair, Shanghai"

    assert api_client.post(url(REQUESTS, pk, "submit")).json()["status"] == "submitted"
    assert budget_figures(api_client, budget)["pending"] == "3000.00"
    approved = api_client.post(url(REQUESTS, pk, "approve"), {"approved_amount": "2500.00", "note": "Half a booth"})
    assert approved.status_code == 200, approved.content
    assert (approved.json()["status"], approved.json()["approved_amount"]) == ("approved", "2500.00")
    assert budget_figures(api_client, budget) == {
        "pending": "0.00",
        "reserved": "2500.00",
        "claimed": "0.00",
        "paid": "0.00",
        "remaining": "7500.00",
    }

    before = snapshot()
    no_proof = api_client.post(url(REQUESTS, pk, "claim"), {"actual_amount": "2000.00"}, format="multipart")
    assert_field_error(no_proof, "files", "Attach proof of performance")
    assert snapshot() == before

    claimed = api_client.post(
        url(REQUESTS, pk, "claim"),
        {"actual_amount": "2000.00", "note": "Photos and invoice", "files": [pdf("invoice.pdf"), pdf("photos.pdf")]},
        format="multipart",
    )
    assert claimed.status_code == 200, claimed.content
    body = claimed.json()
    assert (body["status"], body["actual_amount"], body["claim_note"]) == ("claimed", "2000.00", "Photos and invoice")
    assert [proof["file_name"] for proof in body["proofs"]] == ["invoice.pdf", "photos.pdf"]
    assert budget_figures(api_client, budget)["claimed"] == "2000.00"
    assert budget_figures(api_client, budget)["remaining"] == "8000.00"  # the unspent 500.00 went back
    download = api_client.get(body["proofs"][0]["download_url"])
    assert download.status_code == 200
    assert (
        download["Content-Disposition"].startswith("attachment;") and "invoice.pdf" in download["Content-Disposition"]
    )
    assert b"".join(download.streaming_content) == PDF_BYTES

    returned = api_client.post(url(REQUESTS, pk, "return-claim"), {"reason": "The invoice is unreadable"})
    assert returned.status_code == 200 and returned.json()["status"] == "approved"
    assert returned.json()["decision_note"] == "The invoice is unreadable"
    assert budget_figures(api_client, budget)["reserved"] == "2500.00"
    again = api_client.post(url(REQUESTS, pk, "claim"), {"actual_amount": "2400.00"}, format="json")  # proof kept
    assert again.status_code == 200 and again.json()["status"] == "claimed"

    paid = api_client.post(url(REQUESTS, pk, "mark-paid"), {"payment_reference": "PAY-2026-118"}, format="json")
    assert paid.status_code == 200, paid.content
    assert (paid.json()["status"], paid.json()["payment_reference"]) == ("paid", "PAY-2026-118")
    assert budget_figures(api_client, budget) == {
        "pending": "0.00",
        "reserved": "0.00",
        "claimed": "0.00",
        "paid": "2400.00",
        "remaining": "7600.00",
    }


def approved_request(world, amount="2000.00"):
    return MdfRequestFactory(
        budget=world["own_budget"],
        status=MdfStatus.APPROVED,
        requested_amount=Decimal(amount),
        approved_amount=Decimal(amount),
    )


@pytest.mark.parametrize(
    ("status", "action", "payload", "field", "text"),
    [
        (MdfStatus.DRAFT, "approve", {}, "status", "Draft"),
        (MdfStatus.DRAFT, "claim", {"actual_amount": "1"}, "status", "cannot go from Draft"),
        (MdfStatus.SUBMITTED, "submit", {}, "status", "cannot go from Submitted"),
        (MdfStatus.SUBMITTED, "approve", {"approved_amount": "1000.01"}, "approved_amount", "at most the amount"),
        (MdfStatus.SUBMITTED, "approve", {"approved_amount": "0"}, "approved_amount", "more than zero"),
        (MdfStatus.SUBMITTED, "reject", {}, "reason", "required"),
        (MdfStatus.SUBMITTED, "mark-paid", {}, "status", "cannot go from Submitted to Paid"),
        (MdfStatus.SUBMITTED, "return-claim", {"reason": "x"}, "status", "Submitted"),
        (MdfStatus.REJECTED, "cancel", {}, "status", "cannot go from Rejected"),
    ],
)
def test_an_illegal_or_bad_move_is_a_400_that_says_why_and_changes_nothing(
    api_client, world, status, action, payload, field, text
):
    mdf_request = world["own_request"]
    MdfRequest.objects.filter(pk=mdf_request.pk).update(status=status)
    before = snapshot()
    assert_field_error(api_client.post(url(REQUESTS, mdf_request.pk, action), payload, format="json"), field, text)
    assert snapshot() == before


def test_approval_never_overspends_the_budget(api_client, world):
    MdfRequestFactory(budget=world["own_budget"], status=MdfStatus.APPROVED, approved_amount=Decimal("1000.00"),
                      requested_amount=Decimal("9500.00"))  # fmt: skip
    big = MdfRequestFactory(budget=world["own_budget"], status=MdfStatus.SUBMITTED, requested_amount=Decimal("9500"))
    response = api_client.post(url(REQUESTS, big.pk, "approve"), {}, format="json")
    assert_field_error(response, "approved_amount", "has 9000.00 left")
    partly = api_client.post(url(REQUESTS, big.pk, "approve"), {"approved_amount": "9000.00"}, format="json")
    assert partly.status_code == 200 and budget_figures(api_client, world["own_budget"])["remaining"] == "0.00"


@pytest.mark.parametrize(
    ("payload", "field", "text"),
    [
        ({"actual_amount": "2000.01", "files": "pdf"}, "actual_amount", "at most the approved amount"),
        ({"actual_amount": "0", "files": "pdf"}, "actual_amount", "more than zero"),
        ({"files": "pdf"}, "actual_amount", "required"),
        ({"actual_amount": "100", "files": "exe"}, "files", "Upload a PDF"),
        ({"actual_amount": "100", "files": "fake"}, "files", "not a PDF file"),
    ],
)
def test_a_bad_claim_is_a_400_on_the_field_and_keeps_no_file(api_client, world, payload, field, text):
    mdf_request = approved_request(world)
    files = {
        "pdf": [pdf()],
        "exe": [SimpleUploadedFile("setup.exe", b"MZ\x90\x00")],
        "fake": [SimpleUploadedFile("invoice.pdf", b"\x89PNG\r\n\x1a\n" + b"\0" * 32)],
    }[payload.pop("files")]
    before = snapshot()
    response = api_client.post(url(REQUESTS, mdf_request.pk, "claim"), {**payload, "files": files}, format="multipart")
    assert_field_error(response, field, text)
    assert snapshot() == before


def test_a_cancelled_approval_gives_the_budget_back(api_client, world):
    mdf_request = approved_request(world)
    assert budget_figures(api_client, world["own_budget"])["reserved"] == "2000.00"
    cancelled = api_client.post(url(REQUESTS, mdf_request.pk, "cancel"))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert budget_figures(api_client, world["own_budget"])["remaining"] == "10000.00"


def test_reject_needs_a_reason_the_partner_reads(api_client, world):
    mdf_request = world["own_request"]
    MdfRequest.objects.filter(pk=mdf_request.pk).update(status=MdfStatus.SUBMITTED)
    response = api_client.post(url(REQUESTS, mdf_request.pk, "reject"), {"reason": "Not in the plan"})
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    assert response.json()["decision_note"] == "Not in the plan"


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"requested_amount": "0"}, "requested_amount", "more than zero"),
        ({"requested_amount": "12.345"}, "requested_amount", ""),
        ({"activity_type": "party"}, "activity_type", ""),
        ({"start_date": "2001-01-01", "end_date": "2001-01-02"}, "start_date", "within the budget's period"),
        ({"end_date": "2001-01-01"}, "end_date", "not be before the start date"),
        ({"title": ""}, "title", ""),
        ({"budget": 999999}, "budget", ""),
    ],
)
def test_a_bad_request_is_a_400_on_the_field(api_client, world, overrides, field, text):
    before = snapshot()
    response = api_client.post(REQUESTS, {**request_payload(world["own_budget"]), **overrides}, format="json")
    assert_field_error(response, field, text)
    assert snapshot() == before


def test_only_a_draft_changes(api_client, world):
    mdf_request = world["own_request"]
    MdfRequest.objects.filter(pk=mdf_request.pk).update(status=MdfStatus.SUBMITTED)
    before = snapshot()
    response = api_client.patch(url(REQUESTS, mdf_request.pk), {"title": "Bigger booth"}, format="json")
    assert_field_error(response, "status", "Only a draft can be changed")
    assert snapshot() == before
    assert api_client.delete(url(REQUESTS, mdf_request.pk)).status_code == 405


def test_requests_filter_by_status_partner_budget_activity_and_period(api_client, world):
    MdfRequestFactory(budget=world["own_budget"], status=MdfStatus.SUBMITTED, activity_type="advertising")
    titles = lambda query: api_client.get(f"{REQUESTS}?{query}").json()["count"]  # noqa: E731
    assert titles("status=submitted") == 1
    assert titles(f"partner={world['huaxin'].pk}") == 2
    assert titles(f"budget={world['foreign_budget'].pk}") == 1
    assert titles("activity_type=advertising") == 1
    assert titles(f"period={world['own_budget'].period.lower()}") == 3
    assert titles("period=1999-Q1") == 0
    assert_field_error(api_client.get(f"{REQUESTS}?period=someday"), "period")
    assert_field_error(api_client.get(f"{REQUESTS}?status=won"), "status")


def test_a_channel_manager_decides_only_for_their_own_partners(world):
    api = as_user(world["manager"])
    own, foreign = world["own_request"], world["foreign_request"]
    MdfRequest.objects.filter(pk__in=[own.pk, foreign.pk]).update(status=MdfStatus.SUBMITTED)
    before = snapshot()
    refused = api.post(url(REQUESTS, foreign.pk, "approve"), {}, format="json")
    assert refused.status_code == 403 and "partners you own" in refused.json()["message"]
    assert api.post(url(REQUESTS, own.pk, "mark-paid"), {}, format="json").status_code == 403  # admins pay
    assert snapshot() == before
    assert api.post(url(REQUESTS, own.pk, "approve"), {}, format="json").status_code == 200


# Who sees what ------------------------------------------------------------------------------------


def test_a_partner_key_reads_only_its_own_partners_rows(world, make_key):
    api = make_key(["incentives:read"], partner=world["huaxin"])
    statements = api.get(STATEMENTS).json()
    assert [row["id"] for row in statements["results"]] == [world["own_statement"].pk] and statements["count"] == 1
    assert "approved_by" not in statements["results"][0]
    assert [row["id"] for row in api.get(BUDGETS).json()["results"]] == [world["own_budget"].pk]
    assert "note" not in api.get(BUDGETS).json()["results"][0]
    requests = api.get(REQUESTS).json()
    assert [row["id"] for row in requests["results"]] == [world["own_request"].pk]
    assert "created_by" not in requests["results"][0]
    foreign_proof = MdfProofFactory(request=world["foreign_request"])
    for path in (
        url(STATEMENTS, world["foreign_statement"].pk),
        url(BUDGETS, world["foreign_budget"].pk),
        url(REQUESTS, world["foreign_request"].pk),
        url(REQUESTS, world["foreign_request"].pk, f"proofs/{foreign_proof.pk}/download"),
        url(REQUESTS, world["own_request"].pk, f"proofs/{foreign_proof.pk}/download"),
    ):
        assert api.get(path).status_code == 404, path
    assert api.get(f"{STATEMENTS}?partner={world['zeta'].pk}").status_code == 400  # not a partner it may name
    for path in (POLICIES, OVERRIDES, url(POLICIES, world["policy"].pk), url(STATEMENTS, action="runs/1")):
        assert api.get(path).status_code == 403, path


def test_a_partner_key_drafts_submits_and_claims_its_own_requests_only(world, make_key):
    api = make_key(["incentives:write"], partner=world["huaxin"])
    created = api.post(REQUESTS, request_payload(world["own_budget"]), format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert api.post(url(REQUESTS, pk, "submit")).status_code == 200
    before = snapshot()
    for response in (
        api.post(url(REQUESTS, pk, "approve"), {}, format="json"),
        api.post(url(REQUESTS, pk, "reject"), {"reason": "x"}, format="json"),
        api.post(url(STATEMENTS, world["own_statement"].pk, "approve")),
        api.post(url(STATEMENTS, action="calculate"), {"period": "2026-03"}, format="json"),
        api.post(BUDGETS, {"partner": world["huaxin"].pk, "period": "2026-Q4", "allocated": "1"}, format="json"),
        api.post(POLICIES, CONTRACT_POLICY, format="json"),
    ):
        assert response.status_code == 403, response.content
    foreign = api.post(REQUESTS, request_payload(world["foreign_budget"]), format="json")
    assert_field_error(foreign, "budget")
    assert api.post(url(REQUESTS, world["foreign_request"].pk, "submit")).status_code == 404
    assert api.patch(url(REQUESTS, world["foreign_request"].pk), {"title": "Mine"}, format="json").status_code == 404
    assert snapshot() == before
    assert api.post(url(REQUESTS, world["own_request"].pk, "cancel")).json()["status"] == "cancelled"
    mdf_request = approved_request(world)
    claimed = api.post(
        url(REQUESTS, mdf_request.pk, "claim"), {"actual_amount": "1500", "files": [pdf()]}, format="multipart"
    )
    assert claimed.status_code == 200, claimed.content
    assert claimed.json()["status"] == "claimed" and claimed.json()["proofs"][0]["file_name"] == "invoice.pdf"
    assert api.get(claimed.json()["proofs"][0]["download_url"]).status_code == 200


@pytest.mark.parametrize("factory", [PartnerUserFactory, PartnerAdminUserFactory])
def test_partner_users_use_the_portal_not_the_api(world, factory):
    api = as_user(factory(partner=world["huaxin"]))
    for path in (POLICIES, STATEMENTS, BUDGETS, REQUESTS, url(REQUESTS, world["own_request"].pk)):
        assert api.get(path).status_code == 403, path
    before = snapshot()
    assert api.post(REQUESTS, request_payload(world["own_budget"]), format="json").status_code == 403
    assert api.post(url(REQUESTS, world["own_request"].pk, "submit")).status_code == 403
    assert snapshot() == before


def write_requests(world):
    """(method, path, payload) for every write of the incentives API."""
    policy, statement = world["policy"].pk, world["own_statement"].pk
    override = OverridePolicyFactory().pk
    budget, mdf_request = world["own_budget"].pk, world["own_request"].pk
    agreement = AgreementFactory(partner=world["huaxin"]).pk
    return [
        ("post", POLICIES, CONTRACT_POLICY),
        ("put", url(POLICIES, policy), CONTRACT_POLICY),
        ("patch", url(POLICIES, policy), {"name": "x"}),
        ("post", url(POLICIES, policy, "assign"), {"agreement": agreement}),
        ("post", url(POLICIES, policy, "unassign"), {"agreement": agreement}),
        ("post", OVERRIDES, {"name": "x", "period": "month", "rates": [{"level": 1, "rate": "1"}]}),
        ("patch", url(OVERRIDES, override), {"name": "x"}),
        ("post", url(STATEMENTS, statement, "approve"), {}),
        ("post", url(STATEMENTS, statement, "mark-paid"), {}),
        ("post", url(STATEMENTS, statement, "cancel"), {}),
        ("post", url(STATEMENTS, statement, "adjust"), {"amount": "1.00", "reason": "x"}),
        ("post", url(STATEMENTS, statement, "recalculate"), {}),
        ("post", url(STATEMENTS, action="calculate"), {"period": "2026-03"}),
        ("post", BUDGETS, {"partner": world["huaxin"].pk, "period": "2027-Q1", "allocated": "1"}),
        ("patch", url(BUDGETS, budget), {"allocated": "1"}),
        ("post", url(BUDGETS, action="allocate"), {"period": "2027-Q1"}),
        ("post", REQUESTS, request_payload(world["own_budget"])),
        ("patch", url(REQUESTS, mdf_request), {"title": "x"}),
        ("post", url(REQUESTS, mdf_request, "submit"), {}),
        ("post", url(REQUESTS, mdf_request, "approve"), {}),
        ("post", url(REQUESTS, mdf_request, "reject"), {"reason": "x"}),
        ("post", url(REQUESTS, mdf_request, "cancel"), {}),
        ("post", url(REQUESTS, mdf_request, "claim"), {"actual_amount": "1"}),
        ("post", url(REQUESTS, mdf_request, "return-claim"), {"reason": "x"}),
        ("post", url(REQUESTS, mdf_request, "mark-paid"), {}),
    ]


@pytest.mark.parametrize("who", ["read key", "partner read key", "analyst"])
def test_a_reader_gets_403_on_every_write_and_nothing_changes(world, make_key, who):
    api = {
        "read key": lambda: make_key(["incentives:read"]),
        "partner read key": lambda: make_key(["incentives:read"], partner=world["huaxin"]),
        "analyst": lambda: as_user(AnalystFactory()),
    }[who]()
    writes = write_requests(world)
    before = snapshot()
    for method, path, payload in writes:
        response = getattr(api, method)(path, payload, format="json")
        assert response.status_code == 403, (method, path, response.content)
    assert snapshot() == before
    assert not JobRun.objects.exists()


def test_keys_need_the_incentives_scope_and_a_read_key_may_preview(world, make_key):
    refused = make_key(["agreements:write"]).get(STATEMENTS)
    assert refused.status_code == 403
    assert refused.json()["message"] == "This API key does not have the scope “incentives:read”."
    reader = make_key(["incentives:read"])
    assert reader.get(STATEMENTS).json()["count"] == 2
    response = reader.post(POLICIES, CONTRACT_POLICY, format="json")
    assert response.json()["message"] == "This API key does not have the scope “incentives:write”."
    preview = reader.post(url(POLICIES, world["policy"].pk, "preview"), {"volume": "3800.00"}, format="json")
    assert preview.status_code == 200 and preview.json()["amount"] == "740.00"  # a preview writes nothing
    writer = make_key(["incentives:write"])
    created = writer.post(POLICIES, CONTRACT_POLICY, format="json")
    assert created.status_code == 201, created.content
    entry = AuditEntry.objects.get(object_type="incentives.rebatepolicy", object_id=str(created.json()["id"]))
    assert entry.actor is None and "api_key" in entry.changes


def test_errors_answer_in_the_callers_language(api_client, world):
    bad = {**CONTRACT_POLICY, "brackets": [{"threshold": "100", "rate": "10"}]}
    chinese = assert_field_error(
        api_client.post(POLICIES, bad, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans"), "brackets"
    )
    assert chinese["brackets"] == ["第 1 行：第一个门槛必须为 0。"]
    missing = assert_field_error(
        api_client.post(POLICIES, {"name": "x"}, format="json", HTTP_ACCEPT_LANGUAGE="zh-Hans"), "method"
    )
    assert missing["method"] == ["该字段是必填项。"]
    not_found = api_client.get(url(STATEMENTS, 999999), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert not_found.status_code == 404 and not_found.json()["message"] == "没有此编号的对象，或您无权查看。"
    english = api_client.post(POLICIES, bad, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["errors"]["brackets"] == ["Row 1: the first threshold must be 0."]


def test_statement_lines_explain_themselves_in_the_callers_language(api_client, world):
    path = url(STATEMENTS, world["own_statement"].pk)
    [line] = api_client.get(path, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["lines"]
    assert line["explanation"] == "Issue example：自 0 起的分段，比例 10%"
    [line] = api_client.get(path, HTTP_ACCEPT_LANGUAGE="en").json()["lines"]
    assert line["explanation"] == "Issue example: the slice from 0 at 10%"


# Query counts -------------------------------------------------------------------------------------


def build(size, world):
    """`size` more rows behind every list, each with the related rows it shows."""
    gold, lines = world["gold"], [ProductLineFactory(), ProductLineFactory()]
    for _index in range(size):
        partner = PartnerFactory(region=world["huaxin"].region, tier=gold)
        policy = RebatePolicyFactory(product_lines=lines)
        TierMultiplier.objects.create(policy=policy, tier=gold, multiplier=Decimal("1.2"))
        PolicyAssignment.objects.create(policy=policy, agreement=AgreementFactory(partner=partner))
        OverridePolicyFactory(product_lines=lines)
        statement = RebateStatementFactory(partner=partner)
        StatementLineFactory(statement=statement, rebate_policy=policy)
        StatementLineFactory(statement=statement, rebate_policy=policy, kind=LineKind.CAP, amount=Decimal("-1"))
        StatementLine.objects.create(
            statement=statement,
            kind=LineKind.OVERRIDE,
            override_policy=OverridePolicy.objects.first(),
            source_partner=world["zeta"],
            level=1,
            rate=Decimal("3"),
            amount=Decimal("3.00"),
        )
        budget = MdfBudgetFactory(partner=partner)
        approved = MdfRequestFactory(budget=budget, status=MdfStatus.APPROVED, approved_amount=Decimal("100"))
        MdfProofFactory(request=approved)
        MdfProofFactory(request=approved)


# count + page, and one query per prefetched relation
LIST_QUERIES = {POLICIES: 6, OVERRIDES: 4, STATEMENTS: 3, BUDGETS: 2, REQUESTS: 3}


@pytest.mark.parametrize("size", [2, 12])
@pytest.mark.parametrize("base", list(LIST_QUERIES))
def test_lists_issue_the_same_few_queries_for_few_and_many_rows(
    api_client, world, django_assert_max_num_queries, size, base
):
    build(size, world)
    with django_assert_max_num_queries(LIST_QUERIES[base]):
        response = api_client.get(f"{base}?page_size=500")
    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == body["count"] >= size


# Schema -------------------------------------------------------------------------------------------

PATHS = {
    "/api/v1/rebate-policies/": {"get", "post"},
    "/api/v1/rebate-policies/{id}/": {"get", "put", "patch"},
    "/api/v1/rebate-policies/{id}/preview/": {"post"},
    "/api/v1/rebate-policies/{id}/assign/": {"post"},
    "/api/v1/rebate-policies/{id}/unassign/": {"post"},
    "/api/v1/override-policies/": {"get", "post"},
    "/api/v1/override-policies/{id}/": {"get", "put", "patch"},
    "/api/v1/rebate-statements/": {"get"},
    "/api/v1/rebate-statements/{id}/": {"get"},
    "/api/v1/rebate-statements/{id}/approve/": {"post"},
    "/api/v1/rebate-statements/{id}/mark-paid/": {"post"},
    "/api/v1/rebate-statements/{id}/cancel/": {"post"},
    "/api/v1/rebate-statements/{id}/adjust/": {"post"},
    "/api/v1/rebate-statements/{id}/recalculate/": {"post"},
    "/api/v1/rebate-statements/calculate/": {"post"},
    "/api/v1/rebate-statements/runs/{id}/": {"get"},
    "/api/v1/mdf-budgets/": {"get", "post"},
    "/api/v1/mdf-budgets/{id}/": {"get", "put", "patch"},
    "/api/v1/mdf-budgets/allocate/": {"post"},
    "/api/v1/mdf-requests/": {"get", "post"},
    "/api/v1/mdf-requests/{id}/": {"get", "put", "patch"},
    "/api/v1/mdf-requests/{id}/submit/": {"post"},
    "/api/v1/mdf-requests/{id}/approve/": {"post"},
    "/api/v1/mdf-requests/{id}/reject/": {"post"},
    "/api/v1/mdf-requests/{id}/cancel/": {"post"},
    "/api/v1/mdf-requests/{id}/claim/": {"post"},
    "/api/v1/mdf-requests/{id}/return-claim/": {"post"},
    "/api/v1/mdf-requests/{id}/mark-paid/": {"post"},
    "/api/v1/mdf-requests/{id}/proofs/{proof_id}/download/": {"get"},
}


def test_the_schema_documents_every_incentives_endpoint_without_warnings():
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
            if "{id}" in path:
                assert "404" in operation["responses"], (path, method)
            if method != "get":
                assert "400" in operation["responses"], (path, method)
    assert "202" in paths["/api/v1/rebate-statements/calculate/"]["post"]["responses"]
    claim = paths["/api/v1/mdf-requests/{id}/claim/"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in claim
    components = schema["components"]["schemas"]
    assert set(components["RebatePolicyRequest"]["required"]) == {"name", "basis", "period", "method", "brackets"}
    bracket = components["RebateBracket"]["properties"]
    assert set(bracket) == {"threshold", "rate"}
    assert {"amount", "lines"} <= set(components["RebatePreview"]["properties"])
    for name, filters in {
        "/api/v1/rebate-statements/": {"period", "status", "partner", "ordering", "page"},
        "/api/v1/mdf-requests/": {"status", "partner", "budget", "activity_type", "period"},
        "/api/v1/mdf-budgets/": {"period", "partner"},
        "/api/v1/rebate-policies/": {"method", "basis", "period", "is_active"},
    }.items():
        assert filters <= {p["name"] for p in paths[name]["get"]["parameters"]}, name
