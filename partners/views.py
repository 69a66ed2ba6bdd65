"""Staff pages of the partner registry. Thin: parse, call a service or selector, render."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, TemplateView

from prm.dashboard import partner_sections
from prm.roles import can_write_as_staff
from prm.views import ObjectListView, ServiceFormView, StaffRequiredMixin

from . import selectors, services
from .access import (
    can_manage_partner,
    can_manage_reference_data,
    can_place_partner,
    require_manage_api_keys,
    require_manage_partner,
    require_manage_reference_data,
)
from .choices import PartnerStatus, PartnerType
from .filters import PartnerFilterSet
from .forms import (
    PARTNER_PROFILE_FIELDS,
    ApiKeyForm,
    PartnerContactForm,
    PartnerCreateForm,
    PartnerForm,
    PartnerMoveForm,
    PartnerStatusForm,
    PartnerTierForm,
    RegionForm,
)
from .models import ApiKey, Partner, PartnerContact, PartnerTier, Region


def _require_placeable(user, region, owner):
    if not can_place_partner(user, region=region, owner=owner):
        raise ValidationError(
            {"region": _("You can place partners only in your regions, or with yourself as channel manager.")}
        )


class PartnerListView(ObjectListView):
    model = Partner
    template_name = "partners/partner_list.html"
    filterset_class = PartnerFilterSet
    ordering_fields = {
        "code": "code",
        "name": "name",
        "type": "partner_type",
        "status": "status",
        "tier": "tier__rank",
        "region": "region__name",
        "owner": "owner__username",
        "level": "depth",
        "created": "created_at",
    }
    default_ordering = ["name", "pk"]
    export_filename = "partners"

    def get_export_columns(self):
        # Choice labels translated once per export, not once per row.
        types = {value: str(label) for value, label in PartnerType.choices}
        statuses = {value: str(label) for value, label in PartnerStatus.choices}
        return (
            (_("Code"), lambda p: p.code),
            (_("Name"), lambda p: p.name),
            (_("Legal name"), lambda p: p.legal_name),
            (_("Type"), lambda p: types.get(p.partner_type, p.partner_type)),
            (_("Status"), lambda p: statuses.get(p.status, p.status)),
            (_("Tier"), lambda p: p.tier.name if p.tier else ""),
            (_("Region"), lambda p: p.region.name),
            (_("Region code"), lambda p: p.region.code),
            (_("Parent"), lambda p: p.parent.code if p.parent else ""),
            (_("Network level"), lambda p: p.depth),
            (_("Sub-partners"), lambda p: p.sub_partner_count),
            (_("Channel manager"), lambda p: str(p.owner) if p.owner else ""),
            (_("Credit rating"), lambda p: p.credit_rating),  # AAA…C reads the same in every language
            (_("Email"), lambda p: p.email),
            (_("Phone"), lambda p: p.phone),
            (_("External ID"), lambda p: p.external_id),
            (_("Created on"), lambda p: timezone.localdate(p.created_at).isoformat()),
        )

    def get_base_queryset(self):
        return selectors.partner_list(user=self.request.user)


class PartnerDetailView(StaffRequiredMixin, DetailView):
    template_name = "partners/partner_detail.html"
    context_object_name = "partner"

    def get_queryset(self):
        return selectors.partner_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(selectors.partner_360(partner=self.object, user=self.request.user))
        context["allowed_statuses"] = [
            (status, status.label) for status in services.partner_allowed_statuses(self.object)
        ]
        context["status_form"] = PartnerStatusForm()
        context["can_manage"] = can_manage_partner(self.request.user, self.object)
        context["sections"] = partner_sections(user=self.request.user, partner=self.object)
        return context


class PartnerCreateView(ServiceFormView):
    form_class = PartnerCreateForm
    template_name = "partners/partner_form.html"
    success_message = gettext_lazy("Partner created.")

    def load_objects(self, **kwargs):
        if not can_write_as_staff(self.request.user):
            raise PermissionDenied(_("Your role can read partners but not change them."))

    def perform(self, form):
        data = {name: form.cleaned_data[name] for name in PARTNER_PROFILE_FIELDS}
        _require_placeable(self.request.user, data["region"], data["owner"])
        return services.partner_create(
            by=self.request.user, parent=form.cleaned_data["parent"], status=form.cleaned_data["status"], **data
        )


class PartnerUpdateView(ServiceFormView):
    form_class = PartnerForm
    template_name = "partners/partner_form.html"
    success_message = gettext_lazy("Partner saved.")

    def load_objects(self, pk):
        self.partner = get_object_or_404(Partner.objects.visible_to(self.request.user), pk=pk)
        require_manage_partner(self.request.user, self.partner)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = Partner.objects.get(pk=self.partner.pk)
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(partner=self.partner, **kwargs)

    def perform(self, form):
        data = {name: form.cleaned_data[name] for name in PARTNER_PROFILE_FIELDS}
        if data["region"] != self.partner.region or data["owner"] != self.partner.owner:
            _require_placeable(self.request.user, data["region"], data["owner"])
        return services.partner_update(partner=self.partner, by=self.request.user, **data)


class PartnerStatusView(StaffRequiredMixin, View):
    """POST only: move a partner to another status; an illegal move is shown as an error."""

    def post(self, request, pk):
        partner = get_object_or_404(Partner.objects.visible_to(request.user), pk=pk)
        require_manage_partner(request.user, partner)
        form = PartnerStatusForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose a valid status."))
            return redirect(partner)
        try:
            partner = services.partner_change_status(partner=partner, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Status changed to %(status)s.") % {"status": partner.get_status_display()})
        return redirect(partner)


class PartnerMoveView(ServiceFormView):
    form_class = PartnerMoveForm
    template_name = "partners/partner_move.html"
    success_message = gettext_lazy("Partner moved in the network.")

    def load_objects(self, pk):
        self.partner = get_object_or_404(Partner.objects.visible_to(self.request.user), pk=pk)
        require_manage_partner(self.request.user, self.partner)

    def get_initial(self):
        return {"parent": self.partner.parent_id}

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.fields["parent"].queryset = form.fields["parent"].queryset.exclude(path__startswith=self.partner.path)
        return form

    def get_context_data(self, **kwargs):
        return super().get_context_data(partner=self.partner, **kwargs)

    def perform(self, form):
        return services.partner_move(partner=self.partner, parent=form.cleaned_data["parent"], by=self.request.user)


class ContactCreateView(ServiceFormView):
    form_class = PartnerContactForm
    template_name = "partners/contact_form.html"
    success_message = gettext_lazy("Contact saved.")

    def load_objects(self, pk):
        self.partner = get_object_or_404(Partner.objects.visible_to(self.request.user), pk=pk)
        require_manage_partner(self.request.user, self.partner)

    def get_context_data(self, **kwargs):
        return super().get_context_data(partner=self.partner, **kwargs)

    def perform(self, form):
        services.contact_create(partner=self.partner, by=self.request.user, **form.cleaned_data)
        return self.partner


class ContactUpdateView(ServiceFormView):
    form_class = PartnerContactForm
    template_name = "partners/contact_form.html"
    success_message = gettext_lazy("Contact saved.")

    def load_objects(self, pk):
        self.contact = get_object_or_404(
            PartnerContact.objects.visible_to(self.request.user).select_related("partner"), pk=pk
        )
        self.partner = self.contact.partner
        require_manage_partner(self.request.user, self.partner)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = PartnerContact.objects.get(pk=self.contact.pk)
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(partner=self.partner, contact=self.contact, **kwargs)

    def perform(self, form):
        services.contact_update(contact=self.contact, by=self.request.user, **form.cleaned_data)
        return self.partner


class ContactDeleteView(StaffRequiredMixin, View):
    def post(self, request, pk):
        contact = get_object_or_404(PartnerContact.objects.visible_to(request.user), pk=pk)
        partner = contact.partner
        require_manage_partner(request.user, partner)
        try:
            services.contact_delete(contact=contact, by=request.user)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Contact removed."))
        return redirect(partner)


class RegionTreeView(StaffRequiredMixin, TemplateView):
    template_name = "partners/region_tree.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            regions=selectors.region_tree(user=self.request.user),
            can_manage=can_manage_reference_data(self.request.user),
            **kwargs,
        )


class RegionCreateView(ServiceFormView):
    form_class = RegionForm
    template_name = "partners/region_form.html"
    success_url = reverse_lazy("partners:region-tree")
    success_message = gettext_lazy("Region saved.")

    def load_objects(self, **kwargs):
        require_manage_reference_data(self.request.user)

    def get_initial(self):
        return {"parent": self.request.GET.get("parent")}

    def get_success_url(self):
        return self.success_url

    def perform(self, form):
        return services.region_create(by=self.request.user, **form.cleaned_data)


class RegionUpdateView(RegionCreateView):
    def load_objects(self, pk):
        require_manage_reference_data(self.request.user)
        self.region = get_object_or_404(Region.objects.visible_to(self.request.user), pk=pk)

    def get_initial(self):
        return {}

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = Region.objects.get(pk=self.region.pk)
        return kwargs

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.fields["parent"].queryset = form.fields["parent"].queryset.exclude(path__startswith=self.region.path)
        return form

    def get_context_data(self, **kwargs):
        return super().get_context_data(region=self.region, **kwargs)

    def perform(self, form):
        return services.region_update(region=self.region, by=self.request.user, **form.cleaned_data)


class TierListView(StaffRequiredMixin, TemplateView):
    template_name = "partners/tier_list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            tiers=selectors.tier_list(user=self.request.user),
            can_manage=can_manage_reference_data(self.request.user),
            **kwargs,
        )


class TierCreateView(ServiceFormView):
    form_class = PartnerTierForm
    template_name = "partners/tier_form.html"
    success_message = gettext_lazy("Tier saved.")

    def load_objects(self, **kwargs):
        require_manage_reference_data(self.request.user)

    def get_success_url(self):
        return reverse("partners:tier-list")

    def perform(self, form):
        return services.tier_create(by=self.request.user, **form.cleaned_data)


class TierUpdateView(TierCreateView):
    def load_objects(self, pk):
        require_manage_reference_data(self.request.user)
        self.tier = get_object_or_404(PartnerTier.objects.visible_to(self.request.user), pk=pk)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = PartnerTier.objects.get(pk=self.tier.pk)
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(tier=self.tier, **kwargs)

    def perform(self, form):
        return services.tier_update(tier=self.tier, by=self.request.user, **form.cleaned_data)


# API keys -----------------------------------------------------------------------------------


class ApiKeyListView(ObjectListView):
    """Every API key, for channel admins only: its public prefix, never its secret."""

    model = ApiKey
    template_name = "partners/api_key_list.html"
    ordering_fields = {
        "name": "name",
        "partner": "partner__name",
        "created": "created_at",
        "last_used": "last_used_at",
        "expires": "expires_at",
    }
    default_ordering = ["-created_at", "-pk"]

    def load_objects(self, **kwargs):
        require_manage_api_keys(self.request.user)

    def get_base_queryset(self):
        return selectors.api_key_list()


class ApiKeyCreateView(ServiceFormView):
    """A new key. The answer to the POST shows the key itself, this once, and is never cached;
    the secret never goes into a URL, a session or the database."""

    form_class = ApiKeyForm
    template_name = "partners/api_key_form.html"
    success_message = gettext_lazy("API key created.")

    def load_objects(self, **kwargs):
        require_manage_api_keys(self.request.user)

    def perform(self, form):
        key, self.plaintext = services.api_key_create(by=self.request.user, **form.cleaned_data)
        return key

    def success_response(self):
        response = render(
            self.request, "partners/api_key_created.html", {"key": self.object, "plaintext": self.plaintext}
        )
        add_never_cache_headers(response)
        return response


class ApiKeyRevokeView(StaffRequiredMixin, TemplateView):
    """GET asks to confirm; POST revokes the key."""

    template_name = "partners/api_key_revoke.html"

    def load_objects(self, pk):
        require_manage_api_keys(self.request.user)
        self.key = get_object_or_404(selectors.api_key_list(), pk=pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(key=self.key, **kwargs)

    def post(self, request, pk):
        try:
            services.api_key_revoke(key=self.key, by=request.user)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            message = _("API key %(key)s revoked: requests made with it are refused from now on.")
            messages.success(request, message % {"key": self.key})
        return redirect("partners:api-key-list")
