"""The partner portal's incentives: a partner's users read their own rebate statements with the
lines that explain each amount (and print them, or download them as a PDF), follow their market
development funds (budgets: allocated, reserved, claimed, paid, remaining), draft, submit and
cancel MDF requests, and claim an approved one with proof of performance. Every row comes through
`visible_to(request.user)` (in the selectors); another partner's statement, request or proof is
not found (404). Every write goes through a service, whose refusals land on the form's fields.

Which statements a partner sees: calculated ones, marked provisional (their amounts may change
until the vendor approves them), approved and paid ones, and cancelled ones, marked as such (a
partner may have seen it before, and its replacement for the same period shows beside it).
Policies themselves are the vendor's programme and are not shown; their names appear only in the
lines they produced. The budget's internal note and who decided on the vendor's side are not shown.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from partners.portal import PortalPage
from prm.audit import history_for
from prm.models import AuditEntry
from prm.tenancy import is_portal_user
from prm.uploads import attachment_response
from prm.views import PortalServiceFormView

from . import selectors, services
from .access import can_request_mdf
from .choices import MdfStatus, StatementStatus
from .models import MdfBudget, MdfProof, MdfRequest, RebateStatement
from .portal_forms import MdfClaimForm, MdfProofForm, MdfRequestForm
from .statement_pdf import line_figures, ordered_lines, render_statement, status_notice

STATEMENT_PAGE_SIZES = (24, 48, 96)
REQUEST_PAGE_SIZES = (25, 50, 100)
# Requests that still wait for someone: the partner (draft, approved: to claim) or the vendor.
OPEN_STATUSES = (MdfStatus.DRAFT, MdfStatus.SUBMITTED, MdfStatus.APPROVED, MdfStatus.CLAIMED)
# How a status change reads in a request's history (from → to); a move not listed reads as its
# new status.
HISTORY_LABELS = {(MdfStatus.CLAIMED, MdfStatus.APPROVED): gettext_lazy("Claim sent back")}


def portal_statements(user):
    """The partner's own rebate statements, newest period first (a replacement before the
    statement it replaced)."""
    return selectors.statement_list(user=user).order_by("-period_start", "-pk")


def portal_statement(user, pk):
    """One of the partner's own statements with its lines, or 404."""
    try:
        return selectors.statement_detail(user=user, pk=pk)
    except RebateStatement.DoesNotExist as error:
        raise Http404(_("No such rebate statement.")) from error


def portal_request(user, pk):
    """One of the partner's own MDF requests with its budget and proofs, or 404."""
    try:
        return selectors.request_detail(user=user, pk=pk)
    except MdfRequest.DoesNotExist as error:
        raise Http404(_("No such MDF request.")) from error


def portal_proofs(user):
    return MdfProof.objects.visible_to(user).select_related("request")


def open_budgets(user, keep=None):
    """The partner's budgets a request may be made against: those whose period has not ended
    (and `keep`, the budget a draft already names), each with what is left of it."""
    today = timezone.localdate()
    return (
        selectors.with_usage(MdfBudget.objects.visible_to(user))
        .filter(Q(period_end__gte=today) | Q(pk=keep))
        .order_by("period_start", "pk")
    )


def paginate(request, rows, sizes):
    """A page of `rows`: `?page=` and `?page_size=` (one of `sizes`, default the first)."""
    size = request.GET.get("page_size", "")
    size = int(size) if size.isdigit() and int(size) in sizes else sizes[0]
    return Paginator(rows, size).get_page(request.GET.get("page"))


def used_percent(budget):
    """How much of an annotated budget is committed, in whole percent from 0 to 100."""
    if budget.allocated <= 0:
        return 100
    return max(0, min(100, int(budget.committed * 100 / budget.allocated)))


def statement_figures(user):
    """{status: total} of the partner's statements, in one query."""
    rows = RebateStatement.objects.visible_to(user).values("status").annotate(amount=Sum("total")).order_by()
    return {row["status"]: row["amount"] for row in rows}


def request_history(mdf_request):
    """[{at, move, label, who}] of the request's creation and status changes, oldest first; `move`
    is (from, to) or None for the creation. Only the partner's own people are named: the
    vendor's staff are not."""
    entries = history_for(mdf_request).filter(action__in=[AuditEntry.Action.CREATE, AuditEntry.Action.STATUS])
    history = []
    for entry in sorted(entries, key=lambda entry: (entry.at, entry.pk)):
        move, label = None, _("Created")
        if entry.action == AuditEntry.Action.STATUS:
            move = tuple((list(entry.changes.get("status") or []) + [None, None])[:2])
            if move[1] not in MdfStatus.values:
                continue
            label = HISTORY_LABELS.get(move) or MdfStatus(move[1]).label
        actor = entry.actor
        who = (actor.display_name or actor.username) if actor is not None and not actor.is_staff else ""
        history.append({"at": entry.at, "move": move, "label": label, "who": who})
    return history


