"""Staff pages of incentives: rebate policies (with the live preview of their brackets), override
policies, rebate statements (approve, pay, cancel, adjust, export, calculate in the background),
MDF budgets and MDF requests (approval queue, claims review).

Thin: parse, call a service or a selector, render. Every row comes through `visible_to`; who may
change what is incentives.access, and the services check it again."""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views import View
from django.views.generic import FormView, TemplateView

from agreements.models import Agreement
from partners.access import partners_managed_by
from partners.models import Partner
from prm.audit import history_for
from prm.models import JobRun
from prm.money import format_money, round_cents
from prm.roles import can_write_as_staff
from prm.uploads import attachment_response
from prm.views import ObjectListView, ServiceFormView, StaffRequiredMixin

from . import selectors, services
from .access import can_decide_mdf, can_manage_incentives, can_pay_mdf
from .choices import (
    MDF_TRANSITIONS,
    STATEMENT_TRANSITIONS,
    BudgetSource,
    LineKind,
    MdfActivity,
    MdfStatus,
    RebateBasis,
    RebateMethod,
    StatementStatus,
)
from .filters import (
    MdfBudgetFilterSet,
    MdfRequestFilterSet,
    OverridePolicyFilterSet,
    RebatePolicyFilterSet,
    RebateStatementFilterSet,
)
from .forms import (
    AdjustmentForm,
    AllocateForm,
    AssignForm,
    BudgetForm,
    MdfApproveForm,
    MdfPayForm,
    OverridePolicyForm,
    PolicyForm,
    PreviewForm,
    ReasonForm,
    StatementRunForm,
    partner_by_code,
    plain,
)
from .models import (
    MdfBudget,
    MdfProof,
    MdfRequest,
    OverridePolicy,
    PolicyAssignment,
    RebatePolicy,
    RebateStatement,
    StatementLine,
    TierMultiplier,
)

READ_ONLY_MESSAGE = gettext_lazy("Your role can read incentives but not change them.")
# Codes offered as suggestions in the partner and agreement fields; a larger network types the code.
SUGGESTIONS = 500
# The most bracket rows the live preview reads from one request.
MAX_PREVIEW_ROWS = 100
STATEMENT_RUN_JOB = "incentives.rebate_statements_run"


def _require_manage(user):
    if not can_manage_incentives(user):
        raise PermissionDenied(READ_ONLY_MESSAGE)


def _require_write_role(user):
    if not can_write_as_staff(user):
        raise PermissionDenied(READ_ONLY_MESSAGE)


def _errors_to_form(form, error):
    """A service's ValidationError onto the form: on the field it names, else above the form."""
    if hasattr(error, "error_dict"):
        for field, texts in error.message_dict.items():
            target = field if field in form.fields or field in ("brackets", "rates") else None
            for text in texts:
                form.add_error(target, text)
    else:
        for text in error.messages:
            form.add_error(None, text)


def _error_messages(request, error, prefix=""):
    for text in error.messages:
        messages.error(request, f"{prefix} {text}".strip())


def _partner_codes(partners):
    return partners.order_by("code").values_list("code", "name")[:SUGGESTIONS]


def _url(name, *args, **query):
    url = reverse(name, args=args)
    query = {key: value for key, value in query.items() if value not in (None, "")}
    return f"{url}?{urlencode(query)}" if query else url


def _number(value, places=None):
    """A Decimal for the page: grouped, in the active language's format."""
    if value is None:
        return ""
    value = value.quantize(Decimal(1).scaleb(-places)) if places is not None else plain(value)
    return number_format(value, decimal_pos=places, force_grouping=True)


class TabsMixin:
    """The incentives sub-navigation (templates/incentives/_tabs.html) names the current tab."""

    tab = None

    def get_context_data(self, **kwargs):
        return super().get_context_data(tab=self.tab, **kwargs)


# Rebate policies -----------------------------------------------------------------------------


def _brackets_summary(policy):
    return " · ".join(f"≥ {_number(b.threshold)}: {_number(b.rate)}%" for b in policy.brackets.all())


