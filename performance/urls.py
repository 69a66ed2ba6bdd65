"""The staff pages of performance, under /performance/ ("performance" namespace)."""

from django.urls import path  # noqa: F401

app_name = "performance"

urlpatterns = []
