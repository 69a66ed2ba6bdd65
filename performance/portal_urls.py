"""The portal's performance pages, under /portal/performance/ ("portal-performance")."""

from django.urls import path  # noqa: F401

app_name = "portal-performance"

urlpatterns = []
