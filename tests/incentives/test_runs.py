"""Statement runs started from a page or the API: queued, sent to the worker once committed,
progress recorded step by step, one partner or all, a refusal recorded with the service's own
message; and the chunked calculation of a whole period, which gives the same result whatever the
chunk size and empties the statements of partners that no longer earn."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from incentives import services, tasks
from incentives.choices import StatementStatus
from incentives.models import PolicyAssignment, RebateStatement, StatementLine
from prm.jobs import JobProgress
from prm.models import JobRun
from sales.models import SalesLine
from tests.factories import AnalystFactory, OverridePolicyFactory, PartnerFactory, RebatePolicyFactory

from .world import PERIOD, admin, assign, network, sell

pytestmark = pytest.mark.django_db

JOB = "incentives.rebate_statements_run"


@pytest.fixture
def sent(monkeypatch):
    """The run ids sent to the worker (nothing reaches a broker)."""
    ids = []
    monkeypatch.setattr(tasks.rebate_statements_run, "delay", ids.append)
    return ids


def earners(count=3, policy=None):
    policy = policy or RebatePolicyFactory()
    partners = []
    for index in range(count):
        partner = PartnerFactory()
        assign(partner, policy)
        sell(partner, f"{1000 + 1400 * index}.00")  # 1000, 2400, 3800 → 100, 380, 740 (marginal)
        partners.append(partner)
    return partners


def lines():
    return sorted(
        StatementLine.objects.values_list(
            "statement__partner_id", "kind", "bracket_threshold", "source_partner_id", "level", "amount"
        )
    )


def totals():
    return dict(RebateStatement.objects.exclude(status=StatementStatus.CANCELLED).values_list("partner_id", "total"))


def execute(run):
    """What the worker does with a run id."""
    return tasks.rebate_statements_run.apply(args=[run.pk])


# Starting a run ---------------------------------------------------------------------------------


def test_a_run_is_queued_and_sent_to_the_worker_once_committed(sent, django_capture_on_commit_callbacks):
    by = admin()
    partner = PartnerFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = services.statement_run_start(by=by, period=PERIOD, partner=partner)
        assert sent == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    assert sent == [run.pk]
    run.refresh_from_db()
    assert (run.job, run.status, run.started_by, run.total, run.done) == (JOB, JobRun.Status.QUEUED, by, None, 0)
    assert run.params == {"period": PERIOD, "partner": partner.pk}
    assert run.percent == 0 and not run.is_finished


def test_a_run_for_all_partners_names_none(sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.statement_run_start(by=admin(), period="2026-Q1")
    assert run.params == {"period": "2026-Q1", "partner": None} and sent == [run.pk]


def test_only_those_who_manage_incentives_start_runs_and_the_period_must_be_one(sent):
    with pytest.raises(PermissionDenied):
        services.statement_run_start(by=AnalystFactory(), period=PERIOD)
    with pytest.raises(ValidationError) as caught:
        services.statement_run_start(by=admin(), period="March")
    assert "period" in caught.value.message_dict
    assert not JobRun.objects.exists() and sent == []


# Running it -------------------------------------------------------------------------------------


def test_a_run_for_one_partner_calculates_its_statement_with_progress(sent):
    by = admin()
    partner, _other, _third = earners()
    run = services.statement_run_start(by=by, period=PERIOD, partner=partner)

    result = execute(run)

    assert result.successful() and result.get() == {"calculated": 1}
    run.refresh_from_db()
    assert (run.status, run.total, run.done, run.rows_written, run.percent) == (JobRun.Status.SUCCEEDED, 1, 1, 1, 100)
    assert run.started_at and run.finished_at and run.error == ""
    assert totals() == {partner.pk: Decimal("100.00")}  # only that partner


def test_a_run_for_all_partners_calculates_every_statement(sent):
    partners = earners()
    net = network()
    OverridePolicyFactory(rates={1: 3, 2: 1})
    sell(net.seller, "10000.00")
    run = services.statement_run_start(by=admin(), period=PERIOD)

    result = execute(run)

    assert result.get() == {"calculated": 5, "locked": 0, "lines": 8}
    run.refresh_from_db()
    assert (run.status, run.done, run.total, run.rows_written) == (JobRun.Status.SUCCEEDED, 1, 1, 5)
    assert totals() == {
        partners[0].pk: Decimal("100.00"),
        partners[1].pk: Decimal("380.00"),
        partners[2].pk: Decimal("740.00"),
        net.mid.pk: Decimal("300.00"),
        net.top.pk: Decimal("100.00"),
    }


def test_a_run_for_an_approved_statement_is_refused_at_once(sent):
    by = admin()
    partner, *_others = earners()
    statement = services.statement_approve(
        statement=services.statement_calculate(partner=partner, period=PERIOD, by=by), by=by
    )
    with pytest.raises(ValidationError) as caught:
        services.statement_run_start(by=by, period=PERIOD, partner=partner)
    assert caught.value.message_dict["partner"] == [
        f"The statement {statement} is Approved and never changes; correct it with an adjustment on a later statement."
    ]
    assert not JobRun.objects.exists() and sent == []


def test_a_run_refused_in_the_worker_is_recorded_as_failed_with_the_services_message(sent):
    by = admin()
    partner, *_others = earners()
    statement = services.statement_calculate(partner=partner, period=PERIOD, by=by)
    run = services.statement_run_start(by=by, period=PERIOD, partner=partner)
    statement = services.statement_approve(statement=statement, by=by)  # before the worker gets to it
    sell(partner, "1000.00")

    result = execute(run)

    assert result.failed() and isinstance(result.result, ValidationError)
    run.refresh_from_db()
    assert (run.status, run.total, run.done, run.rows_written) == (JobRun.Status.FAILED, 1, 0, 0)
    assert run.error == (
        f"The statement {statement} is Approved and never changes; correct it with an adjustment on a later statement."
    )
    assert run.finished_at is not None and run.is_finished and run.percent == 0
    statement.refresh_from_db()
    assert statement.total == Decimal("100.00") and statement.status == StatementStatus.APPROVED


def test_a_run_for_all_partners_leaves_approved_statements_and_succeeds(sent):
    by = admin()
    first, second, _third = earners()
    services.statement_approve(statement=services.statement_calculate(partner=first, period=PERIOD), by=by)
    sell(first, "5000.00")
    sell(second, "1400.00")  # 3800 → 740

    result = execute(services.statement_run_start(by=by, period=PERIOD))

    assert result.get()["locked"] == 1
    assert totals()[first.pk] == Decimal("100.00") and totals()[second.pk] == Decimal("740.00")


class Recorder(JobProgress):
    """JobProgress that reads the run back from the database after each step, as the polling
    page would."""

    def __init__(self, run):
        super().__init__(run)
        self.seen = []

    def set_total(self, total):
        super().set_total(total)
        self.seen.append(JobRun.objects.values_list("done", "total").get(pk=self.run.pk))

    def advance(self, steps=1, rows=0):
        super().advance(steps, rows)
        self.seen.append(JobRun.objects.values_list("done", "total", "rows_written").get(pk=self.run.pk))


def test_progress_is_saved_one_chunk_at_a_time():
    earners(5)
    progress = Recorder(JobRun.objects.create(job=JOB, status=JobRun.Status.RUNNING))

    services.statements_calculate_all(period=PERIOD, progress=progress, chunk_size=2)

    assert progress.seen == [(0, 3), (1, 3, 2), (2, 3, 4), (3, 3, 5)]


# Chunks -----------------------------------------------------------------------------------------


def world():
    partners = earners(4)
    net = network()
    OverridePolicyFactory(rates={1: 3, 2: 1})
    sell(net.seller, "10000.00")
    sell(net.leaf, "2000.00")
    return partners, net


def test_chunks_of_one_give_the_same_statements_as_the_default():
    world()
    default_counts = services.statements_calculate_all(period=PERIOD)
    expected_lines, expected_totals = lines(), totals()
    RebateStatement.objects.all().delete()

    counts = services.statements_calculate_all(period=PERIOD, chunk_size=1)

    assert counts == default_counts
    assert lines() == expected_lines and totals() == expected_totals
    # And again over what is there: idempotent whatever the chunk size.
    assert services.statements_calculate_all(period=PERIOD, chunk_size=3) == default_counts
    assert lines() == expected_lines and RebateStatement.objects.count() == len(expected_totals)


@pytest.mark.parametrize("chunk_size", [1, 500])
def test_a_partner_that_no_longer_earns_has_its_calculated_statement_emptied(chunk_size):
    by = admin()
    (unassigned, approved_one, *_rest), net = world()
    approved_statement = services.statement_approve(
        statement=services.statement_calculate(partner=approved_one, period=PERIOD), by=by
    )
    services.statements_calculate_all(period=PERIOD, chunk_size=chunk_size)
    assert totals()[unassigned.pk] == Decimal("100.00") and totals()[net.seller.pk] == Decimal("60.00")

    link = PolicyAssignment.objects.get(agreement__partner=unassigned)
    services.policy_unassign(agreement=link.agreement, policy=link.policy, by=by)  # no policy any more
    SalesLine.objects.filter(partner=net.leaf).delete()  # the seller's only override came from the leaf
    SalesLine.objects.filter(partner=approved_one).delete()  # too late: approved stays as it is
    counts = services.statements_calculate_all(period=PERIOD, chunk_size=chunk_size)

    for partner in (unassigned, net.seller):
        emptied = RebateStatement.objects.get(partner=partner)
        assert (emptied.status, emptied.total, emptied.lines.exists()) == (
            StatementStatus.CALCULATED, Decimal("0.00"), False,
        )  # fmt: skip
    approved_statement.refresh_from_db()
    assert approved_statement.total == Decimal("380.00") and approved_statement.lines.count() == 2
    assert counts["locked"] == 1
    assert totals()[net.mid.pk] == Decimal("300.00")  # 3 % of the seller's own sales still
