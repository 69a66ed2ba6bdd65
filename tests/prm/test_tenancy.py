"""The one tenancy choke point: `visible_to(user)` on every partner-owned model."""

import pytest
from django.contrib.auth.models import AnonymousUser

from partners.models import Partner, PartnerContact
from tests.factories import (
    AnalystFactory,
    DistributorFactory,
    PartnerContactFactory,
    PartnerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def network():
    own = DistributorFactory(name="Own Distribution")
    own_sub = PartnerFactory(name="Own Sub", parent=own)
    other = DistributorFactory(name="Other Distribution")
    user = UserFactory()
    PartnerContactFactory(partner=own, user=user)
    PartnerContactFactory(partner=own_sub, name="Sub person")
    PartnerContactFactory(partner=other, name="Other person")
    return {"own": own, "own_sub": own_sub, "other": other, "user": user}


def test_a_partner_user_sees_only_their_own_partner(network):
    assert list(Partner.objects.visible_to(network["user"])) == [network["own"]]
    assert set(PartnerContact.objects.visible_to(network["user"]).values_list("partner", flat=True)) == {
        network["own"].pk
    }


def test_sub_partners_are_visible_only_where_a_model_switches_it_on(network, monkeypatch):
    contacts = PartnerContact.objects.all()
    monkeypatch.setattr(type(contacts), "sub_partners_visible", True)
    visible = set(PartnerContact.objects.visible_to(network["user"]).values_list("partner", flat=True))
    assert visible == {network["own"].pk, network["own_sub"].pk}
    # The switch is per model: partners themselves stay limited to the own one.
    assert list(Partner.objects.visible_to(network["user"])) == [network["own"]]


def test_staff_see_everything_and_outsiders_nothing(network):
    assert Partner.objects.visible_to(AnalystFactory()).count() == 3
    assert not Partner.objects.visible_to(AnonymousUser()).exists()
    assert not Partner.objects.visible_to(UserFactory()).exists()  # signed in, no partner
    network["user"].is_active = False
    network["user"].save()
    network["user"].refresh_from_db()
    assert not PartnerContact.objects.visible_to(network["user"]).exists()
