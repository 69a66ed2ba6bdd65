"""The region flag pages: the list (filters, overdue due dates, export, a bounded number of
queries), a flag's findings with the partners that drive them, and its workflow open →
acknowledged → action plan → resolved through the services.

Every page: 200 for staff, the sign-in page for anonymous visitors, 403 for partner users.
Analysts read flags and change nothing; bad input shows the reason on the field (200) and changes
nothing."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from partners.choices import RegionKind
from performance.choices import FlagRuleCode, FlagStatus, Measure
from performance.models import RegionFlag
from prm.models import AuditEntry
from tests.factories import (
    AnalystFactory,
    ChannelAdminFactory,
    ChannelManagerFactory,
    PartnerFactory,
    PartnerUserFactory,
    RegionFactory,
)

pytestmark = pytest.mark.django_db

MONTH = "2026-03"


def html(response):
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


def as_user(client, user):
    client.force_login(user)
    return client


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def flag_for(region, period=MONTH, *, partners=(), status=FlagStatus.OPEN, **fields):
    """A flag as flags_evaluate writes it: attainment and cross-territory findings, with
    `partners` named as contributors."""
    now = timezone.now()
    named = [{"id": p.pk, "code": p.code, "name": p.name, "figure": "1250.50"} for p in partners]
    findings = [
        {
            "rule": FlagRuleCode.ATTAINMENT.value,
            "threshold": "0.8",
            "figures": {"target_attainment": "0.625", "revenue": "3125.00", "revenue_target": "5000.00"},
            "partners": named,
        },
        {
            "rule": FlagRuleCode.CROSS_TERRITORY.value,
            "threshold": "0.15",
            "figures": {"cross_territory_share": "0.2", "outside_revenue": "625.00", "revenue": "3125.00"},
            "partners": [],
        },
    ]
    defaults = {
        "findings": findings,
        "rules": [finding["rule"] for finding in findings],
        "opened_at": now,
        "evaluated_at": now,
        "status": status,
    }
    defaults.update(fields)
    return RegionFlag.objects.create(region=region, period=period, **defaults)


@pytest.fixture
def east():
    country = RegionFactory(code="CN", name="China", kind=RegionKind.COUNTRY)
    east = RegionFactory(code="EAST", name="East China", kind=RegionKind.AREA, parent=country)
    shanghai = RegionFactory(code="SH", name="Shanghai", parent=east)
    west = RegionFactory(code="WEST", name="West China", kind=RegionKind.AREA, parent=country)
    for region in (country, east, shanghai, west):
        region.refresh_from_db()
    return {"country": country, "east": east, "shanghai": shanghai, "west": west}


@pytest.fixture
def admin():
    return ChannelAdminFactory(username="chen", display_name="Chen Jing")


# Access ----------------------------------------------------------------------------------------


def test_every_flag_page_is_for_staff_only(client, east):
    flag = flag_for(east["shanghai"])
    urls = [reverse("performance:flag-list"), reverse("performance:flag-detail", args=[flag.pk])]
    for url in urls:
        assert client.get(url).status_code == 302  # to the sign-in page
    as_user(client, PartnerUserFactory())
    for url in urls:
        assert client.get(url).status_code == 403
    for name in ("flag-acknowledge", "flag-plan", "flag-resolve"):
        assert client.post(reverse(f"performance:{name}", args=[flag.pk])).status_code == 403
    assert RegionFlag.objects.get(pk=flag.pk).status == FlagStatus.OPEN


def test_an_analyst_reads_a_flag_but_sees_no_workflow_and_cannot_move_it(client, east):
    flag = flag_for(east["shanghai"])
    as_user(client, AnalystFactory())
    page = client.get(reverse("performance:flag-detail", args=[flag.pk]))
    assert page.status_code == 200
    assert 'data-testid="actions"' not in html(page)
    assert "Your role can read region flags but not work on them." in html(page)
    response = client.post(reverse("performance:flag-acknowledge", args=[flag.pk]))
    assert response.status_code == 403
    assert RegionFlag.objects.get(pk=flag.pk).status == FlagStatus.OPEN
    assert not AuditEntry.objects.filter(object_type="performance.regionflag").exists()


def test_a_missing_flag_is_a_404(client, admin):
    as_user(client, admin)
    assert client.get(reverse("performance:flag-detail", args=[999999])).status_code == 404
    assert client.post(reverse("performance:flag-acknowledge", args=[999999])).status_code == 404


# List ------------------------------------------------------------------------------------------


def test_the_list_shows_region_month_rules_status_owner_and_highlights_overdue(client, east, admin):
    today = timezone.localdate()
    late = flag_for(
        east["shanghai"],
        status=FlagStatus.ACTION_PLAN,
        owner=admin,
        due_date=today - timedelta(days=3),
        measures=[Measure.TRAINING],
    )
    on_time = flag_for(east["west"], status=FlagStatus.ACTION_PLAN, owner=admin, due_date=today + timedelta(days=3))
    as_user(client, admin)
    response = client.get(reverse("performance:flag-list"))
    page = html(response)
    assert response.status_code == 200
    rows = {row["flag"].pk: row for row in response.context["rows"]}
    assert rows[late.pk]["overdue"] and not rows[on_time.pk]["overdue"]
    assert page.count('data-testid="overdue"') == 1
    assert "Shanghai" in page and "West China" in page and "Chen Jing" in page
    assert "Target attainment below the threshold" in page
    assert "Cross-territory sales share above the threshold" in page


def test_a_resolved_flag_past_its_due_date_is_not_overdue(client, east, admin):
    flag_for(
        east["shanghai"],
        status=FlagStatus.RESOLVED,
        owner=admin,
        due_date=timezone.localdate() - timedelta(days=30),
        resolution="Done",
    )
    as_user(client, admin)
    response = client.get(reverse("performance:flag-list"))
    assert 'data-testid="overdue"' not in html(response)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", {"SH-03", "WEST-03", "SH-02"}),
        ("period=2026-03", {"SH-03", "WEST-03"}),
        ("status=acknowledged", {"WEST-03"}),
        ("region={east}", {"SH-03", "SH-02"}),
        ("rule=score_below", {"WEST-03"}),
        ("rule=attainment_below", {"SH-03", "SH-02"}),
        ("is_firing=false", {"SH-02"}),
        ("is_firing=true", {"SH-03", "WEST-03"}),
    ],
)
def test_the_list_filters(client, east, admin, query, expected):
    flags = {
        "SH-03": flag_for(east["shanghai"]),
        "SH-02": flag_for(east["shanghai"], "2026-02", is_firing=False),
        "WEST-03": flag_for(
            east["west"],
            status=FlagStatus.ACKNOWLEDGED,
            rules=[FlagRuleCode.SCORE.value],
            findings=[{"rule": "score_below", "threshold": "60", "figures": {"score": "48.5"}, "partners": []}],
        ),
    }
    names = {flag.pk: name for name, flag in flags.items()}
    as_user(client, admin)
    response = client.get(f"{reverse('performance:flag-list')}?{query.format(east=east['east'].pk)}")
    assert response.status_code == 200
    assert {names[row["flag"].pk] for row in response.context["rows"]} == expected


def test_a_bad_filter_is_shown_on_its_field_and_lists_nothing(client, east, admin):
    flag_for(east["shanghai"])
    as_user(client, admin)
    response = client.get(f"{reverse('performance:flag-list')}?period=March")
    assert response.status_code == 200
    assert response.context["rows"] == []
    assert "is not a period" in html(response)


@pytest.mark.parametrize("count", [3, 30])
def test_the_list_takes_the_same_queries_for_3_or_30_flags(client, admin, django_assert_max_num_queries, count):
    owners = [ChannelManagerFactory() for _ in range(3)]
    for index in range(count):
        flag_for(RegionFactory(), owner=owners[index % 3], due_date=timezone.localdate())
    as_user(client, admin)
    with django_assert_max_num_queries(12):
        response = client.get(f"{reverse('performance:flag-list')}?page_size=50")
    assert len(response.context["rows"]) == count


def test_the_list_exports_csv_and_excel_with_the_filters(client, east, admin):
    flag_for(east["shanghai"], owner=admin, due_date=timezone.localdate(), status=FlagStatus.ACTION_PLAN)
    flag_for(east["west"], "2026-02")
    as_user(client, admin)
    response = client.get(f"{reverse('performance:flag-list')}?period=2026-03&export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:4] == ["Region code", "Region", "Month", "Rules fired"]
    assert len(rows) == 2
    assert rows[1][:3] == ["SH", "Shanghai", MONTH]
    assert "Target attainment below the threshold" in rows[1][3]
    assert "Action plan" in rows[1] and "Chen Jing" in rows[1]
    response = client.get(f"{reverse('performance:flag-list')}?export=xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 3


# Detail ----------------------------------------------------------------------------------------


def test_the_detail_explains_each_rule_with_figures_and_links_the_partners(client, east, admin):
    partner = PartnerFactory(code="D-SH-1", name="Xinghe Distribution", region=east["shanghai"])
    flag = flag_for(east["shanghai"], partners=[partner])
    as_user(client, admin)
    page = html(client.get(reverse("performance:flag-detail", args=[flag.pk])))
    assert "Target attainment below the threshold" in page
    assert "Threshold: 80.0%" in page  # the ratio as a percentage
    assert "62.5%" in page  # the region's attainment
    assert "5,000.00" in page and "3,125.00" in page  # money with two decimals, grouped
    assert "Threshold: 15.0%" in page and "20.0%" in page and "625.00" in page
    assert reverse("partners:partner-detail", args=[partner.pk]) in page
    assert "Xinghe Distribution" in page and "1,250.50" in page
    assert 'data-testid="not-firing"' not in page


def test_a_flag_whose_rules_no_longer_fire_says_so(client, east, admin):
    flag = flag_for(east["shanghai"], findings=[], rules=[], is_firing=False)
    as_user(client, admin)
    page = html(client.get(reverse("performance:flag-detail", args=[flag.pk])))
    assert 'data-testid="not-firing"' in page
    assert "The rules no longer fire" in page


def test_a_decline_finding_lists_revenue_month_by_month(client, east, admin):
    finding = {
        "rule": "revenue_decline",
        "threshold": "3",
        "figures": {"revenue": {"2026-03": "100.00", "2026-02": "200.00", "2026-01": "300.00", "2025-12": "400.00"}},
        "partners": [],
    }
    flag = flag_for(east["shanghai"], findings=[finding], rules=["revenue_decline"])
    as_user(client, admin)
    page = html(client.get(reverse("performance:flag-detail", args=[flag.pk])))
    assert "Threshold: 3 months in a row" in page
    assert page.index("Revenue 2025-12") < page.index("Revenue 2026-03")


# Workflow --------------------------------------------------------------------------------------


def test_a_flag_goes_open_acknowledged_action_plan_resolved_and_each_step_is_in_its_history(client, east, admin):
    manager = ChannelManagerFactory(display_name="Wang Lei")
    flag = flag_for(east["shanghai"])
    as_user(client, admin)
    detail = reverse("performance:flag-detail", args=[flag.pk])

    response = client.post(reverse("performance:flag-acknowledge", args=[flag.pk]), follow=True)
    assert response.redirect_chain[-1][0] == detail
    assert "Flag acknowledged. Agree an action plan next." in messages_of(response)
    flag.refresh_from_db()
    assert flag.status == FlagStatus.ACKNOWLEDGED and flag.acknowledged_by == admin

    due = timezone.localdate() + timedelta(days=30)
    response = client.post(
        reverse("performance:flag-plan", args=[flag.pk]),
        {"measures": ["training", "market_support"], "owner": manager.pk, "due_date": due.isoformat(), "plan": "Two"},
    )
    assert response.status_code == 302
    flag.refresh_from_db()
    assert flag.status == FlagStatus.ACTION_PLAN
    assert flag.measures == ["training", "market_support"] and flag.owner == manager and flag.due_date == due

    # The plan can change while it runs; the form comes filled in with the current plan.
    page = client.get(detail)
    assert page.context["plan_form"].initial["owner"] == manager.pk
    assert "Change the action plan" in html(page)
    client.post(
        reverse("performance:flag-plan", args=[flag.pk]),
        {"measures": ["recruit"], "owner": manager.pk, "due_date": due.isoformat(), "plan": ""},
    )
    flag.refresh_from_db()
    assert flag.measures == ["recruit"]

    response = client.post(reverse("performance:flag-resolve", args=[flag.pk]), {"resolution": "Recruited two"})
    assert response.status_code == 302
    flag.refresh_from_db()
    assert flag.status == FlagStatus.RESOLVED and flag.resolved_by == admin and flag.resolution == "Recruited two"

    page = client.get(detail)
    text = html(page)
    assert 'data-testid="actions"' not in text  # nothing left to do
    assert AuditEntry.objects.filter(object_type="performance.regionflag", object_id=str(flag.pk)).count() == 4
    history = text[text.index('data-testid="history"') :]
    assert "Recruit partners" in history and "Wang Lei" in history and "Resolved" in history


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"owner": "{owner}", "due_date": "{due}"}, "measures", "Choose at least one measure."),
        ({"measures": ["training"], "due_date": "{due}"}, "owner", "Choose who owns the action plan."),
        ({"measures": ["training"], "owner": "{owner}"}, "due_date", "Enter the date the plan is due."),
        (
            {"measures": ["training"], "owner": "{owner}", "due_date": "2020-01-01"},
            "due_date",
            "The due date cannot be in the past.",
        ),
        (
            {"measures": ["other"], "owner": "{owner}", "due_date": "{due}"},
            "plan",
            "Describe the measure when you choose “Other”.",
        ),
        ({"measures": ["bribes"], "owner": "{owner}", "due_date": "{due}"}, "measures", "not one of"),
        ({"measures": ["training"], "owner": "{owner}", "due_date": "next week"}, "due_date", "Enter a valid date."),
    ],
)
def test_a_bad_plan_is_shown_on_its_field_and_changes_nothing(client, east, admin, data, field, message):
    flag = flag_for(east["shanghai"], status=FlagStatus.ACKNOWLEDGED)
    due = (timezone.localdate() + timedelta(days=7)).isoformat()
    values = {
        key: value.format(owner=admin.pk, due=due) if isinstance(value, str) else value for key, value in data.items()
    }
    before = RegionFlag.objects.filter(pk=flag.pk).values().get()
    as_user(client, admin)
    response = client.post(reverse("performance:flag-plan", args=[flag.pk]), values)
    assert response.status_code == 200
    errors = response.context["plan_form"].errors
    assert any(message in error for error in errors[field]), errors
    assert response.context["open_form"] == "plan"
    assert RegionFlag.objects.filter(pk=flag.pk).values().get() == before


def test_a_partner_user_cannot_own_a_plan(client, east, admin):
    flag = flag_for(east["shanghai"], status=FlagStatus.ACKNOWLEDGED)
    outsider = PartnerUserFactory()
    as_user(client, admin)
    response = client.post(
        reverse("performance:flag-plan", args=[flag.pk]),
        {"measures": ["training"], "owner": outsider.pk, "due_date": timezone.localdate().isoformat()},
    )
    assert response.status_code == 200
    assert "owner" in response.context["plan_form"].errors
    assert RegionFlag.objects.get(pk=flag.pk).status == FlagStatus.ACKNOWLEDGED


def test_resolving_needs_a_resolution(client, east, admin):
    flag = flag_for(east["shanghai"], status=FlagStatus.ACTION_PLAN, owner=admin, due_date=timezone.localdate())
    as_user(client, admin)
    response = client.post(reverse("performance:flag-resolve", args=[flag.pk]), {"resolution": "  "})
    assert response.status_code == 200
    assert response.context["resolve_form"].errors["resolution"] == ["Say how the flag was resolved."]
    assert RegionFlag.objects.get(pk=flag.pk).status == FlagStatus.ACTION_PLAN


def test_an_illegal_move_is_refused_with_the_reason(client, east, admin):
    flag = flag_for(east["shanghai"])  # open: cannot be resolved nor acknowledged twice
    as_user(client, admin)
    response = client.post(reverse("performance:flag-resolve", args=[flag.pk]), {"resolution": "Done"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("performance:flag-detail", args=[flag.pk])
    assert "A flag that is Open cannot become Resolved." in messages_of(response)
    client.post(reverse("performance:flag-acknowledge", args=[flag.pk]))
    response = client.post(reverse("performance:flag-acknowledge", args=[flag.pk]), follow=True)
    assert any("cannot become" in text for text in messages_of(response))
    assert RegionFlag.objects.get(pk=flag.pk).status == FlagStatus.ACKNOWLEDGED


def test_a_get_on_a_workflow_url_changes_nothing(client, east, admin):
    flag = flag_for(east["shanghai"], status=FlagStatus.ACKNOWLEDGED)
    as_user(client, admin)
    for name in ("flag-acknowledge", "flag-plan", "flag-resolve"):
        assert client.get(reverse(f"performance:{name}", args=[flag.pk])).status_code == 405
    assert RegionFlag.objects.get(pk=flag.pk).status == FlagStatus.ACKNOWLEDGED
