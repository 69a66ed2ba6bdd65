"""Who may change which partner. Reading is `visible_to` (prm.tenancy); changing is here.

- A channel admin changes every partner, and the reference data (regions, tiers), and alone
  manages the API keys.
- A vendor API key allowed to write (`partners:write`, checked first by prm.api.permissions)
  changes what a channel admin changes, except API keys.
- A channel manager changes the partners they own and those whose primary region lies in a
  region assigned to them (or below it); they read everything else.
- Analysts and staff without a role read only. Partner users change only what the portal lets
  their role change, on their own partner: a partner admin its contact details and its portal
  users; a partner user nothing.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as _

from prm.roles import is_channel_admin, is_channel_manager, is_integration, is_partner_admin
from prm.tenancy import partner_of

from .choices import PartnerStatus
from .models import ManagerRegion, Partner, PartnerContact


def partner_of_user(user):
    """The partner whose contact this user's login is, or None. A terminated partner's users
    keep their logins (the history names them) but no longer reach its data."""
    contact = (
        PartnerContact.objects.select_related("partner")
        .filter(user=user)
        .exclude(partner__status=PartnerStatus.TERMINATED)
        .first()
    )
    return contact.partner if contact else None


def managed_region_paths(user):
    if not hasattr(user, "_prm_region_paths"):
        user._prm_region_paths = list(ManagerRegion.objects.filter(manager=user).values_list("region__path", flat=True))
    return user._prm_region_paths


def _changes_everything(user):
    return is_channel_admin(user) or is_integration(user)


def partners_managed_by(user):
    """The partners this user may change, as one query."""
    if _changes_everything(user):
        return Partner.objects.all()
    if not is_channel_manager(user):
        return Partner.objects.none()
    scope = Q(owner=user)
    for path in managed_region_paths(user):
        scope |= Q(region__path__startswith=path)
    return Partner.objects.filter(scope)


def can_manage_partner(user, partner):
    if _changes_everything(user):
        return True
    if not is_channel_manager(user):
        return False
    if partner.owner_id == user.pk:
        return True
    region_path = partner.region.path
    return any(region_path.startswith(path) for path in managed_region_paths(user))


def can_place_partner(user, *, region, owner):
    """May this user create (or re-home) a partner in `region` with `owner`?"""
    if _changes_everything(user):
        return True
    if not is_channel_manager(user):
        return False
    return owner == user or any(region.path.startswith(path) for path in managed_region_paths(user))


def can_manage_reference_data(user):
    return _changes_everything(user)


def can_manage_api_keys(user):
    return is_channel_admin(user)


def is_admin_of_partner(user, partner):
    """Is this user a partner admin of `partner`, their own organisation?"""
    own = partner_of(user) if is_partner_admin(user) else None
    return own is not None and own.pk == partner.pk


def can_manage_portal_users(user, partner):
    """A partner admin manages their own partner's portal users; staff who manage the partner do too."""
    if is_partner_admin(user):
        return is_admin_of_partner(user, partner)
    return can_manage_partner(user, partner)


def can_edit_portal_profile(user, partner):
    """A partner admin changes their own partner's contact details in the portal (staff use the
    full partner form instead)."""
    return is_admin_of_partner(user, partner)


def require_manage_partner(user, partner):
    if not can_manage_partner(user, partner):
        raise PermissionDenied(_("You can change only the partners you own or that are in your regions."))


def require_manage_portal_users(user, partner):
    if not can_manage_portal_users(user, partner):
        raise PermissionDenied(_("Only your organisation's partner admin can manage its portal users."))


def require_edit_portal_profile(user, partner):
    if not can_edit_portal_profile(user, partner):
        raise PermissionDenied(_("Only your organisation's partner admin can change its profile."))


def require_manage_reference_data(user):
    if not can_manage_reference_data(user):
        raise PermissionDenied(_("Only a channel admin can change regions and tiers."))


def require_manage_api_keys(user):
    if not can_manage_api_keys(user):
        raise PermissionDenied(_("Only a channel admin can manage API keys."))
