from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from prm.api.scopes import READ, WRITE, areas, scope, scope_choices

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


class ApiKeyForm(forms.Form):
    """A new API key: what uses it, what it may do, for which partner, until when. The service
    (api_key_create) checks the values again and names the field that is wrong."""

    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("What uses the key, e.g. “Salesforce sync”."))
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=scope_choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        error_messages={"required": _("Choose at least one scope.")},
    )
    partner = forms.ModelChoiceField(
        label=_("Partner"),
        required=False,
        queryset=Partner.objects.exclude(status=PartnerStatus.TERMINATED).order_by("name"),
        empty_label=_("None: a vendor key"),
        help_text=_("Bind the key to one partner for that partner's own systems; empty for a vendor key."),
    )
    expires_at = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The key stops working at the end of this day. Leave empty for a key that does not expire."),
    )

    def clean_expires_at(self):
        """The end of the chosen day in the current time zone, checked here too so that every
        error shows at once."""
        day = self.cleaned_data["expires_at"]
        if day is None:
            return None
        expires_at = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
        if expires_at <= timezone.now():
            raise forms.ValidationError(_("The expiry must lie in the future."))
        return expires_at

    def scope_rows(self):
        """[(area label, read checkbox, read-and-write checkbox)] for the scopes table."""
        boxes = {box.data["value"]: box for box in self["scopes"]}
        return [(label, boxes[scope(area, READ)], boxes[scope(area, WRITE)]) for area, label in areas().items()]
