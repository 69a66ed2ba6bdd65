"""Forms and list filters of the performance staff pages: region flags and their workflow, the flag
rules, scorecard templates, month runs and customer-satisfaction scores. Each form hands its data
to one service in performance.services, which checks it again and names the field that is wrong;
the forms only turn text into values."""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from incentives.filters import PeriodCodeField, PeriodFilter, RegionFilter
from incentives.forms import DATE_WIDGET, PartnerCodeField, partner_by_code, plain
from partners.models import Region
from prm.filters import ALL, YesNoFilter
from prm.periods import Period, PeriodKind

from .choices import SCORABLE_KPIS, FlagRuleCode, FlagStatus, Kpi, Measure
from .models import CustomerSatisfaction, RegionFlag

MONTH_HELP = _("A month, such as 2026-03.")


class MonthField(PeriodCodeField):
    """A month code ("2026-3" is not one; "2026-03" is); a quarter or a year is refused here,
    the service refuses it again."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Month"))
        kwargs.setdefault("max_length", 7)
        kwargs.setdefault("help_text", MONTH_HELP)
        kwargs.setdefault("widget", forms.TextInput(attrs={"placeholder": "2026-03", "maxlength": 7}))
        super().__init__(**kwargs)

    def clean(self, value):
        code = super().clean(value)
        if code and Period.parse(code).kind != PeriodKind.MONTH:
            raise forms.ValidationError(_("Enter a month, such as 2026-10."))
        return code


def _region_subtree(queryset, name, value):
    return queryset.filter(region__path__startswith=value.path) if value else queryset


# Region flags -----------------------------------------------------------------------------------


class RegionFlagFilterSet(django_filters.FilterSet):
    """The flag list's filters: the month, the status, a region and everything below it, a rule
    that fired, and whether the rules still fire."""

    period = PeriodFilter(label=_("Month"), help_text=MONTH_HELP)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=FlagStatus.choices, empty_label=ALL)
    region = RegionFilter(
        label=_("Region"), queryset=Region.objects.order_by("path"), method="filter_region", empty_label=ALL
    )
    rule = django_filters.ChoiceFilter(
        label=_("Rule fired"), choices=FlagRuleCode.choices, method="filter_rule", empty_label=ALL
    )
    is_firing = YesNoFilter(label=_("Rules still fire"))

    class Meta:
        model = RegionFlag
        fields = ["period", "status", "region", "rule", "is_firing"]

    @extend_schema_field(OpenApiTypes.INT)
    def filter_region(self, queryset, name, value):
        """Flags of the region and of the regions below it."""
        return _region_subtree(queryset, name, value)

    def filter_rule(self, queryset, name, value):
        """Flags where this rule fired. `rules` is a JSON list of codes and no code is part of
        another, so a match on the code's quoted text is exact on every database."""
        return queryset.filter(rules__icontains=f'"{value}"') if value else queryset


def staff_owners():
    return get_user_model().objects.filter(is_staff=True, is_active=True).order_by("display_name", "username")


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return str(user)


class FlagPlanForm(forms.Form):
    """The action plan of a flag: what is done (measures), who owns it, by when, and how.
    Nothing is required here: the service names what is missing, on its field."""

    measures = forms.MultipleChoiceField(
        label=_("Measures"),
        choices=Measure.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    owner = OwnerChoiceField(label=_("Owner"), queryset=staff_owners(), required=False, empty_label="—")
    due_date = forms.DateField(label=_("Due date"), required=False, widget=DATE_WIDGET)
    plan = forms.CharField(
        label=_("Action plan"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What will be done, by whom and with which partners. Required with “Other”."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_owners()


class FlagResolveForm(forms.Form):
    resolution = forms.CharField(
        label=_("Resolution"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was done and what changed in the region."),
    )


# Flag rules -------------------------------------------------------------------------------------


class FlagRuleForm(forms.Form):
    """One rule's threshold and whether it is in force; the service checks the rule's limits."""

    threshold = forms.CharField(
        label=_("Threshold"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    is_active = forms.BooleanField(label=_("In force"), required=False)


# Scorecard templates ----------------------------------------------------------------------------


class ScorecardTemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    is_default = forms.BooleanField(
        label=_("Default template"),
        required=False,
        help_text=_("The monthly computation scores every partner with the default template."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class ScorecardItemForm(forms.Form):
    kpi = forms.ChoiceField(label=_("KPI"), required=False)
    weight = forms.DecimalField(
        label=_("Weight"),
        required=False,
        max_digits=5,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    floor = forms.DecimalField(
        label=_("Floor (scores 0)"),
        required=False,
        max_digits=20,
        decimal_places=6,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    target = forms.DecimalField(
        label=_("Target (scores 100)"),
        required=False,
        max_digits=20,
        decimal_places=6,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(Kpi.choices)
        self.fields["kpi"].choices = [("", "—")] + [(kpi.value, labels[kpi]) for kpi in SCORABLE_KPIS]

    def is_blank(self):
        data = getattr(self, "cleaned_data", {})
        return not any(data.get(key) not in (None, "") for key in ("kpi", "weight", "floor", "target"))


class ScorecardItemFormSet(forms.BaseFormSet):
    """Rows left empty or marked for removal are left out; the service checks the others."""

    def rows(self):
        return [
            {key: form.cleaned_data.get(key) for key in ("kpi", "weight", "floor", "target")}
            for form in self.forms
            if not form.is_blank() and not form.cleaned_data.get("DELETE")
        ]


ScorecardItemRows = forms.formset_factory(
    ScorecardItemForm, formset=ScorecardItemFormSet, extra=1, can_delete=True, max_num=len(SCORABLE_KPIS) + 5
)


def template_item_initial(template):
    if template is None:
        return []
    return [
        {"kpi": item.kpi, "weight": plain(item.weight), "floor": plain(item.floor), "target": plain(item.target)}
        for item in template.items.all()
    ]


# Runs and customer satisfaction ----------------------------------------------------------------


class MonthRunForm(forms.Form):
    period = MonthField(help_text=_("The month to compute: its KPI snapshots, scorecards and region flags."))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"period": Period.containing(timezone.localdate()).code})
        super().__init__(*args, **kwargs)


class SatisfactionFilterSet(django_filters.FilterSet):
    period = PeriodFilter(label=_("Month"), help_text=MONTH_HELP)
    partner_q = django_filters.CharFilter(label=_("Partner code or name"), method="filter_partner_q")
    region = RegionFilter(
        label=_("Region"), queryset=Region.objects.order_by("path"), method="filter_region", empty_label=ALL
    )

    class Meta:
        model = CustomerSatisfaction
        fields = ["period", "partner_q", "region"]

    def filter_partner_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(partner__code__icontains=value) | Q(partner__name__icontains=value))

    @extend_schema_field(OpenApiTypes.INT)
    def filter_region(self, queryset, name, value):
        """Scores of partners whose primary region is the region or below it."""
        return queryset.filter(partner__region__path__startswith=value.path) if value else queryset


class SatisfactionForm(forms.Form):
    partner = PartnerCodeField()
    period = MonthField()
    score = forms.CharField(
        label=_("Score"),
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("From 0 to 100, two decimals at most. A survey on another scale is converted: 8.6 of 10 is 86."),
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_partner(self):
        return partner_by_code(self.user, self.cleaned_data["partner"])
