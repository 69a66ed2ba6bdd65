"""The one API router: each app registers its viewsets in its own api/urls.py `register()`."""

from rest_framework.routers import DefaultRouter

router = DefaultRouter()
