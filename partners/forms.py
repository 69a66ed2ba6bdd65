from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from .choices import PartnerStatus, PartnerType
from .models import Partner, PartnerContact, PartnerTier, Region
from .services import CONTACT_UPDATABLE_FIELDS, PARTNER_UPDATABLE_FIELDS, REGION_UPDATABLE_FIELDS, TIER_UPDATABLE_FIELDS

INDENT = "\u2003"
# The profile a form edits is exactly what the update service accepts.
PARTNER_PROFILE_FIELDS = list(PARTNER_UPDATABLE_FIELDS)


class RegionChoiceField(forms.ModelChoiceField):
    """Regions in tree order, indented by level, so the hierarchy reads in a plain select."""

    def label_from_instance(self, region):
        return f"{INDENT * (region.depth - 1)}{region.name} ({region.code})"


class PartnerForm(forms.ModelForm):
    region = RegionChoiceField(label=_("Primary region"), queryset=Region.objects.order_by("path"))

    class Meta:
        model = Partner
        fields = PARTNER_PROFILE_FIELDS
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = get_user_model().objects.filter(is_staff=True, is_active=True)


class PartnerCreateForm(PartnerForm):
    parent = forms.ModelChoiceField(
        label=_("Parent distributor"),
        required=False,
        queryset=Partner.objects.filter(partner_type=PartnerType.DISTRIBUTOR)
        .exclude(status=PartnerStatus.TERMINATED)
        .order_by("name"),
        help_text=_("Leave empty for a partner at the top of the network."),
    )
    status = forms.ChoiceField(
        label=_("Starting status"),
        initial=PartnerStatus.PROSPECT,
        choices=[(s.value, s.label) for s in (PartnerStatus.PROSPECT, PartnerStatus.ONBOARDING, PartnerStatus.ACTIVE)],
    )

    class Meta(PartnerForm.Meta):
        fields = [*PARTNER_PROFILE_FIELDS[:6], "parent", "status", *PARTNER_PROFILE_FIELDS[6:]]


class PartnerStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=PartnerStatus.choices)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)


class PartnerMoveForm(forms.Form):
    parent = forms.ModelChoiceField(
        label=_("New parent distributor"),
        required=False,
        queryset=Partner.objects.filter(partner_type=PartnerType.DISTRIBUTOR).order_by("name"),
        help_text=_("Leave empty to place the partner at the top of the network."),
    )


class PartnerContactForm(forms.ModelForm):
    class Meta:
        model = PartnerContact
        fields = list(CONTACT_UPDATABLE_FIELDS)


class RegionForm(forms.ModelForm):
    parent = RegionChoiceField(label=_("Parent region"), queryset=Region.objects.order_by("path"), required=False)

    class Meta:
        model = Region
        fields = list(REGION_UPDATABLE_FIELDS)


class PartnerTierForm(forms.ModelForm):
    class Meta:
        model = PartnerTier
        fields = list(TIER_UPDATABLE_FIELDS)
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