class PolicyListView(TabsMixin, ObjectListView):
    model = RebatePolicy
    tab = "policies"
    template_name = "incentives/policy_list.html"
    filterset_class = RebatePolicyFilterSet
    ordering_fields = {
        "name": "name",
        "method": "method",
        "basis": "basis",
        "period": "period",
        "cap": "cap",
        "agreements": "agreement_count",
        "valid_from": "valid_from",
    }
    default_ordering = ["-is_active", "name", "pk"]
    export_filename = "rebate-policies"

    def get_base_queryset(self):
        return selectors.policy_list(user=self.request.user).annotate(
            agreement_count=Count("assignments", distinct=True)
        )

    def get_export_columns(self):
        methods = {value: str(label) for value, label in RebateMethod.choices}
        bases = {value: str(label) for value, label in RebateBasis.choices}
        kinds = {value: str(label) for value, label in RebatePolicy._meta.get_field("period").choices}
        yes, no = _("Yes"), _("No")
        return (
            (_("Name"), lambda p: p.name),
            (_("Method"), lambda p: methods.get(p.method, p.method)),
            (_("Basis"), lambda p: bases.get(p.basis, p.basis)),
            (_("Period"), lambda p: kinds.get(p.period, p.period)),
            (_("Brackets"), _brackets_summary),
            (_("Cap per period"), lambda p: p.cap),
            (_("Valid from"), lambda p: p.valid_from),
            (_("Valid to"), lambda p: p.valid_to),
            (pgettext("policy", "Active"), lambda p: yes if p.is_active else no),
            (_("Agreements"), lambda p: p.agreement_count),
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(can_manage=can_manage_incentives(self.request.user), **kwargs)


def _policy_or_404(user, pk):
    return get_object_or_404(selectors.policy_list(user=user), pk=pk)


class PolicyDetailView(TabsMixin, StaffRequiredMixin, TemplateView):
    tab = "policies"
    template_name = "incentives/policy_detail.html"

    def load_objects(self, pk):
        self.policy = _policy_or_404(self.request.user, pk)

    def get_context_data(self, **kwargs):
        policy = self.policy
        user = self.request.user
        can_manage = can_manage_incentives(user)
        assignments = list(
            PolicyAssignment.objects.filter(policy=policy)
            .select_related("agreement__partner")
            .order_by("agreement__partner__name", "agreement__number")
        )
        brackets = list(policy.brackets.all())
        uppers = [b.threshold for b in brackets[1:]] + [None]
        context = {
            "policy": policy,
            "brackets": brackets,
            "bracket_rows": list(zip(brackets, uppers, strict=True)),
            "multipliers": list(TierMultiplier.objects.filter(policy=policy).select_related("tier")),
            "product_lines": list(policy.product_lines.order_by("name")),
            "assignments": assignments,
            "history": list(history_for(policy)[:50]),
            "can_manage": can_manage,
            "preview_form": PreviewForm(prefix="preview"),
            "partner_codes": _partner_codes(Partner.objects.visible_to(user)),
        }
        if can_manage:
            context["assign_form"] = kwargs.pop("assign_form", None) or AssignForm()
            assigned = {link.agreement_id for link in assignments}
            context["agreement_numbers"] = [
                (a.number, a.partner.name)
                for a in Agreement.objects.visible_to(user)
                .select_related("partner")
                .order_by("-start_date", "number")[:SUGGESTIONS]
                if a.pk not in assigned
            ]
        return super().get_context_data(**context, **kwargs)


class PolicyAssignView(PolicyDetailView):
    """POST: attach the policy to an agreement, named by its number. A wrong number comes back on
    the field, with the policy's page around it."""

    http_method_names = ["post"]

    def post(self, request, pk):
        _require_manage(request.user)
        form = AssignForm(request.POST)
        if form.is_valid():
            number = form.cleaned_data["agreement"].strip()
            agreement = Agreement.objects.visible_to(request.user).filter(number__iexact=number).first()
            if agreement is None:
                form.add_error("agreement", _("No agreement has the number “%(number)s”.") % {"number": number})
            else:
                try:
                    services.policy_assign(agreement=agreement, policy=self.policy, by=request.user)
                except ValidationError as error:
                    _errors_to_form(form, error)
                else:
                    messages.success(
                        request,
                        _("%(policy)s now applies to %(agreement)s.")
                        % {"policy": self.policy.name, "agreement": agreement.number},
                    )
                    return redirect(f"{reverse('incentives:policy-detail', args=[self.policy.pk])}#agreements")
        return self.render_to_response(self.get_context_data(assign_form=form))


class PolicyUnassignView(StaffRequiredMixin, View):
    def post(self, request, pk):
        _require_manage(request.user)
        policy = _policy_or_404(request.user, pk)
        agreement_id = request.POST.get("agreement", "")
        agreement = get_object_or_404(
            Agreement.objects.visible_to(request.user), pk=int(agreement_id) if agreement_id.isdigit() else 0
        )
        services.policy_unassign(agreement=agreement, policy=policy, by=request.user)
        messages.success(
            request,
            _("%(policy)s no longer applies to %(agreement)s.")
            % {"policy": policy.name, "agreement": agreement.number},
        )
        return redirect(f"{reverse('incentives:policy-detail', args=[policy.pk])}#agreements")


class _PolicyFormView(TabsMixin, ServiceFormView):
    tab = "policies"
    template_name = "incentives/policy_form.html"
    form_class = PolicyForm
    policy = None

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "policy": self.policy}

    def form_valid(self, form):
        try:
            self.object = self.perform(form)
        except ValidationError as error:
            _errors_to_form(form, error)
            return self.form_invalid(form)
        messages.success(self.request, self.success_message % {"name": self.object.name})
        return redirect("incentives:policy-detail", pk=self.object.pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            policy=self.policy,
            preview_form=PreviewForm(prefix="preview"),
            partner_codes=_partner_codes(Partner.objects.visible_to(self.request.user)),
            **kwargs,
        )


