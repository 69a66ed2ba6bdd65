"""Staff pages of the product catalogue. Everyone on the staff reads it; only channel admins
change it. Thin: parse, call a service or selector, render."""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from partners.access import can_manage_reference_data
from prm.views import ObjectListView, ServiceFormView, StaffRequiredMixin

from . import selectors, services
from .filters import ProductFilterSet
from .forms import ProductForm, ProductLineForm
from .models import Product, ProductLine


class ProductLineListView(StaffRequiredMixin, TemplateView):
    template_name = "sales/product_line_list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            product_lines=selectors.product_line_list(user=self.request.user).order_by("-is_active", "name"),
            can_manage=can_manage_reference_data(self.request.user),
            **kwargs,
        )


class ProductLineCreateView(ServiceFormView):
    form_class = ProductLineForm
    template_name = "sales/product_line_form.html"
    success_message = gettext_lazy("Product line saved.")

    def load_objects(self, **kwargs):
        services.require_manage_catalogue(self.request.user)

    def get_success_url(self):
        return reverse("sales:product-line-list")

    def perform(self, form):
        return services.product_line_create(by=self.request.user, **form.cleaned_data)


class ProductLineUpdateView(ProductLineCreateView):
    def load_objects(self, pk):
        services.require_manage_catalogue(self.request.user)
        self.product_line = get_object_or_404(ProductLine.objects.visible_to(self.request.user), pk=pk)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = ProductLine.objects.get(pk=self.product_line.pk)
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(product_line=self.product_line, **kwargs)

    def perform(self, form):
        return services.product_line_update(product_line=self.product_line, by=self.request.user, **form.cleaned_data)


class ProductListView(ObjectListView):
    model = Product
    template_name = "sales/product_list.html"
    filterset_class = ProductFilterSet
    ordering_fields = {
        "sku": "sku",
        "name": "name",
        "line": "product_line__name",
        "unit": "unit",
        "price": "list_price",
        "active": "is_active",
    }
    default_ordering = ["product_line__name", "name", "pk"]
    export_filename = "products"

    def get_base_queryset(self):
        return selectors.product_list(user=self.request.user)

    def get_export_columns(self):
        yes, no = _("Yes"), _("No")
        return (
            (_("SKU"), lambda p: p.sku),
            (_("Name"), lambda p: p.name),
            (_("Product line"), lambda p: p.product_line.name),
            (_("Product line code"), lambda p: p.product_line.code),
            (_("Unit"), lambda p: p.unit),
            (_("List price"), lambda p: "" if p.list_price is None else f"{p.list_price:.2f}"),
            (_("On sale"), lambda p: yes if p.is_active else no),
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(can_manage=can_manage_reference_data(self.request.user), **kwargs)


class ProductCreateView(ServiceFormView):
    form_class = ProductForm
    template_name = "sales/product_form.html"
    success_message = gettext_lazy("Product saved.")

    def load_objects(self, **kwargs):
        services.require_manage_catalogue(self.request.user)

    def get_initial(self):
        return {"product_line": self.request.GET.get("product_line")}

    def get_success_url(self):
        return reverse("sales:product-list")

    def perform(self, form):
        return services.product_create(by=self.request.user, **form.cleaned_data)


class ProductUpdateView(ProductCreateView):
    def load_objects(self, pk):
        services.require_manage_catalogue(self.request.user)
        self.product = get_object_or_404(Product.objects.visible_to(self.request.user), pk=pk)

    def get_initial(self):
        return {}

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = Product.objects.get(pk=self.product.pk)
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(product=self.product, **kwargs)

    def perform(self, form):
        return services.product_update(product=self.product, by=self.request.user, **form.cleaned_data)
