"""The portal's incentive pages, under /portal/incentives/ in their own namespace
("portal-incentives"), beside the partner portal's own pages ("portal"). Each `pk` names a
RebateStatement (statements/), an MdfRequest (mdf/requests/) or an MdfProof (mdf/proofs/)."""

from django.urls import path

from . import portal

app_name = "portal-incentives"

urlpatterns = [
    path("", portal.PortalIncentivesIndexView.as_view(), name="index"),
    path("statements/", portal.PortalStatementListView.as_view(), name="statement-list"),
    path("statements/<int:pk>/", portal.PortalStatementDetailView.as_view(), name="statement-detail"),
    path("statements/<int:pk>/print/", portal.PortalStatementPrintView.as_view(), name="statement-print"),
    path("statements/<int:pk>/pdf/", portal.PortalStatementPdfView.as_view(), name="statement-pdf"),
    path("mdf/", portal.PortalMdfView.as_view(), name="mdf"),
    path("mdf/requests/new/", portal.PortalMdfRequestCreateView.as_view(), name="mdf-request-create"),
    path("mdf/requests/<int:pk>/", portal.PortalMdfRequestDetailView.as_view(), name="mdf-request-detail"),
    path("mdf/requests/<int:pk>/edit/", portal.PortalMdfRequestEditView.as_view(), name="mdf-request-edit"),
    path("mdf/requests/<int:pk>/submit/", portal.PortalMdfRequestSubmitView.as_view(), name="mdf-request-submit"),
    path("mdf/requests/<int:pk>/cancel/", portal.PortalMdfRequestCancelView.as_view(), name="mdf-request-cancel"),
    path("mdf/requests/<int:pk>/claim/", portal.PortalMdfClaimView.as_view(), name="mdf-request-claim"),
    path("mdf/requests/<int:pk>/proofs/", portal.PortalMdfProofUploadView.as_view(), name="mdf-proof-upload"),
    path("mdf/proofs/<int:pk>/", portal.PortalMdfProofDownloadView.as_view(), name="mdf-proof-download"),
    path("mdf/proofs/<int:pk>/delete/", portal.PortalMdfProofDeleteView.as_view(), name="mdf-proof-delete"),
]
