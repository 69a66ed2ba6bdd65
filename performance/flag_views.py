"""Staff pages of region flags: the list (filters, export), a flag's findings with the partners
that drive them, and its workflow open → acknowledged → action plan → resolved.

Thin: parse, call performance.services, render. Everyone on the channel team reads the flags;
only who `can_handle_flags` sees the workflow forms, and the services check it again."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from prm.audit import history_for
from prm.views import ObjectListView, StaffRequiredMixin

from . import services
from .choices import FLAG_TRANSITIONS, FlagStatus, Measure
from .findings import present_findings, rule_labels
from .forms import FlagPlanForm, FlagResolveForm, RegionFlagFilterSet
from .models import RegionFlag
from .views import TabsMixin

READ_ONLY_MESSAGE = gettext_lazy("Your role can read region flags but not work on them.")


def is_overdue(flag, today=None):
    """An action plan past its due date and not resolved."""
    today = today or timezone.localdate()
    return bool(flag.due_date and flag.due_date < today and flag.status != FlagStatus.RESOLVED)


class FlagListView(TabsMixin, ObjectListView):
    """The region flags, newest month first: who owns each action plan and when it is due
    (overdue ones stand out)."""

    model = RegionFlag
    tab = "flags"
    template_name = "performance/flag_list.html"
    filterset_class = RegionFlagFilterSet
    filter_shortcuts = (
        (gettext_lazy("Open flags"), "status=open"),
        (gettext_lazy("Action plans"), "status=action_plan"),
    )
    ordering_fields = {
        "region": "region__path",
        "period": "period_start",
        "status": "status",
        "owner": "owner__username",
        "due": "due_date",
    }
    default_ordering = ["-period_start", "region__path", "pk"]
    export_filename = "region-flags"

    def get_base_queryset(self):
        return RegionFlag.objects.visible_to(self.request.user).select_related("region", "owner")

    def get_export_columns(self):
        statuses = dict(FlagStatus.choices)
        yes, no = _("Yes"), _("No")
        return (
            (_("Region code"), lambda f: f.region.code),
            (_("Region"), lambda f: f.region.name),
            (_("Month"), lambda f: f.period),
            (_("Rules fired"), lambda f: "; ".join(rule_labels(f.rules))),
            (_("Rules still fire"), lambda f: yes if f.is_firing else no),
            (_("Status"), lambda f: str(statuses.get(f.status, f.status))),
            (_("Owner"), lambda f: str(f.owner) if f.owner else ""),
            (_("Due date"), lambda f: f.due_date),
            (_("Measures"), lambda f: "; ".join(str(label) for label in f.measure_labels)),
            (_("Opened at"), lambda f: f.opened_at),
            (_("Resolved at"), lambda f: f.resolved_at),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        context["rows"] = [
            {"flag": flag, "rules": rule_labels(flag.rules), "overdue": is_overdue(flag, today)}
            for flag in context["object_list"]
        ]
        return context


def _flag_or_404(user, pk):
    queryset = RegionFlag.objects.visible_to(user).select_related("region", "owner", "acknowledged_by", "resolved_by")
    return get_object_or_404(queryset, pk=pk)


def _recorded_plan(value, users):
    """A plan as the history recorded it ([measures, owner id, due date, plan]) in words."""
    if not isinstance(value, list) or len(value) != 4:
        return value
    measures, owner_id, due, plan = value
    labels = dict(Measure.choices)
    parts = [", ".join(str(labels.get(code, code)) for code in measures or [])]
    if owner_id:
        parts.append(str(users.get(owner_id, owner_id)))
    parts += [due or "", plan or ""]
    return " · ".join(str(part) for part in parts if part)


def present_history(flag):
    """The flag's history entries with their changes in words: [(entry, [(label, before, after)])].
    Two queries (the entries with their actors, the plan owners they name)."""
    entries = list(history_for(flag)[:50])
    owner_ids = {
        change[i][1]
        for entry in entries
        for key, change in entry.changes.items()
        if key == "plan" and isinstance(change, list) and len(change) == 2
        for i in (0, 1)
        if isinstance(change[i], list) and len(change[i]) == 4 and change[i][1]
    }
    users = {user.pk: user for user in get_user_model().objects.filter(pk__in=owner_ids)} if owner_ids else {}
    presented = []
    for entry in entries:
        rows = []
        for label, before, after in entry.readable_changes():
            if label == RegionFlag._meta.get_field("plan").verbose_name:
                before, after = _recorded_plan(before, users), _recorded_plan(after, users)
            rows.append((label, before, after))
        presented.append((entry, rows))
    return presented


def flag_actions(user, flag):
    """The moves this user may make on the flag now: acknowledge, plan, resolve."""
    if not services.can_handle_flags(user):
        return set()
    moves = FLAG_TRANSITIONS[FlagStatus(flag.status)]
    actions = {
        "acknowledge": FlagStatus.ACKNOWLEDGED in moves,
        "plan": FlagStatus.ACTION_PLAN in moves,
        "resolve": FlagStatus.RESOLVED in moves,
    }
    return {name for name, allowed in actions.items() if allowed}


class FlagDetailView(TabsMixin, StaffRequiredMixin, TemplateView):
    """A flag: why the region is flagged (each rule, its threshold, the region's figures and the
    partners that drive it), where the team's response stands, the forms of the next moves for
    who may make them, and the history."""

    tab = "flags"
    template_name = "performance/flag_detail.html"
    plan_form = None
    resolve_form = None
    open_form = ""

    def load_objects(self, pk):
        self.flag = _flag_or_404(self.request.user, pk)

    def _plan_initial(self):
        flag = self.flag
        if flag.status == FlagStatus.ACTION_PLAN:
            return {"measures": flag.measures, "owner": flag.owner_id, "due_date": flag.due_date, "plan": flag.plan}
        return {"owner": self.request.user.pk if self.request.user.is_staff else None}

    def get_context_data(self, **kwargs):
        flag = self.flag
        actions = flag_actions(self.request.user, flag)
        context = {
            "flag": flag,
            "findings": present_findings(flag),
            "actions": actions,
            "overdue": is_overdue(flag),
            "history": present_history(flag),
            "open_form": self.open_form,
            "measure_choices": Measure.choices,
        }
        if "plan" in actions:
            context["plan_form"] = self.plan_form or FlagPlanForm(initial=self._plan_initial())
        if "resolve" in actions:
            context["resolve_form"] = self.resolve_form or FlagResolveForm()
        return super().get_context_data(**context, **kwargs)


def _require_handler(user):
    if not services.can_handle_flags(user):
        raise PermissionDenied(READ_ONLY_MESSAGE)


def _errors_to_form(form, error):
    if hasattr(error, "error_dict"):
        for field, texts in error.message_dict.items():
            for text in texts:
                form.add_error(field if field in form.fields else None, text)
    else:
        for text in error.messages:
            form.add_error(None, text)


class FlagAcknowledgeView(StaffRequiredMixin, View):
    """POST: open → acknowledged. A refusal (the flag moved meanwhile) is shown on the flag's page."""

    def post(self, request, pk):
        _require_handler(request.user)
        flag = _flag_or_404(request.user, pk)
        try:
            services.flag_acknowledge(flag=flag, by=request.user)
        except ValidationError as error:
            for text in error.messages:
                messages.error(request, text)
        else:
            messages.success(request, _("Flag acknowledged. Agree an action plan next."))
        return redirect(flag.get_absolute_url())


