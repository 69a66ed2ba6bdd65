"""The staff pages of incentives: rebate policies (with the live preview), override policies,
rebate statements (approve, pay, cancel, adjust, export, background calculation), MDF budgets
and MDF requests (approval queue, claims review), the partner 360° section and the home panel.

Every page: 200 for staff, the sign-in page for anonymous visitors, 403 for partner users.
Analysts read everything and change nothing; a channel manager decides on the MDF of the
partners they manage only; a claim is paid by a channel admin. Every change goes through the
services: bad input shows the reason on the field (200) and changes nothing."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from openpyxl import load_workbook

from incentives import services
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
from partners.choices import RegionKind
from prm.models import AuditEntry, JobRun
from prm.roles import user_roles
from tests.factories import (
    PDF_BYTES,
    AgreementFactory,
    AnalystFactory,
    ChannelAdminFactory,
    ChannelManagerFactory,
    DistributorFactory,
    ManagerRegionFactory,
    MdfBudgetFactory,
    MdfRequestFactory,
    OverridePolicyFactory,
    PartnerFactory,
    PartnerTierFactory,
    PartnerUserFactory,
    ProductLineFactory,
    RebatePolicyFactory,
    RebateStatementFactory,
    RegionFactory,
    StatementLineFactory,
)
from tests.partners.registry import SIGN_IN_ACTIONS

from .world import PERIOD, assign, sell

pytestmark = pytest.mark.django_db

BUDGET_PERIOD = "2026-Q1"
BRACKETS = [(0, 10), (1000, 20), (3000, 30)]


def html(response):
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def as_user(client, user):
    client.force_login(user)
    return client


def snapshot():
    """Every table an incentives page could write."""
    return {
        "policies": list(RebatePolicy.objects.order_by("pk").values()),
        "brackets": sorted(RebatePolicy.objects.values_list("brackets__threshold", "brackets__rate")),
        "multipliers": list(TierMultiplier.objects.order_by("pk").values()),
        "overrides": list(OverridePolicy.objects.order_by("pk").values()),
        "assignments": list(PolicyAssignment.objects.order_by("pk").values()),
        "statements": list(RebateStatement.objects.order_by("pk").values()),
        "lines": list(StatementLine.objects.order_by("pk").values()),
        "budgets": list(MdfBudget.objects.order_by("pk").values()),
        "requests": list(MdfRequest.objects.order_by("pk").values()),
        "runs": JobRun.objects.count(),
        "history": AuditEntry.objects.exclude(action__in=SIGN_IN_ACTIONS).count(),
    }


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(db):
    """China → East → Shanghai; South → Guangdong. "mine" (Shanghai, Gold tier) is owned by the
    channel manager, "theirs" (Guangdong) by another manager.

    - a marginal monthly policy (0: 10 %, 1000: 20 %, 3000: 30 %; Gold × 1.5) on mine's agreement;
    - mine sold 3800.00 in March 2026: its calculated statement is (100 + 400 + 240) × 1.5 = 1110.00;
    - theirs has an approved statement for March 2026 (one line of 100.00);
    - mine's MDF budget for 2026-Q1 (10,000.00) with a submitted request (4,000.00), and a claimed
      one (approved 2,000.00, claimed 1,500.00, with a proof file)."""
    admin = ChannelAdminFactory(username="in-admin", display_name="Admin Ada")
    manager = ChannelManagerFactory(username="in-manager", display_name="Manager Ma")
    other_manager = ChannelManagerFactory(username="in-other", display_name="Other Ou")
    analyst = AnalystFactory(username="in-analyst")
    china = RegionFactory(code="CN", name="China", kind=RegionKind.COUNTRY)
    east = RegionFactory(code="EAST", name="East", kind=RegionKind.AREA, parent=china)
    shanghai = RegionFactory(code="SH", name="Shanghai", parent=east)
    south = RegionFactory(code="SOUTH", name="South", kind=RegionKind.AREA, parent=china)
    guangdong = RegionFactory(code="GD", name="Guangdong", parent=south)
    gold = PartnerTierFactory(name="Gold", rank=1, mdf_allowance_percent=Decimal("2.00"))
    mine = DistributorFactory(code="P-MINE", name="Mine Trading", region=shanghai, owner=manager, tier=gold)
    theirs = PartnerFactory(code="P-THEIRS", name="Theirs Trading", region=guangdong, owner=other_manager)
    policy = RebatePolicyFactory(name="Volume rebate", brackets=BRACKETS)
    TierMultiplier.objects.create(policy=policy, tier=gold, multiplier=Decimal("1.5"))
    link = assign(mine, policy, number="AG-MINE-1")
    sell(mine, "3800.00")
    statement = services.statement_calculate(partner=mine, period=PERIOD, by=admin)
    approved = RebateStatementFactory(partner=theirs, period=PERIOD, total=Decimal("100.00"))
    StatementLineFactory(statement=approved, rebate_policy=policy)
    services.statement_approve(statement=approved, by=admin)
    budget = MdfBudgetFactory(partner=mine, period=BUDGET_PERIOD, allocated=Decimal("10000.00"))
    submitted = MdfRequestFactory(
        budget=budget,
        title="Spring trade show",
        status=MdfStatus.SUBMITTED,
        requested_amount=Decimal("4000.00"),
    )
    claimed = MdfRequestFactory(
        budget=budget,
        title="Newspaper campaign",
        activity_type="advertising",
        status=MdfStatus.CLAIMED,
        requested_amount=Decimal("2500.00"),
        approved_amount=Decimal("2000.00"),
        actual_amount=Decimal("1500.00"),
    )
    proof = MdfProof.objects.create(
        request=claimed,
        file=ContentFile(PDF_BYTES, name="invoice.pdf"),
        original_name="invoice.pdf",
        content_type="application/pdf",
        size=len(PDF_BYTES),
    )
    return {
        "admin": admin,
        "manager": manager,
        "other_manager": other_manager,
        "analyst": analyst,
        "shanghai": shanghai,
        "east": east,
        "gold": gold,
        "mine": mine,
        "theirs": theirs,
        "policy": policy,
        "agreement": link.agreement,
        "statement": RebateStatement.objects.get(pk=statement.pk),
        "approved": RebateStatement.objects.get(pk=approved.pk),
        "budget": budget,
        "submitted": submitted,
        "claimed": claimed,
        "proof": proof,
        "override": OverridePolicyFactory(name="Network override"),
    }


def pages(world):
    """Every page of the section, with what it must show."""
    return [
        (reverse("incentives:statement-list"), "Rebate statements"),
        (reverse("incentives:statement-detail", args=[world["statement"].pk]), "1,110.00"),
        (reverse("incentives:statement-run"), "Calculate statements"),
        (reverse("incentives:policy-list"), "Volume rebate"),
        (reverse("incentives:policy-detail", args=[world["policy"].pk]), "AG-MINE-1"),
        (reverse("incentives:policy-create"), "New rebate policy"),
        (reverse("incentives:policy-edit", args=[world["policy"].pk]), "Live preview"),
        (reverse("incentives:override-list"), "Network override"),
        (reverse("incentives:override-create"), "New override policy"),
        (reverse("incentives:override-edit", args=[world["override"].pk]), "Network override"),
        (reverse("incentives:budget-list"), "10,000.00"),
        (reverse("incentives:budget-set"), "Set an MDF budget"),
        (reverse("incentives:budget-allocate"), "Allocate from tier allowances"),
        (reverse("incentives:mdf-request-list"), "Spring trade show"),
        (reverse("incentives:mdf-request-detail", args=[world["claimed"].pk]), "invoice.pdf"),
    ]


# Who may open what ---------------------------------------------------------------------------

WRITE_PAGES = ("/run/", "/new/", "/edit/", "/set/", "/allocate/")


@pytest.mark.parametrize("role", ["admin", "manager", "analyst"])
def test_every_page_renders_for_staff_roles(client, world, role):
    as_user(client, world[role])
    for url, text in pages(world):
        response = client.get(url)
        if role == "analyst" and any(part in url for part in WRITE_PAGES):
            assert response.status_code == 403, url
            assert "Your role can read incentives but not change them." in html(response)
            continue
        assert response.status_code == 200, url
        assert text in html(response), url


def test_anonymous_visitors_sign_in_and_partner_users_are_sent_to_their_portal(client, world):
    for url, _text in pages(world):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url
    as_user(client, PartnerUserFactory(partner=world["mine"]))
    for url, _text in pages(world):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "your partner portal is here" in html(response)


def test_the_staff_menu_leads_to_incentives(client, world):
    page = html(as_user(client, world["analyst"]).get(reverse("home")))
    assert f'href="{reverse("incentives:statement-list")}"' in page and "Incentives" in page


def test_write_buttons_show_only_to_who_may_use_them(client, world):
    statement, approved = world["statement"], world["approved"]
    statement_url = reverse("incentives:statement-detail", args=[statement.pk])
    submitted_url = reverse("incentives:mdf-request-detail", args=[world["submitted"].pk])
    claimed_url = reverse("incentives:mdf-request-detail", args=[world["claimed"].pk])

    def action(name, key):
        return f'action="{reverse(name, args=[world[key].pk])}"'

    lists = {
        reverse("incentives:policy-list"): "New rebate policy",
        reverse("incentives:statement-list"): "Calculate statements",
        reverse("incentives:budget-list"): "Set a budget",
        reverse("incentives:override-list"): "New override policy",
    }
    as_user(client, world["analyst"])
    for url, label in lists.items():
        page = html(client.get(url))
        assert label not in page and "Allocate from tier allowances" not in page, url
    page = html(client.get(statement_url))
    assert "Lines as CSV" in page and 'data-testid="total"' in page
    assert 'action="/incentives/statements/' not in page and "Add an adjustment" not in page
    for url in (submitted_url, claimed_url):
        assert 'data-testid="actions"' not in html(client.get(url))
    assert "Apply this policy to an agreement" not in html(
        client.get(reverse("incentives:policy-detail", args=[world["policy"].pk]))
    )

    as_user(client, world["manager"])
    for url, label in lists.items():
        assert label in html(client.get(url)), url
    page = html(client.get(statement_url))
    assert action("incentives:statement-approve", "statement") in page
    assert action("incentives:statement-cancel", "statement") in page
    assert action("incentives:statement-adjust", "statement") in page
    assert action("incentives:statement-pay", "statement") not in page  # approved first
    page = html(client.get(submitted_url))
    assert action("incentives:mdf-request-approve", "submitted") in page
    assert action("incentives:mdf-request-reject", "submitted") in page
    page = html(client.get(claimed_url))
    assert action("incentives:mdf-claim-return", "claimed") in page
    assert action("incentives:mdf-request-pay", "claimed") not in page  # a channel admin pays

    as_user(client, world["other_manager"])  # not their partner: no MDF decisions
    for url in (submitted_url, claimed_url):
        assert 'data-testid="actions"' not in html(client.get(url))

    as_user(client, world["admin"])
    assert action("incentives:mdf-request-pay", "claimed") in html(client.get(claimed_url))
    page = html(client.get(reverse("incentives:statement-detail", args=[approved.pk])))
    assert action("incentives:statement-pay", "approved") in page
    assert action("incentives:statement-approve", "approved") not in page
    assert "Add an adjustment" not in page and "never changes" in page


POST_ROUTES = [
    ("incentives:policy-create", None, {}),
    ("incentives:policy-edit", "policy", {}),
    ("incentives:policy-assign", "policy", {"agreement": "AG-MINE-1"}),
    ("incentives:policy-unassign", "policy", {}),
    ("incentives:override-create", None, {}),
    ("incentives:override-edit", "override", {}),
    ("incentives:statement-run", None, {"period": PERIOD}),
    ("incentives:statement-approve", "statement", {}),
    ("incentives:statement-pay", "approved", {}),
    ("incentives:statement-cancel", "statement", {}),
    ("incentives:statement-adjust", "statement", {"amount": "10.00", "reason": "Late sale"}),
    ("incentives:budget-set", None, {"partner": "P-MINE", "period": "2026-Q2", "allocated": "1.00"}),
    ("incentives:budget-allocate", None, {"period": "2026-Q2"}),
    ("incentives:mdf-request-approve", "submitted", {}),
    ("incentives:mdf-request-reject", "submitted", {"reject-reason": "No"}),
    ("incentives:mdf-claim-return", "claimed", {"return-reason": "No"}),
    ("incentives:mdf-request-pay", "claimed", {"payment_reference": "X"}),
]


def test_analysts_change_nothing(client, world):
    as_user(client, world["analyst"])
    before = snapshot()
    for name, key, data in POST_ROUTES:
        if name == "incentives:policy-unassign":
            data = {"agreement": world["agreement"].pk}
        url = reverse(name, args=[world[key].pk]) if key else reverse(name)
        response = client.post(url, data)
        assert response.status_code == 403, name
    assert snapshot() == before


def test_a_manager_decides_only_on_the_mdf_of_partners_they_manage(client, world):
    as_user(client, world["other_manager"])
    before = snapshot()
    for name, key, data in POST_ROUTES:
        if name.startswith("incentives:mdf-"):
            response = client.post(reverse(name, args=[world[key].pk]), data)
            assert response.status_code == 403, name
    response = client.post(
        reverse("incentives:budget-set"), {"partner": "P-MINE", "period": "2026-Q2", "allocated": "1.00"}
    )
    assert response.status_code == 200
    assert "You can set the MDF budgets only of partners you own or that are in your regions." in html(response)
    assert snapshot() == before


# Rebate policies -----------------------------------------------------------------------------


def policy_form(name="Quarterly growth", brackets=BRACKETS, **fields):
    data = {
        "name": name,
        "method": "marginal",
        "basis": "revenue",
        "period": "quarter",
        "cap": "",
        "valid_from": "",
        "valid_to": "",
        "is_active": "on",
        "brackets-TOTAL_FORMS": str(len(brackets) + 1),
        "brackets-INITIAL_FORMS": "0",
        "brackets-MIN_NUM_FORMS": "0",
        "brackets-MAX_NUM_FORMS": "1000",
        # The live preview's boxes come with the form; saving ignores them.
        "preview-volume": "3800",
        "preview-partner": "",
        "preview-value": "",
    }
    for index, (threshold, rate) in enumerate(brackets):
        data[f"brackets-{index}-threshold"] = str(threshold)
        data[f"brackets-{index}-rate"] = str(rate)
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def test_the_policy_list_shows_brackets_agreements_and_filters(client, world):
    RebatePolicyFactory(
        name="Old units rebate", basis="units", method="retroactive", is_active=False, brackets=[(0, 1)]
    )
    as_user(client, world["analyst"])
    response = client.get(reverse("incentives:policy-list"))
    page = html(response)
    assert "≥ 0: 10%" in page and "≥ 1,000: 20%" in page and "≥ 3,000: 30%" in page
    row = next(policy for policy in response.context["object_list"] if policy.name == "Volume rebate")
    assert row.agreement_count == 1
    for query, names in [
        ("method=retroactive", ["Old units rebate"]),
        ("basis=revenue", ["Volume rebate"]),
        ("is_active=false", ["Old units rebate"]),
        ("period=month", ["Old units rebate", "Volume rebate"]),
        ("period=year", []),
    ]:
        response = client.get(f"{reverse('incentives:policy-list')}?{query}")
        assert sorted(p.name for p in response.context["object_list"]) == names, query


def test_a_policy_page_shows_its_terms_agreements_and_history(client, world):
    policy = world["policy"]
    services.policy_update(policy=policy, by=world["admin"], cap="5000.00")
    page = html(as_user(client, world["analyst"]).get(reverse("incentives:policy-detail", args=[policy.pk])))
    assert "Gold × 1.5" in page and "CNY 5,000.00" in page and "Every product line" in page
    assert "AG-MINE-1" in page and "Mine Trading" in page
    assert "Cap per period: — → 5000.00" in page  # the history


def test_a_manager_creates_a_policy_with_brackets_tiers_and_product_lines(client, world):
    line = ProductLineFactory(code="SENS", name="Sensors")
    as_user(client, world["manager"])
    response = client.post(
        reverse("incentives:policy-create"),
        policy_form(cap="9000", **{f"tier_{world['gold'].pk}": "1.2", "product_lines": [line.pk]}),
    )
    policy = RebatePolicy.objects.get(name="Quarterly growth")
    assert response.status_code == 302 and response["Location"] == reverse("incentives:policy-detail", args=[policy.pk])
    assert [(b.threshold, b.rate) for b in policy.brackets.all()] == [(0, 10), (1000, 20), (3000, 30)]
    assert (
        policy.cap == Decimal("9000.00") and policy.period == "quarter" and list(policy.product_lines.all()) == [line]
    )
    assert [(m.tier, m.multiplier) for m in policy.tier_multipliers.all()] == [(world["gold"], Decimal("1.2"))]
    assert "Rebate policy Quarterly growth created." in messages_of(client.get(response["Location"]))


@pytest.mark.parametrize(
    ("brackets", "fields", "message"),
    [
        ([(5, 10), (1000, 20)], {}, "Row 1: the first threshold must be 0."),
        ([(0, 10), (1000, 20), (1000, 30)], {}, "Row 3: the threshold 1000 repeats row 2."),
        ([(0, 10), (3000, 20), (1000, 30)], {}, "Row 3: the threshold 1000 must be above the previous row's (3000)."),
        ([(0, 10), (1000, -5)], {}, "Ensure this value is greater than or equal to 0."),
        ([(0, 10), (1000, 120)], {}, "Ensure this value is less than or equal to 100."),
        ([(0, "ten")], {}, "Enter a number."),
        ([(0, 10), (1000, "")], {}, "Enter the rate of this bracket."),
        ([], {}, "Give at least one bracket, starting at threshold 0."),
        (BRACKETS, {"valid_from": "2026-12-31", "valid_to": "2026-01-01"}, "The end of validity must not be before"),
        (BRACKETS, {"name": ""}, "This field is required."),
        (BRACKETS, {"cap": "-1"}, "Ensure this value is greater than or equal to 0."),
    ],
)
def test_bad_policy_input_is_shown_on_the_form_and_nothing_is_saved(client, world, brackets, fields, message):
    as_user(client, world["admin"])
    before = snapshot()
    response = client.post(reverse("incentives:policy-create"), policy_form(brackets=brackets, **fields))
    assert response.status_code == 200
    assert message in html(response)
    assert snapshot() == before


def test_editing_a_policy_replaces_its_brackets_and_multipliers(client, world):
    policy = world["policy"]
    as_user(client, world["manager"])
    page = html(client.get(reverse("incentives:policy-edit", args=[policy.pk])))
    assert 'name="brackets-2-threshold"' in page and 'value="3000"' in page and 'value="1.5"' in page
    data = policy_form(name="Volume rebate", brackets=[(0, 5), (2000, 15)], method="retroactive", period="month")
    response = client.post(reverse("incentives:policy-edit", args=[policy.pk]), data)
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.method == "retroactive"
    assert [(b.threshold, b.rate) for b in policy.brackets.all()] == [(0, 5), (2000, 15)]
    assert not policy.tier_multipliers.exists()  # the Gold box was left empty: × 1


def test_a_bracket_row_marked_for_removal_is_left_out(client, world):
    as_user(client, world["admin"])
    data = policy_form(brackets=[(0, 10), (1000, 20), (3000, 30)], **{"brackets-2-DELETE": "on"})
    client.post(reverse("incentives:policy-create"), data)
    policy = RebatePolicy.objects.get(name="Quarterly growth")
    assert [b.threshold for b in policy.brackets.all()] == [0, 1000]


def test_assigning_and_unassigning_a_policy_to_agreements(client, world):
    policy = world["policy"]
    other = AgreementFactory(partner=world["theirs"], number="AG-THEIRS-9")
    url = reverse("incentives:policy-detail", args=[policy.pk])
    as_user(client, world["manager"])
    assert "AG-THEIRS-9" in html(client.get(url))  # offered in the suggestions
    response = client.post(reverse("incentives:policy-assign", args=[policy.pk]), {"agreement": "ag-theirs-9"})
    assert response.status_code == 302
    assert PolicyAssignment.objects.filter(policy=policy, agreement=other).exists()
    assert "Volume rebate now applies to AG-THEIRS-9." in messages_of(client.get(url))

    before = snapshot()
    response = client.post(reverse("incentives:policy-assign", args=[policy.pk]), {"agreement": "AG-NOPE"})
    assert response.status_code == 200 and "No agreement has the number “AG-NOPE”." in html(response)
    assert snapshot() == before

    response = client.post(reverse("incentives:policy-unassign", args=[policy.pk]), {"agreement": other.pk})
    assert response.status_code == 302
    assert not PolicyAssignment.objects.filter(policy=policy, agreement=other).exists()
    assert client.post(reverse("incentives:policy-unassign", args=[policy.pk]), {"agreement": "x"}).status_code == 404


# The live preview ----------------------------------------------------------------------------

PREVIEW = reverse("incentives:policy-preview")


def preview(client, **fields):
    return client.post(PREVIEW, policy_form(**fields))


@pytest.mark.parametrize(
    ("method", "amount", "lines"),
    [
        (
            "marginal",
            "740.00",
            [("0", "10", "1000", "100.00"), ("1000", "20", "2000", "400.00"), ("3000", "30", "800", "240.00")],
        ),
        ("retroactive", "1140.00", [("3000", "30", "3800", "1140.00")]),
    ],
)
def test_the_preview_answers_the_amount_and_its_lines(client, world, method, amount, lines):
    response = preview(as_user(client, world["manager"]), method=method, **{"preview-volume": "3800"})
    assert response.status_code == 200
    answer = response.json()
    assert answer["amount"] == amount and answer["amount_display"] == f"CNY {Decimal(amount):,.2f}"
    assert [(line["threshold"], line["rate"], line["volume"], line["amount"]) for line in answer["lines"]] == lines
    assert {line["kind"] for line in answer["lines"]} == {"rebate"}
    assert "no tier multiplier and no cap" in answer["note"]


def test_the_preview_with_a_partner_applies_its_tier_multiplier_and_the_cap(client, world):
    as_user(client, world["manager"])
    gold = f"tier_{world['gold'].pk}"
    answer = preview(client, **{"preview-volume": "3800", "preview-partner": "p-mine", gold: "2"}).json()
    assert answer["amount"] == "1480.00" and answer["multiplier"] == "2"
    assert "Mine Trading (Gold)" in answer["note"]
    answer = preview(client, cap="1000", **{"preview-volume": "3800", "preview-partner": "P-MINE", gold: "2"}).json()
    assert answer["amount"] == "1000.00"
    assert answer["lines"][-1]["kind"] == "cap" and answer["lines"][-1]["amount"] == "-480.00"
    assert sum(Decimal(line["amount"]) for line in answer["lines"]) == Decimal("1000.00")
    # Without a partner the cap does not apply (as in the API's preview of a saved policy).
    assert preview(client, cap="1000", **{"preview-volume": "3800"}).json()["amount"] == "740.00"


def test_a_units_basis_takes_the_revenue_of_those_units(client, world):
    answer = preview(
        as_user(client, world["analyst"]),
        basis="units",
        method="retroactive",
        brackets=[(0, 1), (100, 5)],
        **{"preview-volume": "150", "preview-value": "30000"},
    ).json()
    assert answer["amount"] == "1500.00" and answer["lines"][0]["base"] == "30000.00"


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"brackets": [(5, 10), (1000, -1)]},
            {
                "brackets": [
                    "Row 1: the first threshold must be 0.",
                    "Row 2: the rate must be between 0 and 100 (percent).",
                ]
            },
        ),
        ({"brackets": [(0, 10), (0, 20)]}, {"brackets": ["Row 2: the threshold 0 repeats row 1."]}),
        (
            {"brackets": [(0, "abc")]},
            {"brackets": ["Row 1: the rate “abc” is not a number with at most 4 decimal places."]},
        ),
        ({"brackets": []}, {"brackets": ["Give at least one bracket, starting at threshold 0."]}),
        ({"preview-volume": "lots"}, {"volume": ["Enter an amount."]}),
        ({"preview-volume": "-5"}, {"volume": ["Must not be negative."]}),
        ({"preview-volume": "1e40"}, {"volume": ["The amount is too large."]}),
        ({"method": "flat"}, {"method": ["Choose retroactive or marginal."]}),
        ({"preview-partner": "P-MINE", "tier_GOLD": "11"}, {"multiplier": ["Must be at most 10."]}),
        ({"preview-partner": "NOBODY"}, {"partner": ["No partner has the code “NOBODY”."]}),
    ],
)
def test_bad_preview_input_answers_400_with_the_fields_and_reasons(client, world, fields, errors):
    fields = {key.replace("GOLD", str(world["gold"].pk)): value for key, value in fields.items()}
    response = preview(as_user(client, world["manager"]), **{"preview-volume": "3800", **fields})
    assert response.status_code == 400
    assert response.json() == {"errors": errors}


def test_the_preview_is_for_staff_by_post(client, world):
    assert client.post(PREVIEW, policy_form())["Location"].startswith("/login/")
    as_user(client, world["analyst"])
    assert client.get(PREVIEW).status_code == 405
    as_user(client, PartnerUserFactory(partner=world["mine"]))
    assert client.post(PREVIEW, policy_form()).status_code == 403


def test_the_policy_page_previews_the_saved_policy(client, world):
    page = html(as_user(client, world["analyst"]).get(reverse("incentives:policy-detail", args=[world["policy"].pk])))
    assert 'id="preview"' in page and 'name="brackets-2-threshold" value="3000.000"' in page
    assert f'name="tier_{world["gold"].pk}" value="1.500"' in page


# Override policies ---------------------------------------------------------------------------


def override_form(name="Two-level override", rates=((1, "3"), (2, "1")), **fields):
    data = {
        "name": name,
        "period": "month",
        "valid_from": "",
        "valid_to": "",
        "is_active": "on",
        "rates-TOTAL_FORMS": str(len(rates) + 1),
        "rates-INITIAL_FORMS": "0",
        "rates-MIN_NUM_FORMS": "0",
        "rates-MAX_NUM_FORMS": "1000",
    }
    for index, (level, rate) in enumerate(rates):
        data[f"rates-{index}-level"] = str(level)
        data[f"rates-{index}-rate"] = str(rate)
    data.update(fields)
    return data


def test_override_policies_are_created_listed_and_edited(client, world):
    as_user(client, world["manager"])
    response = client.post(reverse("incentives:override-create"), override_form())
    assert response.status_code == 302 and response["Location"] == reverse("incentives:override-list")
    policy = OverridePolicy.objects.get(name="Two-level override")
    assert {rate.level: rate.rate for rate in policy.rates.all()} == {1: Decimal("3"), 2: Decimal("1")}
    page = html(client.get(reverse("incentives:override-list")))
    assert "Override policy Two-level override created." in page and "level 1: 3%" in page

    edit = reverse("incentives:override-edit", args=[policy.pk])
    assert 'name="rates-1-rate" value="1"' in html(client.get(edit))
    response = client.post(edit, override_form(name="Parent only", rates=[(1, "2.5")]))
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.name == "Parent only" and [(r.level, r.rate) for r in policy.rates.all()] == [(1, Decimal("2.5"))]


@pytest.mark.parametrize(
    ("rates", "message"),
    [
        ([(1, "3"), (1, "2")], "Level 1 is listed twice; give each level one rate."),
        ([(0, "3")], "Ensure this value is greater than or equal to 1."),
        ([(1, "101")], "Ensure this value is less than or equal to 100."),
        ([(1, "")], "Enter the rate for this level."),
        ([], "Give a rate for at least one level."),
    ],
)
def test_bad_override_rates_are_shown_and_nothing_is_saved(client, world, rates, message):
    as_user(client, world["admin"])
    before = snapshot()
    response = client.post(reverse("incentives:override-create"), override_form(rates=rates))
    assert response.status_code == 200 and message in html(response)
    assert snapshot() == before


# Rebate statements ---------------------------------------------------------------------------


def csv_rows(response):
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def xlsx_rows(response):
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.content)).active
    header, *rows = list(sheet.values)
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_the_statement_list_filters_totals_and_exports(client, world):
    as_user(client, world["analyst"])
    url = reverse("incentives:statement-list")
    response = client.get(url)
    assert [s.partner.code for s in response.context["object_list"]] == ["P-MINE", "P-THEIRS"]
    assert "2 statements · <strong>CNY 1,210.00</strong>" in html(response)
    for query, codes in [
        ("status=approved", ["P-THEIRS"]),
        (f"partner={world['mine'].pk}", ["P-MINE"]),
        ("partner_q=theirs", ["P-THEIRS"]),
        (f"tier={world['gold'].pk}", ["P-MINE"]),
        ("period=2026-03", ["P-MINE", "P-THEIRS"]),
        ("period=2026-04", []),
    ]:
        response = client.get(f"{url}?{query}")
        assert [s.partner.code for s in response.context["object_list"]] == codes, query
    response = client.get(f"{url}?period=March")
    assert "is not a period" in html(response) and not response.context["object_list"]

    rows = csv_rows(client.get(f"{url}?status=calculated&export=csv"))
    assert rows == [
        {
            "Partner code": "P-MINE",
            "Partner": "Mine Trading",
            "Tier": "Gold",
            "Period": PERIOD,
            "Status": "Calculated",
            "Total": "1110.00",
            "Currency": "CNY",
            "Calculated at": rows[0]["Calculated at"],
            "Approved at": "",
            "Approved by": "",
            "Paid at": "",
        }
    ]
    rows = xlsx_rows(client.get(f"{url}?export=xlsx"))
    assert [(row["Partner code"], row["Status"], row["Total"]) for row in rows] == [
        ("P-MINE", "Calculated", 1110),
        ("P-THEIRS", "Approved", 100),
    ]
    assert rows[1]["Approved by"] == "Admin Ada"


def test_a_statement_page_explains_each_amount_and_totals_its_lines(client, world):
    statement = world["statement"]
    services.statement_add_adjustment(statement=statement, amount="-10.00", reason="Returned goods", by=world["admin"])
    as_user(client, world["analyst"])
    response = client.get(reverse("incentives:statement-detail", args=[statement.pk]))
    lines = response.context["lines"]
    assert [line.amount for line in lines] == [
        Decimal("150.00"),
        Decimal("600.00"),
        Decimal("360.00"),
        Decimal("-10.00"),
    ]
    assert response.context["lines_total"] == Decimal("1100.00")
    page = html(response)
    assert "Volume rebate: the slice from 1,000 at 20%" in page and "Returned goods" in page
    assert page.count("× 1.5") == 3
    assert '<td class="text-end text-nowrap" data-testid="total">CNY 1,100.00</td>' in page
    assert "differs from the sum of the lines" not in page


def test_the_lines_of_a_statement_export_as_csv_and_excel(client, world):
    statement = world["statement"]
    url = reverse("incentives:statement-detail", args=[statement.pk])
    as_user(client, world["analyst"])
    rows = csv_rows(client.get(f"{url}?export=csv"))
    assert [
        (row["Bracket from"], row["Base amount"], row["Rate %"], row["Multiplier"], row["Amount"]) for row in rows
    ] == [
        ("0.000", "1000.000000", "10.0000", "1.500", "150.00"),
        ("1000.000", "2000.000000", "20.0000", "1.500", "600.00"),
        ("3000.000", "800.000000", "30.0000", "1.500", "360.00"),
    ]
    assert {row["Policy"] for row in rows} == {"Volume rebate"} and rows[0]["Line type"] == "Rebate"
    response = client.get(f"{url}?export=xlsx")
    assert f"rebate-statement-P-MINE-{PERIOD}" in response["Content-Disposition"]
    rows = xlsx_rows(response)
    assert sum(row["Amount"] for row in rows) == Decimal("1110.00")
    assert rows[1]["Explanation"].startswith("Volume rebate: the slice from 1,000 at 20%")


def test_a_statement_is_approved_paid_or_cancelled_through_its_service(client, world):
    statement = world["statement"]
    detail = reverse("incentives:statement-detail", args=[statement.pk])
    as_user(client, world["manager"])
    response = client.post(reverse("incentives:statement-approve", args=[statement.pk]), follow=True)
    statement.refresh_from_db()
    assert statement.status == StatementStatus.APPROVED and statement.approved_by == world["manager"]
    assert f"The statement {statement} is approved; it no longer changes." in messages_of(response)

    before = snapshot()
    response = client.post(reverse("incentives:statement-approve", args=[statement.pk]), follow=True)
    assert "Not approved: A rebate statement cannot go from Approved to Approved." in messages_of(response)
    response = client.post(
        reverse("incentives:statement-adjust", args=[statement.pk]), {"amount": "5.00", "reason": "Late"}
    )
    assert response.status_code == 200
    assert "Adjustments go only on a calculated statement; this one is Approved." in html(response)
    assert snapshot() == before

    client.post(reverse("incentives:statement-pay", args=[statement.pk]))
    statement.refresh_from_db()
    assert statement.status == StatementStatus.PAID and statement.paid_at is not None
    response = client.post(reverse("incentives:statement-cancel", args=[statement.pk]), follow=True)
    assert "Not cancelled: A rebate statement cannot go from Paid to Cancelled." in messages_of(response)
    assert response.redirect_chain[-1][0] == detail

    other = world["approved"]
    client.post(reverse("incentives:statement-cancel", args=[other.pk]))
    other.refresh_from_db()
    assert other.status == StatementStatus.CANCELLED


def test_an_adjustment_is_added_with_its_reason(client, world):
    statement = world["statement"]
    as_user(client, world["manager"])
    response = client.post(
        reverse("incentives:statement-adjust", args=[statement.pk]), {"amount": "-25.50", "reason": "Credit note 7"}
    )
    assert response.status_code == 302
    statement.refresh_from_db()
    line = statement.lines.get(kind=LineKind.ADJUSTMENT)
    assert (line.amount, line.description, line.created_by) == (Decimal("-25.50"), "Credit note 7", world["manager"])
    assert statement.total == Decimal("1084.50")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "10.00", "reason": ""}, "Say why the statement is adjusted."),
        ({"amount": "10.001", "reason": "x"}, "Ensure that there are no more than 2 decimal places."),
        ({"amount": "ten", "reason": "x"}, "Enter a number."),
        ({"amount": "", "reason": "x"}, "This field is required."),
    ],
)
def test_a_bad_adjustment_is_shown_on_its_form_and_nothing_changes(client, world, data, message):
    statement = world["statement"]
    as_user(client, world["admin"])
    before = snapshot()
    response = client.post(reverse("incentives:statement-adjust", args=[statement.pk]), data)
    assert response.status_code == 200 and message in html(response)
    assert response.context["adjust_form"].errors
    assert snapshot() == before


def test_calculating_statements_runs_in_the_background_with_its_progress_on_the_list(
    client, world, django_capture_on_commit_callbacks
):
    from incentives.tasks import rebate_statements_run

    sell(world["theirs"], "500.00", on=date(2026, 4, 10))
    as_user(client, world["manager"])
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("incentives:statement-run"), {"period": "2026-04", "partner": ""})
    run = JobRun.objects.get(job="incentives.rebate_statements_run")
    assert run.params == {"period": "2026-04", "partner": None} and run.started_by == world["manager"]
    assert len(callbacks) == 1  # the task is sent once the run is committed
    assert response["Location"] == f"{reverse('incentives:statement-list')}?run={run.pk}&period=2026-04"
    page = html(client.get(response["Location"]))
    assert f'data-status-url="{reverse("job-run-status", args=[run.pk])}"' in page
    assert 'data-done-url="/incentives/?period=2026-04"' in page and "Queued" in page

    rebate_statements_run(run.pk)  # what the worker does
    run.refresh_from_db()
    assert run.status == JobRun.Status.SUCCEEDED
    assert 'data-finished="1"' in html(client.get(response["Location"]))

    response = client.post(reverse("incentives:statement-run"), {"period": PERIOD, "partner": "p-mine"})
    run = JobRun.objects.latest("pk")
    assert run.params == {"period": PERIOD, "partner": world["mine"].pk}
    assert f"partner={world['mine'].pk}" in response["Location"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"period": "March", "partner": ""}, "is not a period"),
        ({"period": "", "partner": ""}, "This field is required."),
        ({"period": PERIOD, "partner": "NOBODY"}, "No partner has the code “NOBODY”."),
    ],
)
def test_a_bad_calculation_request_is_shown_on_its_form(client, world, data, message):
    as_user(client, world["admin"])
    response = client.post(reverse("incentives:statement-run"), data)
    assert response.status_code == 200 and message in html(response)
    assert not JobRun.objects.exists()


def test_a_run_of_another_job_is_not_shown_as_a_statement_run(client, world):
    other = JobRun.objects.create(job="training.something", status="running")
    response = as_user(client, world["admin"]).get(f"{reverse('incentives:statement-list')}?run={other.pk}")
    assert response.context["run"] is None
    assert client.get(f"{reverse('incentives:statement-list')}?run=abc").status_code == 200


# MDF budgets ---------------------------------------------------------------------------------


def test_the_budget_list_shows_each_budgets_figures_with_a_totals_row(client, world):
    MdfBudgetFactory(partner=world["theirs"], period=BUDGET_PERIOD, allocated=Decimal("3000.00"))
    as_user(client, world["analyst"])
    url = reverse("incentives:budget-list")
    response = client.get(url)
    mine = next(b for b in response.context["object_list"] if b.partner == world["mine"])
    assert (mine.allocated, mine.pending, mine.reserved, mine.claimed, mine.paid, mine.remaining) == (
        Decimal("10000.00"),
        Decimal("4000.00"),
        Decimal("0.00"),
        Decimal("1500.00"),
        Decimal("0.00"),
        Decimal("8500.00"),
    )
    totals = response.context["totals"]
    assert (totals["count"], totals["allocated"], totals["claimed"], totals["remaining"]) == (
        2,
        Decimal("13000.00"),
        Decimal("1500.00"),
        Decimal("11500.00"),
    )
    assert "Total of 2 budgets" in html(response) and "CNY 11,500.00" in html(response)
    for query, codes in [
        (f"region={world['east'].pk}", ["P-MINE"]),
        ("partner_q=theirs", ["P-THEIRS"]),
        ("period=2026-q1", ["P-MINE", "P-THEIRS"]),
        ("source=tier", []),
    ]:
        response = client.get(f"{url}?{query}")
        assert sorted(b.partner.code for b in response.context["object_list"]) == codes, query
    assert client.get(f"{url}?region={world['east'].pk}").context["totals"]["allocated"] == Decimal("10000.00")


def test_budgets_export_as_csv_and_excel(client, world):
    as_user(client, world["analyst"])
    url = reverse("incentives:budget-list")
    [row] = csv_rows(client.get(f"{url}?export=csv"))
    assert (row["Partner code"], row["Region"], row["Period"], row["Allocated"], row["Claimed"], row["Remaining"]) == (
        "P-MINE",
        "Shanghai",
        BUDGET_PERIOD,
        "10000.00",
        "1500.00",
        "8500.00",
    )
    [row] = xlsx_rows(client.get(f"{url}?export=xlsx"))
    assert (row["Pending requests"], row["Remaining"], row["Set by"]) == (4000, 8500, "Set by hand")


def test_a_manager_sets_and_changes_a_budget_of_their_partner(client, world):
    as_user(client, world["manager"])
    url = reverse("incentives:budget-set")
    response = client.post(url, {"partner": "p-mine", "period": "2026-q2", "allocated": "5000", "note": "Launch"})
    budget = MdfBudget.objects.get(partner=world["mine"], period="2026-Q2")
    assert (budget.allocated, budget.note, budget.source) == (Decimal("5000.00"), "Launch", "manual")
    assert response["Location"] == f"{reverse('incentives:budget-list')}?partner={world['mine'].pk}&period=2026-Q2"

    page = html(client.get(f"{url}?partner={world['mine'].pk}&period={BUDGET_PERIOD}"))
    assert 'value="P-MINE"' in page and 'value="10000.00"' in page
    client.post(url, {"partner": "P-MINE", "period": BUDGET_PERIOD, "allocated": "12000.00", "note": ""})
    world["budget"].refresh_from_db()
    assert world["budget"].allocated == Decimal("12000.00")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"allocated": "1000.00"}, "allocated", "Requests already hold 1500.00 of this budget; it cannot be less."),
        ({"allocated": "-1"}, "allocated", "Ensure this value is greater than or equal to 0."),
        ({"allocated": "1.005"}, "allocated", "Ensure that there are no more than 2 decimal places."),
        ({"period": "2026-02"}, "period", "already has a budget for 2026-Q1, which overlaps it."),
        ({"period": "Q1"}, "period", "is not a period"),
        ({"partner": "NOBODY"}, "partner", "No partner has the code “NOBODY”."),
        ({"partner": "P-THEIRS"}, "partner", "You can set the MDF budgets only of partners you own"),
    ],
)
def test_a_bad_budget_is_shown_on_its_field_and_nothing_changes(client, world, data, field, message):
    as_user(client, world["manager"])
    before = snapshot()
    form = {"partner": "P-MINE", "period": BUDGET_PERIOD, "allocated": "10000.00", "note": "", **data}
    response = client.post(reverse("incentives:budget-set"), form)
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert message in html(response)
    assert snapshot() == before


def test_budgets_are_allocated_from_the_tier_allowances_with_the_counts_shown(client, world):
    as_user(client, world["manager"])
    response = client.post(reverse("incentives:budget-allocate"), {"period": "2026-04"}, follow=True)
    budget = MdfBudget.objects.get(period="2026-04")
    # 2 % of what Mine Trading sold in March; Theirs Trading has no tier.
    assert (budget.partner, budget.allocated, budget.source) == (world["mine"], Decimal("76.00"), "tier")
    assert (
        "Budgets for 2026-04 from the tier allowances: 1 created, 0 updated, 0 kept (set by hand or overlapping "
        "another budget)." in messages_of(response)
    )
    assert [b.pk for b in response.context["object_list"]] == [budget.pk]  # the list shows that period

    response = client.post(reverse("incentives:budget-allocate"), {"period": "2026-13"})
    assert response.status_code == 200 and "is not a period" in html(response)


# MDF requests --------------------------------------------------------------------------------


def test_the_request_list_has_the_approval_queue_and_the_claims_to_review(client, world):
    draft = MdfRequestFactory(budget=world["budget"], title="Draft idea")
    as_user(client, world["analyst"])
    url = reverse("incentives:mdf-request-list")
    titles = lambda response: sorted(r.title for r in response.context["object_list"])  # noqa: E731
    assert titles(client.get(url)) == ["Draft idea", "Newspaper campaign", "Spring trade show"]
    response = client.get(f"{url}?status=submitted&sort=submitted")
    assert titles(response) == ["Spring trade show"] and '<h1 class="h3 mb-0">Approval queue</h1>' in html(response)
    response = client.get(f"{url}?status=claimed&sort=claimed")
    assert titles(response) == ["Newspaper campaign"] and "Claims to review" in html(response)
    for query, expected in [
        ("activity_type=advertising", ["Newspaper campaign"]),
        (f"partner={world['mine'].pk}&status=draft", [draft.title]),
        ("period=2026-Q2", []),
        (f"period={BUDGET_PERIOD}&partner_q=mine", ["Draft idea", "Newspaper campaign", "Spring trade show"]),
    ]:
        assert titles(client.get(f"{url}?{query}")) == expected, query
    rows = csv_rows(client.get(f"{url}?status=claimed&export=csv"))
    assert [(r["Reference"], r["Approved amount"], r["Actual amount"], r["Status"]) for r in rows] == [
        (world["claimed"].reference, "2000.00", "1500.00", "Claimed")
    ]
    [row] = xlsx_rows(client.get(f"{url}?status=submitted&export=xlsx"))
    assert (row["Title"], row["Requested amount"], row["Activity type"]) == ("Spring trade show", 4000, "Trade show")


def test_a_request_page_shows_its_plan_budget_figures_proofs_and_history(client, world):
    claimed = world["claimed"]
    as_user(client, world["analyst"])
    response = client.get(reverse("incentives:mdf-request-detail", args=[claimed.pk]))
    page = html(response)
    assert claimed.reference in page and "A booth at the regional trade fair" in page
    assert response.context["figures"]["remaining"] == Decimal("8500.00")
    assert "CNY 8,500.00" in page and "CNY 4,000.00" in page  # remaining, pending
    assert reverse("incentives:mdf-proof-download", args=[world["proof"].pk]) in page


def test_a_proof_downloads_as_an_attachment(client, world):
    url = reverse("incentives:mdf-proof-download", args=[world["proof"].pk])
    response = as_user(client, world["analyst"]).get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Disposition"] == 'attachment; filename="invoice.pdf"'
    world["proof"].file.delete(save=False)
    assert client.get(url).status_code == 404
    assert client.get(reverse("incentives:mdf-proof-download", args=[world["proof"].pk + 100])).status_code == 404


def test_approving_a_request_reserves_the_requested_amount_by_default(client, world):
    submitted = world["submitted"]
    url = reverse("incentives:mdf-request-detail", args=[submitted.pk])
    as_user(client, world["manager"])
    assert 'name="approved_amount" value="4000.00"' in html(client.get(url))
    response = client.post(reverse("incentives:mdf-request-approve", args=[submitted.pk]), {"approved_amount": ""})
    assert response.status_code == 302 and response["Location"] == url
    submitted.refresh_from_db()
    assert (submitted.status, submitted.approved_amount, submitted.decided_by) == (
        MdfStatus.APPROVED,
        Decimal("4000.00"),
        world["manager"],
    )
    response = client.get(url)
    assert f"{submitted.reference} is approved; the amount is reserved from the budget." in messages_of(response)
    assert response.context["figures"]["reserved"] == Decimal("4000.00")


def test_a_smaller_amount_is_approved_with_a_note(client, world):
    submitted = world["submitted"]
    as_user(client, world["admin"])
    client.post(
        reverse("incentives:mdf-request-approve", args=[submitted.pk]),
        {"approved_amount": "3000.00", "note": "Two days, not three"},
    )
    submitted.refresh_from_db()
    assert (submitted.approved_amount, submitted.decision_note) == (Decimal("3000.00"), "Two days, not three")


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("4000.01", "Approve at most the amount requested (4000.00)."),
        ("0", "Must be more than zero."),
        ("12.345", "Ensure that there are no more than 2 decimal places."),
        ("lots", "Enter a number."),
    ],
)
def test_a_bad_approval_is_shown_on_its_form_and_nothing_changes(client, world, amount, message):
    as_user(client, world["manager"])
    before = snapshot()
    response = client.post(
        reverse("incentives:mdf-request-approve", args=[world["submitted"].pk]), {"approved_amount": amount}
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["approve_form"].errors["approved_amount"])
    assert 'id="approve-form" class="collapse show' in html(response)
    assert snapshot() == before


def test_an_approval_beyond_the_budget_is_refused(client, world):
    big = MdfRequestFactory(budget=world["budget"], status=MdfStatus.SUBMITTED, requested_amount=Decimal("9000.00"))
    as_user(client, world["manager"])
    response = client.post(reverse("incentives:mdf-request-approve", args=[big.pk]), {"approved_amount": ""})
    assert response.status_code == 200
    assert "has 8500.00 left; 9000.00 cannot be approved." in html(response)
    big.refresh_from_db()
    assert big.status == MdfStatus.SUBMITTED


def test_rejecting_needs_a_reason(client, world):
    submitted = world["submitted"]
    as_user(client, world["manager"])
    url = reverse("incentives:mdf-request-reject", args=[submitted.pk])
    response = client.post(url, {"reject-reason": "  "})
    assert response.status_code == 200 and "Say why the request is rejected." in html(response)
    assert response.context["reject_form"].errors["reason"]
    client.post(url, {"reject-reason": "Outside the agreed territory"})
    submitted.refresh_from_db()
    assert (submitted.status, submitted.decision_note) == (MdfStatus.REJECTED, "Outside the agreed territory")


def test_a_claim_is_sent_back_with_a_reason_or_paid_by_a_channel_admin(client, world):
    claimed = world["claimed"]
    as_user(client, world["manager"])
    response = client.post(reverse("incentives:mdf-claim-return", args=[claimed.pk]), {"return-reason": ""})
    assert response.status_code == 200 and "Say what the claim lacks." in html(response)
    assert client.post(reverse("incentives:mdf-request-pay", args=[claimed.pk]), {}).status_code == 403
    claimed.refresh_from_db()
    assert claimed.status == MdfStatus.CLAIMED

    as_user(client, world["admin"])
    client.post(reverse("incentives:mdf-request-pay", args=[claimed.pk]), {"payment_reference": "BANK-2026-0042"})
    claimed.refresh_from_db()
    assert (claimed.status, claimed.payment_reference) == (MdfStatus.PAID, "BANK-2026-0042")
    page = html(client.get(reverse("incentives:mdf-request-detail", args=[claimed.pk])))
    assert "BANK-2026-0042" in page and 'data-testid="actions"' not in page


def test_sending_a_claim_back_returns_it_to_approved(client, world):
    claimed = world["claimed"]
    as_user(client, world["manager"])
    client.post(reverse("incentives:mdf-claim-return", args=[claimed.pk]), {"return-reason": "Invoice unreadable"})
    claimed.refresh_from_db()
    assert (claimed.status, claimed.actual_amount, claimed.decision_note) == (
        MdfStatus.APPROVED,
        None,
        "Invoice unreadable",
    )


def test_a_decision_no_longer_open_is_refused_with_the_reason(client, world):
    claimed = world["claimed"]
    as_user(client, world["manager"])
    before = snapshot()
    response = client.post(reverse("incentives:mdf-request-approve", args=[claimed.pk]), {"approved_amount": ""})
    assert response.status_code == 200
    [message] = messages_of(response)
    assert "Claimed" in message  # the service's reason: the request is no longer submitted
    assert snapshot() == before


# The partner 360° section and the home panel -------------------------------------------------


def test_the_partner_page_shows_its_statements_budgets_and_open_requests(client, world):
    MdfRequestFactory(
        budget=world["budget"],
        title="Paid long ago",
        status=MdfStatus.PAID,
        approved_amount=Decimal("5"),
        actual_amount=Decimal("5"),
    )
    as_user(client, world["manager"])
    response = client.get(world["mine"].get_absolute_url())
    section = next(s for s in response.context["sections"] if s["template"] == "incentives/_partner_section.html")
    assert [s.period for s in section["statements"]] == [PERIOD]
    [budget] = section["budgets"]
    assert (budget.allocated, budget.claimed, budget.paid, budget.remaining) == (
        Decimal("10000.00"),
        Decimal("1500.00"),
        Decimal("5.00"),
        Decimal("8495.00"),
    )
    assert sorted(r.title for r in section["requests"]) == ["Newspaper campaign", "Spring trade show"]
    page = html(response)
    assert 'id="incentives"' in page and "CNY 1,110.00" in page and "CNY 8,495.00" in page
    assert f"{reverse('incentives:budget-set')}?partner={world['mine'].pk}" in page  # theirs to set

    page = html(as_user(client, world["analyst"]).get(world["mine"].get_absolute_url()))
    assert "No open MDF requests." not in page and reverse("incentives:budget-set") not in page


def test_the_home_panel_lists_what_waits_for_the_user(client, world):
    as_user(client, world["manager"])
    panel = next(
        p for p in client.get(reverse("home")).context["panels"] if p["template"] == "incentives/_home_panel.html"
    )
    assert [r.title for r in panel["submitted"]] == ["Spring trade show"] and panel["submitted_count"] == 1
    assert [r.title for r in panel["claimed"]] == ["Newspaper campaign"] and panel["claimed_count"] == 1
    assert [s.partner for s in panel["statements"]] == [world["mine"]] and panel["statements_count"] == 1
    page = html(client.get(reverse("home")))
    assert "MDF requests waiting for your decision" in page and world["submitted"].reference in page

    # Another manager decides on none of Mine Trading's requests but approves statements.
    as_user(client, world["other_manager"])
    panel = next(
        p for p in client.get(reverse("home")).context["panels"] if p["template"] == "incentives/_home_panel.html"
    )
    assert panel["submitted_count"] == panel["claimed_count"] == 0 and panel["statements_count"] == 1

    as_user(client, world["analyst"])  # decides and approves nothing: no panel
    assert "MDF requests waiting for your decision" not in html(client.get(reverse("home")))


# Query counts ---------------------------------------------------------------------------------

# The session and the user (2), the user's roles (1), the unread notifications (1), the count and
# the page (2), then per list: what the rows refer to and the filter form's choices.
LIST_QUERIES = {
    # + the totals per currency (1), the partners offered to the run form (1), the tiers of the filter (1)
    "incentives:statement-list": 9,
    # + the brackets and product lines of the rows (2)
    "incentives:policy-list": 8,
    # + the rates and product lines of the rows (2)
    "incentives:override-list": 8,
    # + the totals: allocated, and what the requests hold (2), the regions of the filter (1)
    "incentives:budget-list": 9,
    "incentives:mdf-request-list": 6,
}
# The session and the user (2), roles (1), notifications (1), the statement (1), its lines with
# their policies and sub-partners (1), its history (1).
STATEMENT_PAGE_QUERIES = 7
# The session and the user (2), and one streamed query for every row with what it refers to.
EXPORT_QUERIES = 3


def build_incentives(size):
    """`size` partners, each with a policy on its agreement, an override policy, a statement with
    a line, a budget with a submitted and a claimed request; returns the last statement."""
    tier = PartnerTierFactory()
    statement = None
    for _ in range(size):
        partner = DistributorFactory(tier=tier, region=RegionFactory())
        policy = RebatePolicyFactory(product_lines=[ProductLineFactory()])
        TierMultiplier.objects.create(policy=policy, tier=tier, multiplier=Decimal("1.1"))
        assign(partner, policy)
        OverridePolicyFactory(product_lines=[ProductLineFactory()])
        statement = RebateStatementFactory(partner=partner, approved_by=ChannelAdminFactory())
        StatementLineFactory(statement=statement, rebate_policy=policy)
        budget = MdfBudgetFactory(partner=partner)
        MdfRequestFactory(budget=budget, status=MdfStatus.SUBMITTED, decided_by=ChannelAdminFactory())
        MdfRequestFactory(
            budget=budget, status=MdfStatus.CLAIMED, approved_amount=Decimal("9"), actual_amount=Decimal("9")
        )
    return statement


@pytest.mark.parametrize("size", [2, 12])
def test_lists_and_exports_take_a_fixed_number_of_queries(client, django_assert_max_num_queries, size):
    build_incentives(size)
    as_user(client, ChannelManagerFactory())
    for name, queries in LIST_QUERIES.items():
        with django_assert_max_num_queries(queries):
            response = client.get(f"{reverse(name)}?page_size=100")
        assert len(response.context["object_list"]) >= size, name
    for name in ("incentives:statement-list", "incentives:budget-list", "incentives:mdf-request-list"):
        for kind in ("csv", "xlsx"):
            with django_assert_max_num_queries(EXPORT_QUERIES):
                response = client.get(f"{reverse(name)}?export={kind}")
                rows = csv_rows(response) if kind == "csv" else xlsx_rows(response)
            assert len(rows) >= size, name


@pytest.mark.parametrize("size", [2, 12])
def test_a_statement_page_takes_a_fixed_number_of_queries(client, django_assert_max_num_queries, size):
    statement = build_incentives(1)
    sub_partners = [PartnerFactory(parent=statement.partner) for _ in range(size)]
    for sub_partner in sub_partners:
        StatementLineFactory(
            statement=statement,
            kind=LineKind.OVERRIDE,
            rebate_policy=None,
            override_policy=OverridePolicy.objects.first(),
            source_partner=sub_partner,
            level=1,
            bracket_threshold=None,
        )
    as_user(client, ChannelAdminFactory())
    with django_assert_max_num_queries(STATEMENT_PAGE_QUERIES):
        response = client.get(reverse("incentives:statement-detail", args=[statement.pk]))
    assert len(response.context["lines"]) == size + 1
    with django_assert_max_num_queries(EXPORT_QUERIES + 1):
        assert len(csv_rows(client.get(f"{response.request['PATH_INFO']}?export=csv"))) == size + 1


@pytest.mark.parametrize("size", [2, 12])
def test_the_partner_section_reads_in_three_queries(django_assert_num_queries, size):
    from incentives.dashboard import partner_incentives_section

    statement = build_incentives(1)
    partner = statement.partner
    for n in range(size):
        RebateStatementFactory(partner=partner, period=f"2025-{n % 12 + 1:02d}", status=StatementStatus.PAID)
        MdfRequestFactory(budget=MdfBudget.objects.get(partner=partner), status=MdfStatus.SUBMITTED)
    user = ChannelAdminFactory()
    user_roles(user)  # read once per request anyway, by the page around the section
    with django_assert_num_queries(3):
        section = partner_incentives_section(user, partner)
    assert len(section["statements"]) == min(size + 1, 6) and len(section["requests"]) == min(size + 2, 10)


@pytest.mark.parametrize("size", [2, 12])
def test_the_partner_page_stays_within_its_query_count(client, django_assert_max_num_queries, size):
    from tests.partners.test_views import PARTNER_PAGE_QUERIES

    statement = build_incentives(size)
    as_user(client, ChannelAdminFactory())
    with django_assert_max_num_queries(PARTNER_PAGE_QUERIES):
        client.get(statement.partner.get_absolute_url())


@pytest.mark.parametrize("size", [2, 12])
def test_the_home_panel_reads_in_a_fixed_number_of_queries(django_assert_max_num_queries, size):
    from incentives.dashboard import incentives_home_panel

    build_incentives(size)
    manager = ChannelManagerFactory()
    region = RegionFactory()
    ManagerRegionFactory(manager=manager, region=region)
    for _ in range(size):
        budget = MdfBudgetFactory(partner=PartnerFactory(region=region))
        MdfRequestFactory(budget=budget, status=MdfStatus.SUBMITTED)
    user_roles(manager)
    # The manager's regions (1), the counts (1), the requests waiting (1), none to review, the
    # statements waiting (1) and their count (1).
    with django_assert_max_num_queries(5):
        panel = incentives_home_panel(manager)
    assert panel["submitted_count"] == size and len(panel["submitted"]) == min(size, 5)
    assert panel["claimed_count"] == 0 and panel["statements_count"] == size
