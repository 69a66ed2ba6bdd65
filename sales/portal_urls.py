"""The portal's sales pages, under /portal/sales/ in their own namespace ("portal-sales")."""

from django.urls import path

from . import portal

app_name = "portal-sales"

urlpatterns = [
    path("", portal.PortalSalesView.as_view(), name="sales"),
    path("runs/<int:pk>/", portal.PortalSalesRunStatusView.as_view(), name="run-status"),
    path("template.csv", portal.PortalSalesTemplateView.as_view(), name="template"),
]