def claim_sent_back(mdf_request, history):
    """Whether the request is approved again because its claim was sent back (the reason is then
    its decision note)."""
    return (
        mdf_request.status == MdfStatus.APPROVED
        and bool(history)
        and history[-1]["move"] == (MdfStatus.CLAIMED, MdfStatus.APPROVED)
    )


def _error_messages(request, error):
    for text in error.messages:
        messages.error(request, text)


# Rebate statements -----------------------------------------------------------------------------


class PortalRebatePage(PortalPage):
    section = "rebates"


class PortalIncentivesIndexView(PortalRebatePage, View):
    """/portal/incentives/ itself: the statements."""

    def get(self, request):
        return redirect("portal-incentives:statement-list")


class PortalStatementListView(PortalRebatePage, TemplateView):
    """The partner's statements by period, with what is paid, approved and provisional."""

    template_name = "portal/incentives/statement_list.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        page = paginate(self.request, portal_statements(user), STATEMENT_PAGE_SIZES)
        figures = statement_figures(user)
        return super().get_context_data(
            statements=page.object_list,
            page_obj=page,
            page_size_choices=STATEMENT_PAGE_SIZES,
            paid=figures.get(StatementStatus.PAID),
            approved=figures.get(StatementStatus.APPROVED),
            provisional=figures.get(StatementStatus.CALCULATED),
            **kwargs,
        )


class PortalStatementPage(PortalRebatePage):
    def load_objects(self, pk):
        super().load_objects()
        self.statement = portal_statement(self.request.user, pk)


class PortalStatementDetailView(PortalStatementPage, TemplateView):
    """A statement and the lines that explain it: the policy, bracket, base, rate and multiplier
    of each rebate, the sub-partner each override commission comes from, each adjustment's
    reason; the total is the sum of the lines."""

    template_name = "portal/incentives/statement_detail.html"

    def get_context_data(self, **kwargs):
        statement = self.statement
        lines = ordered_lines(statement)
        for line in lines:
            line.base_text, line.rate_text, line.multiplier_text = line_figures(line, statement.currency)
        return super().get_context_data(
            statement=statement,
            lines=lines,
            notice=status_notice(statement),
            **kwargs,
        )


class PortalStatementPrintView(PortalStatementDetailView):
    """The same statement on a plain page for the browser to print."""

    template_name = "portal/incentives/statement_print.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(printed_on=timezone.localdate(), **kwargs)


class PortalStatementPdfView(PortalStatementPage, View):
    """The statement as a PDF in the user's language."""

    http_method_names = ["get", "head"]

    def get(self, request, pk):
        statement = self.statement
        pdf = render_statement(statement, translation.get_language())
        response = HttpResponse(pdf, content_type="application/pdf")
        name = f"rebate-statement-{statement.partner.code}-{statement.period}.pdf"
        response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
        response["Cache-Control"] = "private, no-store"
        return response


# Market development funds ----------------------------------------------------------------------


class PortalMdfPage(PortalPage):
    section = "mdf"

    def get_context_data(self, **kwargs):
        return super().get_context_data(can_request=can_request_mdf(self.request.user, self.partner), **kwargs)


class PortalMdfView(PortalMdfPage, TemplateView):
    """The partner's budgets (allocated, requested, reserved, claimed, paid, remaining) and its
    requests, open ones first to find, filtered by status."""

    template_name = "portal/incentives/mdf.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        budgets = list(selectors.budget_list(user=user).order_by("-period_start", "-pk"))
        status = self.request.GET.get("status", "")
        requests = selectors.request_list(user=user).order_by("-created_at", "-pk")
        if status == "open":
            requests = requests.filter(status__in=OPEN_STATUSES)
        elif status in MdfStatus.values:
            requests = requests.filter(status=status)
        else:
            status = ""
        page = paginate(self.request, requests, REQUEST_PAGE_SIZES)
        today = timezone.localdate()
        return super().get_context_data(
            budgets=budgets,
            has_open_budget=any(budget.period_end >= today for budget in budgets),
            requests=page.object_list,
            page_obj=page,
            page_size_choices=REQUEST_PAGE_SIZES,
            status=status,
            status_choices=MdfStatus.choices,
            **kwargs,
        )


