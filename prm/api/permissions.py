from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from ..roles import can_write_as_staff, is_staff_user


class IsStaffUser(BasePermission):
    """Vendor staff read; channel admins and managers write (what each may change is decided per
    object by the viewset). Partner users and anonymous callers are refused."""

    message = _("Your role can read this data but not change it.")

    def has_permission(self, request, view):
        if not is_staff_user(request.user):
            return False
        return request.method in SAFE_METHODS or can_write_as_staff(request.user)
