"""Notifications (prm.notifications): in the list always, by email when asked and possible, in
each recipient's language, once per dedupe key; the page, opening one, "mark all read", and the
unread badge in the top bar."""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from prm.models import Notification
from prm.notifications import notify
from tests.factories import PartnerAdminUserFactory, PartnerFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    def send_now(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return notify(**kwargs)

    return send_now


def test_everyone_gets_a_notification_and_an_email(send):
    first, second = StaffFactory(email="one@example.com"), StaffFactory(email="two@example.com")

    created = send(recipients=[first, second, first, None], subject="Subject", message="Body", url="/partners/")

    assert len(created) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["one@example.com", "two@example.com"]
    assert mail.outbox[0].subject == "Subject" and mail.outbox[0].body.startswith("Body")
    assert "/partners/" in mail.outbox[0].body
    assert Notification.objects.filter(recipient=first, url="/partners/", read_at=None).count() == 1


def test_no_email_when_not_asked_or_no_address(send):
    with_address, without = StaffFactory(email="a@example.com"), StaffFactory(email="")

    send(recipients=[with_address], subject="Quiet", message="", email=False)
    send(recipients=[without], subject="No address", message="")

    assert mail.outbox == []
    assert Notification.objects.count() == 2
    assert not Notification.objects.filter(emailed=True).exists()


def test_a_dedupe_key_makes_the_second_call_a_no_op_per_recipient(send):
    first, second = StaffFactory(), StaffFactory()
    send(recipients=[first], subject="Once", message="", dedupe_key="reminder:1")

    created = send(recipients=[first, second], subject="Once", message="", dedupe_key="reminder:1")

    assert [n.recipient for n in created] == [second]
    assert Notification.objects.filter(dedupe_key="reminder:1").count() == 2
    assert len(mail.outbox) == 2


def test_each_recipient_reads_it_in_their_language(send):
    english = StaffFactory(email="en@example.com", preferred_language="en")
    chinese = StaffFactory(email="zh@example.com", preferred_language="zh-hans")
    browser = StaffFactory(email="default@example.com", preferred_language="")

    send(recipients=[english, chinese, browser], subject=gettext_lazy("Sign out"), message=lambda: "x")

    subjects = dict(Notification.objects.values_list("recipient__email", "subject"))
    assert subjects == {"en@example.com": "Sign out", "zh@example.com": "退出登录", "default@example.com": "Sign out"}
    assert {m.to[0]: m.subject for m in mail.outbox}["zh@example.com"] == "退出登录"


# The page ------------------------------------------------------------------------------------


def make(user, count, **kwargs):
    return [Notification.objects.create(recipient=user, subject=f"Note {i}", **kwargs) for i in range(count)]


def test_the_page_lists_ones_own_newest_first(client):
    user, other = StaffFactory(), StaffFactory()
    make(user, 2)
    Notification.objects.create(recipient=other, subject="Not yours")
    client.force_login(user)

    response = client.get(reverse("notifications"))

    assert response.status_code == 200
    assert [n.subject for n in response.context["notifications"]] == ["Note 1", "Note 0"]
    assert "Not yours" not in response.content.decode()


def test_the_page_paginates(client):
    user = StaffFactory()
    make(user, 30)
    client.force_login(user)

    first = client.get(reverse("notifications"))
    beyond = client.get(reverse("notifications"), {"page": 99})

    assert len(first.context["notifications"]) == 25
    assert len(beyond.context["notifications"]) == 5


def test_partner_users_have_the_page_too_and_strangers_sign_in(client):
    user = PartnerAdminUserFactory(partner=PartnerFactory())
    make(user, 1)

    assert client.get(reverse("notifications")).status_code == 302
    client.force_login(user)
    assert client.get(reverse("notifications")).status_code == 200


def test_opening_one_marks_it_read_and_follows_its_link(client):
    user = StaffFactory()
    notification = Notification.objects.create(recipient=user, subject="Go", url="/partners/")
    client.force_login(user)

    response = client.get(reverse("notification-open", args=[notification.pk]))

    assert response.status_code == 302 and response["Location"] == "/partners/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_a_link_to_another_site_is_not_followed(client):
    user = StaffFactory()
    notification = Notification.objects.create(recipient=user, subject="Phish", url="https://evil.example/")
    client.force_login(user)

    response = client.get(reverse("notification-open", args=[notification.pk]))

    assert response["Location"] == reverse("notifications")


def test_someone_elses_notification_is_not_found(client):
    theirs = Notification.objects.create(recipient=StaffFactory(), subject="Private")
    client.force_login(StaffFactory())

    assert client.get(reverse("notification-open", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read(client):
    user, other = StaffFactory(), StaffFactory()
    make(user, 3)
    make(other, 1)
    client.force_login(user)

    response = client.post(reverse("notifications"))

    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=user, read_at=None).exists()
    assert Notification.objects.filter(recipient=other, read_at=None).count() == 1


def test_the_badge_counts_unread_in_one_query(client):
    user = StaffFactory()
    make(user, 3)
    make(user, 2, read_at=timezone.now())
    client.force_login(user)

    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("account")).content.decode()

    assert 'data-testid="unread-notifications">3<' in page
    assert len([q for q in queries.captured_queries if "prm_notification" in q["sql"]]) == 1


def test_no_badge_without_unread(client):
    user = UserFactory()
    client.force_login(user)

    page = client.get(reverse("account")).content.decode()

    assert "unread-notifications" not in page
