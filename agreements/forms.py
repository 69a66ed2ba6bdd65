"""Forms of the agreements staff pages. Each hands its data to one service, which checks it again
and names the field that is wrong."""

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from partners.access import can_manage_partner
from partners.forms import RegionChoiceField
from partners.models import Partner, Region
from prm.periods import Period, PeriodKind
from sales.models import ProductLine

from .choices import DocumentKind
from .models import Agreement, AgreementTarget, MinimumPrice, RegionTarget
from .services import AGREEMENT_FREE_FIELDS, AGREEMENT_TERMS_FIELDS

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TEXTAREA = forms.Textarea(attrs={"rows": 3})
# Commercial terms the agreement form edits beside partner, type, dates, lines and territories;
# `owner` and `notes` and the signing fields are free fields, edited at any status.
TERMS_FIELDS = [name for name in AGREEMENT_TERMS_FIELDS if name not in AGREEMENT_FREE_FIELDS and name != "owner"]
FREE_FIELDS = ["owner", *[name for name in AGREEMENT_FREE_FIELDS if name != "owner"]]
WIDGETS = {
    "start_date": DATE_WIDGET,
    "end_date": DATE_WIDGET,
    "signed_on": DATE_WIDGET,
    "market_support": TEXTAREA,
    "after_sales_obligations": TEXTAREA,
    "penalty_clauses": TEXTAREA,
    "notes": TEXTAREA,
}


def _model_fields(names):
    return fields_for_model(Agreement, fields=names, widgets={k: v for k, v in WIDGETS.items() if k in names})


def _staff_users():
    return get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")


class ProductLineCheckboxes(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"})

    def label_from_instance(self, line):
        return f"{line.name} ({line.code})"


class TerritoryForm(forms.Form):
    region = RegionChoiceField(label=_("Region"), queryset=Region.objects.order_by("path"), required=False)
    exclusive = forms.BooleanField(label=_("Exclusive"), required=False)


class MinimumPriceForm(forms.Form):
    product_line = forms.ModelChoiceField(
        label=_("Product line"), queryset=ProductLine.objects.order_by("name"), required=False
    )
    min_unit_price = MinimumPrice._meta.get_field("min_unit_price").formfield(required=False)

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("product_line")
            and cleaned.get("min_unit_price") is None
            and not self.has_error("min_unit_price")
        ):
            self.add_error("min_unit_price", _("Enter the minimum resale price for this product line."))
        if cleaned.get("min_unit_price") is not None and not cleaned.get("product_line"):
            self.add_error("product_line", _("Choose the product line this price is for."))
        return cleaned


class _RowsFormSet(forms.BaseFormSet):
    """Rows left empty (or marked for removal) are ignored; each key (region, product line)
    appears once."""

    key = None
    duplicate_message = None

    def rows(self):
        return [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data.get(self.key) and not form.cleaned_data.get("DELETE")
        ]

    def clean(self):
        if any(self.errors):
            return
        seen = set()
        for row in self.rows():
            if row[self.key] in seen:
                raise forms.ValidationError(self.duplicate_message % {"name": row[self.key]})
            seen.add(row[self.key])


class TerritoryFormSet(_RowsFormSet):
    key = "region"
    duplicate_message = _("%(name)s is listed twice; list each region once.")


class MinimumPriceFormSet(_RowsFormSet):
    key = "product_line"
    duplicate_message = _("%(name)s has two minimum prices; give each product line one.")


TerritoryRows = forms.formset_factory(TerritoryForm, formset=TerritoryFormSet, extra=2, can_delete=True)
MinimumPriceRows = forms.formset_factory(MinimumPriceForm, formset=MinimumPriceFormSet, extra=1, can_delete=True)


