"""The API's FilterSets: the shared ones of incentives.filters (same names as the staff lists),
plus what only an integration asks for."""

import django_filters
from django.utils.translation import gettext_lazy as _

from ..filters import MdfRequestFilterSet
from ..models import MdfBudget


def _visible_budgets(request):
    user = getattr(request, "user", None)
    return MdfBudget.objects.visible_to(user) if user is not None else MdfBudget.objects.none()


class MdfRequestApiFilterSet(MdfRequestFilterSet):
    budget = django_filters.ModelChoiceFilter(label=_("MDF budget"), queryset=_visible_budgets)

    class Meta(MdfRequestFilterSet.Meta):
        fields = [*MdfRequestFilterSet.Meta.fields, "budget"]