class _FlagFormView(FlagDetailView):
    """POST of one workflow form; input the service refuses comes back on the form, on the
    flag's page (200), and nothing changes."""

    http_method_names = ["post"]
    form_class = None
    form_name = ""

    def load_objects(self, pk):
        _require_handler(self.request.user)
        super().load_objects(pk)

    def post(self, request, pk):
        form = self.form_class(request.POST)
        if form.is_valid():
            try:
                self.perform(form.cleaned_data)
            except ValidationError as error:
                if self.form_name not in flag_actions(request.user, self.flag):
                    # The flag is not where this form applies (it moved meanwhile): say why on its page.
                    for text in error.messages:
                        messages.error(request, text)
                    return redirect(self.flag.get_absolute_url())
                _errors_to_form(form, error)
            else:
                messages.success(request, self.success_message())
                return redirect(self.flag.get_absolute_url())
        setattr(self, f"{self.form_name}_form", form)
        self.open_form = self.form_name
        return self.render_to_response(self.get_context_data())


class FlagPlanView(_FlagFormView):
    form_class = FlagPlanForm
    form_name = "plan"

    def perform(self, data):
        services.flag_plan(
            flag=self.flag,
            measures=data["measures"],
            owner=data["owner"],
            due_date=data["due_date"],
            plan=data["plan"],
            by=self.request.user,
        )

    def success_message(self):
        return _("Action plan saved.")


class FlagResolveView(_FlagFormView):
    form_class = FlagResolveForm
    form_name = "resolve"

    def perform(self, data):
        services.flag_resolve(flag=self.flag, resolution=data["resolution"], by=self.request.user)

    def success_message(self):
        return _("Flag resolved.")
