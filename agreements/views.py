"""Staff pages of agreements: the list, an agreement's page with its actions, documents and
targets, the agreement form, the targets grid, and region target decomposition (目标分解).
Thin: parse, call a service or a read, render. Every agreement comes through `visible_to`; who
may change which agreement is agreements.access."""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, FormView, TemplateView

from partners.access import partners_managed_by
from partners.models import Partner
from prm.periods import PeriodKind, periods_between
from prm.roles import can_write_as_staff
from prm.uploads import attachment_response
from prm.views import ObjectListView, ServiceFormView, StaffRequiredMixin

from . import selectors, services
from .access import (
    can_manage_agreement,
    can_manage_region_targets,
    require_approve_agreement,
    require_manage_agreement,
    require_manage_region_targets,
)
from .choices import AgreementStatus, AgreementType
from .filters import AgreementFilterSet
from .forms import (
    GRANULARITY_CHOICES,
    AgreementForm,
    AgreementFreeFieldsForm,
    AmendForm,
    DocumentForm,
    ReasonForm,
    RegionTargetForm,
    RenewForm,
    TargetGridForm,
)
from .models import Agreement, AgreementDocument, AgreementTarget, RegionTarget

READ_ONLY_MESSAGE = gettext_lazy("Your role can read agreements but not change them.")
# Partner codes offered as suggestions in the agreement form; a larger network types the code.
PARTNER_SUGGESTIONS = 500


def _require_write_role(user):
    if not can_write_as_staff(user):
        raise PermissionDenied(READ_ONLY_MESSAGE)


def _agreement_or_404(user, pk, *related):
    return get_object_or_404(
        Agreement.objects.visible_to(user).select_related("partner__region", "owner", *related), pk=pk
    )


def _error_messages(request, error, prefix=None):
    for message in error.messages:
        messages.error(request, f"{prefix} {message}" if prefix else message)


def _exclusive(agreement):
    return [territory for territory in agreement.territories.all() if territory.exclusive]


# The list ------------------------------------------------------------------------------------


