from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Product, ProductLine
from .services import PRODUCT_LINE_UPDATABLE_FIELDS, PRODUCT_UPDATABLE_FIELDS


class ProductLineForm(forms.ModelForm):
    class Meta:
        model = ProductLine
        fields = list(PRODUCT_LINE_UPDATABLE_FIELDS)
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = list(PRODUCT_UPDATABLE_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product_line"].queryset = ProductLine.objects.order_by("-is_active", "name")


class SalesImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        max_length=200,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
        help_text=_("CSV or Excel (.xlsx), with the columns of the template."),
    )
    dry_run = forms.BooleanField(
        label=_("Check only (dry run): report the problems and the counts, write nothing"), required=False
    )
