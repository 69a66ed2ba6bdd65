"""Serializer pieces every app's API shares."""

from collections.abc import Mapping

from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

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


class RowSerializer(serializers.Serializer):
    """A row of a list that a write replaces whole (an agreement's territories, a course's tier
    requirements). DRF lets every field go missing in a PATCH, the fields of such rows too; a row
    is whole even then, so its required fields stay required."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            missing = {
                name: [field.error_messages["required"]]
                for name, field in self.fields.items()
                if field.required and not field.read_only and name not in data
            }
            if missing:
                raise serializers.ValidationError(missing)
        return super().to_internal_value(data)


class VendorOnlyFieldsSchema(OpenApiSerializerExtension):
    """In the OpenAPI schema, the vendor-only fields are optional and say so: a key bound to a
    partner gets the object without them."""

    target_class = VendorOnlyFieldsMixin
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        vendor_only = set(getattr(self.target.Meta, "vendor_only_fields", ()))
        required = [name for name in schema.get("required", ()) if name not in vendor_only]
        if required:
            schema["required"] = required
        else:
            schema.pop("required", None)
        note = "Left out for an API key bound to a partner."
        properties = schema.get("properties", {})
        for name in vendor_only & set(properties):
            field = properties[name]
            if "$ref" in field:
                # OpenAPI 3.0 ignores whatever stands beside a $ref.
                field = properties[name] = {"allOf": [field]}
            field["description"] = _with_note(field.get("description", ""), note)
        return schema


def _with_note(description, note):
    """`note` added to a field's description, before the list of choices drf-spectacular ends it
    with (its enum hook moves that list to the enum's component)."""
    if description.startswith("*"):
        return f"{note}\n\n{description}"
    text, separator, choices = description.partition("\n\n*")
    return f"{text} {note}".strip() + separator + choices
