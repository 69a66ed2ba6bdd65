from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from prm.api.exceptions import BAD_INPUT, NOT_FOUND, REFUSED
from prm.api.upserts import (
    UPSERT_URL_NAME,
    UPSERT_URL_PATH,
    UpsertResult,
    upsert_external_id,
    upsert_response,
    upsert_schema,
)
from prm.api.viewsets import ReadOnlyModelViewSet, ServiceModelViewSet

from .. import selectors, services
from ..access import (
    can_place_partner,
    require_manage_partner,
    require_manage_portal_users,
    require_manage_reference_data,
)
from ..filters import (
    ManagerRegionFilterSet,
    PartnerContactFilterSet,
    PartnerFilterSet,
    PartnerTierFilterSet,
    RegionFilterSet,
)
from .serializers import (
    ManagerRegionSerializer,
    PartnerContactSerializer,
    PartnerMoveSerializer,
    PartnerSerializer,
    PartnerTierSerializer,
    PartnerTransitionSerializer,
    PortalUserInviteSerializer,
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
        self._check_placement(instance, data)
        return services.partner_update(partner=instance, by=self.request.user, **data)

    @upsert_schema(
        request=PartnerSerializer, response=PartnerSerializer, summary="Create or update a partner by its external ID"
    )
    @action(detail=False, methods=["put"], url_path=UPSERT_URL_PATH, url_name=UPSERT_URL_NAME)
    def upsert(self, request, external_id=None, **kwargs):
        """The partner the CRM knows by `external_id`, created (as POST) or brought up to date (as
        PUT: status and network position are set on create only)."""
        external_id = upsert_external_id(external_id, request.data if isinstance(request.data, dict) else None)
        partner = self.get_queryset().filter(external_id=external_id).first()
        if partner is not None:
            _as_api_error(require_manage_partner, request.user, partner)
        payload = self.get_serializer(partner, data=request.data)
        payload.is_valid(raise_exception=True)
        data = {name: value for name, value in payload.validated_data.items() if name != "external_id"}
        if partner is None:
            _require_placeable(request.user, data.get("region"), data.get("owner"))
        else:
            self._check_placement(partner, data)
        written, result = services.partner_upsert(external_id=external_id, by=request.user, **data)
        if result != UpsertResult.UNCHANGED:
            payload.instance = self.get_queryset().get(pk=written.pk)
        return upsert_response(payload.data, result)

    def _check_placement(self, instance, data):
        region, owner = data.get("region", instance.region), data.get("owner", instance.owner)
        if region != instance.region or owner != instance.owner:
            _require_placeable(self.request.user, region, owner)

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
    """People at partners, and their portal logins: invite, send the invitation again, deactivate
    and reactivate, with the services of the portal's users page. Staff who may change the
    partner and vendor keys with partners:write manage logins; keys bound to a partner do not."""

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

    @upsert_schema(
        request=PartnerContactSerializer,
        response=PartnerContactSerializer,
        summary="Create or update a partner contact by its external ID",
    )
    @action(detail=False, methods=["put"], url_path=UPSERT_URL_PATH, url_name=UPSERT_URL_NAME)
    def upsert(self, request, external_id=None, **kwargs):
        """The contact the CRM knows by `external_id`, created at the body's `partner` or brought
        up to date (a contact never moves to another partner)."""
        external_id = upsert_external_id(external_id, request.data if isinstance(request.data, dict) else None)
        contact = self.get_queryset().filter(external_id=external_id).first()
        payload = self.get_serializer(contact, data=request.data)
        payload.is_valid(raise_exception=True)
        data = {name: value for name, value in payload.validated_data.items() if name != "external_id"}
        partner = data.pop("partner")
        _as_api_error(require_manage_partner, request.user, partner)
        written, result = services.contact_upsert(external_id=external_id, partner=partner, by=request.user, **data)
        if result != UpsertResult.UNCHANGED:
            payload.instance = self.get_queryset().get(pk=written.pk)
        return upsert_response(payload.data, result)

    def _contact_response(self, contact, status_code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=contact.pk)).data, status=status_code)

    @extend_schema(
        summary="Invite a person at a partner to the portal",
        description="Gives the person a portal login (they sign in with the email address) and emails them an "
        "invitation, in `language`, to choose their password: what a partner admin does on the portal's users "
        "page. A contact of the partner with this email and no login yet gets the login; otherwise a contact is "
        "added. An email address that a login already uses is refused under `email`.",
        request=PortalUserInviteSerializer,
        responses={201: PartnerContactSerializer, 400: BAD_INPUT, 403: REFUSED},
    )
    @action(detail=False, methods=["post"])
    def invite(self, request, **kwargs):
        payload = PortalUserInviteSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        partner = data.pop("partner")
        _as_api_error(require_manage_portal_users, request.user, partner)
        contact = services.portal_user_invite(partner=partner, by=request.user, site_url=settings.PRM_SITE_URL, **data)
        return self._contact_response(contact, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Send the portal invitation again",
        description="Emails a new invitation link to a contact whose login has not chosen a password yet "
        "(`portal_login` is `invited`); otherwise 400 with the reason.",
        request=None,
        responses={200: PartnerContactSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="resend-invitation")
    def resend_invitation(self, request, pk=None):
        contact = self.get_object()
        services.portal_user_invitation_resend(contact=contact, by=request.user, site_url=settings.PRM_SITE_URL)
        return self._contact_response(contact)

    @extend_schema(
        summary="Deactivate the contact's portal login",
        description="The person can no longer sign in and an unused invitation stops working; the contact stays. "
        "A contact without a portal login is refused with 400. Deactivating twice changes nothing.",
        request=None,
        responses={200: PartnerContactSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="deactivate-login")
    def deactivate_login(self, request, pk=None):
        contact = services.portal_user_deactivate(contact=self.get_object(), by=request.user)
        return self._contact_response(contact)

    @extend_schema(
        summary="Reactivate the contact's portal login",
        description="Opens a deactivated login again. A contact without a portal login is refused with 400.",
        request=None,
        responses={200: PartnerContactSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="reactivate-login")
    def reactivate_login(self, request, pk=None):
        contact = services.portal_user_reactivate(contact=self.get_object(), by=request.user)
        return self._contact_response(contact)


@extend_schema_view(
    list=extend_schema(
        summary="List channel managers' region assignments",
        description="A manager assigned to a region may change the partners whose primary region lies in it or "
        "below it. Assignments are made by a channel admin (a permission change, recorded in the security log) and "
        "removed rather than changed.",
        responses={200: ManagerRegionSerializer(many=True), 400: BAD_INPUT, 403: REFUSED},
    ),
    retrieve=extend_schema(
        summary="Read one region assignment",
        responses={200: ManagerRegionSerializer, 403: REFUSED, 404: NOT_FOUND},
    ),
)
class ManagerRegionViewSet(ReadOnlyModelViewSet):
    """Which channel manager looks after which region (read-only; vendor only)."""

    api_area = "partners"
    # Assignments are made and removed, never changed: `updated_since` reads when they were made.
    sync_field = "created_at"
    serializer_class = ManagerRegionSerializer
    filterset_class = ManagerRegionFilterSet
    ordering_fields = ["created_at", "id"]
    ordering = ["manager__username", "region__path"]

    def get_queryset(self):
        return selectors.manager_region_list()
