"""The next person in the approval flow is told: approvers when an agreement is submitted, the
owning manager when it is approved or sent back, the partner's admins when it is in force."""

import pytest
from django.test import override_settings

from agreements import services
from prm.models import Notification
from tests.factories import ChannelAdminFactory, ChannelManagerFactory, PartnerAdminUserFactory, PartnerFactory

from .domain_world import admin, draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    approver = admin()
    manager = ChannelManagerFactory(username="owner-manager", email="owner@example.com", preferred_language="zh-hans")
    partner = PartnerFactory(owner=manager)
    partner_admin = PartnerAdminUserFactory(partner=partner)
    return approver, manager, partner, partner_admin


def inbox(user):
    return list(Notification.objects.filter(recipient=user).order_by("id"))


def test_submitting_tells_the_approvers_but_not_the_submitter(people, mailoutbox, django_capture_on_commit_callbacks):
    approver, manager, partner, _partner_admin = people
    second_approver = ChannelAdminFactory(username="second-approver", email="second@example.com")
    agreement = draft(by=approver, partner=partner)
    with django_capture_on_commit_callbacks(execute=True):
        services.agreement_submit(agreement=agreement, by=approver)
    assert inbox(approver) == []
    [notice] = inbox(second_approver)
    assert agreement.number in notice.subject and "approval" in notice.subject
    assert notice.url == f"/agreements/{agreement.pk}/"
    assert [mail.to for mail in mailoutbox] == [["second@example.com"]]
    assert inbox(manager) == []  # the owner may not approve by default


@override_settings(PRM_AGREEMENT_OWNER_MAY_APPROVE=True)
def test_the_owner_is_an_approver_when_the_setting_allows(people):
    approver, manager, partner, _partner_admin = people
    agreement = draft(by=approver, partner=partner)
    services.agreement_submit(agreement=agreement, by=approver)
    assert len(inbox(manager)) == 1


def test_approval_tells_the_owner_in_their_language_and_the_partner_admins(people):
    approver, manager, partner, partner_admin = people
    agreement = draft(by=approver, partner=partner)
    services.agreement_submit(agreement=agreement, by=approver)
    services.agreement_approve(agreement=agreement, by=approver)
    [owner_notice] = inbox(manager)
    assert agreement.number in owner_notice.subject and "协议" in owner_notice.subject
    [partner_notice] = inbox(partner_admin)
    assert "acknowledge" in partner_notice.message
    assert partner_notice.url == f"/portal/agreements/{agreement.pk}/"


def test_rejection_tells_the_owner_why(people):
    approver, manager, partner, partner_admin = people
    agreement = draft(by=approver, partner=partner)
    services.agreement_submit(agreement=agreement, by=approver)
    services.agreement_reject(agreement=agreement, by=approver, reason="Discount too high")
    [notice] = inbox(manager)
    assert "Discount too high" in notice.message
    assert inbox(partner_admin) == []
