import pytest
from django.conf import settings
from django.db import transaction
from django.test import override_settings
from django.utils import translation
from rest_framework.test import APIClient

from .demo import seed
from .factories import AdminFactory, ChannelAdminFactory, UserFactory, key_client

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Factories set a password on every user; the production hasher makes that take ~0.4 s each."""
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture(autouse=True)
def english_between_tests():
    """A request in Chinese leaves Chinese active in the thread; each test starts in English."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


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


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo data, seeded once for the module (it takes seconds) inside a transaction rolled
    back at the end; each test still runs in its own savepoint, so a test that writes leaves no
    trace. Seeded with the tests' fast hasher, so the demo passwords check in the tests; its files
    go to a temporary media folder."""
    media = tmp_path_factory.mktemp("media")
    with (
        override_settings(PASSWORD_HASHERS=FAST_HASHERS, MEDIA_ROOT=media),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        seed()
        yield
        transaction.set_rollback(True)


@pytest.fixture
def make_key(staff_user):
    """`make_key(scopes, partner=None)`: an API client calling with a new key of those scopes, bound
    to `partner` when given, created by the channel admin `staff_user`."""

    def make(scopes, partner=None):
        return key_client(staff_user, scopes, partner)

    return make


@pytest.fixture(scope="session", autouse=True)
def delete_output_dir():
    """pytest-playwright empties test-results/ at the start of every run, even one without a
    browser test; keep the screenshots of earlier runs (each test overwrites its own)."""
