"""The partner portal: a partner's users see their own organisation, its tier and its network;
its partner admin keeps the profile up to date and manages the portal users. Thin views: every
row comes through `visible_to(request.user)` (in the selectors), every write through a service.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN, PasswordResetConfirmView
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from prm.dashboard import portal_home_panels
from prm.views import PortalRequiredMixin, PortalServiceFormView

from . import selectors, services
from .access import (
    can_edit_portal_profile,
    can_manage_portal_users,
    require_edit_portal_profile,
    require_manage_portal_users,
)
from .choices import PartnerType
from .invitations import invitation_token_generator
from .models import Partner, PartnerContact
from .portal_forms import PortalInviteForm, PortalProfileForm


def _site_url(request):
    return request.build_absolute_uri("/")


class PortalPage(PortalRequiredMixin):
    """What every portal page shares: the user's own partner, read through `visible_to`, and what
    the portal's menu needs to know."""

    section = None

    def load_objects(self, **kwargs):
        self.partner = selectors.portal_partner(user=self.request.user)

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            partner=self.partner,
            base_template="portal/base.html",
            portal_section=self.section,
            portal_admin=can_manage_portal_users(user, self.partner),
            portal_distributor=self.partner.partner_type == PartnerType.DISTRIBUTOR,
            **kwargs,
        )


class PortalDashboardView(PortalPage, TemplateView):
    template_name = "portal/dashboard.html"
    section = "dashboard"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(selectors.portal_dashboard(user=self.request.user))
        context["panels"] = portal_home_panels(user=self.request.user)
        return context


class PortalProfileView(PortalPage, TemplateView):
    template_name = "portal/profile.html"
    section = "profile"

    def get_context_data(self, **kwargs):
        return super().get_context_data(can_edit=can_edit_portal_profile(self.request.user, self.partner), **kwargs)


class PortalProfileEditView(PortalPage, PortalServiceFormView):
    """A partner admin's form for the partner's contact details. Fields outside the form (tier,
    status, code…) posted anyway are ignored: the form reads only its own fields."""

    form_class = PortalProfileForm
    template_name = "portal/profile_form.html"
    section = "profile"
    success_message = gettext_lazy("Profile saved.")
    success_url = reverse_lazy("portal:profile")

    def load_objects(self, **kwargs):
        super().load_objects(**kwargs)
        require_edit_portal_profile(self.request.user, self.partner)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        # A copy, so that a refused change never shows on the page as if saved.
        kwargs["instance"] = Partner.objects.visible_to(self.request.user).get(pk=self.partner.pk)
        return kwargs

    def get_success_url(self):
        return self.success_url

    def perform(self, form):
        data = {name: form.cleaned_data[name] for name in services.PORTAL_PROFILE_FIELDS}
        return services.partner_update_profile(partner=self.partner, by=self.request.user, **data)


class PortalNetworkView(PortalPage, TemplateView):
    """A distributor's sub-partners and theirs; any other partner sees that it has none."""

    template_name = "portal/network.html"
    section = "network"

    def get_context_data(self, **kwargs):
        sub_partners = list(selectors.portal_sub_partners(user=self.request.user, partner=self.partner))
        return super().get_context_data(sub_partners=sub_partners, **kwargs)


class PortalUserListView(PortalPage, TemplateView):
    template_name = "portal/user_list.html"
    section = "users"

    def load_objects(self, **kwargs):
        super().load_objects(**kwargs)
        require_manage_portal_users(self.request.user, self.partner)

    def get_context_data(self, **kwargs):
        return super().get_context_data(portal_users=selectors.portal_users(user=self.request.user), **kwargs)


class PortalUserInviteView(PortalPage, PortalServiceFormView):
    form_class = PortalInviteForm
    template_name = "portal/user_invite.html"
    section = "users"
    success_url = reverse_lazy("portal:user-list")

    def load_objects(self, **kwargs):
        super().load_objects(**kwargs)
        require_manage_portal_users(self.request.user, self.partner)

    def get_initial(self):
        return {"language": translation.get_language()}

    def get_context_data(self, **kwargs):
        return super().get_context_data(ttl_hours=settings.PRM_INVITATION_TTL_HOURS, **kwargs)

    def get_success_url(self):
        return self.success_url

    def perform(self, form):
        contact = services.portal_user_invite(
            partner=self.partner, by=self.request.user, site_url=_site_url(self.request), **form.cleaned_data
        )
        messages.success(self.request, _("Invitation sent to %(email)s.") % {"email": contact.email})
        return contact


class PortalUserActionView(PortalPage, View):
    """POST only: one action on one of the partner's portal users; a refusal is shown as a
    message on the users page. Another partner's user is not found."""

    def load_objects(self, pk):
        super().load_objects()
        require_manage_portal_users(self.request.user, self.partner)
        self.contact = get_object_or_404(
            PartnerContact.objects.visible_to(self.request.user).filter(user__isnull=False).select_related("user"),
            pk=pk,
        )

    def post(self, request, pk):
        try:
            message = self.perform(self.contact)
        except ValidationError as error:
            for text in error.messages:
                messages.error(request, text)
        else:
            messages.success(request, message)
        return redirect("portal:user-list")

    def perform(self, contact):
        raise NotImplementedError


class PortalUserDeactivateView(PortalUserActionView):
    def perform(self, contact):
        services.portal_user_deactivate(contact=contact, by=self.request.user)
        return _("%(name)s can no longer sign in.") % {"name": contact.name}


class PortalUserReactivateView(PortalUserActionView):
    def perform(self, contact):
        services.portal_user_reactivate(contact=contact, by=self.request.user)
        return _("%(name)s can sign in again.") % {"name": contact.name}


class PortalUserResendView(PortalUserActionView):
    def perform(self, contact):
        services.portal_user_invitation_resend(contact=contact, by=self.request.user, site_url=_site_url(self.request))
        return _("Invitation sent to %(email)s.") % {"email": contact.user.email}


class PortalInvitationView(PasswordResetConfirmView):
    """The link in an invitation: the invitee chooses a password (the password validators apply),
    is signed in and lands on the portal. Like Django's password reset, the token moves from the
    URL into the session at once, so it never leaks through the Referer header. A link that has
    expired, was used or was tampered with shows why it cannot be used and changes nothing."""

    template_name = "portal/invitation.html"
    token_generator = invitation_token_generator
    success_url = reverse_lazy(settings.PRM_PORTAL_HOME)
    title = gettext_lazy("Choose your password")
    # Signs the invitee in with the backend that signs people in by username or email.
    login_backend = "prm.auth.UsernameOrEmailBackend"

    def get_user(self, uidb64):
        """Only an active partner login that has never had a password can be invited."""
        user = super().get_user(uidb64)
        if user is None or not user.is_active or user.is_staff or user.has_usable_password():
            return None
        return user if PartnerContact.objects.filter(user=user).exists() else None

    def form_valid(self, form):
        try:
            user = services.portal_invitation_accept(user=self.user, password=form.cleaned_data["new_password1"])
        except ValidationError as error:
            form.add_error(None, error)
            return self.form_invalid(form)
        self.request.session.pop(INTERNAL_RESET_SESSION_TOKEN, None)
        login(self.request, user, backend=self.login_backend)
        messages.success(self.request, _("Your password is set and you are signed in. Welcome to the portal."))
        return HttpResponseRedirect(self.get_success_url())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if not self.validlink:
            context["title"] = _("This invitation link cannot be used")
        context["invitee"] = self.user if self.validlink else None
        context["ttl_hours"] = settings.PRM_INVITATION_TTL_HOURS
        context["login_url"] = reverse("login")
        return context
