"""Filter pieces shared by the apps' FilterSets (the staff lists and the API use the same ones)."""

import django_filters
from django.utils.translation import gettext_lazy as _
from django_filters.fields import ChoiceField

ALL = _("All")


class YesNoField(ChoiceField):
    def clean(self, value):
        return {"true": True, "false": False}.get(super().clean(value))


class YesNoFilter(django_filters.ChoiceFilter):
    """A yes/no question: `?name=true` or `?name=false` (the list's select shows All, Yes, No).
    Filters the field it names, or hands True/False to its `method`, like a BooleanFilter."""

    field_class = YesNoField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", (("true", _("Yes")), ("false", _("No"))))
        kwargs.setdefault("empty_label", ALL)
        super().__init__(*args, **kwargs)
