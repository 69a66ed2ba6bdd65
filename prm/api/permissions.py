from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.permissions import SAFE_METHODS, BasePermission

from ..roles import can_write_as_staff, is_staff_user
from .authentication import ApiKeyPrincipal
from .scopes import READ, WRITE, scope, scope_grants


class IsStaffUser(BasePermission):
    """Vendor staff read; channel admins and managers write (what each may change is decided per
    object by the viewset). Partner users and anonymous callers are refused.

    A request made with an API key is judged by its scopes, against the viewset's `api_area`
    (a view without one refuses keys): `<area>:read` reads, `<area>:write` writes. A key bound to
    a partner reads only where the viewset says `partner_readable` (its rows come through
    `visible_to`), and writes only the actions listed in `partner_writable_actions`."""

    message = gettext_lazy("Your role can read this data but not change it.")

    def has_permission(self, request, view):
        if isinstance(request.user, ApiKeyPrincipal):
            return self.key_has_permission(request.user, request, view)
        if not is_staff_user(request.user):
            return False
        return request.method in SAFE_METHODS or can_write_as_staff(request.user)

    def key_has_permission(self, principal, request, view):
        area = getattr(view, "api_area", None)
        if area is None:
            self.message = _("API keys cannot use this endpoint.")
            return False
        write = request.method not in SAFE_METHODS
        if principal.partner is not None:
            if not getattr(view, "partner_readable", False):
                self.message = _("An API key bound to a partner cannot use this endpoint.")
                return False
            if write and getattr(view, "action", None) not in getattr(view, "partner_writable_actions", ()):
                self.message = _("An API key bound to a partner can read its partner's data here but not change it.")
                return False
        if not scope_grants(principal.scopes, area, write=write):
            self.message = _("This API key does not have the scope “%(scope)s”.") % {
                "scope": scope(area, WRITE if write else READ)
            }
            return False
        return True
