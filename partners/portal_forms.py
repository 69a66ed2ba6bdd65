"""Forms of the partner portal. Each hands its data to one service."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .choices import ContactRole
from .models import Partner
from .services import PORTAL_PROFILE_FIELDS


class PortalProfileForm(forms.ModelForm):
    """The contact details a partner admin keeps up to date; nothing else of the partner."""

    class Meta:
        model = Partner
        fields = list(PORTAL_PROFILE_FIELDS)


class PortalInviteForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    # A login's username is its email address, at most 150 characters.
    email = forms.EmailField(label=_("Email"), max_length=150, help_text=_("The person signs in with this address."))
    job_role = forms.ChoiceField(label=_("Job role"), choices=ContactRole.choices, initial=ContactRole.SALES)
    is_admin = forms.BooleanField(
        label=_("Partner admin"),
        required=False,
        help_text=_("May change the organisation's profile and manage its portal users."),
    )
    language = forms.ChoiceField(label=_("Language of the invitation"), choices=settings.LANGUAGES)