class PolicyCreateView(_PolicyFormView):
    success_message = gettext_lazy("Rebate policy %(name)s created.")

    def load_objects(self, **kwargs):
        _require_manage(self.request.user)

    def get_initial(self):
        return {"method": RebateMethod.MARGINAL}

    def perform(self, form):
        data = form.service_data()
        return services.policy_create(
            by=self.request.user,
            name=data.pop("name"),
            basis=data.pop("basis"),
            period=data.pop("period"),
            method=data.pop("method"),
            brackets=data.pop("brackets"),
            **data,
        )


class PolicyUpdateView(_PolicyFormView):
    success_message = gettext_lazy("Rebate policy %(name)s saved.")

    def load_objects(self, pk):
        _require_manage(self.request.user)
        self.policy = _policy_or_404(self.request.user, pk)

    def get_initial(self):
        policy = self.policy
        initial = {name: getattr(policy, name) for name in ("name", "method", "basis", "period", "cap")}
        initial.update(
            valid_from=policy.valid_from,
            valid_to=policy.valid_to,
            is_active=policy.is_active,
            product_lines=[line.pk for line in policy.product_lines.all()],
        )
        for row in TierMultiplier.objects.filter(policy=policy):
            initial[f"tier_{row.tier_id}"] = plain(row.multiplier)
        return initial

    def perform(self, form):
        return services.policy_update(policy=self.policy, by=self.request.user, **form.service_data())


class PolicyPreviewView(StaffRequiredMixin, View):
    """POST, JSON: what a volume would earn under the policy form as it stands, saved or not (the
    editor's live preview). Reads the form's own fields: method, basis, cap, the brackets rows,
    the tier multipliers and `preview-volume`, `preview-value`, `preview-partner` (a code). Bad
    input answers 400 with {"errors": {field: [messages]}}, never a 500."""

    http_method_names = ["post"]

    def post(self, request):
        data = request.POST
        try:
            partner, multiplier = self._partner_and_multiplier(data)
            result = services.policy_preview_draft(
                basis=data.get("basis", ""),
                method=data.get("method", ""),
                brackets=self._brackets(data),
                cap=data.get("cap", "").strip() if partner is not None else None,
                volume=data.get("preview-volume", "").strip(),
                multiplier=multiplier,
                value=data.get("preview-value", "").strip(),
            )
        except ValidationError as error:
            return JsonResponse({"errors": error.message_dict}, status=400)
        return JsonResponse(self._answer(result, partner, multiplier))

    @staticmethod
    def _brackets(data):
        """The rows of the brackets formset that hold something and are not marked for removal."""
        try:
            total = min(int(data.get("brackets-TOTAL_FORMS", 0)), MAX_PREVIEW_ROWS)
        except ValueError:
            total = 0
        rows = []
        for index in range(max(total, 0)):
            threshold = data.get(f"brackets-{index}-threshold", "").strip()
            rate = data.get(f"brackets-{index}-rate", "").strip()
            if (threshold or rate) and not data.get(f"brackets-{index}-DELETE"):
                rows.append({"threshold": threshold, "rate": rate})
        return rows

    def _partner_and_multiplier(self, data):
        code = data.get("preview-partner", "").strip()
        if not code:
            return None, Decimal("1")
        try:
            partner = partner_by_code(self.request.user, code)
        except ValidationError as error:
            raise ValidationError({"partner": error.messages}) from error
        raw = data.get(f"tier_{partner.tier_id}", "").strip() if partner.tier_id else ""
        return partner, raw or Decimal("1")

    @staticmethod
    def _answer(result, partner, multiplier):
        kinds = dict(LineKind.choices)
        lines = []
        for line in result["lines"]:
            is_cap = line["kind"] == LineKind.CAP
            lines.append(
                {
                    "kind": str(line["kind"]),
                    "kind_label": str(kinds[line["kind"]]),
                    "threshold": "" if is_cap else str(line["threshold"]),
                    "rate": "" if is_cap else str(line["rate"]),
                    "volume": "" if is_cap else str(line["volume"]),
                    "base": "" if is_cap else str(line["base"].quantize(Decimal("0.01"))),
                    "multiplier": str(line["multiplier"]),
                    "amount": str(line["amount"]),
                    "display": {
                        "threshold": "" if is_cap else _number(line["threshold"]),
                        "rate": "" if is_cap else f"{_number(line['rate'])}%",
                        "volume": "" if is_cap else _number(line["volume"]),
                        "base": "" if is_cap else _number(line["base"], 2),
                        "multiplier": f"× {_number(Decimal(line['multiplier']))}",
                        "amount": format_money(line["amount"]),
                    },
                }
            )
        if not lines:
            note = _("Nothing is earned at this volume.")
        elif partner is not None:
            note = _("For %(partner)s (%(tier)s): tier multiplier × %(multiplier)s, and the policy's cap.") % {
                "partner": partner.name,
                "tier": partner.tier.name if partner.tier else _("no tier"),
                "multiplier": _number(Decimal(multiplier)),
            }
        else:
            note = _("Without a partner, no tier multiplier and no cap apply; enter a partner code to apply them.")
        return {
            "note": note,
            "amount": str(result["amount"]),
            "amount_display": format_money(result["amount"]),
            "partner": {"code": partner.code, "name": partner.name, "tier": str(partner.tier or "")}
            if partner
            else None,
            "multiplier": str(multiplier),
            "lines": lines,
        }


