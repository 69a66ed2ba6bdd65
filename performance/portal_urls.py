"""The portal's performance pages, under /portal/performance/ ("portal-performance"). No `pk`:
the page shows the signed-in partner's own figures only."""

from django.urls import path

from . import portal

app_name = "portal-performance"

urlpatterns = [
    path("", portal.PortalPerformanceView.as_view(), name="index"),
]