class PortalMdfRequestPage(PortalMdfPage):
    def load_objects(self, pk):
        super().load_objects()
        self.mdf_request = portal_request(self.request.user, pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(mdf_request=self.mdf_request, **kwargs)

    def detail_url(self):
        return reverse("portal-incentives:mdf-request-detail", args=[self.mdf_request.pk])


class PortalMdfRequestFormMixin:
    form_class = MdfRequestForm
    template_name = "portal/incentives/mdf_request_form.html"

    def get_form_kwargs(self):
        current = getattr(self, "mdf_request", None)
        kwargs = super().get_form_kwargs()
        kwargs["budgets"] = open_budgets(self.request.user, keep=current.budget_id if current else None)
        return kwargs

    def get_success_url(self):
        return reverse("portal-incentives:mdf-request-detail", args=[self.object.pk])


class PortalMdfRequestCreateView(PortalMdfRequestFormMixin, PortalMdfPage, PortalServiceFormView):
    """A new draft against one of the partner's open budgets."""

    def get_initial(self):
        budgets = list(open_budgets(self.request.user)[:2])
        return {"budget": budgets[0].pk} if len(budgets) == 1 else {}

    def perform(self, form):
        request = services.mdf_request_create(by=self.request.user, **form.cleaned_data)
        messages.success(
            self.request,
            _("Draft %(reference)s saved. Submit it when it is ready for the vendor's decision.")
            % {"reference": request.reference},
        )
        return request


class PortalMdfRequestEditView(PortalMdfRequestFormMixin, PortalMdfRequestPage, PortalServiceFormView):
    """A draft's fields (only a draft changes: the service refuses anything else)."""

    def get(self, request, *args, **kwargs):
        if self.mdf_request.status != MdfStatus.DRAFT:
            messages.info(request, _("Only a draft can be changed."))
            return redirect(self.detail_url())
        return super().get(request, *args, **kwargs)

    def get_initial(self):
        current = self.mdf_request
        return {"budget": current.budget_id, **{name: getattr(current, name) for name in services.REQUEST_FIELDS}}

    def perform(self, form):
        data = dict(form.cleaned_data)
        request = services.mdf_request_update(
            request=self.mdf_request, by=self.request.user, budget=data.pop("budget"), **data
        )
        messages.success(self.request, _("Draft %(reference)s saved.") % {"reference": request.reference})
        return request


class PortalMdfRequestDetailView(PortalMdfRequestPage, TemplateView):
    """A request: its status and history, the vendor's note (the reason for a rejection or for a
    claim sent back), the amounts, the plan and the proof of performance."""

    template_name = "portal/incentives/mdf_request_detail.html"

    def get_context_data(self, **kwargs):
        mdf_request = self.mdf_request
        history = request_history(mdf_request)
        return super().get_context_data(
            proofs=list(mdf_request.proofs.all()),
            history=history,
            sent_back=claim_sent_back(mdf_request, history),
            **kwargs,
        )


class PortalMdfActionView(PortalMdfRequestPage, View):
    """POST only: one service call on the request; a refusal shows as a message."""

    http_method_names = ["post"]
    service = None
    done = None

    def post(self, request, pk):
        try:
            self.service(request=self.mdf_request, by=request.user)
        except ValidationError as error:
            _error_messages(request, error)
        else:
            messages.success(request, self.done % {"reference": self.mdf_request.reference})
        return redirect(self.detail_url())


class PortalMdfRequestSubmitView(PortalMdfActionView):
    service = staticmethod(services.mdf_request_submit)
    done = gettext_lazy("%(reference)s was submitted; the vendor will decide on it.")


class PortalMdfRequestCancelView(PortalMdfActionView):
    service = staticmethod(services.mdf_request_cancel)
    done = gettext_lazy("%(reference)s was cancelled.")


class PortalClaimPageMixin(PortalMdfRequestPage):
    """What the claim page shows beside its form: the proofs uploaded so far and the form to add
    one (the upload view renders the same page with its own form bound)."""

    template_name = "portal/incentives/mdf_claim.html"

    def get(self, request, *args, **kwargs):
        if self.mdf_request.status != MdfStatus.APPROVED:
            messages.info(request, _("Only an approved request can be claimed."))
            return redirect(self.detail_url())
        return super().get(request, *args, **kwargs)

    def claim_form(self):
        return MdfClaimForm(approved_amount=self.mdf_request.approved_amount, currency=self.mdf_request.budget.currency)

    def get_context_data(self, **kwargs):
        kwargs.setdefault("claim_form", self.claim_form())
        kwargs.setdefault("upload_form", MdfProofForm())
        return super().get_context_data(proofs=list(self.mdf_request.proofs.all()), **kwargs)

    def claim_url(self):
        return reverse("portal-incentives:mdf-request-claim", args=[self.mdf_request.pk])


class PortalMdfClaimView(PortalClaimPageMixin, PortalServiceFormView):
    """Claim an approved request: the actual cost (at most the approved amount) and proof of
    performance, new files here or those uploaded before."""

    form_class = MdfClaimForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(approved_amount=self.mdf_request.approved_amount, currency=self.mdf_request.budget.currency)
        return kwargs

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", self.get_form())
        return super().get_context_data(claim_form=kwargs["form"], **kwargs)

    def perform(self, form):
        data = form.cleaned_data
        try:
            request = services.mdf_request_claim(
                request=self.mdf_request,
                by=self.request.user,
                actual_amount=data["actual_amount"],
                note=data["note"],
                files=data["files"],
            )
        except ValidationError as error:
            # A refused file is named "file" by the upload check; on this form it is "files".
            if hasattr(error, "error_dict") and "file" in error.error_dict:
                error.error_dict.setdefault("files", []).extend(error.error_dict.pop("file"))
            raise
        messages.success(
            self.request,
            _("%(reference)s was claimed; the vendor will review your proof of performance.")
            % {"reference": request.reference},
        )
        return request

    def get_success_url(self):
        return self.detail_url()


class PortalMdfProofUploadView(PortalClaimPageMixin, PortalServiceFormView):
    """Add one proof file to an approved request (the claim page's upload form). A refused file
    comes back to the claim page with the reason on the field."""

    form_class = MdfProofForm
    http_method_names = ["post"]

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", self.get_form())
        return super().get_context_data(upload_form=kwargs["form"], **kwargs)

    def perform(self, form):
        proof = services.mdf_proof_add(request=self.mdf_request, by=self.request.user, file=form.cleaned_data["file"])
        messages.success(self.request, _("%(name)s uploaded.") % {"name": proof.original_name})
        return proof

    def get_success_url(self):
        return self.claim_url()


class PortalMdfProofPage(PortalMdfPage):
    def load_objects(self, pk):
        super().load_objects()
        self.proof = get_object_or_404(portal_proofs(self.request.user), pk=pk)


class PortalMdfProofDeleteView(PortalMdfProofPage, View):
    """POST only: remove a proof while the request is approved (not yet claimed)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        proof = self.proof
        try:
            services.mdf_proof_delete(proof=proof, by=request.user)
        except ValidationError as error:
            _error_messages(request, error)
            return redirect("portal-incentives:mdf-request-detail", pk=proof.request_id)
        messages.success(request, _("%(name)s removed.") % {"name": proof.original_name})
        return redirect("portal-incentives:mdf-request-claim", pk=proof.request_id)


class PortalMdfProofDownloadView(PortalMdfProofPage, View):
    """A proof file of one of the partner's own requests, as an attachment."""

    http_method_names = ["get", "head"]

    def get(self, request, pk):
        proof = self.proof
        return attachment_response(proof.file, filename=proof.original_name, content_type=proof.content_type)


# The dashboard panel ---------------------------------------------------------------------------


def portal_incentives_panel(user):
    """The portal dashboard's panel: the latest statement (provisional or not), what is left of
    the budgets whose period has not ended, and the requests that wait for someone. Hidden when
    the partner has none of these."""
    if not is_portal_user(user):
        return None
    today = timezone.localdate()
    latest = portal_statements(user).exclude(status=StatementStatus.CANCELLED).first()
    budgets = list(selectors.budget_list(user=user).filter(period_end__gte=today).order_by("period_start", "pk"))
    for budget in budgets:
        budget.used_percent = used_percent(budget)
    counts = dict(
        MdfRequest.objects.visible_to(user)
        .filter(status__in=OPEN_STATUSES)
        .values_list("status")
        .annotate(count=Count("pk"))
        .order_by()
    )
    if latest is None and not budgets and not counts:
        return None
    return {
        "template": "portal/incentives/_panel.html",
        "latest": latest,
        "budgets": budgets,
        "drafts": counts.get(MdfStatus.DRAFT, 0),
        "submitted": counts.get(MdfStatus.SUBMITTED, 0),
        "approved": counts.get(MdfStatus.APPROVED, 0),
        "claimed": counts.get(MdfStatus.CLAIMED, 0),
    }