# Override policies ---------------------------------------------------------------------------


class OverrideListView(TabsMixin, ObjectListView):
    model = OverridePolicy
    tab = "overrides"
    template_name = "incentives/override_list.html"
    filterset_class = OverridePolicyFilterSet
    ordering_fields = {"name": "name", "period": "period", "valid_from": "valid_from"}
    default_ordering = ["-is_active", "name", "pk"]

    def get_base_queryset(self):
        return OverridePolicy.objects.visible_to(self.request.user).prefetch_related("rates", "product_lines")

    def get_context_data(self, **kwargs):
        return super().get_context_data(can_manage=can_manage_incentives(self.request.user), **kwargs)


class _OverrideFormView(TabsMixin, ServiceFormView):
    tab = "overrides"
    template_name = "incentives/override_form.html"
    form_class = OverridePolicyForm
    policy = None

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "policy": self.policy}

    def form_valid(self, form):
        try:
            self.object = self.perform(form)
        except ValidationError as error:
            _errors_to_form(form, error)
            return self.form_invalid(form)
        messages.success(self.request, self.success_message % {"name": self.object.name})
        return redirect("incentives:override-list")

    def get_context_data(self, **kwargs):
        return super().get_context_data(policy=self.policy, **kwargs)


class OverrideCreateView(_OverrideFormView):
    success_message = gettext_lazy("Override policy %(name)s created.")

    def load_objects(self, **kwargs):
        _require_manage(self.request.user)

    def perform(self, form):
        data = form.service_data()
        return services.override_policy_create(
            by=self.request.user, name=data.pop("name"), rates=data.pop("rates"), **data
        )


class OverrideUpdateView(_OverrideFormView):
    success_message = gettext_lazy("Override policy %(name)s saved.")

    def load_objects(self, pk):
        _require_manage(self.request.user)
        self.policy = get_object_or_404(
            OverridePolicy.objects.visible_to(self.request.user).prefetch_related("rates"), pk=pk
        )

    def get_initial(self):
        policy = self.policy
        return {
            "name": policy.name,
            "period": policy.period,
            "valid_from": policy.valid_from,
            "valid_to": policy.valid_to,
            "is_active": policy.is_active,
            "product_lines": [line.pk for line in policy.product_lines.all()],
        }

    def perform(self, form):
        return services.override_policy_update(policy=self.policy, by=self.request.user, **form.service_data())


# Rebate statements ---------------------------------------------------------------------------


def _statement_actions(user, statement):
    """The moves this user may make on the statement now."""
    if not can_manage_incentives(user):
        return set()
    moves = STATEMENT_TRANSITIONS[StatementStatus(statement.status)]
    actions = {
        "approve": StatementStatus.APPROVED in moves,
        "pay": StatementStatus.PAID in moves,
        "cancel": StatementStatus.CANCELLED in moves,
        "adjust": statement.status == StatementStatus.CALCULATED,
    }
    return {name for name, allowed in actions.items() if allowed}


