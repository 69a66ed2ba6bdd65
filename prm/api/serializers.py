"""Serializer pieces every app's API shares."""

from ..roles import is_staff_user
from ..tenancy import partner_of


class VendorOnlyFieldsMixin:
    """Leaves out `Meta.vendor_only_fields` (the vendor's internal notes and assessments) when the
    caller acts for a partner (an API key bound to a partner): a partner's systems see what the
    partner may see, not what the vendor thinks of it."""

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is not None and not is_staff_user(user) and partner_of(user) is not None:
            for name in getattr(self.Meta, "vendor_only_fields", ()):
                fields.pop(name, None)
        return fields
