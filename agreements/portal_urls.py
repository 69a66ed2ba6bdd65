"""The portal's agreement pages, under /portal/agreements/ in their own namespace
("portal-agreements"), beside the partner portal's own pages ("portal")."""

from django.urls import path

from . import portal

app_name = "portal-agreements"

urlpatterns = [
    path("", portal.PortalAgreementListView.as_view(), name="list"),
    path("<int:pk>/", portal.PortalAgreementDetailView.as_view(), name="detail"),
    path("<int:pk>/acknowledge/", portal.PortalAgreementAcknowledgeView.as_view(), name="acknowledge"),
    path("documents/<int:pk>/", portal.PortalDocumentDownloadView.as_view(), name="document-download"),
]
