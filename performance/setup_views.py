"""Staff pages that set performance up and run it: the flag rules, the scorecard templates, the
month runs (and the form that computes a month in the background) and the customer-satisfaction
scores staff enter.

Thin: parse, call performance.services, render. Everyone on the channel team reads these pages;
only who `can_compute` sees the forms, and the services check it again."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from incentives.forms import plain
from partners.models import Partner
from prm.models import JobRun
from prm.views import ObjectListView, ServiceFormView, StaffRequiredMixin

from . import flags, services
from .choices import FlagRuleCode
from .findings import threshold_text
from .forms import (
    FlagRuleForm,
    MonthRunForm,
    SatisfactionFilterSet,
    SatisfactionForm,
    ScorecardItemRows,
    ScorecardTemplateForm,
    template_item_initial,
)
from .models import CustomerSatisfaction, FlagRule, ScorecardItem, ScorecardTemplate, SnapshotRun
from .tasks import JOB_NAME
from .views import TabsMixin

READ_ONLY_MESSAGE = gettext_lazy("Your role can read performance settings but not change them.")
# The background jobs that compute months (performance.tasks, the compute_scorecards command).
RUN_JOBS = (JOB_NAME, "performance.compute_scorecards")
SNAPSHOT_RUNS_SHOWN = 20
# Codes offered as suggestions in the partner field; a larger network types the code.
PARTNER_SUGGESTIONS = 500

# One sentence per rule, for the rules page; %(threshold)s is the rule's threshold as people read it.
RULE_EXPLANATIONS = {
    FlagRuleCode.ATTAINMENT: gettext_lazy(
        "A region is flagged when its target attainment of the month is below %(threshold)s; the partners "
        "furthest short of their targets are named."
    ),
    FlagRuleCode.SCORE: gettext_lazy(
        "A region is flagged when its scorecard score (the revenue-weighted score of its partners) is below "
        "%(threshold)s; the partners scored below it that weigh most are named."
    ),
    FlagRuleCode.DECLINE: gettext_lazy(
        "A region is flagged when its revenue fell month over month, %(threshold)s; the partners whose revenue "
        "fell most are named."
    ),
    FlagRuleCode.CROSS_TERRITORY: gettext_lazy(
        "A region is flagged when more than %(threshold)s of its revenue is sold outside the partners' "
        "territories (cross-territory sales); the partners selling most outside are named."
    ),
}
RULE_LIMIT_HELP = {
    FlagRuleCode.ATTAINMENT: gettext_lazy("A ratio: 0.8 is 80%."),
    FlagRuleCode.SCORE: gettext_lazy("A score from 1 to 100."),
    FlagRuleCode.DECLINE: gettext_lazy("A whole number of months, 1 to 12."),
    FlagRuleCode.CROSS_TERRITORY: gettext_lazy("A ratio: 0.15 is 15%."),
}


def _require_compute(user):
    if not services.can_compute(user):
        raise PermissionDenied(READ_ONLY_MESSAGE)


def _errors_to_form(form, error, extra=()):
    """A service's ValidationError onto the form: on the field it names, else above the form."""
    if hasattr(error, "error_dict"):
        for field, texts in error.message_dict.items():
            target = field if field in form.fields or field in extra else None
            for text in texts:
                form.add_error(target, text)
    else:
        for text in error.messages:
            form.add_error(None, text)


# Flag rules -------------------------------------------------------------------------------------


