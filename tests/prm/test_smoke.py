from tests.factories import DistributorFactory, PartnerFactory


def test_partner_page_shows_its_sub_partners(staff_client):
    parent = DistributorFactory(name="Huaxin Distribution")
    child = PartnerFactory(parent=parent, name="Tianyu Tech")
    response = staff_client.get(parent.get_absolute_url())
    assert response.status_code == 200
    assert child.name in response.content.decode()
