"""The partner portal's agreements: a partner's users read their own agreements (terms,
territories, minimum prices, targets, documents, versions), download the documents the vendor
shares with them, and acknowledge an agreement once it is in force. Every row comes through
`visible_to(request.user)`; another partner's agreement or document is not found (404).

Drafts are the vendor's work in progress: a partner sees an agreement from its submission on.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from partners.portal import PortalPage
from prm.tenancy import is_portal_user
from prm.uploads import attachment_response

from . import services
from .choices import AgreementStatus
from .models import Agreement, AgreementDocument, AgreementTarget, AgreementTerritory, MinimumPrice


def portal_agreements(user):
    """The agreements a partner's user (or a key bound to a partner) sees: its own partner's,
    drafts left out."""
    return Agreement.objects.visible_to(user).exclude(status=AgreementStatus.DRAFT)


def portal_documents(user):
    """The documents a partner sees: those of its visible agreements the vendor shares."""
    return (
        AgreementDocument.objects.visible_to(user)
        .filter(visible_to_partner=True)
        .exclude(agreement__status=AgreementStatus.DRAFT)
    )


def awaiting_acknowledgement(agreement):
    """Active and acknowledged by nobody yet (the rule of services.agreement_acknowledge)."""
    return agreement.status == AgreementStatus.ACTIVE and agreement.acknowledged_at is None


def lineage(agreement, agreements):
    """The versions before and after `agreement` (renewals and amendments), oldest first, from
    rows already loaded: [(agreement, is_current)]."""
    by_pk = {each.pk: each for each in agreements}
    chain, seen = [agreement], {agreement.pk}
    current = agreement
    while current.predecessor_id in by_pk and current.predecessor_id not in seen:
        current = by_pk[current.predecessor_id]
        chain.insert(0, current)
        seen.add(current.pk)
    successors = {}
    for each in agreements:
        successors.setdefault(each.predecessor_id, []).append(each)
    pending = list(successors.get(agreement.pk, []))
    while pending:
        each = pending.pop(0)
        if each.pk in seen:
            continue
        chain.append(each)
        seen.add(each.pk)
        pending.extend(successors.get(each.pk, []))
    return [(each, each.pk == agreement.pk) for each in chain] if len(chain) > 1 else []


class PortalAgreementPage(PortalPage):
    section = "agreements"


class PortalAgreementListView(PortalAgreementPage, TemplateView):
    template_name = "portal/agreements/list.html"

    def get_context_data(self, **kwargs):
        agreements = list(
            portal_agreements(self.request.user)
            .prefetch_related(
                "product_lines",
                Prefetch(
                    "territories",
                    queryset=AgreementTerritory.objects.select_related("region").order_by("region__path"),
                ),
            )
            .order_by("-start_date", "-id")
        )
        for agreement in agreements:
            agreement.awaiting_acknowledgement = awaiting_acknowledgement(agreement)
        return super().get_context_data(agreements=agreements, **kwargs)


class PortalAgreementDetailView(PortalAgreementPage, TemplateView):
    template_name = "portal/agreements/detail.html"

    def load_objects(self, pk):
        super().load_objects()
        self.agreement = get_object_or_404(
            portal_agreements(self.request.user)
            .select_related("owner", "acknowledged_by")
            .prefetch_related("product_lines"),
            pk=pk,
        )

    def get_context_data(self, **kwargs):
        user, agreement = self.request.user, self.agreement
        versions = list(
            portal_agreements(user)
            .filter(partner=agreement.partner_id)
            .only("pk", "number", "status", "start_date", "end_date", "version", "is_amendment", "predecessor_id")
        )
        return super().get_context_data(
            agreement=agreement,
            territories=AgreementTerritory.objects.visible_to(user)
            .filter(agreement=agreement)
            .select_related("region")
            .order_by("region__path"),
            minimum_prices=MinimumPrice.objects.visible_to(user)
            .filter(agreement=agreement)
            .select_related("product_line"),
            targets=AgreementTarget.objects.visible_to(user).filter(agreement=agreement).select_related("product_line"),
            documents=portal_documents(user).filter(agreement=agreement),
            lineage=lineage(agreement, versions),
            can_acknowledge="acknowledge" in services.agreement_allowed_actions(agreement, user),
            **kwargs,
        )


class PortalAgreementAcknowledgeView(PortalAgreementPage, View):
    """POST only: a user of the partner acknowledges that they have read the agreement; who and
    when is recorded and shown. A refusal (already acknowledged, not in force) shows as a message."""

    http_method_names = ["post"]

    def load_objects(self, pk):
        super().load_objects()
        self.agreement = get_object_or_404(portal_agreements(self.request.user), pk=pk)

    def post(self, request, pk):
        try:
            services.agreement_acknowledge(agreement=self.agreement, by=request.user)
        except ValidationError as error:
            for text in error.messages:
                messages.error(request, text)
        else:
            messages.success(
                request, _("You acknowledged agreement %(number)s. Thank you.") % {"number": self.agreement.number}
            )
        return redirect("portal-agreements:detail", pk=self.agreement.pk)


class PortalDocumentDownloadView(PortalAgreementPage, View):
    """A document of the partner's own agreement that the vendor shares, as an attachment; never
    a static URL. Anything else is not found."""

    http_method_names = ["get", "head"]

    def load_objects(self, pk):
        super().load_objects()
        self.document = get_object_or_404(portal_documents(self.request.user), pk=pk)

    def get(self, request, pk):
        return attachment_response(
            self.document.file, filename=self.document.original_name, content_type=self.document.content_type
        )


def portal_agreements_panel(user):
    """The portal dashboard's panel: the partner's agreements in force with the days left, and a
    call to acknowledge the ones nobody has acknowledged yet."""
    if not is_portal_user(user):
        return None
    agreements = list(portal_agreements(user).filter(status__in=AgreementStatus.IN_FORCE).order_by("end_date", "pk"))
    return {
        "template": "portal/agreements/_panel.html",
        "agreements": agreements,
        "to_acknowledge": [agreement for agreement in agreements if awaiting_acknowledgement(agreement)],
    }