class RuleListView(TabsMixin, StaffRequiredMixin, TemplateView):
    """The four rules that flag a region, each with its threshold, whether it is in force and a
    sentence saying what it does. Who `can_compute` edits them all in one form: every rule is
    checked first and nothing is saved unless all are right."""

    tab = "rules"
    template_name = "performance/rule_list.html"
    forms = None

    def _rows(self):
        stored = {rule.code: rule for rule in FlagRule.objects.select_related("updated_by")}
        rows = []
        for code, label in FlagRuleCode.choices:
            rule = stored.get(code)
            threshold = rule.threshold if rule else flags.DEFAULT_THRESHOLDS[code]
            rows.append(
                {
                    "code": code,
                    "label": label,
                    "rule": rule,
                    "threshold": threshold,
                    "is_active": rule.is_active if rule else True,
                    "threshold_text": threshold_text(code, threshold),
                    "explanation": RULE_EXPLANATIONS[code] % {"threshold": threshold_text(code, threshold)},
                    "help": RULE_LIMIT_HELP[code],
                }
            )
        return rows

    def _forms(self, rows, data=None):
        return {
            row["code"]: FlagRuleForm(
                data,
                prefix=row["code"],
                initial={"threshold": plain(row["threshold"]), "is_active": row["is_active"]},
            )
            for row in rows
        }

    def get_context_data(self, **kwargs):
        rows = self._rows()
        can_edit = services.can_compute(self.request.user)
        forms = self.forms or (self._forms(rows) if can_edit else {})
        for row in rows:
            row["form"] = forms.get(row["code"])
        return super().get_context_data(rows=rows, can_edit=can_edit, **kwargs)

    def post(self, request):
        _require_compute(request.user)
        forms = self._forms(self._rows(), request.POST)
        checked = [form.is_valid() for form in forms.values()]  # every form, so each shows its errors
        valid = all(checked)
        if valid:
            with transaction.atomic():
                for code, form in forms.items():
                    try:
                        services.flag_rule_save(
                            code=code,
                            threshold=form.cleaned_data["threshold"],
                            is_active=form.cleaned_data["is_active"],
                            by=request.user,
                        )
                    except ValidationError as error:
                        _errors_to_form(form, error)
                        valid = False
                if not valid:
                    transaction.set_rollback(True)
        if valid:
            messages.success(request, _("Flag rules saved. They apply the next time a month is computed."))
            return redirect("performance:rule-list")
        self.forms = forms
        return self.render_to_response(self.get_context_data())


# Scorecard templates ----------------------------------------------------------------------------


