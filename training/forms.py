"""Forms of the training staff pages. Each hands its data to one service, which checks it again and
names the field that is wrong; these forms only parse what people type."""

from django import forms
from django.conf import settings
from django.forms.models import fields_for_model
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from partners.choices import PartnerType
from partners.forms import RegionChoiceField
from partners.models import PartnerContact, PartnerTier, Region
from sales.models import ProductLine

from .choices import CourseType, MaterialKind, RecordStatus
from .models import Course, CourseMaterial, TierRequirement, TrainingRecord, TrainingSession

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
# What course_create / course_update accept, in the order the form shows them.
COURSE_FIELDS = [
    "code",
    "title",
    "course_type",
    "product_line",
    "level",
    "delivery",
    "duration_hours",
    "pass_mark",
    "validity_months",
    "description",
    "is_active",
]
SESSION_FIELDS = ["starts_at", "ends_at", "location", "capacity"]
# The results a person's attempt ends with here (withdrawing has its own button).
RESULT_STATUSES = [(status.value, status.label) for status in (RecordStatus.PASSED, RecordStatus.FAILED)]
# Partner codes offered as suggestions in the enrolment form; a larger network types the code.
PARTNER_SUGGESTIONS = 500
# The longest look-ahead of the expiring certifications page (ten years).
MAX_WITHIN_DAYS = 3650


