"""The pages that set performance up and run it: the flag rules (all saved or none), the
scorecard template editor (rows, running total, the service's per-row errors), the month runs
(queued from a page, followed with a progress bar) and customer-satisfaction entry.

Every page: staff only (partner users 403, anonymous visitors to the sign-in page). Analysts read
and see no forms; their POSTs are refused and change nothing."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from performance import tasks
from performance.choices import FlagRuleCode
from performance.models import CustomerSatisfaction, FlagRule, ScorecardItem, ScorecardTemplate, SnapshotRun
from prm.models import AuditEntry, JobRun
from tests.factories import AnalystFactory, ChannelAdminFactory, PartnerFactory, PartnerUserFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "performance:rule-list",
    "performance:template-list",
    "performance:template-create",
    "performance:runs",
    "performance:satisfaction-list",
    "performance:satisfaction-create",
]


def html(response):
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


def as_user(client, user):
    client.force_login(user)
    return client


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def admin():
    return ChannelAdminFactory(username="chen", display_name="Chen Jing")


@pytest.fixture
def sent(monkeypatch):
    """The month runs sent to the worker (nothing reaches a broker)."""
    calls = []
    monkeypatch.setattr(tasks.month_run, "delay", lambda *args, **kwargs: calls.append((args, kwargs)))
    return calls


def test_every_page_is_for_staff_only(client, admin):
    template = ScorecardTemplate.objects.get(is_default=True)
    urls = [reverse(name) for name in PAGES] + [reverse("performance:template-edit", args=[template.pk])]
    for url in urls:
        assert client.get(url).status_code == 302
    as_user(client, PartnerUserFactory())
    for url in urls:
        assert client.get(url).status_code == 403
    as_user(client, admin)
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_an_analyst_reads_but_sees_no_forms_and_changes_nothing(client, sent):
    as_user(client, AnalystFactory())
    for name in ("performance:rule-list", "performance:template-list", "performance:runs"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert 'method="post"' not in html(response).split("</nav>", 1)[-1].replace('action="/logout/"', "")
    for name in ("performance:template-create", "performance:satisfaction-create"):
        assert client.get(reverse(name)).status_code == 403
    assert client.post(reverse("performance:rule-list"), {}).status_code == 403
    assert client.post(reverse("performance:runs"), {"period": "2026-03"}).status_code == 403
    assert not sent and not JobRun.objects.exists() and not FlagRule.objects.filter(updated_by__isnull=False).exists()


# Flag rules ------------------------------------------------------------------------------------


def rules_post(**changes):
    data = {
        "attainment_below-threshold": "0.8",
        "attainment_below-is_active": "on",
        "score_below-threshold": "60",
        "score_below-is_active": "on",
        "revenue_decline-threshold": "3",
        "revenue_decline-is_active": "on",
        "cross_territory_above-threshold": "0.15",
        "cross_territory_above-is_active": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def thresholds():
    return {rule.code: (rule.threshold, rule.is_active) for rule in FlagRule.objects.all()}


def test_the_rules_page_explains_each_rule_with_its_threshold(client, admin):
    as_user(client, admin)
    page = html(client.get(reverse("performance:rule-list")))
    for label in FlagRuleCode.labels:
        assert str(label) in page
    assert "below 80.0%" in page
    assert "fell month over month, 3 months in a row" in page
    assert "more than 15.0% of its revenue" in page


def test_the_rules_are_saved_together_and_recorded(client, admin):
    as_user(client, admin)
    response = client.post(
        reverse("performance:rule-list"),
        rules_post(**{"attainment_below-threshold": "0.75", "revenue_decline-is_active": None}),
        follow=True,
    )
    assert "Flag rules saved. They apply the next time a month is computed." in messages_of(response)
    saved = thresholds()
    assert saved["attainment_below"] == (Decimal("0.75"), True)
    assert saved["revenue_decline"][1] is False
    assert AuditEntry.objects.filter(object_type="performance.flagrule").count() >= 4


def test_one_wrong_rule_saves_none_and_says_which(client, admin):
    before = thresholds()
    as_user(client, admin)
    response = client.post(
        reverse("performance:rule-list"),
        rules_post(**{"attainment_below-threshold": "0.7", "revenue_decline-threshold": "2.5"}),
    )
    assert response.status_code == 200
    rows = {row["code"]: row for row in response.context["rows"]}
    assert rows["revenue_decline"]["form"].errors["threshold"] == ["Enter a whole number from 1 to 12."]
    assert not rows["attainment_below"]["form"].errors
    assert thresholds() == before
    assert not AuditEntry.objects.filter(object_type="performance.flagrule").exists()


@pytest.mark.parametrize("value", ["", "abc", "-1", "1e400", "NaN"])
def test_a_bad_threshold_is_an_error_on_its_field(client, admin, value):
    as_user(client, admin)
    response = client.post(reverse("performance:rule-list"), rules_post(**{"score_below-threshold": value}))
    assert response.status_code == 200
    rows = {row["code"]: row for row in response.context["rows"]}
    assert rows["score_below"]["form"].errors["threshold"]


# Scorecard templates ---------------------------------------------------------------------------


def template_post(name, rows, **fields):
    data = {"name": name, "is_active": "on", "items-TOTAL_FORMS": str(len(rows)), "items-INITIAL_FORMS": "0"}
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"items-{index}-{key}"] = value
    data.update(fields)
    return data


def test_a_template_is_created_with_its_rows_and_empty_rows_are_ignored(client, admin):
    as_user(client, admin)
    rows = [
        {"kpi": "target_attainment", "weight": "60", "floor": "0.5", "target": "1"},
        {"kpi": "", "weight": "", "floor": "", "target": ""},
        {"kpi": "cross_territory_share", "weight": "40", "floor": "0.3", "target": "0"},
        {"kpi": "revenue", "weight": "10", "floor": "0", "target": "1", "DELETE": "on"},
    ]
    response = client.post(reverse("performance:template-create"), template_post("Lean", rows), follow=True)
    assert "Scorecard template Lean saved." in messages_of(response)
    template = ScorecardTemplate.objects.get(name="Lean")
    assert sorted(template.items.values_list("kpi", "weight")) == [
        ("cross_territory_share", Decimal("40.00")),
        ("target_attainment", Decimal("60.00")),
    ]
    assert "Lean" in html(response)  # back on the list


def test_the_service_errors_are_shown_per_row_and_nothing_is_saved(client, admin):
    as_user(client, admin)
    rows = [
        {"kpi": "target_attainment", "weight": "60", "floor": "1", "target": "0.5"},
        {"kpi": "target_attainment", "weight": "40", "floor": "0", "target": "1"},
    ]
    response = client.post(reverse("performance:template-create"), template_post("Bad", rows))
    assert response.status_code == 200
    errors = response.context["item_errors"]
    assert any("Item 1" in error and "floor must be below the target" in error for error in errors)
    assert any("Item 2" in error and "already in an earlier item" in error for error in errors)
    assert response.context["weight_total"] == Decimal("100")
    assert not ScorecardTemplate.objects.filter(name="Bad").exists()


def test_weights_not_adding_up_to_100_and_a_missing_name_are_refused(client, admin):
    as_user(client, admin)
    rows = [{"kpi": "revenue", "weight": "30", "floor": "0", "target": "1000"}]
    response = client.post(reverse("performance:template-create"), template_post("", rows))
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["Enter a name."]
    assert response.context["item_errors"] == ["The weights add up to 30; they must add up to 100."]
    assert "Total of the weights:" in html(response)
    assert response.context["weight_total"] == Decimal("30")
    assert ScorecardTemplate.objects.count() == 1


def test_editing_a_template_starts_from_its_rows_and_replaces_them(client, admin):
    template = ScorecardTemplate.objects.get(is_default=True)
    count = template.items.count()
    as_user(client, admin)
    page = client.get(reverse("performance:template-edit", args=[template.pk]))
    assert len(page.context["rows"].forms) == count + 1  # its rows and one empty
    assert page.context["weight_total"] == Decimal("100")
    rows = [{"kpi": "revenue", "weight": "100", "floor": "0", "target": "10000"}]
    response = client.post(
        reverse("performance:template-edit", args=[template.pk]),
        template_post(template.name, rows, is_default="on"),
    )
    assert response.status_code == 302
    assert list(ScorecardItem.objects.filter(template=template).values_list("kpi", flat=True)) == ["revenue"]


def test_the_default_cannot_be_unset_from_the_editor(client, admin):
    template = ScorecardTemplate.objects.get(is_default=True)
    items = list(template.items.values_list("kpi", "weight"))
    as_user(client, admin)
    rows = [{"kpi": "revenue", "weight": "100", "floor": "0", "target": "10000"}]
    response = client.post(reverse("performance:template-edit", args=[template.pk]), template_post(template.name, rows))
    assert response.status_code == 200
    assert response.context["form"].errors["is_default"]
    assert list(template.items.values_list("kpi", "weight")) == items


@pytest.mark.parametrize("count", [3, 30])
def test_the_template_list_takes_the_same_queries_for_3_or_30(client, admin, django_assert_max_num_queries, count):
    for index in range(count):
        template = ScorecardTemplate.objects.create(name=f"T{index}")
        ScorecardItem.objects.create(
            template=template, kpi="revenue", weight=Decimal("100"), floor=Decimal("0"), target=Decimal("1")
        )
    as_user(client, admin)
    with django_assert_max_num_queries(10):
        response = client.get(f"{reverse('performance:template-list')}?page_size=50")
    assert len(response.context["object_list"]) == count + 1


# Runs ------------------------------------------------------------------------------------------


def test_computing_a_month_queues_a_run_and_shows_its_progress(client, admin, sent, django_capture_on_commit_callbacks):
    as_user(client, admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("performance:runs"), {"period": "2026-03"})
    run = JobRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('performance:runs')}?run={run.pk}"
    assert run.job == tasks.JOB_NAME and run.params == {"period": "2026-03"} and run.started_by == admin
    assert sent == [(("2026-03",), {"run_id": run.pk, "by_id": admin.pk})]
    page = client.get(response["Location"])
    assert page.context["run"] == run
    assert "job-progress" in html(page) and reverse("job-run-status", args=[run.pk]) in html(page)
    assert "Chen Jing" in html(page)


@pytest.mark.parametrize(
    "period, message",
    [
        ("2026-Q1", "Enter a month, such as 2026-10."),
        ("March", "is not a period"),
        ("2999-01", "has not started yet"),
        ("", "This field is required."),
    ],
)
def test_a_bad_month_is_an_error_on_the_field_and_queues_nothing(client, admin, sent, period, message):
    as_user(client, admin)
    response = client.post(reverse("performance:runs"), {"period": period})
    assert response.status_code == 200
    assert any(message in error for error in response.context["run_form"].errors["period"])
    assert not JobRun.objects.exists() and not sent


def test_the_runs_page_lists_month_runs_and_snapshot_runs_by_month(client, admin):
    JobRun.objects.create(job=tasks.JOB_NAME, params={"period": "2026-02"}, status=JobRun.Status.FAILED, error="Boom")
    JobRun.objects.create(job="incentives.rebate_statements_run", params={"period": "2026-02"})
    SnapshotRun.objects.create(period="2026-02", computed_by=admin, rows=12)
    SnapshotRun.objects.create(period="2026-01", rows=7)
    as_user(client, admin)
    response = client.get(reverse("performance:runs"))
    assert len(response.context["object_list"]) == 1  # not the incentives run
    assert "Boom" in html(response)
    assert len(response.context["snapshot_runs"]) == 2
    response = client.get(f"{reverse('performance:runs')}?period=2026-02")
    assert [run.rows for run in response.context["snapshot_runs"]] == [12]


@pytest.mark.parametrize("count", [3, 30])
def test_the_runs_page_takes_the_same_queries_for_3_or_30(client, admin, django_assert_max_num_queries, count):
    for index in range(count):
        user = ChannelAdminFactory()
        job = JobRun.objects.create(job=tasks.JOB_NAME, params={"period": "2026-02"}, started_by=user)
        SnapshotRun.objects.create(period=f"2025-{index % 12 + 1:02d}", computed_by=user, job_run=job)
    as_user(client, admin)
    with django_assert_max_num_queries(12):
        response = client.get(f"{reverse('performance:runs')}?page_size=50")
    assert len(response.context["object_list"]) == count


# Customer satisfaction -------------------------------------------------------------------------


def test_a_score_is_entered_and_entering_it_again_replaces_it(client, admin):
    partner = PartnerFactory(code="R-EAST-2", name="Jinpeng Technology")
    as_user(client, admin)
    url = reverse("performance:satisfaction-create")
    response = client.post(url, {"partner": "r-east-2", "period": "2026-03", "score": "86.5"}, follow=True)
    assert "Customer satisfaction of Jinpeng Technology for 2026-03: 86.50." in messages_of(response)
    assert response.redirect_chain[-1][0] == f"{reverse('performance:satisfaction-list')}?period=2026-03"
    client.post(url, {"partner": "R-EAST-2", "period": "2026-03", "score": "90"})
    entry = CustomerSatisfaction.objects.get(partner=partner)
    assert entry.score == Decimal("90.00") and entry.entered_by == admin
    assert AuditEntry.objects.filter(object_type="performance.customersatisfaction").count() == 2


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"partner": "NOPE"}, "partner", "No partner has the code “NOPE”."),
        ({"period": "2026-Q1"}, "period", "Enter a month, such as 2026-10."),
        ({"score": "101"}, "score", "Enter a number from 0 to 100."),
        ({"score": "abc"}, "score", "Enter a number from 0 to 100."),
        ({"score": "85.555"}, "score", "Use at most two decimals."),
    ],
)
def test_a_bad_score_is_an_error_on_its_field_and_writes_nothing(client, admin, data, field, message):
    PartnerFactory(code="R-1")
    as_user(client, admin)
    response = client.post(
        reverse("performance:satisfaction-create"), {"partner": "R-1", "period": "2026-03", "score": "80", **data}
    )
    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    assert not CustomerSatisfaction.objects.exists()


def test_the_satisfaction_list_filters_and_exports(client, admin):
    a, b = PartnerFactory(code="A-1", name="Alpha"), PartnerFactory(code="B-1", name="Beta")
    CustomerSatisfaction.objects.create(partner=a, period="2026-03", score=Decimal("86.50"), entered_by=admin)
    CustomerSatisfaction.objects.create(partner=b, period="2026-02", score=Decimal("70.00"))
    as_user(client, admin)
    response = client.get(f"{reverse('performance:satisfaction-list')}?period=2026-03")
    assert [entry.partner.code for entry in response.context["object_list"]] == ["A-1"]
    response = client.get(f"{reverse('performance:satisfaction-list')}?partner_q=beta")
    assert [entry.partner.code for entry in response.context["object_list"]] == ["B-1"]
    response = client.get(f"{reverse('performance:satisfaction-list')}?export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:5] == ["Partner code", "Partner", "Region", "Month", "Score"]
    assert [rows[1][0], rows[1][4], rows[1][5]] == ["A-1", "86.50", "Chen Jing"]


@pytest.mark.parametrize("count", [3, 30])
def test_the_satisfaction_list_takes_the_same_queries_for_3_or_30(client, admin, django_assert_max_num_queries, count):
    for _index in range(count):
        CustomerSatisfaction.objects.create(
            partner=PartnerFactory(), period="2026-03", score=Decimal("80"), entered_by=ChannelAdminFactory()
        )
    as_user(client, admin)
    with django_assert_max_num_queries(12):
        response = client.get(f"{reverse('performance:satisfaction-list')}?page_size=50")
    assert len(response.context["object_list"]) == count