class TemplateListView(TabsMixin, ObjectListView):
    """The scorecard templates, the default first, each with its KPIs and weights."""

    model = ScorecardTemplate
    tab = "templates"
    template_name = "performance/template_list.html"
    default_ordering = ["-is_default", "name", "pk"]

    def get_base_queryset(self):
        return ScorecardTemplate.objects.annotate(item_count=Count("items")).prefetch_related(
            Prefetch("items", queryset=ScorecardItem.objects.order_by("-weight", "kpi"))
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(can_edit=services.can_compute(self.request.user), **kwargs)


def _weight_total(rows):
    """The sum of the weights typed in the rows not marked for removal, as the page shows it."""
    total = Decimal("0")
    for form in rows.forms:
        if form["DELETE"].value() in (True, "on", "true"):
            continue
        try:
            total += Decimal(str(form["weight"].value() or "0").strip())
        except InvalidOperation:
            continue
    return plain(total) if total.is_finite() else total


class _TemplateFormView(TabsMixin, StaffRequiredMixin, TemplateView):
    """The template editor: name, default, active and the rows (KPI, weight, floor, target) with
    "add a row" and the running total of the weights. The service checks every row; its
    messages (one per wrong row) are shown above the rows, and nothing is saved."""

    tab = "templates"
    template_name = "performance/template_form.html"
    template = None

    def load_objects(self, **kwargs):
        _require_compute(self.request.user)

    def _forms(self, data=None):
        template = self.template
        initial = (
            {"name": template.name, "is_default": template.is_default, "is_active": template.is_active}
            if template
            else {"is_active": True}
        )
        form = ScorecardTemplateForm(data, initial=initial)
        rows = ScorecardItemRows(data, prefix="items", initial=template_item_initial(template))
        return form, rows

    def get_context_data(self, form=None, rows=None, item_errors=(), **kwargs):
        if form is None:
            form, rows = self._forms()
        return super().get_context_data(
            form=form,
            rows=rows,
            item_errors=item_errors,
            scorecard_template=self.template,
            weight_total=_weight_total(rows),
            **kwargs,
        )

    def post(self, request, **kwargs):
        form, rows = self._forms(request.POST)
        item_errors = []
        if form.is_valid() & rows.is_valid():
            template = self.template or ScorecardTemplate()
            template.name = form.cleaned_data["name"]
            template.is_default = form.cleaned_data["is_default"]
            template.is_active = form.cleaned_data["is_active"]
            try:
                saved = services.scorecard_template_save(template=template, items=rows.rows(), by=request.user)
            except ValidationError as error:
                if self.template is not None:
                    self.template.refresh_from_db()
                item_errors = _template_errors_to_form(form, error)
            else:
                messages.success(request, _("Scorecard template %(name)s saved.") % {"name": saved.name})
                return redirect("performance:template-list")
        return self.render_to_response(self.get_context_data(form=form, rows=rows, item_errors=item_errors))


def _template_errors_to_form(form, error):
    """The service's errors on the template's fields; its per-row messages ("items") returned."""
    errors = dict(error.message_dict) if hasattr(error, "error_dict") else {None: error.messages}
    item_errors = errors.pop("items", [])
    for field, texts in errors.items():
        for text in texts:
            form.add_error(field if field in form.fields else None, text)
    return item_errors


class TemplateCreateView(_TemplateFormView):
    pass


class TemplateEditView(_TemplateFormView):
    def load_objects(self, pk):
        super().load_objects()
        self.template = get_object_or_404(ScorecardTemplate.objects.prefetch_related("items"), pk=pk)


# Month runs -------------------------------------------------------------------------------------


class RunListView(TabsMixin, ObjectListView):
    """The runs that computed months (queued, running, done or failed, who started them, rows
    written, the error) and the month's snapshot computations; who `can_compute` starts a month
    here and follows its progress (`?run=<id>`)."""

    model = JobRun
    tab = "runs"
    template_name = "performance/run_list.html"
    default_ordering = ["-started_at", "-pk"]
    run_form = None

    def get_base_queryset(self):
        return JobRun.objects.filter(job__in=RUN_JOBS).select_related("started_by")

    def _run(self):
        run_id = self.request.GET.get("run", "")
        return JobRun.objects.filter(pk=run_id, job__in=RUN_JOBS).first() if run_id.isdigit() else None

    def _snapshot_runs(self):
        period = self.request.GET.get("period", "").strip()
        runs = SnapshotRun.objects.select_related("computed_by", "job_run")
        if period:
            runs = runs.filter(period=period)
        return period, list(runs[:SNAPSHOT_RUNS_SHOWN])

    def get_context_data(self, **kwargs):
        can_run = services.can_compute(self.request.user)
        period, snapshot_runs = self._snapshot_runs()
        return super().get_context_data(
            can_run=can_run,
            run_form=(self.run_form or MonthRunForm()) if can_run else None,
            run=self._run(),
            done_url=reverse("performance:runs"),
            snapshot_runs=snapshot_runs,
            snapshot_period=period,
            **kwargs,
        )

    def post(self, request):
        _require_compute(request.user)
        form = MonthRunForm(request.POST)
        if form.is_valid():
            try:
                run = services.month_run_start(period=form.cleaned_data["period"], by=request.user)
            except ValidationError as error:
                _errors_to_form(form, error)
            else:
                query = urlencode({"run": run.pk})
                return redirect(f"{reverse('performance:runs')}?{query}")
        self.run_form = form
        self.object_list = self.get_queryset()
        return self.render_to_response(self.get_context_data(open_form=True))


# Customer satisfaction --------------------------------------------------------------------------


class SatisfactionListView(TabsMixin, ObjectListView):
    """The customer-satisfaction scores entered, newest month first."""

    model = CustomerSatisfaction
    tab = "satisfaction"
    template_name = "performance/satisfaction_list.html"
    filterset_class = SatisfactionFilterSet
    ordering_fields = {"partner": "partner__code", "period": "period_start", "score": "score"}
    default_ordering = ["-period_start", "partner__code", "pk"]
    export_filename = "customer-satisfaction"

    def get_base_queryset(self):
        return CustomerSatisfaction.objects.visible_to(self.request.user).select_related(
            "partner__region", "entered_by"
        )

    def get_export_columns(self):
        return (
            (_("Partner code"), lambda s: s.partner.code),
            (_("Partner"), lambda s: s.partner.name),
            (_("Region"), lambda s: s.partner.region.name if s.partner.region else ""),
            (_("Month"), lambda s: s.period),
            (_("Score"), lambda s: s.score),
            (_("Entered by"), lambda s: str(s.entered_by) if s.entered_by else ""),
            (_("Entered at"), lambda s: s.entered_at),
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(can_enter=services.can_compute(self.request.user), **kwargs)


class SatisfactionCreateView(TabsMixin, ServiceFormView):
    """Enter a partner's customer-satisfaction score for a month (entering it again replaces
    it). It counts the next time the month is computed."""

    tab = "satisfaction"
    template_name = "performance/satisfaction_form.html"
    form_class = SatisfactionForm

    def load_objects(self, **kwargs):
        _require_compute(self.request.user)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            partner_codes=Partner.objects.visible_to(self.request.user)
            .order_by("code")
            .values_list("code", "name")[:PARTNER_SUGGESTIONS],
            **kwargs,
        )

    def perform(self, form):
        data = form.cleaned_data
        return services.customer_satisfaction_set(
            partner=data["partner"], period=data["period"], score=data["score"], by=self.request.user
        )

    def success_response(self):
        entry = self.object
        messages.success(
            self.request,
            _("Customer satisfaction of %(partner)s for %(period)s: %(score)s.")
            % {"partner": entry.partner.name, "period": entry.period, "score": entry.score},
        )
        return super().success_response()

    def get_success_url(self):
        return f"{reverse('performance:satisfaction-list')}?{urlencode({'period': self.object.period})}"
