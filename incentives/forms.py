"""Forms of the incentives staff pages. Each hands its data to one service, which checks it again
and names the field that is wrong."""

from decimal import Decimal

from django import forms
from django.core.validators import MinValueValidator
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from partners.models import Partner, PartnerTier
from sales.models import ProductLine

from .access import can_decide_mdf
from .filters import PERIOD_HELP, PeriodCodeField
from .models import MdfBudget, MdfRequest, OverridePolicy, RebateBracket, RebatePolicy, TierMultiplier

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
POLICY_FIELDS = ["name", "method", "basis", "period", "cap", "valid_from", "valid_to", "is_active"]
OVERRIDE_FIELDS = ["name", "period", "valid_from", "valid_to", "is_active"]


def plain(value):
    """A Decimal without trailing zeros, never in exponent form: 1000.000 → 1000, 1.500 → 1.5."""
    value = value.normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral() else value


def partner_by_code(user, code):
    """The partner with this code among those the user sees, or a ValidationError naming the code."""
    code = (code or "").strip()
    partner = Partner.objects.visible_to(user).select_related("region", "tier").filter(code__iexact=code).first()
    if partner is None:
        raise forms.ValidationError(_("No partner has the code “%(code)s”.") % {"code": code})
    return partner


class PartnerCodeField(forms.CharField):
    """A partner typed by its code, with the codes offered as suggestions (`<datalist id="partner-codes">`)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Partner code"))
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("widget", forms.TextInput(attrs={"list": "partner-codes", "autocomplete": "off"}))
        super().__init__(**kwargs)


class ProductLineCheckboxes(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"})

    def label_from_instance(self, line):
        return f"{line.name} ({line.code})"


def _product_lines_field(chosen):
    return ProductLineCheckboxes(
        label=_("Eligible product lines"),
        required=False,
        help_text=_("None ticked: every product line."),
        queryset=(ProductLine.objects.filter(is_active=True) | ProductLine.objects.filter(pk__in=chosen)).order_by(
            "name"
        ),
    )


class _RowsFormSet(forms.BaseFormSet):
    """Rows left empty (or marked for removal) are ignored. Every row is checked, also one left as
    it was offered (a first bracket from 0 with no rate is an error, not an empty row)."""

    keys = ()

    def _construct_form(self, i, **kwargs):
        return super()._construct_form(i, **{**kwargs, "empty_permitted": False})

    def rows(self):
        return [
            {key: form.cleaned_data.get(key) for key in self.keys}
            for form in self.forms
            if any(form.cleaned_data.get(key) is not None for key in self.keys) and not form.cleaned_data.get("DELETE")
        ]


class BracketForm(forms.Form):
    threshold = RebateBracket._meta.get_field("threshold").formfield(
        label=_("From volume"),
        required=False,
        min_value=0,
        widget=forms.NumberInput(attrs={"step": "any", "min": 0}),
    )
    rate = RebateBracket._meta.get_field("rate").formfield(
        label=_("Rate %"),
        required=False,
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"step": "any", "min": 0, "max": 100}),
    )

    def clean(self):
        cleaned = super().clean()
        threshold, rate = cleaned.get("threshold"), cleaned.get("rate")
        if threshold is not None and rate is None and not self.has_error("rate"):
            self.add_error("rate", _("Enter the rate of this bracket."))
        if rate is not None and threshold is None and not self.has_error("threshold"):
            self.add_error("threshold", _("Enter the volume this bracket starts at."))
        return cleaned


class BracketFormSet(_RowsFormSet):
    keys = ("threshold", "rate")


BracketRows = forms.formset_factory(BracketForm, formset=BracketFormSet, extra=1, can_delete=True)


class PolicyForm(forms.Form):
    """A rebate policy: its terms, eligible product lines, one multiplier per partner tier (empty:
    × 1) and its brackets (a formset). The preview inputs (volume, partner) sit in the same HTML
    form so the live preview can send everything at once; saving ignores them."""

    def __init__(self, *args, policy=None, **kwargs):
        self.policy = policy
        super().__init__(*args, **kwargs)
        self.fields.update(
            fields_for_model(
                RebatePolicy,
                fields=POLICY_FIELDS,
                widgets={"valid_from": DATE_WIDGET, "valid_to": DATE_WIDGET},
            )
        )
        self.fields["cap"].validators.append(MinValueValidator(Decimal("0")))
        self.fields["cap"].widget.attrs.update(min=0, step="0.01")
        chosen = policy.product_lines.values("pk") if policy is not None else []
        self.fields["product_lines"] = _product_lines_field(chosen)
        self.tiers = list(PartnerTier.objects.order_by("rank", "pk"))
        multiplier = TierMultiplier._meta.get_field("multiplier")
        for tier in self.tiers:
            self.fields[f"tier_{tier.pk}"] = multiplier.formfield(
                label=tier.name,
                required=False,
                min_value=0,
                max_value=10,
                widget=forms.NumberInput(attrs={"step": "any", "min": 0, "max": 10, "placeholder": "1"}),
            )
        data = args[0] if args else kwargs.get("data")
        self.brackets = BracketRows(data, prefix="brackets", initial=self._initial_brackets())
        # Errors the service names on the brackets as a whole (order, first threshold...).
        self.bracket_errors = []

    def _initial_brackets(self):
        if self.policy is None:
            return [{"threshold": Decimal("0")}]
        return [{"threshold": plain(b.threshold), "rate": plain(b.rate)} for b in self.policy.brackets.all()]

    def term_fields(self):
        return [self[name] for name in POLICY_FIELDS]

    def tier_fields(self):
        return [self[f"tier_{tier.pk}"] for tier in self.tiers]

    def is_valid(self):
        valid = super().is_valid()
        return self.brackets.is_valid() and valid

    def add_error(self, field, error):
        if field == "brackets":
            messages = error.messages if hasattr(error, "messages") else [str(error)]
            self.bracket_errors.extend(messages)
            return
        super().add_error(field, error)

    def service_data(self):
        """The keyword arguments of policy_create / policy_update."""
        data = {name: self.cleaned_data[name] for name in POLICY_FIELDS}
        data["product_lines"] = list(self.cleaned_data["product_lines"])
        data["brackets"] = self.brackets.rows()
        data["tier_multipliers"] = {
            tier: self.cleaned_data[f"tier_{tier.pk}"]
            for tier in self.tiers
            if self.cleaned_data.get(f"tier_{tier.pk}") is not None
        }
        return data


class PreviewForm(forms.Form):
    """The inputs of the live preview, rendered inside the policy form (prefix "preview")."""

    volume = forms.DecimalField(
        label=_("Volume in the period"),
        required=False,
        min_value=0,
        widget=forms.NumberInput(attrs={"step": "any", "min": 0}),
        help_text=_("Revenue, or units for a units basis."),
    )
    value = forms.DecimalField(
        label=_("Revenue of these units"),
        required=False,
        min_value=0,
        widget=forms.NumberInput(attrs={"step": "any", "min": 0}),
        help_text=_("Units basis only: the rate applies to this revenue. Empty: the volume."),
    )
    partner = PartnerCodeField(
        required=False,
        label=_("Partner (optional)"),
        help_text=_("Applies the multiplier of its tier and the cap."),
    )


class OverrideRateForm(forms.Form):
    level = forms.IntegerField(
        label=_("Level above the seller"),
        required=False,
        min_value=1,
        max_value=99,
        help_text=_("1: the parent, 2: the grandparent…"),
    )
    rate = forms.DecimalField(
        label=_("Rate %"),
        required=False,
        min_value=0,
        max_value=100,
        max_digits=7,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "any", "min": 0, "max": 100}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("level") is not None and cleaned.get("rate") is None and not self.has_error("rate"):
            self.add_error("rate", _("Enter the rate for this level."))
        if cleaned.get("rate") is not None and cleaned.get("level") is None and not self.has_error("level"):
            self.add_error("level", _("Enter the level this rate is paid to."))
        return cleaned


class OverrideRateFormSet(_RowsFormSet):
    keys = ("level", "rate")

    def clean(self):
        if any(self.errors):
            return
        seen = set()
        for row in self.rows():
            if row["level"] in seen:
                raise forms.ValidationError(_("Level %(level)s is listed twice; give each level one rate.") % row)
            seen.add(row["level"])


OverrideRateRows = forms.formset_factory(OverrideRateForm, formset=OverrideRateFormSet, extra=1, can_delete=True)


class OverridePolicyForm(forms.Form):
    def __init__(self, *args, policy=None, **kwargs):
        self.policy = policy
        super().__init__(*args, **kwargs)
        self.fields.update(
            fields_for_model(
                OverridePolicy,
                fields=OVERRIDE_FIELDS,
                widgets={"valid_from": DATE_WIDGET, "valid_to": DATE_WIDGET},
            )
        )
        chosen = policy.product_lines.values("pk") if policy is not None else []
        self.fields["product_lines"] = _product_lines_field(chosen)
        data = args[0] if args else kwargs.get("data")
        initial = (
            [{"level": rate.level, "rate": plain(rate.rate)} for rate in policy.rates.all()]
            if policy is not None
            else [{"level": 1}, {"level": 2}]
        )
        self.rates = OverrideRateRows(data, prefix="rates", initial=initial)
        self.rate_errors = []

    def term_fields(self):
        return [self[name] for name in OVERRIDE_FIELDS]

    def is_valid(self):
        valid = super().is_valid()
        return self.rates.is_valid() and valid

    def add_error(self, field, error):
        if field == "rates":
            self.rate_errors.extend(error.messages if hasattr(error, "messages") else [str(error)])
            return
        super().add_error(field, error)

    def service_data(self):
        data = {name: self.cleaned_data[name] for name in OVERRIDE_FIELDS}
        data["product_lines"] = list(self.cleaned_data["product_lines"])
        data["rates"] = {row["level"]: row["rate"] for row in self.rates.rows()}
        return data


class StatementRunForm(forms.Form):
    period = PeriodCodeField(label=_("Period"), max_length=7, help_text=PERIOD_HELP)
    partner = PartnerCodeField(required=False, help_text=_("Empty: every partner that earns in the period."))

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_partner(self):
        code = self.cleaned_data["partner"].strip()
        return partner_by_code(self.user, code) if code else None


class AdjustmentForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=16,
        decimal_places=2,
        help_text=_("Negative to take an amount off."),
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class BudgetForm(forms.Form):
    partner = PartnerCodeField()
    period = PeriodCodeField(label=_("Period"), max_length=7, help_text=PERIOD_HELP)
    allocated = MdfBudget._meta.get_field("allocated").formfield(
        label=_("Allocated"), min_value=0, widget=forms.NumberInput(attrs={"step": "0.01", "min": 0})
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_partner(self):
        partner = partner_by_code(self.user, self.cleaned_data["partner"])
        if not can_decide_mdf(self.user, partner):
            raise forms.ValidationError(
                _("You can set the MDF budgets only of partners you own or that are in your regions.")
            )
        return partner


class AllocateForm(forms.Form):
    period = PeriodCodeField(label=_("Period"), max_length=7, help_text=PERIOD_HELP)


class MdfApproveForm(forms.Form):
    approved_amount = MdfRequest._meta.get_field("approved_amount").formfield(
        label=_("Approved amount"),
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": 0}),
        help_text=_("At most the amount requested; it is reserved from the budget."),
    )
    note = forms.CharField(label=_("Note to the partner"), max_length=500, required=False)


class ReasonForm(forms.Form):
    # The service says when a reason is missing, on this field.
    reason = forms.CharField(
        label=_("Reason"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class MdfPayForm(forms.Form):
    payment_reference = forms.CharField(label=_("Payment reference"), max_length=100, required=False)


class AssignForm(forms.Form):
    agreement = forms.CharField(
        label=_("Agreement number"),
        max_length=40,
        widget=forms.TextInput(attrs={"list": "agreement-numbers", "autocomplete": "off"}),
    )
