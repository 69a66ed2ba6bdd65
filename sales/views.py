"""Staff pages of the product catalogue (everyone on the staff reads it; only channel admins
change it) and of the sales lines (a list every staff user reads; an import for staff who may
write). Thin: parse, call a service or selector, render."""

import csv
import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from partners.access import can_manage_reference_data
from prm.roles import can_write_as_staff
from prm.uploads import IMPORTS, validate_upload
from prm.views import ObjectListView, ServiceFormView, StaffRequiredMixin

from . import imports, selectors, services
from .filters import ProductFilterSet, SalesLineFilterSet
from .forms import ProductForm, ProductLineForm, SalesImportForm
from .models import Product, ProductLine, SalesLine, SalesSource


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


# Sales lines -----------------------------------------------------------------------------------


class SalesLineListView(ObjectListView):
    """Every sales line the user may see, filtered by partner, period, product line, customer
    region (with its sub-regions) and source, sorted, paginated and exported (CSV or Excel) in a
    fixed number of queries."""

    model = SalesLine
    template_name = "sales/sales_line_list.html"
    filterset_class = SalesLineFilterSet
    ordering_fields = {
        "sold_on": "sold_on",
        "partner": "partner__code",
        "product_line": "product_line__name",
        "customer": "customer_name",
        "region": "customer_region__name",
        "quantity": "quantity",
        "amount": "amount",
        "source": "source",
    }
    default_ordering = ["-sold_on", "-pk"]
    export_filename = "sales-lines"

    def get_base_queryset(self):
        return selectors.sales_line_list(user=self.request.user)

    def get_export_columns(self):
        sources = dict(SalesSource.choices)
        return (
            (_("Partner code"), lambda line: line.partner.code),
            (_("Partner"), lambda line: line.partner.name),
            (_("External ID"), lambda line: line.external_id),
            (_("Sold on"), lambda line: line.sold_on),
            (_("SKU"), lambda line: line.product.sku if line.product else ""),
            (_("Product line code"), lambda line: line.product_line.code),
            (_("Customer ID"), lambda line: line.customer_id),
            (_("Customer name"), lambda line: line.customer_name),
            (_("Customer region code"), lambda line: line.customer_region.code if line.customer_region else ""),
            (_("Quantity"), lambda line: line.quantity),
            (_("Unit price"), lambda line: line.unit_price),
            (_("Amount"), lambda line: line.amount),
            (_("Currency"), lambda line: line.currency),
            (_("Source"), lambda line: str(sources.get(line.source, line.source))),
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(can_import=can_write_as_staff(self.request.user), **kwargs)


class SalesUploadMixin:
    """The upload both the staff import and the portal share: a file of up to
    PRM_IMPORT_BACKGROUND_ROWS rows is imported at once and its report shown; a larger one is
    queued (imports.sales_import_start) and the page follows its run (`?run=<id>`, readable only
    by who started it) until its report shows."""

    import_partner = None  # the portal's own partner; None: a staff import

    def get_run(self):
        run_id = self.request.GET.get("run", "")
        if not run_id.isdigit():
            return None
        return imports.import_runs(self.request.user).filter(pk=run_id).first()

    def upload_context(self, form=None, report=None, file_name=""):
        run = self.get_run()
        if run is not None and report is None:
            report = imports.run_report(run)
            file_name = run.params.get("name", "")
        return {
            "form": form or SalesImportForm(),
            "report": report,
            "file_name": file_name,
            "run": run,
            "done_url": self.request.get_full_path(),
            "columns": imports.IMPORT_COLUMNS,
        }

    def post(self, request, *args, **kwargs):
        form = SalesImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(**self.upload_context(form)))
        upload, dry_run = form.cleaned_data["file"], form.cleaned_data["dry_run"]
        try:
            name, _content_type = validate_upload(upload, allowed=IMPORTS)
            if imports.needs_background(imports.import_row_count(upload)):
                run = services.sales_import_start(
                    file=upload, name=name, by=request.user, partner=self.import_partner, dry_run=dry_run
                )
                return HttpResponseRedirect(f"{request.path}?run={run.pk}")
            report = services.sales_import(file=upload, by=request.user, partner=self.import_partner, dry_run=dry_run)
        except ValidationError as error:
            for message in error.message_dict.get("file", []) if hasattr(error, "error_dict") else error.messages:
                form.add_error("file", message)
            return self.render_to_response(self.get_context_data(**self.upload_context(form)))
        if report.ok and not dry_run:
            messages.success(
                request,
                _("Imported %(name)s: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.")
                % {"name": name, "created": report.created, "updated": report.updated, "unchanged": report.unchanged},
            )
        return self.render_to_response(self.get_context_data(**self.upload_context(report=report, file_name=name)))


class SalesLineImportView(SalesUploadMixin, StaffRequiredMixin, TemplateView):
    """Import sales lines for the partners this user manages: every bad cell reported (row,
    column, reason) and nothing written, or the counts of what was (or, in a dry run, would be)
    created, updated and unchanged."""

    template_name = "sales/sales_line_import.html"

    def load_objects(self, **kwargs):
        if not can_write_as_staff(self.request.user):
            raise PermissionDenied(_("Your role can read sales but not import them."))

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(**self.upload_context()))


def import_template_response():
    """An empty CSV with the import's columns and one example row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(imports.IMPORT_COLUMNS)
    example = ("P00001", "INV-2026-0001", "2026-03-31", "SEN-100", "", "C-1001", "Acme Ltd", "CN-SH", "10", "99.50")
    writer.writerow([*example, "995.00", ""])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="sales-lines-template.csv"'
    return response


class SalesLineImportTemplateView(StaffRequiredMixin, View):
    def get(self, request):
        return import_template_response()
