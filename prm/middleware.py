from django.utils import translation


class UserLanguageMiddleware:
    """Serve a signed-in user in their preferred language, whatever the browser asks for."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        language = getattr(user, "preferred_language", "") if user and user.is_authenticated else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


class AuditActorMiddleware:
    """Remember who is making the request, so history written by signals names them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from .audit import current_actor

        token = current_actor.set(request.user if getattr(request, "user", None) else None)
        try:
            return self.get_response(request)
        finally:
            current_actor.reset(token)