class AgreementListView(ObjectListView):
    model = Agreement
    template_name = "agreements/agreement_list.html"
    filterset_class = AgreementFilterSet
    filter_shortcuts = (
        (gettext_lazy("Expiring within 90 days"), "expiring_within=90"),
        (gettext_lazy("Pending approval"), "status=pending_approval"),
    )
    ordering_fields = {
        "number": "number",
        "partner": "partner__name",
        "type": "agreement_type",
        "status": "status",
        "start": "start_date",
        "end": "end_date",
        "owner": "owner__username",
        "version": "version",
    }
    default_ordering = ["-start_date", "-pk"]
    export_filename = "agreements"

    def get_base_queryset(self):
        return selectors.agreement_list(self.request.user)

    def get_export_columns(self):
        # Choice labels translated once per export, not once per row.
        types = {value: str(label) for value, label in AgreementType.choices}
        statuses = {value: str(label) for value, label in AgreementStatus.choices}
        return (
            (_("Number"), lambda a: a.number),
            (_("Partner code"), lambda a: a.partner.code),
            (_("Partner"), lambda a: a.partner.name),
            (_("Type"), lambda a: types.get(a.agreement_type, a.agreement_type)),
            (_("Status"), lambda a: statuses.get(a.status, a.status)),
            (_("Start date"), lambda a: a.start_date.isoformat()),
            (_("End date"), lambda a: a.end_date.isoformat()),
            (_("Version"), lambda a: a.version),
            (_("Product lines"), lambda a: ", ".join(line.code for line in a.product_lines.all())),
            (_("Territories"), lambda a: ", ".join(t.region.code for t in a.territories.all())),
            (
                _("Exclusive territories"),
                lambda a: ", ".join(t.region.code for t in a.territories.all() if t.exclusive),
            ),
            (_("Discount %"), lambda a: "" if a.discount_percent is None else a.discount_percent),
            (_("Price list"), lambda a: a.price_list),
            (_("Channel manager"), lambda a: str(a.owner) if a.owner else ""),
            (_("Signed on"), lambda a: a.signed_on.isoformat() if a.signed_on else ""),
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(can_write=can_write_as_staff(self.request.user), **kwargs)


# An agreement's page and its actions ---------------------------------------------------------


class AgreementDetailView(StaffRequiredMixin, TemplateView):
    template_name = "agreements/agreement_detail.html"

    def load_objects(self, pk):
        try:
            # The selector reads the agreement through visible_to: one outside it is a 404.
            self.detail = selectors.agreement_detail(Agreement(pk=pk), self.request.user)
        except Agreement.DoesNotExist as error:
            raise Http404(_("No agreement found.")) from error

    def get_context_data(self, **kwargs):
        user = self.request.user
        context = self.detail
        agreement = context["agreement"]
        targets = context["targets"]
        revenue = [t.revenue for t in targets if t.revenue is not None]
        units = [t.units for t in targets if t.units is not None]
        return super().get_context_data(
            **context,
            actions=context["allowed_actions"],
            target_totals={
                "revenue": sum(revenue, Decimal("0")) if revenue else None,
                "units": sum(units, Decimal("0")) if units else None,
            },
            reject_form=ReasonForm(prefix="reject"),
            terminate_form=ReasonForm(prefix="terminate"),
            renew_form=RenewForm(prefix="renew"),
            amend_form=AmendForm(prefix="amend"),
            document_form=DocumentForm(),
            can_manage=can_write_as_staff(user) and can_manage_agreement(user, agreement),
            **kwargs,
        )


class AgreementActionView(StaffRequiredMixin, View):
    """POST only: one move of the agreement's lifecycle through its service. A refusal (an illegal
    move, an exclusivity conflict) is shown on the agreement's page with the service's reason."""

    action = None
    form_class = None
    success_message = None
    refused_message = None

    def load_objects(self, pk):
        _require_write_role(self.request.user)
        self.agreement = _agreement_or_404(self.request.user, pk)
        if self.action in ("approve", "reject"):
            require_approve_agreement(self.request.user, self.agreement)
        else:
            require_manage_agreement(self.request.user, self.agreement)

    def post(self, request, pk):
        data = {}
        if self.form_class is not None:
            form = self.form_class(request.POST, prefix=self.action)
            if not form.is_valid():
                for field, errors in form.errors.items():
                    label = form.fields[field].label if field in form.fields else ""
                    for error in errors:
                        messages.error(request, f"{self.refused_message} {label}: {error}" if label else error)
                return redirect(self.agreement)
            data = dict(form.cleaned_data)
        try:
            result = self.perform(**data)
        except ValidationError as error:
            _error_messages(request, error, prefix=str(self.refused_message))
            return redirect(self.agreement)
        messages.success(request, self.success_message % {"number": result.number})
        return redirect(result)

    def perform(self, **data):
        service = getattr(services, f"agreement_{self.action}")
        result = service(agreement=self.agreement, by=self.request.user, **data)
        return result if isinstance(result, Agreement) else Agreement.objects.get(pk=self.agreement.pk)


class AgreementSubmitView(AgreementActionView):
    action = "submit"
    success_message = gettext_lazy("%(number)s was submitted for approval.")
    refused_message = gettext_lazy("Not submitted:")


class AgreementApproveView(AgreementActionView):
    action = "approve"
    success_message = gettext_lazy("%(number)s is approved and active.")
    refused_message = gettext_lazy("Not approved:")


class AgreementRejectView(AgreementActionView):
    action = "reject"
    form_class = ReasonForm
    success_message = gettext_lazy("%(number)s was sent back to draft.")
    refused_message = gettext_lazy("Not rejected:")


class AgreementTerminateView(AgreementActionView):
    action = "terminate"
    form_class = ReasonForm
    success_message = gettext_lazy("%(number)s is terminated.")
    refused_message = gettext_lazy("Not terminated:")


class AgreementRenewView(AgreementActionView):
    action = "renew"
    form_class = RenewForm
    success_message = gettext_lazy("Renewal %(number)s drafted: check its terms and submit it.")
    refused_message = gettext_lazy("Not renewed:")


class AgreementAmendView(AgreementActionView):
    action = "amend"
    form_class = AmendForm
    success_message = gettext_lazy("New version %(number)s drafted: change its terms and submit it.")
    refused_message = gettext_lazy("No new version:")


# The agreement form --------------------------------------------------------------------------


class AgreementCreateView(ServiceFormView):
    form_class = AgreementForm
    template_name = "agreements/agreement_form.html"
    success_message = gettext_lazy("Agreement drafted.")

    def load_objects(self, **kwargs):
        _require_write_role(self.request.user)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        initial = {"owner": self.request.user.pk, "currency": None}
        partner_id = self.request.GET.get("partner", "")
        if partner_id.isdigit():
            partner = Partner.objects.visible_to(self.request.user).filter(pk=partner_id).first()
            if partner is not None:
                initial.update(partner=partner.code, owner=partner.owner_id or self.request.user.pk)
        return {key: value for key, value in initial.items() if value is not None}

    def get_context_data(self, **kwargs):
        codes = partners_managed_by(self.request.user).order_by("code").values_list("code", "name")
        return super().get_context_data(partner_codes=codes[:PARTNER_SUGGESTIONS], **kwargs)

    def perform(self, form):
        data = form.service_data()
        return services.agreement_create(
            partner=form.cleaned_data["partner"],
            agreement_type=data.pop("agreement_type"),
            start_date=data.pop("start_date"),
            end_date=data.pop("end_date"),
            by=self.request.user,
            **data,
        )


class AgreementUpdateView(ServiceFormView):
    """A draft changes everything but its partner; an agreement past draft only its free fields
    (owner, notes, signatories, signing date): its terms change by an amendment or a renewal."""

    template_name = "agreements/agreement_form.html"
    success_message = gettext_lazy("Agreement saved.")

    def load_objects(self, pk):
        _require_write_role(self.request.user)
        self.agreement = _agreement_or_404(self.request.user, pk)
        require_manage_agreement(self.request.user, self.agreement)
        if self.agreement.status in (AgreementStatus.EXPIRED, AgreementStatus.TERMINATED):
            raise PermissionDenied(_("An expired or terminated agreement no longer changes."))

    def get_form_class(self):
        return AgreementFreeFieldsForm if self.agreement.terms_locked else AgreementForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if not self.agreement.terms_locked:
            kwargs.update(user=self.request.user, agreement=self.agreement)
        return kwargs

    def get_initial(self):
        agreement = self.agreement
        initial = {name: getattr(agreement, name) for name in services.AGREEMENT_FREE_FIELDS}
        initial["owner"] = agreement.owner_id
        if not agreement.terms_locked:
            initial.update(
                {name: getattr(agreement, name) for name in services.AGREEMENT_TERMS_FIELDS if name != "owner"}
            )
            initial.update(
                agreement_type=agreement.agreement_type,
                start_date=agreement.start_date,
                end_date=agreement.end_date,
                product_lines=[line.pk for line in agreement.product_lines.all()],
            )
        return initial

    def get_context_data(self, **kwargs):
        return super().get_context_data(agreement=self.agreement, **kwargs)

    def perform(self, form):
        data = form.service_data() if hasattr(form, "service_data") else dict(form.cleaned_data)
        return services.agreement_update(agreement=self.agreement, by=self.request.user, **data)


# Documents -----------------------------------------------------------------------------------


class DocumentUploadView(ServiceFormView):
    """The upload form sits on the agreement's page; a refused file comes back here with the
    reason on the field."""

    form_class = DocumentForm
    template_name = "agreements/document_form.html"
    success_message = gettext_lazy("Document uploaded.")

    def load_objects(self, pk):
        _require_write_role(self.request.user)
        self.agreement = _agreement_or_404(self.request.user, pk)
        require_manage_agreement(self.request.user, self.agreement)

    def get_context_data(self, **kwargs):
        return super().get_context_data(agreement=self.agreement, **kwargs)

    def perform(self, form):
        services.document_add(agreement=self.agreement, by=self.request.user, **form.cleaned_data)
        return self.agreement

    def get_success_url(self):
        return f"{self.agreement.get_absolute_url()}#documents"


class DocumentDownloadView(StaffRequiredMixin, View):
    """The file itself, as an attachment, only for someone who sees the agreement: uploaded files
    are never served from a static URL."""

    def get(self, request, pk):
        document = get_object_or_404(AgreementDocument.objects.visible_to(request.user), pk=pk)
        return attachment_response(
            document.file,
            filename=document.original_name,
            content_type=document.content_type,
            missing=_("The file of this document is missing."),
        )


class DocumentDeleteView(StaffRequiredMixin, View):
    def post(self, request, pk):
        _require_write_role(request.user)
        document = get_object_or_404(
            AgreementDocument.objects.visible_to(request.user).select_related("agreement__partner__region"), pk=pk
        )
        agreement = document.agreement
        require_manage_agreement(request.user, agreement)
        try:
            services.document_delete(document=document, by=request.user)
        except ValidationError as error:
            _error_messages(request, error)
        else:
            messages.success(request, _("Document %(name)s removed.") % {"name": document.original_name})
        return redirect(f"{agreement.get_absolute_url()}#documents")


# Targets -------------------------------------------------------------------------------------


class AgreementTargetsView(StaffRequiredMixin, FormView):
    """A grid of the periods inside the agreement's term (months, quarters or years) × revenue and
    units, for every product line or one. Saved through target_set / target_delete, all or
    nothing: a refused cell shows its reason and no cell is saved."""

    template_name = "agreements/agreement_targets.html"
    form_class = TargetGridForm

    def load_objects(self, pk):
        self.agreement = _agreement_or_404(self.request.user, pk)
        params = self.request.GET
        kinds = dict(GRANULARITY_CHOICES)
        self.kind = params.get("kind") if params.get("kind") in kinds else PeriodKind.QUARTER
        self.product_lines = list(self.agreement.product_lines.order_by("name"))
        line_id = params.get("product_line", "")
        self.product_line = next((line for line in self.product_lines if str(line.pk) == line_id), None)
        self.periods = periods_between(self.agreement.start_date, self.agreement.end_date, self.kind)
        self.existing = {
            target.period: target
            for target in self.agreement.targets.filter(
                period__in=[period.code for period in self.periods], product_line=self.product_line
            )
        }

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "periods": self.periods}

    def get_initial(self):
        initial = {}
        for code, target in self.existing.items():
            initial[f"revenue_{code}"] = target.revenue
            initial[f"units_{code}"] = target.units
        return initial

    def post(self, request, *args, **kwargs):
        _require_write_role(request.user)
        require_manage_agreement(request.user, self.agreement)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        errors = self.save(form)
        if errors:
            for field, message in errors:
                form.add_error(field, message)
            return self.form_invalid(form)
        messages.success(self.request, _("Targets saved."))
        return redirect(self.request.get_full_path())

    def save(self, form):
        """Every changed row through its service, in one transaction rolled back on any error;
        returns [(field, message)]."""
        errors = []
        with transaction.atomic():
            for period in self.periods:
                revenue, units = form.values(period)
                target = self.existing.get(period.code)
                try:
                    if revenue is None and units is None:
                        if target is not None:
                            services.target_delete(target=target, by=self.request.user)
                    elif target is None or (target.revenue, target.units) != (revenue, units):
                        services.target_set(
                            agreement=self.agreement,
                            period=period.code,
                            by=self.request.user,
                            revenue=revenue,
                            units=units,
                            product_line=self.product_line,
                        )
                except ValidationError as error:
                    messages_by_field = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
                    for name, texts in messages_by_field.items():
                        field = f"units_{period.code}" if name == "units" else f"revenue_{period.code}"
                        errors.extend((field, text) for text in texts)
            if errors:
                transaction.set_rollback(True)
        return errors

    def get_context_data(self, **kwargs):
        revenue = [t.revenue for t in self.existing.values() if t.revenue is not None]
        units = [t.units for t in self.existing.values() if t.units is not None]
        return super().get_context_data(
            agreement=self.agreement,
            kind=self.kind,
            kind_label=dict(GRANULARITY_CHOICES)[self.kind],
            kinds=GRANULARITY_CHOICES,
            totals={
                "revenue": sum(revenue, Decimal("0")) if revenue else None,
                "units": sum(units, Decimal("0")) if units else None,
            },
            product_lines=self.product_lines,
            product_line=self.product_line,
            can_manage=can_write_as_staff(self.request.user)
            and can_manage_agreement(self.request.user, self.agreement),
            **kwargs,
        )


