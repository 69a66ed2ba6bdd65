import pytest
from rest_framework.test import APIClient

from .factories import AdminFactory, ChannelAdminFactory, UserFactory


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Factories set a password on every user; the production hasher makes that take ~0.4 s each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff_user(db):
    """Vendor staff with the channel admin role: may read and change everything."""
    return ChannelAdminFactory(username="manager")


@pytest.fixture
def admin_user(db):
    return AdminFactory(username="admin")


@pytest.fixture
def plain_user(db):
    """Signed in, but not vendor staff (a partner's user)."""
    return UserFactory(username="outsider")


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def api_client(staff_user):
    api = APIClient()
    api.force_authenticate(staff_user)
    return api
