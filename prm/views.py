"""Base views every app's pages are built from: the staff and portal access rules, list (filter,
sort, paginate, export), create/edit through a service, and the home page."""

import csv
import datetime
import io
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView, FormView, ListView, TemplateView
from openpyxl import Workbook

from .dashboard import staff_home_panels
from .models import JobRun
from .roles import is_staff_user
from .tenancy import is_portal_user, partner_of


class _SignedInMixin(LoginRequiredMixin):
    """Anonymous visitors go to the sign-in page; a signed-in user `refusal()` names a reason for
    gets a 403 page with that reason (403.html adds the link to where they belong)."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        reason = self.refusal(request.user)
        if reason:
            raise PermissionDenied(reason)
        self.load_objects(**kwargs)
        return super().dispatch(request, *args, **kwargs)

    def refusal(self, user):
        return None

    def load_objects(self, **kwargs):
        """Load the objects named in the URL, once the user is known to be allowed in."""


class StaffRequiredMixin(_SignedInMixin):
    """Pages for vendor staff. Partner users are pointed to their portal; anyone else signed in
    is refused with a clear message."""

    permission_denied_message = _("This page is for the vendor's channel team.")

    def refusal(self, user):
        if user.is_staff:
            return None
        if is_portal_user(user):
            return _("This page is for vendor staff; your partner portal is here.")
        return self.permission_denied_message


class PortalRequiredMixin(_SignedInMixin):
    """Pages of the partner portal, for a signed-in, active user of a partner. Vendor staff are
    pointed to the staff pages. `self.partner` is the user's partner as the tenancy resolver
    found it: every row a portal page shows still comes through `visible_to(request.user)`."""

    def refusal(self, user):
        if is_staff_user(user):
            return _("The portal is for partner users; vendor staff work on the staff pages.")
        if not is_portal_user(user):
            return _("Your login is not linked to an active partner. Ask your partner admin or your channel manager.")
        return None

    def dispatch(self, request, *args, **kwargs):
        self.partner = partner_of(request.user)
        return super().dispatch(request, *args, **kwargs)


def _cell(value):
    """A value as a spreadsheet cell: numbers and dates as such, anything else as text."""
    if value is None or isinstance(value, (int, Decimal, datetime.date)) and not isinstance(value, bool):
        if isinstance(value, datetime.datetime) and timezone.is_aware(value):
            return timezone.localtime(value).replace(tzinfo=None)
        return value
    return str(value)


class _Echo:
    def write(self, value):
        return value


class ObjectListView(StaffRequiredMixin, ListView):
    """A list that filters with a FilterSet, sorts by whitelisted columns, paginates, and exports
    the whole filtered list as CSV with `?export=csv`.

    Subclasses name `filterset_class`, `ordering_fields` ({url name: model field}),
    `default_ordering`, and `get_export_columns()` returning [(header, callable(row))].
    """

    filterset_class = None
    # [(label, query string)]: one-click filters shown beside "Clear" (e.g. "Expiring within 90 days").
    filter_shortcuts = ()
    ordering_fields = {}
    default_ordering = None
    export_filename = "export"
    paginate_by = 25
    page_size_choices = (25, 50, 100)

    def get_base_queryset(self):
        return self.model._default_manager.all()

    def get_ordering(self):
        requested = self.request.GET.get("sort", "")
        name = requested.lstrip("-")
        if name in self.ordering_fields:
            field = self.ordering_fields[name]
            direction = "-" if requested.startswith("-") else ""
            return [f"{direction}{field}", "pk"]
        return self.default_ordering

    def get_paginate_by(self, queryset):
        try:
            size = int(self.request.GET.get("page_size", self.paginate_by))
        except ValueError:
            return self.paginate_by
        return size if size in self.page_size_choices else self.paginate_by

    def paginate_queryset(self, queryset, page_size):
        """Like ListView's, but a page number past the end (or not a number) shows the nearest
        page instead of a 404: links to page 9 stay useful after filters shrink the list."""
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_queryset(self):
        queryset = self.get_base_queryset()
        if self.filterset_class is not None:
            self.filterset = self.filterset_class(self.request.GET, queryset=queryset, request=self.request)
            # An invalid filter shows its errors on the form and lists nothing rather than everything.
            queryset = self.filterset.qs if self.filterset.is_valid() else queryset.none()
        ordering = self.get_ordering()
        if ordering:
            queryset = queryset.order_by(*ordering)
        return queryset

    def get(self, request, *args, **kwargs):
        export = request.GET.get("export")
        if export in ("csv", "xlsx") and self.get_export_columns():
            rows = self.get_queryset()
            return self.export_csv(rows) if export == "csv" else self.export_xlsx(rows)
        return super().get(request, *args, **kwargs)

    def get_export_columns(self):
        return ()

    def export_csv(self, queryset):
        writer = csv.writer(_Echo())
        columns = self.get_export_columns()

        def rows():
            # A byte-order mark so that spreadsheet programs read Chinese text as UTF-8.
            yield "\ufeff" + writer.writerow([str(header) for header, _value in columns])
            for row in queryset.iterator(chunk_size=2000):
                yield writer.writerow([value(row) for _header, value in columns])

        filename = f"{self.export_filename}-{timezone.localdate():%Y%m%d}.csv"
        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def export_xlsx(self, queryset):
        """The same columns as the CSV, as an Excel sheet; numbers stay numbers (Decimal)."""
        columns = self.get_export_columns()
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(title=str(self.export_filename)[:31])
        sheet.append([str(header) for header, _value in columns])
        for row in queryset.iterator(chunk_size=2000):
            sheet.append([_cell(value(row)) for _header, value in columns])
        buffer = io.BytesIO()
        workbook.save(buffer)
        filename = f"{self.export_filename}-{timezone.localdate():%Y%m%d}.xlsx"
        response = HttpResponse(
            buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            filter=getattr(self, "filterset", None),
            current_sort=self.request.GET.get("sort", ""),
            querystring=query.urlencode(),
            page_size_choices=self.page_size_choices,
            filter_shortcuts=self.filter_shortcuts,
        )
        return context


class ServiceFormMixin:
    """A form whose valid data is handed to a service. A ValidationError raised by the service
    lands on the form, on the field it names, and nothing is saved."""

    success_message = None

    def perform(self, form):
        raise NotImplementedError

    def form_valid(self, form):
        try:
            self.object = self.perform(form)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, messages in error.message_dict.items():
                    target = field if field in form.fields else None
                    for message in messages:
                        form.add_error(target, message)
            else:
                for message in error.messages:
                    form.add_error(None, message)
            return self.form_invalid(form)
        if self.success_message:
            from django.contrib import messages

            messages.success(self.request, self.success_message)
        return self.success_response()

    def success_response(self):
        """The answer once the service succeeded: a redirect to the success URL, or a page of its
        own (an API key's secret is shown once, in the response to the POST)."""
        return HttpResponseRedirect(self.get_success_url())

    def get_success_url(self):
        return self.object.get_absolute_url()


class ServiceFormView(StaffRequiredMixin, ServiceFormMixin, FormView):
    """A staff form saved through a service."""


class PortalServiceFormView(PortalRequiredMixin, ServiceFormMixin, FormView):
    """A portal form saved through a service."""


class HomeView(StaffRequiredMixin, TemplateView):
    """The staff home page. Partner users land on their portal instead (`PRM_PORTAL_HOME`, the
    URL name of the portal's first page: `prm` names no business app itself)."""

    template_name = "staff/home.html"

    def dispatch(self, request, *args, **kwargs):
        portal_home = getattr(settings, "PRM_PORTAL_HOME", None)
        if portal_home and is_portal_user(request.user):
            return redirect(portal_home)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["panels"] = staff_home_panels(user=self.request.user)
        return context


class JobRunStatusView(StaffRequiredMixin, DetailView):
    """How far a background run has got, as JSON, for the progress bar of the page that started
    it (`includes/job_progress.html`). Staff only: runs cover many partners."""

    model = JobRun

    def get(self, request, *args, **kwargs):
        return JsonResponse(job_run_status(self.get_object()))


def job_run_status(run):
    """What the progress bar of `includes/job_progress.html` polls for: a page whose users are
    not staff (the portal) answers it from a view of its own that checks who asks."""
    return {
        "id": run.pk,
        "job": run.job,
        "status": run.status,
        "status_label": str(run.get_status_display()),
        "done": run.done,
        "total": run.total,
        "percent": run.percent,
        "rows_written": run.rows_written,
        "finished": run.is_finished,
        "error": run.error if run.status == JobRun.Status.FAILED else "",
    }