class TargetDeleteView(StaffRequiredMixin, View):
    def post(self, request, pk):
        _require_write_role(request.user)
        target = get_object_or_404(
            AgreementTarget.objects.visible_to(request.user).select_related("agreement__partner__region"), pk=pk
        )
        agreement = target.agreement
        require_manage_agreement(request.user, agreement)
        try:
            services.target_delete(target=target, by=request.user)
        except ValidationError as error:
            _error_messages(request, error)
        else:
            messages.success(request, _("Target for %(period)s removed.") % {"period": target.period})
        return redirect(f"{agreement.get_absolute_url()}#targets")


# Region targets and their split to partners (目标分解) ---------------------------------------


def _region_targets():
    return RegionTarget.objects.select_related("region", "product_line", "set_by").annotate(
        split_count=Count("partner_targets")
    )


class RegionTargetListView(StaffRequiredMixin, FormView):
    """Region targets with their split state, and the form that sets one (an upsert: the same
    region, period and product line again changes its values)."""

    template_name = "agreements/region_target_list.html"
    form_class = RegionTargetForm

    def get_initial(self):
        return {
            key: self.request.GET.get(key) for key in ("region", "product_line", "period") if self.request.GET.get(key)
        }

    def post(self, request, *args, **kwargs):
        _require_write_role(request.user)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        require_manage_region_targets(self.request.user, form.cleaned_data["region"])
        try:
            target = services.region_target_set(by=self.request.user, **form.cleaned_data)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, texts in error.message_dict.items():
                    for text in texts:
                        form.add_error(field if field in form.fields else None, text)
            else:
                for text in error.messages:
                    form.add_error(None, text)
            return self.form_invalid(form)
        messages.success(self.request, _("Region target saved: check the split below and apply it."))
        return redirect("agreements:region-target-detail", pk=target.pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            region_targets=_region_targets().order_by("-period_start", "region__path", "pk")[:200],
            can_write=can_write_as_staff(self.request.user),
            **kwargs,
        )


