"""The portal's training pages, under /portal/training/ in their own namespace ("portal-training"),
beside the partner portal's own pages ("portal")."""

from django.urls import path

from . import portal

app_name = "portal-training"

urlpatterns = [
    path("", portal.PortalCatalogueView.as_view(), name="catalogue"),
    path("courses/<int:pk>/", portal.PortalCourseView.as_view(), name="course"),
    path("courses/<int:pk>/enrol/", portal.PortalEnrolView.as_view(), name="enrol"),
    path("materials/<int:pk>/", portal.PortalMaterialView.as_view(), name="material"),
    path("certifications/", portal.PortalCertificationsView.as_view(), name="certifications"),
    path("records/<int:pk>/certificate/", portal.PortalCertificateView.as_view(), name="certificate"),
]
