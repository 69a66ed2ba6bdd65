from django.urls import path

from . import views

app_name = "incentives"

urlpatterns = [
    path("", views.StatementListView.as_view(), name="statement-list"),
    path("statements/run/", views.StatementRunView.as_view(), name="statement-run"),
    path("statements/<int:pk>/", views.StatementDetailView.as_view(), name="statement-detail"),
    path("statements/<int:pk>/approve/", views.StatementApproveView.as_view(), name="statement-approve"),
    path("statements/<int:pk>/pay/", views.StatementPayView.as_view(), name="statement-pay"),
    path("statements/<int:pk>/cancel/", views.StatementCancelView.as_view(), name="statement-cancel"),
    path("statements/<int:pk>/adjust/", views.StatementAdjustView.as_view(), name="statement-adjust"),
    path("policies/", views.PolicyListView.as_view(), name="policy-list"),
    path("policies/new/", views.PolicyCreateView.as_view(), name="policy-create"),
    path("policies/preview/", views.PolicyPreviewView.as_view(), name="policy-preview"),
    path("policies/<int:pk>/", views.PolicyDetailView.as_view(), name="policy-detail"),
    path("policies/<int:pk>/edit/", views.PolicyUpdateView.as_view(), name="policy-edit"),
    path("policies/<int:pk>/assign/", views.PolicyAssignView.as_view(), name="policy-assign"),
    path("policies/<int:pk>/unassign/", views.PolicyUnassignView.as_view(), name="policy-unassign"),
    path("overrides/", views.OverrideListView.as_view(), name="override-list"),
    path("overrides/new/", views.OverrideCreateView.as_view(), name="override-create"),
    path("overrides/<int:pk>/edit/", views.OverrideUpdateView.as_view(), name="override-edit"),
    path("mdf/budgets/", views.BudgetListView.as_view(), name="budget-list"),
    path("mdf/budgets/set/", views.BudgetSetView.as_view(), name="budget-set"),
    path("mdf/budgets/allocate/", views.BudgetAllocateView.as_view(), name="budget-allocate"),
    path("mdf/requests/", views.MdfRequestListView.as_view(), name="mdf-request-list"),
    path("mdf/requests/<int:pk>/", views.MdfRequestDetailView.as_view(), name="mdf-request-detail"),
    path("mdf/requests/<int:pk>/approve/", views.MdfApproveView.as_view(), name="mdf-request-approve"),
    path("mdf/requests/<int:pk>/reject/", views.MdfRejectView.as_view(), name="mdf-request-reject"),
    path("mdf/requests/<int:pk>/return/", views.MdfClaimReturnView.as_view(), name="mdf-claim-return"),
    path("mdf/requests/<int:pk>/pay/", views.MdfPayView.as_view(), name="mdf-request-pay"),
    path("mdf/proofs/<int:pk>/", views.MdfProofDownloadView.as_view(), name="mdf-proof-download"),
]
