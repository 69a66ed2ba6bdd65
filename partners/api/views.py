from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.response import Response

from prm.api.viewsets import ServiceModelViewSet

from .. import selectors, services
from ..access import can_place_partner, require_manage_partner, require_manage_reference_data
from ..filters import PartnerContactFilterSet, PartnerFilterSet, PartnerTierFilterSet, RegionFilterSet
from .serializers import (
    PartnerContactSerializer,
    PartnerMoveSerializer,
    PartnerSerializer,
    PartnerTierSerializer,
    PartnerTransitionSerializer,
    RegionSerializer,
)


def _as_api_error(check, *args):
    """Run an access check from partners.access; its refusal becomes the API's 403."""
    try:
        check(*args)
    except PermissionDenied as error:
        raise exceptions.PermissionDenied(str(error)) from error


def _require_placeable(user, region, owner):
    if region is not None and not can_place_partner(user, region=region, owner=owner):
        raise exceptions.PermissionDenied(
            _("You can place partners only in your regions, or with yourself as channel manager.")
        )


class RegionViewSet(ServiceModelViewSet):
    """Regions and territories; `within` filters a region and all its sub-regions."""

    api_area = "partners"
    partner_readable = True
    serializer_class = RegionSerializer
    filterset_class = RegionFilterSet
    ordering_fields = ["code", "name", "kind", "path", "depth"]
    ordering = ["path"]

    def get_queryset(self):
        return selectors.region_list(user=self.request.user)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            _as_api_error(require_manage_reference_data, request.user)

    def create_object(self, data):
        return services.region_create(by=self.request.user, **data)

    def update_object(self, instance, data):
        return services.region_update(region=instance, by=self.request.user, **data)

    def delete_object(self, instance):
        services.region_delete(region=instance, by=self.request.user)


class PartnerTierViewSet(ServiceModelViewSet):
    """Partner tiers: their requirements and benefits."""

    api_area = "partners"
    partner_readable = True
    serializer_class = PartnerTierSerializer
    filterset_class = PartnerTierFilterSet
    ordering_fields = ["rank", "name"]
    ordering = ["rank"]

    def get_queryset(self):
        return selectors.tier_list(user=self.request.user)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            _as_api_error(require_manage_reference_data, request.user)

    def create_object(self, data):
        return services.tier_create(by=self.request.user, **data)

    def update_object(self, instance, data):
        return services.tier_update(tier=instance, by=self.request.user, **data)

    def delete_object(self, instance):
        services.tier_delete(tier=instance, by=self.request.user)


class PartnerViewSet(ServiceModelViewSet):
    """Partners. Partners are never deleted: terminate them with the transition action."""

    api_area = "partners"
    partner_readable = True
    serializer_class = PartnerSerializer
    filterset_class = PartnerFilterSet
    ordering_fields = ["code", "name", "status", "partner_type", "created_at", "updated_at", "depth"]
    ordering = ["name"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.partner_list(user=self.request.user)

    def get_object(self):
        partner = super().get_object()
        if self.request.method not in ("GET", "HEAD", "OPTIONS"):
            _as_api_error(require_manage_partner, self.request.user, partner)
        return partner

    def create_object(self, data):
        _require_placeable(self.request.user, data.get("region"), data.get("owner"))
        return services.partner_create(by=self.request.user, **data)

    def update_object(self, instance, data):
        region, owner = data.get("region", instance.region), data.get("owner", instance.owner)
        if region != instance.region or owner != instance.owner:
            _require_placeable(self.request.user, region, owner)
        return services.partner_update(partner=instance, by=self.request.user, **data)

    @extend_schema(request=PartnerTransitionSerializer, responses=PartnerSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Move the partner along its lifecycle; illegal moves answer 400 with the reason."""
        partner = self.get_object()
        payload = PartnerTransitionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.partner_change_status(partner=partner, by=request.user, **payload.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=partner.pk)).data)

    @extend_schema(request=PartnerMoveSerializer, responses=PartnerSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Place the partner (and its sub-network) under another distributor, or at the top."""
        partner = self.get_object()
        payload = PartnerMoveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.partner_move(partner=partner, parent=payload.validated_data["parent"], by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=partner.pk)).data)


class PartnerContactViewSet(ServiceModelViewSet):
    """People at partners."""

    api_area = "partners"
    partner_readable = True
    serializer_class = PartnerContactSerializer
    filterset_class = PartnerContactFilterSet
    ordering_fields = ["name", "email", "created_at"]
    ordering = ["partner", "name"]

    def get_queryset(self):
        return selectors.contact_list(user=self.request.user)

    def get_object(self):
        contact = super().get_object()
        if self.request.method not in ("GET", "HEAD", "OPTIONS"):
            _as_api_error(require_manage_partner, self.request.user, contact.partner)
        return contact

    def create_object(self, data):
        _as_api_error(require_manage_partner, self.request.user, data["partner"])
        return services.contact_create(by=self.request.user, **data)

    def update_object(self, instance, data):
        data.pop("partner", None)
        return services.contact_update(contact=instance, by=self.request.user, **data)

    def delete_object(self, instance):
        services.contact_delete(contact=instance, by=self.request.user)
