"""Races that only a real database server shows (PostgreSQL; skipped on SQLite, which runs one
writer at a time anyway): numbers stay unique and two clashing exclusive grants submitted at the
same moment never both get through."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from agreements import services
from agreements.choices import AgreementStatus
from agreements.models import Agreement
from tests.factories import PartnerFactory, ProductLineFactory

from .domain_world import END, START, admin, draft, region_tree

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs concurrent writers (PostgreSQL)"),
]


def run_at_once(functions):
    """Run each function in its own thread and connection, all released together."""
    barrier = threading.Barrier(len(functions))
    results = [None] * len(functions)

    def run(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except Exception as error:  # noqa: BLE001 - the test inspects what each thread met
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_numbers_stay_unique_when_created_at_once():
    by = admin()
    partner, line = PartnerFactory(), ProductLineFactory()

    def create():
        return services.agreement_create(
            partner=partner, agreement_type="reseller", start_date=START, end_date=END, by=by, product_lines=[line]
        ).number

    numbers = run_at_once([create] * 8)

    assert all(isinstance(number, str) for number in numbers), numbers
    assert len(set(numbers)) == 8
    assert Agreement.objects.count() == 8


def test_two_clashing_submissions_at_once_let_one_through():
    by = admin()
    tree, line = region_tree(), ProductLineFactory()
    first = draft(by=by, lines=[line], territories=[(tree.shanghai, True)])
    second = draft(by=by, lines=[line], territories=[(tree.pudong, True)])

    results = run_at_once(
        [
            lambda: services.agreement_submit(agreement=first, by=by),
            lambda: services.agreement_submit(agreement=second, by=by),
        ]
    )

    assert sum(isinstance(result, Agreement) for result in results) == 1
    assert sum(isinstance(result, ValidationError) for result in results) == 1
    assert Agreement.objects.filter(status=AgreementStatus.PENDING_APPROVAL).count() == 1
