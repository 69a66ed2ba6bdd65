from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from prm.api.serializers import VendorOnlyFieldsMixin

from ..choices import ContactRole, PartnerStatus, PortalLoginState
from ..models import ManagerRegion, Partner, PartnerContact, PartnerTier, Region
from ..services import TIER_UPDATABLE_FIELDS


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["id", "code", "name", "kind", "parent", "path", "depth"]
        read_only_fields = ["path", "depth"]


class PartnerTierSerializer(VendorOnlyFieldsMixin, serializers.ModelSerializer):
    partner_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = PartnerTier
        fields = ["id", *TIER_UPDATABLE_FIELDS, "partner_count"]
        vendor_only_fields = ["partner_count"]


class PartnerSerializer(VendorOnlyFieldsMixin, serializers.ModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_staff=True, is_active=True), allow_null=True, required=False
    )
    parent = serializers.PrimaryKeyRelatedField(
        queryset=Partner.objects.all(),
        allow_null=True,
        required=False,
        help_text=_("Set on create; afterwards use the move action."),
    )
    status = serializers.ChoiceField(
        choices=PartnerStatus.choices,
        required=False,
        help_text=_("Set on create (prospect, onboarding or active); afterwards use the transition action."),
    )
    network_level = serializers.IntegerField(source="depth", read_only=True)
    sub_partner_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Partner
        fields = [
            "id",
            "code",
            "name",
            "legal_name",
            "partner_type",
            "status",
            "status_changed_at",
            "tier",
            "region",
            "parent",
            "network_level",
            "sub_partner_count",
            "owner",
            "external_id",
            "email",
            "phone",
            "website",
            "address",
            "credit_rating",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status_changed_at", "created_at", "updated_at"]
        vendor_only_fields = ["credit_rating", "notes"]

    def validate(self, attrs):
        if self.instance is not None:
            errors = {}
            if "status" in attrs and attrs.pop("status") != self.instance.status:
                errors["status"] = _("Change the status with POST /api/v1/partners/{id}/transition/.")
            if "parent" in attrs and attrs.pop("parent") != self.instance.parent:
                errors["parent"] = _("Move a partner in the network with POST /api/v1/partners/{id}/move/.")
            if errors:
                raise serializers.ValidationError(errors)
        return attrs


class PartnerTransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=PartnerStatus.choices)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class PartnerMoveSerializer(serializers.Serializer):
    parent = serializers.PrimaryKeyRelatedField(queryset=Partner.objects.all(), allow_null=True)


class PartnerContactSerializer(serializers.ModelSerializer):
    has_portal_login = serializers.BooleanField(read_only=True)
    portal_login = serializers.ChoiceField(
        choices=PortalLoginState.choices,
        source="portal_login_state",
        read_only=True,
        help_text=_("none, invited (no password chosen yet), active or deactivated."),
    )

    class Meta:
        model = PartnerContact
        fields = [
            "id",
            "partner",
            "name",
            "email",
            "phone",
            "job_role",
            "title",
            "is_primary",
            "external_id",
            "has_portal_login",
            "portal_login",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        # Not the validator DRF derives from "one primary contact per partner": a new primary
        # contact replaces the previous one (contact_create/contact_update demote it).
        validators = []

    def validate_partner(self, partner):
        if self.instance is not None and partner != self.instance.partner:
            raise serializers.ValidationError(_("A contact cannot be moved to another partner."))
        return partner


class PortalUserInviteSerializer(serializers.Serializer):
    """A person at a partner to give a portal login, as the portal's invitation form asks."""

    partner = serializers.PrimaryKeyRelatedField(queryset=Partner.objects.none())
    name = serializers.CharField(max_length=150)
    email = serializers.EmailField(max_length=150, help_text=_("The person signs in with this address."))
    job_role = serializers.ChoiceField(choices=ContactRole.choices, default=ContactRole.SALES)
    is_admin = serializers.BooleanField(
        default=False, help_text=_("May change the organisation's profile and manage its portal users.")
    )
    language = serializers.ChoiceField(
        choices=settings.LANGUAGES, required=False, help_text=_("Language of the invitation; empty: the site's.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["partner"].queryset = Partner.objects.visible_to(request.user)


class ManagerRegionSerializer(serializers.ModelSerializer):
    manager_name = serializers.CharField(source="manager.__str__", read_only=True)
    region_code = serializers.CharField(source="region.code", read_only=True)

    class Meta:
        model = ManagerRegion
        fields = ["id", "manager", "manager_name", "region", "region_code", "created_at"]
        read_only_fields = fields
