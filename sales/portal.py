"""The partner portal's sales: the partner's own sales lines (recent first, paginated) and the
upload of its sales (CSV or Excel) with the same report as the staff import. Every line comes
through `visible_to`; the upload is forced to the user's own partner; a run's progress and
report are read only by who started it (anything else is not found, 404)."""

from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from partners.portal import PortalPage
from prm.views import job_run_status

from . import imports, selectors
from .views import SalesUploadMixin, import_template_response

PAGE_SIZE = 25


class PortalSalesView(SalesUploadMixin, PortalPage, TemplateView):
    template_name = "portal/sales/sales.html"
    section = "sales"

    @property
    def import_partner(self):
        return self.partner

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(**self.upload_context()))

    def get_context_data(self, **kwargs):
        lines = selectors.sales_line_list(user=self.request.user).filter(partner=self.partner)
        lines = lines.order_by("-sold_on", "-pk")
        page = Paginator(lines, PAGE_SIZE).get_page(self.request.GET.get("page"))
        run = kwargs.get("run")
        return super().get_context_data(
            page_obj=page,
            lines=page.object_list,
            status_url=reverse("portal-sales:run-status", args=[run.pk]) if run else "",
            template_url=reverse("portal-sales:template"),
            **kwargs,
        )


class PortalSalesRunStatusView(PortalPage, View):
    """The progress of an upload this user started, for the progress bar."""

    def get(self, request, pk):
        return JsonResponse(job_run_status(get_object_or_404(imports.import_runs(request.user), pk=pk)))


class PortalSalesTemplateView(PortalPage, View):
    def get(self, request):
        return import_template_response()
