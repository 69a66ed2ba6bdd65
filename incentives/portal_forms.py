"""Forms of the partner portal's MDF pages. They only parse what people type; the services check
everything again (amounts in whole cents, dates inside the budget's period, the file's type and
size) and name the field that is wrong."""

from django import forms
from django.conf import settings
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from prm.money import format_money

from .models import MdfRequest
from .services import REQUEST_FIELDS

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# What mdf_proof_add accepts (prm.uploads.DOCUMENTS), offered first by the browser's file picker.
PROOF_ACCEPT = ".pdf,.png,.jpg,.jpeg,.docx,.xlsx"


def proof_help_text():
    return _("PDF, PNG, JPEG, Word (.docx) or Excel (.xlsx), at most %(mb)s MB.") % {"mb": settings.PRM_MAX_UPLOAD_MB}


class BudgetChoiceField(forms.ModelChoiceField):
    """A budget shown with its period and what is left of it (annotated by selectors.with_usage)."""

    def label_from_instance(self, budget):
        remaining = getattr(budget, "remaining", None)
        if remaining is None:
            return budget.period
        return _("%(period)s · %(remaining)s left") % {
            "period": budget.period,
            "remaining": format_money(remaining, budget.currency),
        }


class MdfRequestForm(forms.Form):
    """A request's budget (one of the partner's own: any other id is an invalid choice) and its
    fields, as mdf_request_create and mdf_request_update take them."""

    budget = BudgetChoiceField(
        label=_("MDF budget"),
        queryset=None,
        empty_label=_("Choose a budget"),
        error_messages={"invalid_choice": _("Choose one of your organisation's budgets.")},
    )

    def __init__(self, *args, budgets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["budget"].queryset = budgets
        self.fields.update(
            fields_for_model(
                MdfRequest,
                fields=list(REQUEST_FIELDS),
                widgets={
                    "start_date": DATE_WIDGET,
                    "end_date": DATE_WIDGET,
                    "plan": forms.Textarea(attrs={"rows": 5}),
                },
            )
        )
        self.fields["requested_amount"].help_text = _("In %(currency)s, in whole cents.") % {
            "currency": settings.PRM_CURRENCY
        }
        self.fields["start_date"].help_text = _("Within the budget's period.")
        self.order_fields(["budget", "title", "activity_type", "start_date", "end_date", "requested_amount", "plan"])


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; each is checked by the service (prm.uploads)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": PROOF_ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(each, initial) for each in data if each]
        return [single(data, initial)] if data else []


class MdfClaimForm(forms.Form):
    """What the activity actually cost and the proof of it: new files here, or those uploaded
    before (the service requires at least one proof in all)."""

    actual_amount = MdfRequest._meta.get_field("actual_amount").formfield(required=True)
    files = MultipleFileField(label=_("Proof of performance"), required=False)
    note = forms.CharField(
        label=_("Note for the reviewer"),
        max_length=MdfRequest._meta.get_field("claim_note").max_length,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, approved_amount=None, currency=None, **kwargs):
        super().__init__(*args, **kwargs)
        if approved_amount is not None:
            self.fields["actual_amount"].help_text = _("At most the approved amount, %(amount)s.") % {
                "amount": format_money(approved_amount, currency)
            }
        self.fields["files"].help_text = proof_help_text()


class MdfProofForm(forms.Form):
    """One proof file, added to an approved request before it is claimed."""

    file = forms.FileField(
        label=_("Add a proof file"),
        max_length=200,
        widget=forms.ClearableFileInput(attrs={"accept": PROOF_ACCEPT}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = proof_help_text()
