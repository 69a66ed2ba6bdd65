from django.urls import path

from . import views

app_name = "agreements"

urlpatterns = [
    path("", views.AgreementListView.as_view(), name="agreement-list"),
    path("new/", views.AgreementCreateView.as_view(), name="agreement-create"),
    path("<int:pk>/", views.AgreementDetailView.as_view(), name="agreement-detail"),
    path("<int:pk>/edit/", views.AgreementUpdateView.as_view(), name="agreement-edit"),
    path("<int:pk>/submit/", views.AgreementSubmitView.as_view(), name="agreement-submit"),
    path("<int:pk>/approve/", views.AgreementApproveView.as_view(), name="agreement-approve"),
    path("<int:pk>/reject/", views.AgreementRejectView.as_view(), name="agreement-reject"),
    path("<int:pk>/terminate/", views.AgreementTerminateView.as_view(), name="agreement-terminate"),
    path("<int:pk>/renew/", views.AgreementRenewView.as_view(), name="agreement-renew"),
    path("<int:pk>/amend/", views.AgreementAmendView.as_view(), name="agreement-amend"),
    path("<int:pk>/targets/", views.AgreementTargetsView.as_view(), name="agreement-targets"),
    path("targets/<int:pk>/delete/", views.TargetDeleteView.as_view(), name="target-delete"),
    path("<int:pk>/documents/new/", views.DocumentUploadView.as_view(), name="document-upload"),
    path("documents/<int:pk>/", views.DocumentDownloadView.as_view(), name="document-download"),
    path("documents/<int:pk>/delete/", views.DocumentDeleteView.as_view(), name="document-delete"),
    path("region-targets/", views.RegionTargetListView.as_view(), name="region-target-list"),
    path("region-targets/<int:pk>/", views.RegionTargetDetailView.as_view(), name="region-target-detail"),
]
