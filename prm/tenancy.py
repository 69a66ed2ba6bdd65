"""The tenancy choke point. Every partner-owned model's queryset derives from TenantQuerySet,
and every staff view, portal view and API viewset gets its rows through `visible_to(user)`:

- vendor staff see every row (what they may change is a separate question: see prm.roles);
- a partner's user sees the rows of their own partner, and also of the partners below it in the
  network when the model says `sub_partners_visible = True` (off by default) or a page that
  shows the network asks for them with `visible_to(user, sub_partners=True)`;
- anyone else sees nothing.

`prm` knows no business app: the `partners` app tells it how to find a user's partner.
"""

from django.db import models

from .roles import PARTNER_ROLES, is_staff_user, user_roles

_partner_resolver = None


def set_partner_resolver(resolver):
    """`resolver(user)` returns the user's partner (with `pk` and `path`) or None."""
    global _partner_resolver
    _partner_resolver = resolver


def partner_of(user):
    """The partner a signed-in partner user belongs to, or None (staff, anonymous, inactive)."""
    if _partner_resolver is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if not hasattr(user, "_prm_partner"):
        user._prm_partner = _partner_resolver(user)
    return user._prm_partner


def is_portal_user(user):
    """A partner's user: signed in, active, not vendor staff, in a partner role, and linked to a
    partner through their contact record. The portal is theirs; the staff pages are not."""
    if is_staff_user(user) or not (user_roles(user) & set(PARTNER_ROLES)):
        return False
    return partner_of(user) is not None


class TenantQuerySet(models.QuerySet):
    # The lookup from this model to the Partner it belongs to ("" for Partner itself).
    partner_lookup = "partner"
    # The one switch per model: may a distributor's users see its sub-partners' rows?
    sub_partners_visible = False

    def visible_to(self, user, *, sub_partners=None):
        """`sub_partners=True` also returns the rows of the partners below the user's partner,
        for the one page that shows a distributor its network; None follows the model's switch."""
        if is_staff_user(user):
            return self
        partner = partner_of(user)
        if partner is None:
            return self.none()
        prefix = f"{self.partner_lookup}__" if self.partner_lookup else ""
        if self.sub_partners_visible if sub_partners is None else sub_partners:
            return self.filter(**{f"{prefix}path__startswith": partner.path})
        return self.filter(**{f"{prefix}pk": partner.pk})
