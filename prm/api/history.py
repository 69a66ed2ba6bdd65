"""The change history over the API: who changed which partner, agreement, policy, statement or
flag, when, and what (the same entries the staff pages show under "History"). Read-only: entries
are written by the services, never posted.

Vendor staff read every business object's history. The security log (sign-ins, passwords,
permissions: entries on users; API keys created and revoked) stays on its pages, for channel
admins. A vendor API key reads the history of the areas it has a read scope for: an area is
named like the app whose objects it holds, so `partners:read` reads the entries of `partners.*`
objects. Keys bound to a partner are refused: the history names the vendor's staff and their
reasons."""

import django_filters
from django.apps import apps
from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from ..filters import ALL
from ..models import AuditEntry
from .authentication import ApiKeyPrincipal
from .exceptions import BAD_INPUT, NOT_FOUND, REFUSED
from .permissions import IsStaffUser
from .scopes import areas, scope_grants
from .viewsets import ReadOnlyModelViewSet


def security_object_types():
    """Object types whose entries belong to the security log, not the business history: users
    (sign-ins, passwords, permissions) and API keys (created, revoked)."""
    return ["prm.user", settings.PRM_API_KEY_MODEL.lower()]


BUSINESS_ACTIONS = [
    AuditEntry.Action.CREATE,
    AuditEntry.Action.UPDATE,
    AuditEntry.Action.STATUS,
    AuditEntry.Action.MOVE,
    AuditEntry.Action.DELETE,
]


def history_areas(principal):
    """The areas whose history an API key may read: those it has a read scope for that an
    installed app of the same name holds."""
    return [area for area in areas() if scope_grants(principal.scopes, area, write=False) and apps.is_installed(area)]


def history_visible_to(user):
    """The history entries `user` may read through the API, newest first, with the actor."""
    entries = AuditEntry.objects.select_related("actor").exclude(object_type__in=security_object_types())
    if isinstance(user, ApiKeyPrincipal):
        allowed = Q(pk__in=[])
        for area in history_areas(user):
            allowed |= Q(object_type__startswith=f"{area}.")
        entries = entries.filter(allowed)
    return entries


class HistoryReaders(IsStaffUser):
    """Vendor staff, and vendor API keys with at least one read scope (each sees its areas)."""

    def key_has_permission(self, principal, request, view):
        if principal.partner is not None:
            self.message = _("An API key bound to a partner cannot use this endpoint.")
            return False
        if not history_areas(principal):
            self.message = _("This API key has no read scope, so no history to read.")
            return False
        return True


class HistoryEntryFilterSet(django_filters.FilterSet):
    object_type = django_filters.CharFilter(
        label=gettext_lazy("Object type"), help_text=gettext_lazy("app.model, e.g. partners.partner.")
    )
    object_id = django_filters.CharFilter(label=gettext_lazy("Object id"))
    action = django_filters.ChoiceFilter(
        label=gettext_lazy("Action"),
        choices=[(action.value, action.label) for action in BUSINESS_ACTIONS],
        empty_label=ALL,
    )
    since = django_filters.DateFilter(label=gettext_lazy("From"), field_name="at", lookup_expr="date__gte")
    until = django_filters.DateFilter(label=gettext_lazy("To"), field_name="at", lookup_expr="date__lte")

    class Meta:
        model = AuditEntry
        fields = ["object_type", "object_id", "action", "actor", "since", "until"]


class HistoryEntrySerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField(
        help_text=gettext_lazy("The person who made the change; empty for the system or an API key (named in changes).")
    )
    changes = serializers.DictField(
        read_only=True,
        help_text=gettext_lazy(
            "{field: [before, after]}; a key app.model:field names a field of a related object (a partner's contact)."
        ),
    )

    class Meta:
        model = AuditEntry
        fields = ["id", "at", "actor", "actor_name", "object_type", "object_id", "object_repr", "action", "changes"]
        read_only_fields = fields

    def get_actor_name(self, entry) -> str:
        return str(entry.actor) if entry.actor is not None else ""


@extend_schema_view(
    list=extend_schema(
        summary="List history entries",
        description="Every change made through the services, newest first: filter by `object_type` and "
        "`object_id` for one object's history.",
        responses={200: HistoryEntrySerializer(many=True), 400: BAD_INPUT, 403: REFUSED},
    ),
    retrieve=extend_schema(
        summary="Read one history entry",
        responses={200: HistoryEntrySerializer, 403: REFUSED, 404: NOT_FOUND},
    ),
)
class HistoryEntryViewSet(ReadOnlyModelViewSet):
    """The change history (read-only, vendor only)."""

    permission_classes = [HistoryReaders]
    # Entries never change: `updated_since` reads when they were written.
    sync_field = "at"
    serializer_class = HistoryEntrySerializer
    filterset_class = HistoryEntryFilterSet
    ordering_fields = ["at", "id"]
    ordering = ["-at", "-id"]

    def get_queryset(self):
        return history_visible_to(self.request.user)
