"""`GET /api/v1/deletions/`: the rows deleted from the API's lists (prm.sync), so that a system
syncing with `updated_since` deletes its copies too.

Filter by `type` (`partners.partnercontact`) and sync with `updated_since` (on the time of
deletion) and `cursor`, like every list. Vendor staff see every deletion; a vendor API key those of
the areas it has a read scope for; a key bound to a partner its partner's, of the lists it may
read. Rows that end without being deleted (a partner that leaves, an inactive product, a cancelled
agreement) stay in their list with their `status` or `is_active`: they are not here.
"""

import django_filters
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from ..filters import ALL
from ..models import Tombstone
from ..sync import tombstone_types, tombstones_visible_to
from .exceptions import BAD_INPUT, NOT_FOUND, REFUSED
from .permissions import IsStaffUser
from .viewsets import ReadOnlyModelViewSet


class DeletionReaders(IsStaffUser):
    """Vendor staff, and API keys with at least one read scope: vendor keys and keys bound to a
    partner alike (tombstones_visible_to narrows what each sees)."""

    def key_has_permission(self, principal, request, view):
        if not principal.scopes:
            self.message = _("This API key has no read scope, so no deletions to read.")
            return False
        return True


class DeletionFilterSet(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(
        label=gettext_lazy("Type"),
        field_name="model",
        choices=tombstone_types,
        empty_label=ALL,
        help_text=gettext_lazy("The list the row was deleted from, as app.model, e.g. partners.partnercontact."),
    )
    object_id = django_filters.CharFilter(label=gettext_lazy("Object id"))
    external_id = django_filters.CharFilter(label=gettext_lazy("External ID"))

    class Meta:
        model = Tombstone
        fields = ["type", "object_id", "external_id"]


class DeletionSerializer(serializers.ModelSerializer):
    type = serializers.CharField(
        source="model", help_text=gettext_lazy("The list the row was deleted from, as app.model.")
    )
    object_id = serializers.CharField(help_text=gettext_lazy("The id the row had in its list."))
    partner = serializers.IntegerField(
        source="partner_id",
        allow_null=True,
        help_text=gettext_lazy("The partner the row belonged to; null for rows of no partner."),
    )

    class Meta:
        model = Tombstone
        fields = ["id", "type", "object_id", "external_id", "partner", "deleted_at"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        summary="List deleted rows",
        description="The rows deleted from the API's lists, oldest first. Sync it like any list: "
        "`updated_since` compares with the time of deletion, then follow `next` links. Rows that end "
        "without being deleted keep their row with a `status` or `is_active` field instead.",
        responses={200: DeletionSerializer(many=True), 400: BAD_INPUT, 403: REFUSED},
    ),
    retrieve=extend_schema(
        summary="Read one deleted row",
        responses={200: DeletionSerializer, 403: REFUSED, 404: NOT_FOUND},
    ),
)
class DeletionViewSet(ReadOnlyModelViewSet):
    """Tombstones of deleted rows (read-only)."""

    permission_classes = [DeletionReaders]
    serializer_class = DeletionSerializer
    filterset_class = DeletionFilterSet
    ordering_fields = ["deleted_at", "id"]
    ordering = ["id"]
    sync_field = "deleted_at"

    def get_queryset(self):
        return tombstones_visible_to(self.request.user)