class StatementListView(TabsMixin, ObjectListView):
    """The statements with their totals (per currency, of everything the filters keep), the form
    that calculates a period's statements in the background, and that run's progress
    (`?run=<id>`), which reloads the list when it is done."""

    model = RebateStatement
    tab = "statements"
    template_name = "incentives/statement_list.html"
    filterset_class = RebateStatementFilterSet
    filter_shortcuts = ((gettext_lazy("Waiting for approval"), "status=calculated"),)
    ordering_fields = {
        "partner": "partner__name",
        "period": "period_start",
        "status": "status",
        "total": "total",
        "calculated": "calculated_at",
    }
    default_ordering = ["-period_start", "partner__code", "-pk"]
    export_filename = "rebate-statements"

    def get_base_queryset(self):
        return selectors.statement_list(user=self.request.user).select_related("approved_by")

    def get_export_columns(self):
        statuses = {value: str(label) for value, label in StatementStatus.choices}
        return (
            (_("Partner code"), lambda s: s.partner.code),
            (_("Partner"), lambda s: s.partner.name),
            (_("Tier"), lambda s: s.partner.tier.name if s.partner.tier else ""),
            (_("Period"), lambda s: s.period),
            (_("Status"), lambda s: statuses.get(s.status, s.status)),
            (_("Total"), lambda s: s.total),
            (_("Currency"), lambda s: s.currency),
            (_("Calculated at"), lambda s: s.calculated_at),
            (_("Approved at"), lambda s: s.approved_at),
            (_("Approved by"), lambda s: str(s.approved_by) if s.approved_by else ""),
            (_("Paid at"), lambda s: s.paid_at),
        )

    def _totals(self):
        rows = self.object_list.order_by().values("currency").annotate(count=Count("pk"), amount=Sum("total"))
        return sorted(rows, key=lambda row: row["currency"])

    def _run(self):
        run_id = self.request.GET.get("run", "")
        if not run_id.isdigit():
            return None
        return JobRun.objects.filter(pk=run_id, job=STATEMENT_RUN_JOB).first()

    def get_context_data(self, **kwargs):
        user = self.request.user
        can_manage = can_manage_incentives(user)
        query = self.request.GET.copy()
        query.pop("run", None)
        done_url = f"{self.request.path}?{query.urlencode()}" if query else self.request.path
        return super().get_context_data(
            can_manage=can_manage,
            totals=self._totals(),
            run=self._run(),
            done_url=done_url,
            run_form=StatementRunForm(user=user) if can_manage else None,
            partner_codes=_partner_codes(Partner.objects.visible_to(user)) if can_manage else (),
            **kwargs,
        )


class StatementRunView(TabsMixin, ServiceFormView):
    """Calculate (or recalculate) a period's statements, for every partner or one, in the
    background; the list then shows the run's progress."""

    tab = "statements"
    template_name = "incentives/statement_run.html"

    def get_form_class(self):
        return StatementRunForm

    def load_objects(self, **kwargs):
        _require_manage(self.request.user)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            partner_codes=_partner_codes(Partner.objects.visible_to(self.request.user)), **kwargs
        )

    def perform(self, form):
        self.period = form.cleaned_data["period"]
        self.partner = form.cleaned_data["partner"]
        return services.statement_run_start(by=self.request.user, period=self.period, partner=self.partner)

    def get_success_url(self):
        return _url(
            "incentives:statement-list",
            run=self.object.pk,
            period=self.period,
            partner=self.partner.pk if self.partner else None,
        )


def _statement_or_404(user, pk):
    return get_object_or_404(
        RebateStatement.objects.visible_to(user).select_related("partner__tier", "partner__region", "approved_by"),
        pk=pk,
    )


class StatementDetailView(TabsMixin, ObjectListView):
    """A statement and the lines that explain each amount (policy, bracket, base, rate,
    multiplier, the sub-partner an override came from); the total is the sum of the lines shown.
    `?export=csv` or `?export=xlsx` downloads the lines."""

    model = StatementLine
    tab = "statements"
    template_name = "incentives/statement_detail.html"
    default_ordering = ["pk"]
    adjust_form = None

    def load_objects(self, pk):
        self.statement = _statement_or_404(self.request.user, pk)
        self.export_filename = f"rebate-statement-{self.statement.partner.code}-{self.statement.period}"

    def get_paginate_by(self, queryset):
        return None  # every line: the total is their sum

    def get_base_queryset(self):
        return StatementLine.objects.filter(statement=self.statement).select_related(
            "rebate_policy", "override_policy", "source_partner", "created_by"
        )

    def get_export_columns(self):
        kinds = {value: str(label) for value, label in LineKind.choices}
        return (
            (_("Line type"), lambda line: kinds.get(line.kind, line.kind)),
            (_("Explanation"), lambda line: str(line.explanation)),
            (_("Policy"), lambda line: str(line.rebate_policy or line.override_policy or "")),
            (_("Bracket from"), lambda line: line.bracket_threshold),
            (_("Volume"), lambda line: line.volume),
            (_("Base amount"), lambda line: line.base),
            (_("Rate %"), lambda line: line.rate),
            (_("Multiplier"), lambda line: line.multiplier),
            (_("Sub-partner"), lambda line: line.source_partner.code if line.source_partner else ""),
            (_("Amount"), lambda line: line.amount),
            (_("Currency"), lambda line: self.statement.currency),
        )

    def get_context_data(self, **kwargs):
        user = self.request.user
        statement = self.statement
        actions = _statement_actions(user, statement)
        context = super().get_context_data(**kwargs)
        lines = context["object_list"]
        context.update(
            statement=statement,
            lines=lines,
            lines_total=sum((line.amount for line in lines), Decimal("0.00")),
            actions=actions,
            adjust_form=self.adjust_form or (AdjustmentForm() if "adjust" in actions else None),
            history=list(history_for(statement)[:50]),
        )
        return context