class RegionTargetDetailView(StaffRequiredMixin, DetailView):
    """The split preview: each partner's share of the region target (by last year's sales in
    the same period, else even), totalling the region target to the cent; POST applies it."""

    template_name = "agreements/region_target_detail.html"
    context_object_name = "region_target"

    def get_queryset(self):
        return _region_targets()

    def post(self, request, pk):
        _require_write_role(request.user)
        self.object = region_target = self.get_object()
        require_manage_region_targets(request.user, region_target.region)
        try:
            created = services.region_target_decompose(region_target=region_target, by=request.user)
        except ValidationError as error:
            _error_messages(request, error, prefix=_("Not split:"))
        else:
            messages.success(request, _("Split applied: %(n)s partner targets set.") % {"n": len(created)})
        return redirect("agreements:region-target-detail", pk=region_target.pk)

    def get_context_data(self, **kwargs):
        region_target = self.object
        rows = [
            {**row, "share": (row["weight"] * 100).quantize(Decimal("0.01"))}
            for row in services.region_target_preview(region_target=region_target)
        ]
        total_revenue = sum((row["revenue"] for row in rows if row.get("revenue") is not None), Decimal("0"))
        total_units = sum((row["units"] for row in rows if row.get("units") is not None), Decimal("0"))
        applied = list(
            region_target.partner_targets.select_related("agreement__partner", "product_line").order_by(
                "agreement__partner__name"
            )
        )
        return super().get_context_data(
            rows=rows,
            total_revenue=total_revenue if region_target.revenue is not None else None,
            total_units=total_units if region_target.units is not None else None,
            applied=applied,
            can_manage=can_write_as_staff(self.request.user)
            and can_manage_region_targets(self.request.user, region_target.region),
            today=timezone.localdate(),
            **kwargs,
        )
