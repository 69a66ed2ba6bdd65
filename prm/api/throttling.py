"""Rate limits: per API key (`PRM_API_KEY_RATE`) and, more generously, per staff user
(`PRM_API_USER_RATE`). A refused request answers 429 with Retry-After. Rates are read from the
settings on each request, like "1000/hour"; an empty rate switches the limit off."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

from .authentication import ApiKeyPrincipal


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Counts the requests of each API key, by its prefix."""

    scope = "api_key"

    def get_rate(self):
        return settings.PRM_API_KEY_RATE or None

    def get_cache_key(self, request, view):
        if not isinstance(request.user, ApiKeyPrincipal):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.api_key.prefix}


class StaffUserRateThrottle(UserRateThrottle):
    """Counts the requests of each signed-in user (session or token); API keys have their own."""

    def get_rate(self):
        return settings.PRM_API_USER_RATE or None

    def get_cache_key(self, request, view):
        if isinstance(request.user, ApiKeyPrincipal) or not request.user.is_authenticated:
            return None
        return super().get_cache_key(request, view)
