"""A region flag's workflow: open → acknowledged → action plan → resolved, every other move refused
with a clear "status" error and nothing changed, the plan checked field by field, only the channel
team's writers allowed, and every move recorded in the history."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from performance import services
from performance.choices import FlagStatus, Measure
from performance.models import RegionFlag
from prm.models import AuditEntry, Notification
from tests.factories import AnalystFactory, ChannelManagerFactory, PartnerFactory, PartnerUserFactory, StaffFactory

from .flag_world import MONTH, given, tree

pytestmark = pytest.mark.django_db

TOMORROW = timezone.localdate() + timedelta(days=1)


@pytest.fixture
def flag():
    regions = tree()
    given(kpis={regions["P"]: {"target_attainment": "0.5"}})
    services.flags_evaluate(period=MONTH)
    return RegionFlag.objects.get()


@pytest.fixture
def manager():
    return ChannelManagerFactory()


def plan(flag, by, **changes):
    values = {"measures": [Measure.TRAINING], "owner": by, "due_date": TOMORROW, "plan": "", **changes}
    return services.flag_plan(flag=flag, by=by, **values)


def status_of(flag):
    return RegionFlag.objects.get(pk=flag.pk).status


def history(flag):
    return list(
        AuditEntry.objects.filter(object_type="performance.regionflag", object_id=str(flag.pk))
        .order_by("at", "id")
        .values_list("actor_id", "changes")
    )


def test_a_flag_goes_open_acknowledged_action_plan_resolved_and_each_move_is_recorded(flag, manager):
    assert flag.status == FlagStatus.OPEN
    owner = ChannelManagerFactory()

    flag = services.flag_acknowledge(flag=flag, by=manager)
    assert (flag.status, flag.acknowledged_by) == (FlagStatus.ACKNOWLEDGED, manager)
    assert flag.acknowledged_at is not None

    flag = plan(flag, manager, measures=["training", "other", "training"], owner=owner, plan=" Visit the shops ")
    flag.refresh_from_db()
    assert flag.status == FlagStatus.ACTION_PLAN
    assert (flag.measures, flag.owner, flag.due_date, flag.plan) == (
        ["training", "other"],
        owner,
        TOMORROW,
        "Visit the shops",
    )
    assert [str(label) for label in flag.measure_labels] == ["More training", "Other"]

    flag = services.flag_resolve(flag=flag, resolution=" Two partners retrained. ", by=manager)
    flag.refresh_from_db()
    assert (flag.status, flag.resolution, flag.resolved_by) == (
        FlagStatus.RESOLVED,
        "Two partners retrained.",
        manager,
    )
    assert flag.resolved_at is not None

    entries = history(flag)
    assert [changes["status"] for _actor, changes in entries] == [
        ["open", "acknowledged"],
        ["acknowledged", "action_plan"],
        ["action_plan", "resolved"],
    ]
    assert {actor for actor, _changes in entries} == {manager.pk}
    assert entries[1][1]["plan"][1] == [["training", "other"], owner.pk, TOMORROW.isoformat(), "Visit the shops"]
    assert entries[2][1]["resolution"] == ["", "Two partners retrained."]


def test_the_owner_of_a_plan_is_told_unless_they_made_it(flag, manager):
    services.flag_acknowledge(flag=flag, by=manager)
    plan(flag, manager)
    assert not Notification.objects.exists()
    owner = ChannelManagerFactory()
    plan(flag, manager, owner=owner)
    notice = Notification.objects.get()
    assert notice.recipient == owner
    assert "Province P" in notice.subject and MONTH in notice.subject


def test_a_plan_can_be_changed_while_the_flag_is_in_action_plan(flag, manager):
    services.flag_acknowledge(flag=flag, by=manager)
    plan(flag, manager)
    later = TOMORROW + timedelta(days=30)
    plan(flag, manager, measures=["recruit", "replace"], due_date=later)
    flag.refresh_from_db()
    assert (flag.status, flag.measures, flag.due_date) == (FlagStatus.ACTION_PLAN, ["recruit", "replace"], later)
    assert [changes["status"] for _actor, changes in history(flag)][-1] == ["action_plan", "action_plan"]


def refused(call):
    with pytest.raises(ValidationError) as error:
        call()
    return error.value.message_dict


def test_every_move_out_of_order_is_refused_with_a_status_error_and_changes_nothing(flag, manager):
    def moves():
        return {
            "acknowledge": lambda: services.flag_acknowledge(flag=flag, by=manager),
            "plan": lambda: plan(flag, manager),
            "resolve": lambda: services.flag_resolve(flag=flag, resolution="Done", by=manager),
        }

    legal = {
        FlagStatus.OPEN: "acknowledge",
        FlagStatus.ACKNOWLEDGED: "plan",
        FlagStatus.ACTION_PLAN: "resolve",
        FlagStatus.RESOLVED: None,
    }
    for status, allowed in legal.items():
        assert status_of(flag) == status
        before = RegionFlag.objects.filter(pk=flag.pk).values().get()
        entries = len(history(flag))
        for name, move in moves().items():
            if name == allowed or (name == "plan" and status == FlagStatus.ACTION_PLAN):
                continue
            errors = refused(move)
            assert list(errors) == ["status"], (status, name)
            assert RegionFlag.objects.filter(pk=flag.pk).values().get() == before
            assert len(history(flag)) == entries
        if allowed:
            moves()[allowed]()


def test_the_status_error_names_both_states(flag, manager):
    errors = refused(lambda: services.flag_resolve(flag=flag, resolution="Done", by=manager))
    assert errors == {"status": ["A flag that is Open cannot become Resolved."]}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"measures": []}, "measures", "Choose at least one measure."),
        ({"measures": ["  "]}, "measures", "Choose at least one measure."),
        ({"measures": ["training", "bribes"]}, "measures", "Unknown measure: bribes."),
        ({"owner": None}, "owner", "Choose who owns the action plan."),
        ({"due_date": None}, "due_date", "Enter the date the plan is due."),
        ({"due_date": timezone.localdate() - timedelta(days=1)}, "due_date", "The due date cannot be in the past."),
        ({"measures": ["other"], "plan": "   "}, "plan", "Describe the measure when you choose “Other”."),
    ],
)
def test_a_bad_plan_is_refused_field_by_field_and_changes_nothing(flag, manager, changes, field, message):
    services.flag_acknowledge(flag=flag, by=manager)
    before = RegionFlag.objects.filter(pk=flag.pk).values().get()
    errors = refused(lambda: plan(flag, manager, **changes))
    assert errors == {field: [message]}
    assert RegionFlag.objects.filter(pk=flag.pk).values().get() == before


@pytest.mark.parametrize(
    "make_owner",
    [
        lambda: PartnerUserFactory(partner=PartnerFactory()),
        lambda: ChannelManagerFactory(is_active=False),
    ],
    ids=["partner user", "inactive staff"],
)
def test_the_owner_must_be_an_active_member_of_the_channel_team(flag, manager, make_owner):
    services.flag_acknowledge(flag=flag, by=manager)
    errors = refused(lambda: plan(flag, manager, owner=make_owner()))
    assert errors == {"owner": ["The owner must be an active member of the channel team."]}


def test_every_plan_error_is_reported_at_once(flag, manager):
    services.flag_acknowledge(flag=flag, by=manager)
    errors = refused(lambda: plan(flag, manager, measures=[], owner=None, due_date=None))
    assert set(errors) == {"measures", "owner", "due_date"}


def test_a_due_date_of_today_is_accepted(flag, manager):
    services.flag_acknowledge(flag=flag, by=manager)
    assert plan(flag, manager, due_date=timezone.localdate()).due_date == timezone.localdate()


def test_resolving_needs_to_say_how(flag, manager):
    services.flag_acknowledge(flag=flag, by=manager)
    plan(flag, manager)
    errors = refused(lambda: services.flag_resolve(flag=flag, resolution="  ", by=manager))
    assert errors == {"resolution": ["Say how the flag was resolved."]}
    assert status_of(flag) == FlagStatus.ACTION_PLAN


@pytest.mark.parametrize(
    "make_user",
    [AnalystFactory, StaffFactory, lambda: PartnerUserFactory(partner=PartnerFactory())],
    ids=["analyst", "read-only staff", "partner user"],
)
def test_only_the_channel_teams_writers_can_move_a_flag(flag, manager, make_user):
    user = make_user()
    with pytest.raises(PermissionDenied):
        services.flag_acknowledge(flag=flag, by=user)
    services.flag_acknowledge(flag=flag, by=manager)
    with pytest.raises(PermissionDenied):
        plan(flag, user, owner=manager)
    plan(flag, manager)
    with pytest.raises(PermissionDenied):
        services.flag_resolve(flag=flag, resolution="Done", by=user)
    assert status_of(flag) == FlagStatus.ACTION_PLAN
    assert len(history(flag)) == 2


def test_flags_are_visible_to_staff_only(flag):
    assert list(RegionFlag.objects.visible_to(AnalystFactory())) == [flag]
    assert not RegionFlag.objects.visible_to(PartnerUserFactory(partner=PartnerFactory())).exists()
