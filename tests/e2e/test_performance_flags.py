"""Region flags in a real browser: a channel admin finds an overdue-free open flag in the list,
reads why the region is flagged (the rule, its threshold, the partner that drives it),
acknowledges it, agrees an action plan (a refused plan first: no measure ticked), and resolves
it; the history records every step. Then the template editor's running total of the weights."""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from partners.choices import RegionKind
from performance.choices import FlagRuleCode, FlagStatus
from performance.models import RegionFlag
from tests.factories import ChannelAdminFactory, ChannelManagerFactory, DistributorFactory, RegionFactory

pytestmark = pytest.mark.django_db(transaction=True)

# A Bootstrap collapse that has finished opening (not "collapsing").
SHOWN = re.compile(r"\bcollapse\b.*\bshow\b|\bshow\b.*\bcollapse\b")

MONTH = "2026-03"


@pytest.fixture
def channel(roles):
    admin = ChannelAdminFactory(username="chenjing", display_name="Chen Jing")
    manager = ChannelManagerFactory(username="wanglei", display_name="Wang Lei")
    china = RegionFactory(code="CN", name="China", kind=RegionKind.COUNTRY)
    east = RegionFactory(code="EAST", name="East China", kind=RegionKind.AREA, parent=china)
    xinghe = DistributorFactory(code="D-EAST-1", name="Xinghe Distribution Co., Ltd.", region=east, owner=manager)
    now = timezone.now()
    flag = RegionFlag.objects.create(
        region=east,
        period=MONTH,
        findings=[
            {
                "rule": FlagRuleCode.ATTAINMENT.value,
                "threshold": "0.8",
                "figures": {"target_attainment": "0.62", "revenue": "31000.00", "revenue_target": "50000.00"},
                "partners": [{"id": xinghe.pk, "code": xinghe.code, "name": xinghe.name, "figure": "19000.00"}],
            }
        ],
        rules=[FlagRuleCode.ATTAINMENT.value],
        opened_at=now,
        evaluated_at=now,
    )
    return SimpleNamespace(admin=admin, manager=manager, east=east, xinghe=xinghe, flag=flag)


def test_a_flag_is_acknowledged_planned_and_resolved(page, live_server, channel, login, screenshot):
    login(page.context, channel.admin)
    page.goto("/performance/flags/")
    row = page.get_by_test_id("flag-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("East China")
    expect(row).to_contain_text("Target attainment below the threshold")
    expect(row).to_contain_text("Open")
    screenshot(step="list")

    row.get_by_role("link", name="East China").click()
    finding = page.get_by_test_id("finding-attainment_below")
    expect(finding).to_contain_text("Threshold: 80.0%")
    expect(finding).to_contain_text("62.0%")
    expect(finding).to_contain_text("CNY 50,000.00")
    expect(finding.get_by_role("link", name="Xinghe Distribution Co., Ltd.")).to_be_visible()
    screenshot(step="open")

    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_text("Flag acknowledged. Agree an action plan next.")).to_be_visible()
    expect(page.get_by_test_id("flag-status")).to_have_text("Acknowledged")

    # A plan without a measure is refused on its field, the form stays open with what was typed.
    due = (timezone.localdate() + timedelta(days=45)).isoformat()
    page.get_by_role("button", name="Agree an action plan").click()
    plan_form = page.locator("#plan-form")
    expect(plan_form).to_have_class(SHOWN)  # the collapse has finished opening: nothing moves any more
    plan_form.get_by_label("Owner").select_option(label="Wang Lei")
    plan_form.get_by_label("Due date").fill(due)
    plan_form.get_by_label("Action plan").fill("Two product trainings for Xinghe's sales team in April.")
    plan_form.get_by_role("button", name="Save the action plan").click()
    expect(page.locator("#id_measures_errors")).to_have_text("Choose at least one measure.")
    expect(page.locator("#plan-form")).to_be_visible()
    expect(page.locator("#plan-form").get_by_label("Action plan")).to_have_value(
        "Two product trainings for Xinghe's sales team in April."
    )
    screenshot(step="plan-refused")

    plan_form = page.locator("#plan-form")
    plan_form.get_by_label("More training").check()
    plan_form.get_by_label("More market support").check()
    plan_form.get_by_role("button", name="Save the action plan").click()
    expect(page.get_by_text("Action plan saved.")).to_be_visible()
    response = page.get_by_test_id("response")
    expect(page.get_by_test_id("flag-status")).to_have_text("Action plan")
    expect(response).to_contain_text("More training")
    expect(response).to_contain_text("Wang Lei")
    screenshot(step="planned")

    page.get_by_role("button", name="Resolve", exact=True).click()
    expect(page.locator("#resolve-form")).to_have_class(SHOWN)
    page.locator("#resolve-form").get_by_label("Resolution").fill("Attainment back to 95% in May.")
    page.get_by_role("button", name="Resolve the flag").click()
    expect(page.get_by_text("Flag resolved.")).to_be_visible()
    expect(page.get_by_test_id("flag-status")).to_have_text("Resolved")
    expect(page.get_by_test_id("actions")).to_have_count(0)
    history = page.get_by_test_id("history").locator("li")
    expect(history).to_have_count(3)
    expect(page.get_by_test_id("history")).to_contain_text("Attainment back to 95% in May.")
    screenshot(step="resolved")

    flag = RegionFlag.objects.get(pk=channel.flag.pk)
    assert flag.status == FlagStatus.RESOLVED and flag.owner == channel.manager

    page.goto("/performance/flags/?status=resolved")
    expect(page.get_by_test_id("flag-row")).to_contain_text("Resolved")


def test_the_template_editor_adds_rows_and_keeps_the_weights_total(page, live_server, channel, login, screenshot):
    login(page.context, channel.admin)
    page.goto("/performance/templates/new/")
    total = page.locator("[data-weight-total]")
    expect(total).to_have_text("0")
    page.get_by_label("Name").fill("Distributors 2026")
    page.locator("#id_items-0-kpi").select_option("target_attainment")
    page.locator("#id_items-0-weight").fill("70")
    page.locator("#id_items-0-floor").fill("0.5")
    page.locator("#id_items-0-target").fill("1")
    expect(total).to_have_text("70")
    page.get_by_role("button", name="Add a row").click()
    page.locator("#id_items-1-kpi").select_option("customer_satisfaction")
    page.locator("#id_items-1-weight").fill("20")
    page.locator("#id_items-1-floor").fill("60")
    page.locator("#id_items-1-target").fill("90")
    expect(total).to_have_text("90")
    page.get_by_role("button", name="Create template").click()
    expect(page.get_by_text("The weights add up to 90; they must add up to 100.")).to_be_visible()
    screenshot(step="refused")
    page.locator("#id_items-1-weight").fill("30")
    expect(total).to_have_text("100")
    page.get_by_role("button", name="Create template").click()
    expect(page.get_by_text("Scorecard template Distributors 2026 saved.")).to_be_visible()
    screenshot(step="saved")
