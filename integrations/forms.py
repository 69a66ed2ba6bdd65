from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import EventType


class EndpointForm(forms.Form):
    """An endpoint's name, URL and events; integrations.services checks them again (the URL's
    host among them) and names the field that is wrong."""

    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("Which system receives it, e.g. “Salesforce”."))
    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        widget=forms.URLInput,
        help_text=_("An http or https address on the internet; events are POSTed to it as JSON."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        required=False,
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text=_("What is sent to this endpoint; none checked sends nothing."),
    )


class DisableForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