class StatementActionView(StaffRequiredMixin, View):
    """POST only: one move of the statement through its service; a refusal is shown on the
    statement's page with the service's reason."""

    service = None
    success_message = None
    refused_message = None

    def post(self, request, pk):
        _require_manage(request.user)
        statement = _statement_or_404(request.user, pk)
        try:
            self.service(statement=statement, by=request.user)
        except ValidationError as error:
            _error_messages(request, error, prefix=str(self.refused_message))
        else:
            messages.success(request, self.success_message % {"statement": statement})
        return redirect("incentives:statement-detail", pk=statement.pk)


class StatementApproveView(StatementActionView):
    service = staticmethod(services.statement_approve)
    success_message = gettext_lazy("The statement %(statement)s is approved; it no longer changes.")
    refused_message = gettext_lazy("Not approved:")


class StatementPayView(StatementActionView):
    service = staticmethod(services.statement_mark_paid)
    success_message = gettext_lazy("The statement %(statement)s is marked paid.")
    refused_message = gettext_lazy("Not marked paid:")


class StatementCancelView(StatementActionView):
    service = staticmethod(services.statement_cancel)
    success_message = gettext_lazy("The statement %(statement)s is cancelled.")
    refused_message = gettext_lazy("Not cancelled:")


class StatementAdjustView(StatementDetailView):
    """POST: an adjustment line (amount and reason) on a calculated statement. Refused input comes
    back on the form, on the statement's page, and nothing is written."""

    http_method_names = ["post"]

    def post(self, request, pk):
        _require_manage(request.user)
        form = AdjustmentForm(request.POST)
        if form.is_valid():
            try:
                services.statement_add_adjustment(statement=self.statement, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                _errors_to_form(form, error)
            else:
                messages.success(request, _("Adjustment added."))
                return redirect("incentives:statement-detail", pk=self.statement.pk)
        self.adjust_form = form
        self.object_list = self.get_queryset()
        return self.render_to_response(self.get_context_data())


# MDF budgets ---------------------------------------------------------------------------------


def _money_sum(field, statuses):
    return Coalesce(Sum(field, filter=Q(status__in=statuses)), Decimal("0.00"))


class BudgetListView(TabsMixin, ObjectListView):
    model = MdfBudget
    tab = "budgets"
    template_name = "incentives/budget_list.html"
    filterset_class = MdfBudgetFilterSet
    ordering_fields = {
        "partner": "partner__name",
        "period": "period_start",
        "allocated": "allocated",
        "reserved": "reserved",
        "claimed": "claimed",
        "paid": "paid",
        "remaining": "remaining",
        "pending": "pending",
    }
    default_ordering = ["-period_start", "partner__code", "pk"]
    export_filename = "mdf-budgets"

    def get_base_queryset(self):
        return selectors.budget_list(user=self.request.user)

    def get_export_columns(self):
        sources = {value: str(label) for value, label in BudgetSource.choices}
        return (
            (_("Partner code"), lambda b: b.partner.code),
            (_("Partner"), lambda b: b.partner.name),
            (_("Region"), lambda b: b.partner.region.name),
            (_("Period"), lambda b: b.period),
            (_("Allocated"), lambda b: b.allocated),
            (_("Reserved"), lambda b: round_cents(b.reserved)),
            (_("Claimed"), lambda b: round_cents(b.claimed)),
            (_("Paid"), lambda b: round_cents(b.paid)),
            (_("Remaining"), lambda b: round_cents(b.remaining)),
            (_("Pending requests"), lambda b: round_cents(b.pending)),
            (_("Currency"), lambda b: b.currency),
            (_("Set by"), lambda b: sources.get(b.source, b.source)),
            (_("Note"), lambda b: b.note),
        )

    def _totals(self):
        """The figures of every budget the filters keep (not only this page): two queries."""
        if not self.filterset.is_valid():
            return None
        budgets = self.filterset_class(
            self.request.GET, queryset=MdfBudget.objects.visible_to(self.request.user), request=self.request
        ).qs
        totals = budgets.aggregate(allocated=Coalesce(Sum("allocated"), Decimal("0.00")), count=Count("pk"))
        totals.update(
            MdfRequest.objects.filter(budget__in=budgets.values("pk")).aggregate(
                pending=_money_sum("requested_amount", [MdfStatus.SUBMITTED]),
                reserved=_money_sum("approved_amount", MdfStatus.RESERVING),
                claimed=_money_sum("actual_amount", MdfStatus.CLAIMING),
                paid=_money_sum("actual_amount", MdfStatus.SPENT),
            )
        )
        totals["remaining"] = totals["allocated"] - totals["reserved"] - totals["claimed"] - totals["paid"]
        return totals

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            can_set=can_write_as_staff(user),
            can_allocate=can_manage_incentives(user),
            totals=self._totals(),
            **kwargs,
        )


