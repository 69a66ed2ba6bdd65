"""Who may change which incentive. Reading is `visible_to` (prm.tenancy); changing is here.

- Policies, statements and their runs: a channel admin, a channel manager, or a vendor API key
  allowed to write `incentives` (prm.roles.can_write_as_staff).
- MDF budgets are set, and MDF requests approved or rejected and claims sent back, by whoever
  may change the partner (partners.access.can_manage_partner: a channel admin, a writing API
  key, the partner's channel manager or the manager of its region).
- A claim is paid by a channel admin (or a writing API key: the finance system).
- MDF requests are drafted, submitted, cancelled and claimed by the partner's own portal users
  (any of them), or on its behalf by staff who may change the partner.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from partners.access import can_manage_partner
from prm.roles import can_write_as_staff, is_channel_admin, is_integration
from prm.tenancy import is_portal_user, partner_of


def can_manage_incentives(user):
    return can_write_as_staff(user) or is_integration(user)


def can_decide_mdf(user, partner):
    return can_manage_partner(user, partner)


def can_pay_mdf(user):
    return is_channel_admin(user) or is_integration(user)


def can_request_mdf(user, partner):
    if is_portal_user(user):
        own = partner_of(user)
        return own is not None and own.pk == partner.pk
    return can_manage_partner(user, partner)


def require_manage_incentives(user):
    if user is not None and not can_manage_incentives(user):
        raise PermissionDenied(_("Only a channel admin or a channel manager can change incentives."))


def require_decide_mdf(user, partner):
    if user is not None and not can_decide_mdf(user, partner):
        raise PermissionDenied(_("You can decide only on the MDF of partners you own or that are in your regions."))


def require_pay_mdf(user):
    if user is not None and not can_pay_mdf(user):
        raise PermissionDenied(_("Only a channel admin can mark MDF claims paid."))


def require_request_mdf(user, partner):
    if user is not None and not can_request_mdf(user, partner):
        raise PermissionDenied(_("You can request MDF only for your own partner."))
