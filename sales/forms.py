from django import forms

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