class BudgetSetView(TabsMixin, ServiceFormView):
    """Set a partner's MDF budget for a period (create or change it). `?partner=<id>&period=<code>`
    opens it filled in."""

    tab = "budgets"
    template_name = "incentives/budget_form.html"
    form_class = BudgetForm
    success_message = gettext_lazy("MDF budget saved.")

    def load_objects(self, **kwargs):
        _require_write_role(self.request.user)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        params = self.request.GET
        initial = {}
        partner_id = params.get("partner", "")
        partner = (
            Partner.objects.visible_to(self.request.user).filter(pk=partner_id).first()
            if partner_id.isdigit()
            else None
        )
        if partner is not None:
            initial["partner"] = partner.code
        if params.get("period"):
            initial["period"] = params["period"][:7]
            budget = (
                MdfBudget.objects.visible_to(self.request.user).filter(partner=partner, period=params["period"]).first()
                if partner is not None
                else None
            )
            if budget is not None:
                initial.update(allocated=budget.allocated, note=budget.note)
        return initial

    def get_context_data(self, **kwargs):
        return super().get_context_data(partner_codes=_partner_codes(partners_managed_by(self.request.user)), **kwargs)

    def perform(self, form):
        return services.budget_set(by=self.request.user, **form.cleaned_data)

    def get_success_url(self):
        return _url("incentives:budget-list", partner=self.object.partner_id, period=self.object.period)


class BudgetAllocateView(TabsMixin, StaffRequiredMixin, FormView):
    """Budgets for a period from each active partner's tier allowance (a % of its previous
    period's revenue); budgets set by hand are kept. The list then shows the period, with the
    counts of what was created, updated and kept."""

    tab = "budgets"
    template_name = "incentives/budget_allocate.html"
    form_class = AllocateForm

    def load_objects(self, **kwargs):
        _require_manage(self.request.user)

    def form_valid(self, form):
        period = form.cleaned_data["period"]
        try:
            counts = services.budgets_allocate_from_tiers(period=period, by=self.request.user)
        except ValidationError as error:
            _errors_to_form(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _(
                "Budgets for %(period)s from the tier allowances: %(created)s created, %(updated)s updated, "
                "%(kept)s kept (set by hand or overlapping another budget)."
            )
            % {"period": period, **counts},
        )
        return redirect(_url("incentives:budget-list", period=period))


# MDF requests --------------------------------------------------------------------------------


class MdfRequestListView(TabsMixin, ObjectListView):
    model = MdfRequest
    tab = "requests"
    template_name = "incentives/request_list.html"
    filterset_class = MdfRequestFilterSet
    ordering_fields = {
        "reference": "pk",
        "partner": "partner__name",
        "title": "title",
        "start": "start_date",
        "requested": "requested_amount",
        "approved": "approved_amount",
        "actual": "actual_amount",
        "status": "status",
        "submitted": "submitted_at",
        "claimed": "claimed_at",
    }
    default_ordering = ["-created_at", "-pk"]
    export_filename = "mdf-requests"

    def get_base_queryset(self):
        return selectors.request_list(user=self.request.user)

    def get_export_columns(self):
        statuses = {value: str(label) for value, label in MdfStatus.choices}
        activities = {value: str(label) for value, label in MdfActivity.choices}
        return (
            (_("Reference"), lambda r: r.reference),
            (_("Partner code"), lambda r: r.partner.code),
            (_("Partner"), lambda r: r.partner.name),
            (_("Title"), lambda r: r.title),
            (_("Activity type"), lambda r: activities.get(r.activity_type, r.activity_type)),
            (_("Budget period"), lambda r: r.budget.period),
            (_("Start date"), lambda r: r.start_date),
            (_("End date"), lambda r: r.end_date),
            (_("Requested amount"), lambda r: r.requested_amount),
            (_("Approved amount"), lambda r: r.approved_amount),
            (_("Actual amount"), lambda r: r.actual_amount),
            (_("Status"), lambda r: statuses.get(r.status, r.status)),
            (_("Submitted at"), lambda r: r.submitted_at),
            (_("Claimed at"), lambda r: r.claimed_at),
            (_("Payment reference"), lambda r: r.payment_reference),
        )

    def get_context_data(self, **kwargs):
        status = self.request.GET.get("status", "")
        return super().get_context_data(queue=status if status in ("submitted", "claimed") else "", **kwargs)


