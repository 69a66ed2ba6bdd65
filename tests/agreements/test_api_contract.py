"""What the contract run (bin/contract-test) found in agreements: a PATCH replaces the territories
and minimum prices whole, so a row without its region or product line is a 400 on that row, not a
500, and changes nothing."""

import pytest

from agreements.choices import AgreementStatus
from tests.factories import AgreementFactory, RegionFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("field", "row", "missing"),
    [("territories", {"exclusive": False}, "region"), ("minimum_prices", {"min_unit_price": "10.00"}, "product_line")],
)
def test_a_patched_row_without_its_key_is_a_400_on_the_row(api_client, field, row, missing):
    region = RegionFactory()
    agreement = AgreementFactory(status=AgreementStatus.DRAFT, territories=[region])

    response = api_client.patch(f"/api/v1/agreements/{agreement.pk}/", {field: [row]}, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["errors"][field] == {"0": {missing: ["This field is required."]}}
    assert list(agreement.territories.values_list("region", flat=True)) == [region.pk]