class CourseForm(forms.Form):
    """A course's fields. Its tier requirements are rows of their own (TierRequirementRows)."""

    def __init__(self, *args, course=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(
            fields_for_model(Course, fields=COURSE_FIELDS, widgets={"description": forms.Textarea(attrs={"rows": 3})})
        )
        chosen = [course.product_line_id] if course is not None and course.product_line_id else []
        self.fields["product_line"].queryset = (
            ProductLine.objects.filter(is_active=True) | ProductLine.objects.filter(pk__in=chosen)
        ).order_by("name")
        self.fields["code"].help_text = _("Letters, digits, '-' and '_'; stored in capitals.")

    def clean_code(self):
        return self.cleaned_data["code"].strip().upper()


class TierRequirementForm(forms.Form):
    tier = forms.ModelChoiceField(label=_("Tier"), queryset=PartnerTier.objects.order_by("rank"), required=False)
    certified_people = forms.IntegerField(
        label=capfirst(TierRequirement._meta.get_field("certified_people").verbose_name),
        min_value=1,
        max_value=32767,
        required=False,
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("DELETE") or self.has_error("certified_people"):
            return cleaned
        if cleaned.get("tier") and not cleaned.get("certified_people"):
            self.add_error("certified_people", _("Enter how many certified people this tier needs."))
        if cleaned.get("certified_people") and not cleaned.get("tier"):
            self.add_error("tier", _("Choose the tier that needs these people."))
        return cleaned


class TierRequirementFormSet(forms.BaseFormSet):
    """Rows left empty (or marked for removal) are ignored; each tier appears once."""

    def rows(self):
        return [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data.get("tier") and not form.cleaned_data.get("DELETE")
        ]

    def clean(self):
        if any(self.errors):
            return
        seen = set()
        for row in self.rows():
            if row["tier"] in seen:
                raise forms.ValidationError(
                    _("%(name)s is listed twice; give each tier one requirement.") % {"name": row["tier"]}
                )
            seen.add(row["tier"])


TierRequirementRows = forms.formset_factory(
    TierRequirementForm, formset=TierRequirementFormSet, extra=1, can_delete=True
)


class MaterialForm(forms.Form):
    """A file or a link; the service checks the file's type (extension and content) and size, and
    that a link material has its link."""

    title = CourseMaterial._meta.get_field("title").formfield()
    kind = forms.ChoiceField(label=_("Material type"), choices=MaterialKind.choices, initial=MaterialKind.FILE)
    file = forms.FileField(
        label=_("File"),
        max_length=200,
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,.docx,.xlsx,.pptx"}),
    )
    url = CourseMaterial._meta.get_field("url").formfield(required=False)
    min_tier = forms.ModelChoiceField(
        label=_("Visible from tier"),
        queryset=PartnerTier.objects.order_by("rank"),
        required=False,
        empty_label=_("Every partner"),
        help_text=_("Partners of this tier or a higher one see it in the portal."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "PDF, PNG, JPEG, Word (.docx), Excel (.xlsx) or PowerPoint (.pptx), at most %(mb)s MB."
        ) % {"mb": settings.PRM_MAX_UPLOAD_MB}

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == MaterialKind.FILE and not cleaned.get("file") and not self.has_error("file"):
            self.add_error("file", _("Choose the file to upload."))
        if cleaned.get("kind") == MaterialKind.LINK and not cleaned.get("url") and not self.has_error("url"):
            self.add_error("url", _("Enter the link."))
        return cleaned

    def service_data(self):
        data = dict(self.cleaned_data)
        if data["kind"] == MaterialKind.LINK:
            data["file"] = None
        else:
            data["url"] = ""
        return data


class SessionForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(fields_for_model(TrainingSession, fields=SESSION_FIELDS))
        for name in ("starts_at", "ends_at"):
            self.fields[name] = forms.DateTimeField(
                label=self.fields[name].label, widget=DATETIME_WIDGET, input_formats=DATETIME_FORMATS
            )

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The session must end after it starts."))
        return cleaned


class PartnerCodeField(forms.CharField):
    """A partner typed by its code (a datalist suggests them), for networks too large for a select."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Partner code"))
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("widget", forms.TextInput(attrs={"list": "partner-codes", "autocomplete": "off"}))
        super().__init__(**kwargs)


class EnrolPartnerForm(forms.Form):
    """Step one of enrolling: which partner's people."""

    partner = PartnerCodeField(help_text=_("The code of a partner you manage; start typing to see suggestions."))

    def __init__(self, *args, partners, **kwargs):
        self.partners = partners
        super().__init__(*args, **kwargs)

    def clean_partner(self):
        code = self.cleaned_data["partner"].strip()
        partner = self.partners.filter(code__iexact=code).first()
        if partner is None:
            raise forms.ValidationError(
                _("No partner you may enrol people for has the code “%(code)s”.") % {"code": code}
            )
        return partner


class ContactCheckboxes(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"})

    def label_from_instance(self, contact):
        return f"{contact.name} · {contact.email}" if contact.email else contact.name


class SessionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, session):
        from django.utils import formats, timezone

        starts = formats.date_format(timezone.localtime(session.starts_at), "SHORT_DATETIME_FORMAT")
        free = session.capacity - session.seats_taken
        return _("%(starts)s · %(place)s · %(free)s of %(capacity)s seats free") % {
            "starts": starts,
            "place": session.location,
            "free": max(free, 0),
            "capacity": session.capacity,
        }


class EnrolForm(forms.Form):
    """Step two: the partner's people to enrol, and the session when the course has sessions."""

    contacts = ContactCheckboxes(
        label=_("People"),
        queryset=PartnerContact.objects.none(),
        error_messages={"required": _("Choose at least one person.")},
    )

    def __init__(self, *args, partner, course, sessions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacts"].queryset = PartnerContact.objects.filter(partner=partner).order_by("name")
        if course.has_sessions:
            self.fields["session"] = SessionChoiceField(
                label=_("Session"),
                queryset=sessions,
                empty_label=None,
                error_messages={"required": _("Choose the session.")},
            )


class RecordResultForm(forms.Form):
    """The result of an attempt: passed or failed, the score, the day it was completed. The
    service refuses a pass below the course's pass mark (and a fail at or above it)."""

    status = forms.ChoiceField(label=_("Result"), choices=RESULT_STATUSES)
    score = forms.DecimalField(
        label=capfirst(TrainingRecord._meta.get_field("score").verbose_name),
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        required=False,
    )
    completed_on = forms.DateField(label=_("Completed on"), required=False, widget=DATE_WIDGET)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        max_length=200,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
        help_text=_("CSV or Excel (.xlsx), with the columns of the template."),
    )


class ImportConfirmForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)


class MatrixFilterForm(forms.Form):
    """Rows: partners (region subtree, tier, type); columns: courses (product line, type; by
    default only the courses some tier requires)."""

    region = RegionChoiceField(
        label=_("Region (with sub-regions)"), queryset=Region.objects.order_by("path"), required=False
    )
    tier = forms.ModelChoiceField(label=_("Tier"), queryset=PartnerTier.objects.order_by("rank"), required=False)
    partner_type = forms.ChoiceField(
        label=_("Partner type"), choices=[("", _("All")), *PartnerType.choices], required=False
    )
    product_line = forms.ModelChoiceField(
        label=_("Product line"), queryset=ProductLine.objects.order_by("name"), required=False
    )
    course_type = forms.ChoiceField(
        label=_("Course type"), choices=[("", _("All")), *CourseType.choices], required=False
    )
    all_courses = forms.BooleanField(label=_("Also courses no tier requires"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("region", "tier", "product_line"):
            self.fields[name].empty_label = _("All")

    def partners(self, queryset):
        data = self.cleaned_data
        if data.get("region"):
            queryset = queryset.in_region(data["region"])
        if data.get("tier"):
            queryset = queryset.filter(tier=data["tier"])
        if data.get("partner_type"):
            queryset = queryset.filter(partner_type=data["partner_type"])
        return queryset

    def courses(self, queryset):
        data = self.cleaned_data
        if data.get("product_line"):
            queryset = queryset.filter(product_line=data["product_line"])
        if data.get("course_type"):
            queryset = queryset.filter(course_type=data["course_type"])
        if not data.get("all_courses"):
            queryset = queryset.filter(requirements__isnull=False).distinct()
        return queryset


class ReportFilterForm(forms.Form):
    region = RegionChoiceField(
        label=_("Region"),
        queryset=Region.objects.order_by("path"),
        required=False,
        empty_label=_("All regions"),
        help_text=_("Choose a region to see its partners."),
    )
    since = forms.DateField(label=_("Attempts from"), required=False, widget=DATE_WIDGET)
    until = forms.DateField(label=_("Attempts until"), required=False, widget=DATE_WIDGET)

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end of the range must not be before its start."))
        return cleaned


class ExpiringFilterForm(forms.Form):
    within = forms.IntegerField(
        label=_("Expiring within (days)"),
        min_value=0,
        max_value=MAX_WITHIN_DAYS,
        required=False,
        initial=60,
        widget=forms.NumberInput(attrs={"min": 0, "max": MAX_WITHIN_DAYS, "step": 1}),
    )
    region = RegionChoiceField(
        label=_("Partner in region"), queryset=Region.objects.order_by("path"), required=False, empty_label=_("All")
    )


def partner_choices(partners):
    """(code, name) suggestions for a partner code field."""
    return partners.order_by("code").values_list("code", "name")[:PARTNER_SUGGESTIONS]