class AgreementFreeFieldsForm(forms.Form):
    """What may change at any status: the owner, the notes, the signatories and the signing date."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(_model_fields(FREE_FIELDS))
        self.fields["owner"].queryset = _staff_users()
        self.formsets = {}

    def sections(self):
        """[(heading, [bound field])] in the order the page shows them."""
        return [(_("Signing and notes"), [self[name] for name in FREE_FIELDS])]


class AgreementForm(AgreementFreeFieldsForm):
    """A draft: partner (by code, only when creating), type, term, product lines, territories,
    minimum prices and the commercial terms, then the free fields."""

    partner = forms.CharField(
        label=_("Partner code"),
        max_length=32,
        help_text=_("The code of a partner you manage; start typing to see suggestions."),
        widget=forms.TextInput(attrs={"list": "partner-codes", "autocomplete": "off"}),
    )

    def __init__(self, *args, user, agreement=None, **kwargs):
        self.user = user
        self.agreement = agreement
        super().__init__(*args, **kwargs)
        free = {name: self.fields.pop(name) for name in FREE_FIELDS}
        partner = self.fields.pop("partner")
        if agreement is None:
            self.fields["partner"] = partner
        self.fields.update(_model_fields(["agreement_type", "start_date", "end_date"]))
        chosen = agreement.product_lines.values("pk") if agreement is not None else []
        self.fields["product_lines"] = ProductLineCheckboxes(
            label=_("Product lines"),
            required=False,
            queryset=ProductLine.objects.filter(is_active=True) | ProductLine.objects.filter(pk__in=chosen),
        )
        self.fields["product_lines"].queryset = self.fields["product_lines"].queryset.order_by("name")
        self.fields.update(_model_fields(TERMS_FIELDS))
        self.fields.update(free)
        data = args[0] if args else kwargs.get("data")
        self.formsets = {
            "territories": TerritoryRows(data, prefix="territories", initial=self._initial_territories()),
            "minimum_prices": MinimumPriceRows(data, prefix="prices", initial=self._initial_prices()),
        }

    def sections(self):
        """[(heading, [bound field])] for the fields shown as plain inputs; the product lines,
        territories and minimum prices have blocks of their own."""
        head = ["partner"] if "partner" in self.fields else []
        return [
            (_("Partner and term"), [self[name] for name in [*head, "agreement_type", "start_date", "end_date"]]),
            (_("Commercial terms"), [self[name] for name in TERMS_FIELDS]),
            *super().sections(),
        ]

    def _initial_territories(self):
        if self.agreement is None:
            return []
        return [{"region": t.region_id, "exclusive": t.exclusive} for t in self.agreement.territories.all()]

    def _initial_prices(self):
        if self.agreement is None:
            return []
        return [
            {"product_line": p.product_line_id, "min_unit_price": p.min_unit_price}
            for p in self.agreement.minimum_prices.all()
        ]

    def clean_partner(self):
        code = self.cleaned_data["partner"].strip()
        partner = Partner.objects.visible_to(self.user).select_related("region").filter(code__iexact=code).first()
        if partner is None:
            raise forms.ValidationError(_("No partner has the code “%(code)s”.") % {"code": code})
        if not can_manage_partner(self.user, partner):
            raise forms.ValidationError(
                _("You can change only the agreements of partners you own or that are in your regions.")
            )
        return partner

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end <= start:
            self.add_error("end_date", _("The end date must be after the start date."))
        return cleaned

    def is_valid(self):
        valid = super().is_valid()
        # Every formset is validated, so that all their errors show at once.
        formsets_valid = [formset.is_valid() for formset in self.formsets.values()]
        return valid and all(formsets_valid)

    def service_data(self):
        """The keyword arguments of agreement_create / agreement_update."""
        data = {name: self.cleaned_data[name] for name in self.fields if name != "partner"}
        data["territories"] = [
            {"region": row["region"], "exclusive": row["exclusive"]} for row in self.formsets["territories"].rows()
        ]
        data["minimum_prices"] = [
            {"product_line": row["product_line"], "min_unit_price": row["min_unit_price"]}
            for row in self.formsets["minimum_prices"].rows()
        ]
        return data


class ReasonForm(forms.Form):
    # The service says when a reason is required (a rejection, a termination of an active one).
    reason = forms.CharField(
        label=_("Reason"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class RenewForm(forms.Form):
    start_date = forms.DateField(
        label=_("New start date"),
        required=False,
        widget=DATE_WIDGET,
        help_text=_("Empty: the day after this agreement ends."),
    )
    end_date = forms.DateField(
        label=_("New end date"), required=False, widget=DATE_WIDGET, help_text=_("Empty: a term as long as this one.")
    )


class AmendForm(forms.Form):
    start_date = forms.DateField(
        label=_("The new version applies from"),
        required=False,
        widget=DATE_WIDGET,
        help_text=_("Empty: from today."),
    )


class DocumentForm(forms.Form):
    """The service checks the file's type (extension and content) and size, and names the field."""

    kind = forms.ChoiceField(
        label=_("Document type"), choices=DocumentKind.choices, initial=DocumentKind.SIGNED_CONTRACT
    )
    file = forms.FileField(
        label=_("File"),
        max_length=200,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,.docx,.xlsx"}),
    )
    visible_to_partner = forms.BooleanField(label=_("Visible in the portal"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _("PDF, PNG, JPEG, Word (.docx) or Excel (.xlsx), at most %(mb)s MB.") % {
            "mb": settings.PRM_MAX_UPLOAD_MB
        }


GRANULARITY_CHOICES = [
    (PeriodKind.MONTH, _("Months")),
    (PeriodKind.QUARTER, _("Quarters")),
    (PeriodKind.YEAR, _("Years")),
]


class TargetGridForm(forms.Form):
    """One row per period of the agreement's term: revenue and units. A row left empty deletes
    the target of that period (if there was one)."""

    def __init__(self, *args, periods, **kwargs):
        super().__init__(*args, **kwargs)
        self.periods = periods
        revenue = AgreementTarget._meta.get_field("revenue")
        units = AgreementTarget._meta.get_field("units")
        for period in periods:
            self.fields[f"revenue_{period.code}"] = revenue.formfield(required=False, label=_("Revenue"))
            self.fields[f"units_{period.code}"] = units.formfield(required=False, label=_("Units"))

    def rows(self):
        """[(period, revenue bound field, units bound field)] for the template."""
        return [(period, self[f"revenue_{period.code}"], self[f"units_{period.code}"]) for period in self.periods]

    def values(self, period):
        return self.cleaned_data.get(f"revenue_{period.code}"), self.cleaned_data.get(f"units_{period.code}")


class RegionTargetForm(forms.Form):
    region = RegionChoiceField(label=_("Region"), queryset=Region.objects.order_by("path"))
    product_line = forms.ModelChoiceField(
        label=_("Product line"),
        queryset=ProductLine.objects.order_by("name"),
        required=False,
        empty_label=_("All product lines"),
    )
    period = forms.CharField(
        label=_("Period"), max_length=7, help_text=_("2026-10 for a month, 2026-Q4 for a quarter, 2026 for a year.")
    )
    revenue = RegionTarget._meta.get_field("revenue").formfield(required=False)
    units = RegionTarget._meta.get_field("units").formfield(required=False)

    def clean_period(self):
        return Period.parse(self.cleaned_data["period"]).code

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("revenue") is None and cleaned.get("units") is None and not self.errors:
            raise forms.ValidationError(_("Enter a revenue target, a units target or both."))
        return cleaned
