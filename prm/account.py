"""A signed-in person's own account: profile and language, password, and the language switcher
that remembers the choice. Plus the channel admins' security log (sign-ins and permission
changes) — staff and partner users alike get the first three."""

import django_filters
from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.urls import reverse_lazy
from django.utils.translation import check_for_language
from django.utils.translation import gettext_lazy as _
from django.views.generic import UpdateView
from django.views.i18n import set_language

from .models import AuditEntry, User
from .roles import is_channel_admin
from .views import ObjectListView

SECURITY_ACTIONS = [
    AuditEntry.Action.LOGIN,
    AuditEntry.Action.LOGIN_FAILED,
    AuditEntry.Action.LOCKED_OUT,
    AuditEntry.Action.LOGOUT,
    AuditEntry.Action.PASSWORD,
    AuditEntry.Action.PERMISSIONS,
]


class AccountForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "preferred_language"]


class AccountView(LoginRequiredMixin, UpdateView):
    form_class = AccountForm
    template_name = "registration/account.html"
    success_url = reverse_lazy("account")

    def get_object(self, queryset=None):
        return self.request.user

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your settings were saved."))
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Changing the password keeps this session and signs the account out everywhere else
    (Django checks each session against the password's hash)."""

    template_name = "registration/password_change.html"
    success_url = reverse_lazy("account")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(
            self.request, _("Your password was changed. Other sessions of this account have been signed out.")
        )
        return response


def switch_language(request):
    """Django's set_language, and for a signed-in person the choice becomes their preference,
    so it follows them to every device (and to the emails we send them)."""
    response = set_language(request)
    language = request.POST.get("language", "")
    user = request.user
    offered = dict(User._meta.get_field("preferred_language").choices)
    if request.method == "POST" and user.is_authenticated and language in offered and check_for_language(language):
        User.objects.filter(pk=user.pk).update(preferred_language=language)
    return response


class SecurityLogFilterSet(django_filters.FilterSet):
    action = django_filters.ChoiceFilter(
        label=_("Event"), choices=[(a.value, a.label) for a in SECURITY_ACTIONS], empty_label=_("All")
    )
    who = django_filters.CharFilter(label=_("User"), method="filter_who")
    since = django_filters.DateFilter(
        label=_("From"), field_name="at", lookup_expr="date__gte", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(
        label=_("To"), field_name="at", lookup_expr="date__lte", widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = AuditEntry
        fields = ["action", "who", "since", "until"]

    def filter_who(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(object_repr__icontains=value) if value else queryset


class SecurityLogView(ObjectListView):
    """Sign-ins, failed sign-ins, lockouts, sign-outs, password and permission changes.
    Channel admins only: the log names people and addresses."""

    model = AuditEntry
    template_name = "staff/security_log.html"
    context_object_name = "entries"
    filterset_class = SecurityLogFilterSet
    ordering_fields = {"at": "at", "action": "action", "user": "object_repr"}
    default_ordering = ["-at", "-id"]
    export_filename = "security-log"
    paginate_by = 50
    page_size_choices = (50, 100, 200)

    def load_objects(self, **kwargs):
        if not is_channel_admin(self.request.user):
            raise PermissionDenied(_("Only channel admins can read the security log."))

    def get_base_queryset(self):
        return AuditEntry.objects.filter(
            object_type=User._meta.label_lower, action__in=SECURITY_ACTIONS
        ).select_related("actor")

    def get_context_data(self, **kwargs):
        return super().get_context_data(ip_label=AuditEntry.EXTRA_LABELS["ip_address"], **kwargs)

    def get_export_columns(self):
        return (
            (_("Time"), lambda e: e.at.isoformat()),
            (_("Event"), lambda e: e.get_action_display()),
            (_("User"), lambda e: e.object_repr),
            (_("By"), lambda e: str(e.actor) if e.actor else ""),
            (_("IP address"), lambda e: e.changes.get("ip_address", "")),
            (_("Details"), _details),
        )


def _details(entry):
    ip_label = AuditEntry.EXTRA_LABELS["ip_address"]
    return "; ".join(
        f"{label}: {before} → {after}" for label, before, after in entry.readable_changes() if label != ip_label
    )