class MdfRequestDetailView(TabsMixin, StaffRequiredMixin, TemplateView):
    """A request: its plan, dates and amounts, its budget's figures, proof of performance, history,
    and the decisions the user may take now (each form shown only to who may)."""

    tab = "requests"
    template_name = "incentives/request_detail.html"
    # Bound forms that came back with errors, by name.
    bound_forms = {}

    def load_objects(self, pk):
        try:
            self.mdf_request = selectors.request_detail(user=self.request.user, pk=pk)
        except MdfRequest.DoesNotExist as error:
            raise Http404(_("No MDF request found.")) from error

    def allowed(self):
        user, request = self.request.user, self.mdf_request
        moves = MDF_TRANSITIONS[MdfStatus(request.status)]
        decides = can_decide_mdf(user, request.partner)
        actions = {
            "approve": decides and request.status == MdfStatus.SUBMITTED,
            "reject": decides and MdfStatus.REJECTED in moves,
            "return": decides and request.status == MdfStatus.CLAIMED,
            "pay": can_pay_mdf(user) and MdfStatus.PAID in moves,
        }
        return {name for name, allowed in actions.items() if allowed}

    def get_context_data(self, **kwargs):
        request = self.mdf_request
        actions = self.allowed()
        forms = {
            "approve": lambda: MdfApproveForm(initial={"approved_amount": request.requested_amount}),
            "reject": lambda: ReasonForm(prefix="reject"),
            "return": lambda: ReasonForm(prefix="return"),
            "pay": lambda: MdfPayForm(),
        }
        context = {
            f"{name}_form": self.bound_forms.get(name) or make() for name, make in forms.items() if name in actions
        }
        return super().get_context_data(
            mdf_request=request,
            budget=request.budget,
            figures=selectors.budget_usage(request.budget),
            proofs=list(request.proofs.all()),
            history=list(history_for(request)[:50]),
            actions=actions,
            open_form=next(iter(self.bound_forms), ""),
            **context,
            **kwargs,
        )


class MdfActionView(MdfRequestDetailView):
    """POST: one decision through its service. Refused input comes back on its form, on the
    request's page (200), and nothing changes."""

    http_method_names = ["post"]
    action = None
    form_class = None
    prefix = None
    success_message = None

    def perform(self, **data):
        raise NotImplementedError

    def post(self, request, pk):
        if not (can_write_as_staff(request.user) or can_pay_mdf(request.user)):
            raise PermissionDenied(READ_ONLY_MESSAGE)
        # A decision that is not (or no longer) open, or not this user's: the service says why.
        form = self.form_class(request.POST, prefix=self.prefix)
        if form.is_valid():
            try:
                self.perform(**form.cleaned_data)
            except ValidationError as error:
                _errors_to_form(form, error)
            else:
                messages.success(request, self.success_message % {"reference": self.mdf_request.reference})
                return redirect("incentives:mdf-request-detail", pk=self.mdf_request.pk)
        self.bound_forms = {self.action: form}
        if self.action not in self.allowed():  # its form is not on the page: say why above it
            for texts in form.errors.values():
                for text in texts:
                    messages.error(request, text)
        return self.render_to_response(self.get_context_data())


class MdfApproveView(MdfActionView):
    action = "approve"
    form_class = MdfApproveForm
    success_message = gettext_lazy("%(reference)s is approved; the amount is reserved from the budget.")

    def perform(self, approved_amount, note):
        services.mdf_request_approve(
            request=self.mdf_request, by=self.request.user, approved_amount=approved_amount, note=note
        )


class MdfRejectView(MdfActionView):
    action = "reject"
    form_class = ReasonForm
    prefix = "reject"
    success_message = gettext_lazy("%(reference)s is rejected.")

    def perform(self, reason):
        services.mdf_request_reject(request=self.mdf_request, by=self.request.user, reason=reason)


class MdfClaimReturnView(MdfActionView):
    action = "return"
    form_class = ReasonForm
    prefix = "return"
    success_message = gettext_lazy("The claim %(reference)s was sent back to the partner.")

    def perform(self, reason):
        services.mdf_claim_return(request=self.mdf_request, by=self.request.user, reason=reason)


class MdfPayView(MdfActionView):
    action = "pay"
    form_class = MdfPayForm
    success_message = gettext_lazy("The claim %(reference)s is marked paid.")

    def perform(self, payment_reference):
        services.mdf_request_mark_paid(
            request=self.mdf_request, by=self.request.user, payment_reference=payment_reference
        )


class MdfProofDownloadView(StaffRequiredMixin, View):
    """The file itself, as an attachment, only for someone who sees the request."""

    def get(self, request, pk):
        proof = get_object_or_404(MdfProof.objects.visible_to(request.user), pk=pk)
        return attachment_response(
            proof.file,
            filename=proof.original_name,
            content_type=proof.content_type,
            missing=_("The file of this proof is missing."),
        )
