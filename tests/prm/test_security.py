"""Account security: sign-in lockout, the security log (sign-ins and permission changes),
password change signing out other sessions, CSRF, and the per-user language preference."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from prm.audit import current_actor
from prm.models import AuditEntry
from prm.roles import Role
from tests.factories import AnalystFactory, ChannelAdminFactory, ChannelManagerFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pass12345"  # what UserFactory sets


@pytest.fixture
def wang():
    return UserFactory(username="wang.lei", email="wang.lei@example.com", display_name="Wang Lei")


@pytest.fixture
def limit_three(settings):
    settings.AXES_FAILURE_LIMIT = 3
    return 3


def sign_in(client, username, password, address="10.0.0.1"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def entries(action, **filters):
    return AuditEntry.objects.filter(action=action, object_type="prm.user", **filters)


# Lockout ---------------------------------------------------------------------------------------


def test_the_account_locks_at_the_configured_number_of_failures(client, wang, limit_three):
    for _attempt in range(limit_three - 1):
        assert sign_in(client, "wang.lei", "wrong").status_code == 200  # the form again, with its error
    response = sign_in(client, "wang.lei", "wrong")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()

    # Now even the right password is refused, and nobody is signed in.
    response = sign_in(client, "wang.lei", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "30 minutes" in response.content.decode()
    assert entries(AuditEntry.Action.LOCKED_OUT, object_id=str(wang.pk)).exists()


def test_failures_by_email_and_by_username_count_against_the_same_account(client, wang, limit_three):
    sign_in(client, "wang.lei", "wrong")
    sign_in(client, "WANG.LEI@example.com", "wrong")
    assert sign_in(client, "Wang.Lei", "wrong").status_code == 429


def test_fewer_failures_than_the_limit_do_not_lock_and_a_success_resets_the_count(client, wang, limit_three):
    sign_in(client, "wang.lei", "wrong")
    sign_in(client, "wang.lei", "wrong")
    assert sign_in(client, "wang.lei", PASSWORD).status_code == 302
    client.post("/logout/")
    # The count started again: two more failures still leave the account open.
    sign_in(client, "wang.lei", "wrong")
    sign_in(client, "wang.lei", "wrong")
    assert sign_in(client, "wang.lei", PASSWORD).status_code == 302


def test_a_lockout_from_one_address_does_not_lock_the_account_elsewhere(client, wang, limit_three):
    for _attempt in range(limit_three):
        sign_in(client, "wang.lei", "wrong", address="203.0.113.9")
    assert sign_in(client, "wang.lei", PASSWORD, address="203.0.113.9").status_code == 429
    assert sign_in(Client(), "wang.lei", PASSWORD, address="10.1.1.1").status_code == 302


def test_the_lockout_page_is_translated(client, wang, limit_three):
    for _attempt in range(limit_three):
        sign_in(client, "wang.lei", "wrong")
    response = client.post(
        "/login/",
        {"username": "wang.lei", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()


# The security log --------------------------------------------------------------------------------


def test_sign_in_failure_and_sign_out_are_recorded_with_the_address(client, wang):
    sign_in(client, "wang.lei@example.com", "wrong", address="198.51.100.7")
    failed = entries(AuditEntry.Action.LOGIN_FAILED).get()
    assert failed.object_id == str(wang.pk)
    assert failed.changes == {"username": "wang.lei@example.com", "ip_address": "198.51.100.7"}
    assert "wrong" not in str(failed.changes)

    sign_in(client, "wang.lei", PASSWORD, address="198.51.100.7")
    login = entries(AuditEntry.Action.LOGIN).get()
    assert (login.actor, login.object_id, login.changes["ip_address"]) == (wang, str(wang.pk), "198.51.100.7")

    client.post("/logout/")
    assert entries(AuditEntry.Action.LOGOUT, object_id=str(wang.pk)).count() == 1


def test_an_attempt_on_an_unknown_account_is_recorded_under_the_typed_name(client):
    sign_in(client, "nobody", "guess")
    entry = entries(AuditEntry.Action.LOGIN_FAILED).get()
    assert (entry.object_id, entry.object_repr) == ("", "nobody")


def test_role_changes_are_recorded_with_who_made_them(wang):
    admin = ChannelAdminFactory()
    managers = Group.objects.get(name=Role.CHANNEL_MANAGER)
    token = current_actor.set(admin)
    try:
        wang.groups.add(managers)
        managers.user_set.remove(wang)
    finally:
        current_actor.reset(token)
    added, removed = entries(AuditEntry.Action.PERMISSIONS, object_id=str(wang.pk)).order_by("id")
    assert added.actor == removed.actor == admin
    assert added.changes == {"groups": ["", Role.CHANNEL_MANAGER.value]}
    assert removed.changes == {"groups": [Role.CHANNEL_MANAGER.value, ""]}


def test_staff_superuser_and_active_flags_are_recorded(wang):
    wang.is_staff = True
    wang.is_active = False
    wang.save()
    entry = entries(AuditEntry.Action.PERMISSIONS, object_id=str(wang.pk)).get()
    assert entry.changes == {"is_staff": [False, True], "is_active": [True, False]}
    # A sign-in's last_login update is not a permission change.
    wang.save(update_fields=["last_login"])
    assert entries(AuditEntry.Action.PERMISSIONS, object_id=str(wang.pk)).count() == 1


def test_groups_changed_in_the_admin_name_the_admin(client):
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    target = UserFactory(username="li.na")
    analysts = Group.objects.get(name=Role.ANALYST)
    client.force_login(superuser)
    form = client.get(f"/admin/prm/user/{target.pk}/change/").context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        username="li.na",
        groups=[analysts.pk],
        user_permissions=[],
        date_joined_0=target.date_joined.strftime("%Y-%m-%d"),
        date_joined_1=target.date_joined.strftime("%H:%M:%S"),
        is_active="on",
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)
    data.pop("password", None)
    response = client.post(f"/admin/prm/user/{target.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    entry = entries(AuditEntry.Action.PERMISSIONS, object_id=str(target.pk)).get()
    assert entry.actor == superuser
    assert entry.changes == {"groups": ["", Role.ANALYST.value]}


def test_only_channel_admins_read_the_security_log(client, wang):
    sign_in(Client(), "wang.lei", "wrong")
    for user in (ChannelManagerFactory(), AnalystFactory(), wang):
        client.force_login(user)
        assert client.get("/security/").status_code == 403
    client.force_login(ChannelAdminFactory())
    response = client.get("/security/")
    assert response.status_code == 200
    assert "wang.lei" in response.content.decode()


def test_the_security_log_filters_and_exports(client, wang):
    sign_in(Client(), "wang.lei", "wrong", address="192.0.2.1")
    sign_in(Client(), "wang.lei", PASSWORD, address="192.0.2.2")
    client.force_login(ChannelAdminFactory())
    response = client.get("/security/", {"action": "login_failed"})
    assert [entry.action for entry in response.context["entries"]] == ["login_failed"]
    assert client.get("/security/", {"action": "bogus"}).context["entries"].__len__() == 0
    export = client.get("/security/", {"who": "wang", "export": "csv"})
    lines = b"".join(export.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Time,Event,User,By,IP address")
    assert any("Sign-in failed" in line and "192.0.2.1" in line for line in lines[1:])


def test_the_security_log_query_count_does_not_grow_with_entries(client, django_assert_max_num_queries):
    client.force_login(ChannelAdminFactory())
    for index in range(40):
        sign_in(Client(), f"user{index}", "wrong")
    with django_assert_max_num_queries(8):
        assert client.get("/security/").status_code == 200


# Password, CSRF, preferences ----------------------------------------------------------------------


def test_changing_the_password_signs_the_account_out_everywhere_else(wang):
    here, elsewhere = Client(), Client()
    recorded_before = entries(AuditEntry.Action.PASSWORD, object_id=str(wang.pk)).count()
    here.force_login(wang)
    elsewhere.force_login(wang)
    response = here.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": "Qz!8-harbour-lantern", "new_password2": "Qz!8-harbour-lantern"},
    )
    assert response.status_code == 302
    assert here.get("/account/").status_code == 200  # this session stays signed in
    assert elsewhere.get("/account/").status_code == 302  # the other one is sent to sign in
    changes = entries(AuditEntry.Action.PASSWORD, object_id=str(wang.pk)).order_by("id")
    assert changes.count() == recorded_before + 1
    assert changes.last().actor == wang


def test_a_weak_password_is_refused_with_the_validators_reason(client, wang):
    client.force_login(wang)
    response = client.post(
        "/account/password/", {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"}
    )
    assert response.status_code == 200
    assert "too common" in str(response.context["form"].errors["new_password2"])
    wang.refresh_from_db()
    assert wang.check_password(PASSWORD)


def test_forms_refuse_a_post_without_a_csrf_token(wang):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/login/", {"username": "wang.lei", "password": PASSWORD}).status_code == 403
    strict.force_login(wang)
    assert strict.post("/account/", {"display_name": "Changed"}).status_code == 403
    wang.refresh_from_db()
    assert wang.display_name == "Wang Lei"


def test_the_account_page_saves_name_and_language_but_no_privileges(client, wang):
    client.force_login(wang)
    response = client.post(
        "/account/", {"display_name": "王磊", "preferred_language": "zh-hans", "is_staff": "on", "is_superuser": "on"}
    )
    assert response.status_code == 302
    wang.refresh_from_db()
    assert (wang.display_name, wang.preferred_language, wang.is_staff, wang.is_superuser) == (
        "王磊",
        "zh-hans",
        False,
        False,
    )
    assert 'lang="zh-hans"' in client.get("/account/").content.decode()


def test_the_language_switcher_becomes_the_users_preference(client, wang):
    client.force_login(wang)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/account/"})
    wang.refresh_from_db()
    assert wang.preferred_language == "zh-hans"
    client.post("/i18n/setlang/", {"language": "en", "next": "/account/"})
    wang.refresh_from_db()
    assert wang.preferred_language == "en"
    client.post("/i18n/setlang/", {"language": "xx", "next": "/account/"})
    wang.refresh_from_db()
    assert wang.preferred_language == "en"


def test_a_managers_region_assignment_is_a_recorded_permission_change():
    from tests.factories import ManagerRegionFactory

    assignment = ManagerRegionFactory()
    manager, region = assignment.manager, assignment.region
    assignment.delete()
    recorded = entries(AuditEntry.Action.PERMISSIONS, object_id=str(manager.pk), changes__has_key="managed_region")
    added, removed = recorded.order_by("id")
    assert added.changes == {"managed_region": [None, str(region)]}
    assert removed.changes == {"managed_region": [str(region), None]}


def test_the_role_groups_come_from_a_migration():
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)


def test_a_visitor_can_switch_the_sign_in_page_to_chinese(client):
    assert 'name="language"' in client.get("/login/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/login/"}, follow=True)
    assert 'lang="zh-hans"' in response.content.decode()
    assert "登录" in response.content.decode()
