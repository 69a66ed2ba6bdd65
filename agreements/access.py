"""Who may change which agreement. Reading is `visible_to` (prm.tenancy); changing is here.

- Whoever may change a partner (partners.access.can_manage_partner: a channel admin, a vendor
  API key allowed to write, the partner's channel manager or the manager of its region) drafts,
  edits, submits, withdraws, terminates, renews and amends its agreements, sets their targets and
  uploads their documents.
- Approving (and rejecting) is a channel admin's call; the channel manager who owns the agreement
  approves too when settings.PRM_AGREEMENT_OWNER_MAY_APPROVE is on.
- Region targets are set by a channel admin or the manager of the region (or a region above it).
- Partner users never write, except that a user of the partner acknowledges its active agreement.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from partners.access import can_manage_partner, managed_region_paths
from prm.roles import is_channel_admin, is_channel_manager, is_integration
from prm.tenancy import is_portal_user, partner_of


def can_manage_agreement(user, agreement):
    return can_manage_partner(user, agreement.partner)


def owning_manager_id(agreement):
    """The channel manager responsible for the agreement: its own owner, else the partner's."""
    return agreement.owner_id or agreement.partner.owner_id


def can_approve_agreement(user, agreement):
    if is_channel_admin(user) or is_integration(user):
        return True
    return bool(
        settings.PRM_AGREEMENT_OWNER_MAY_APPROVE
        and is_channel_manager(user)
        and owning_manager_id(agreement) == user.pk
    )


def can_acknowledge_agreement(user, agreement):
    """A portal user of the agreement's own partner."""
    if not is_portal_user(user):
        return False
    own = partner_of(user)
    return own is not None and own.pk == agreement.partner_id


def can_manage_region_targets(user, region):
    if is_channel_admin(user) or is_integration(user):
        return True
    return is_channel_manager(user) and any(region.path.startswith(path) for path in managed_region_paths(user))


def require_manage_agreement(user, agreement):
    if not can_manage_agreement(user, agreement):
        raise PermissionDenied(_("You can change only the agreements of partners you own or that are in your regions."))


def require_manage_partner_agreements(user, partner):
    if not can_manage_partner(user, partner):
        raise PermissionDenied(_("You can change only the agreements of partners you own or that are in your regions."))


def require_approve_agreement(user, agreement):
    if not can_approve_agreement(user, agreement):
        raise PermissionDenied(_("Only a channel admin can approve or reject an agreement."))


def require_acknowledge_agreement(user, agreement):
    if not can_acknowledge_agreement(user, agreement):
        raise PermissionDenied(_("Only a user of the partner can acknowledge its agreement."))


def require_manage_region_targets(user, region):
    if not can_manage_region_targets(user, region):
        raise PermissionDenied(_("Only a channel admin or the manager of this region can set its targets."))
