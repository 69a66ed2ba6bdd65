"""The five roles, as Django groups, and the questions every view asks about a user.

Vendor staff have `is_staff` and one of the staff roles (a superuser is a channel admin; staff
with no role read only). Partner users belong to a partner through their contact record and
have one of the partner roles. Which partner that is, `partners` answers; `prm` knows only the
roles.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CHANNEL_ADMIN = "channel_admin", _("Channel admin")
    CHANNEL_MANAGER = "channel_manager", _("Channel manager")
    ANALYST = "analyst", _("Analyst")
    PARTNER_ADMIN = "partner_admin", _("Partner admin")
    PARTNER_USER = "partner_user", _("Partner user")


STAFF_ROLES = (Role.CHANNEL_ADMIN, Role.CHANNEL_MANAGER, Role.ANALYST)
PARTNER_ROLES = (Role.PARTNER_ADMIN, Role.PARTNER_USER)
# The role of a vendor API key (prm.api.authentication). Not a group, so no user can hold it: it
# reads like staff and writes only in the areas its scopes allow (checked by prm.api.permissions
# before any view runs).
INTEGRATION_ROLE = "integration"

# Model permissions each staff role gets, by app label: "all" (view, add, change, delete) or
# "view". Partner roles get no model permissions: the portal's own rules govern them.
ROLE_PERMISSIONS = {
    Role.CHANNEL_ADMIN: {"*": "all"},
    Role.CHANNEL_MANAGER: {
        "*": "view",
        "partners": "all",
        "agreements": "all",
        "incentives": "all",
        "training": "all",
        "sales": "all",
        "performance": "view",
    },
    Role.ANALYST: {"*": "view"},
}


def user_roles(user):
    """The user's roles, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_prm_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True)) & set(Role.values)
        if user.is_superuser:
            names.add(Role.CHANNEL_ADMIN)
        cached = user._prm_roles = frozenset(names)
    return cached


def is_staff_user(user):
    """Vendor staff: may use the staff pages and read everything."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_staff)


class VendorReader:
    """Who the system reads as when it shows an object the way vendor staff see it, outside any
    request (the data of a webhook event): staff with no role, so it reads every row and changes
    nothing. Not a user: no primary key, no groups, no partner."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = True
    is_superuser = False
    pk = id = None
    # Read by user_roles and prm.tenancy.partner_of, which cache them under these names.
    _prm_roles = frozenset()
    _prm_partner = None


VENDOR_READER = VendorReader()


def is_channel_admin(user):
    return is_staff_user(user) and Role.CHANNEL_ADMIN in user_roles(user)


def is_channel_manager(user):
    return is_staff_user(user) and Role.CHANNEL_MANAGER in user_roles(user)


def is_integration(user):
    """A vendor API key: within the areas its scopes allow writing, it changes what a channel
    admin may change."""
    return is_staff_user(user) and INTEGRATION_ROLE in user_roles(user)


def can_write_as_staff(user):
    """Channel admins and channel managers write; analysts and role-less staff only read."""
    return is_channel_admin(user) or is_channel_manager(user)


def is_partner_admin(user):
    return not is_staff_user(user) and Role.PARTNER_ADMIN in user_roles(user)


def sync_role_permissions(**kwargs):
    """Create the role groups and give the staff roles their model permissions. Runs after every
    migrate, so new models get their permissions without a hand-written migration."""
    from django.contrib.auth.models import Group, Permission

    permissions = list(Permission.objects.select_related("content_type"))
    for role in Role:
        group, _created = Group.objects.get_or_create(name=role.value)
        grants = ROLE_PERMISSIONS.get(role)
        if not grants:
            continue
        wanted = []
        for permission in permissions:
            level = grants.get(permission.content_type.app_label, grants.get("*"))
            if level == "all" or (level == "view" and permission.codename.startswith("view_")):
                wanted.append(permission)
        group.permissions.set(wanted)
