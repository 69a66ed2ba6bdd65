from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

API_PATH_PREFIX = "/api/"


def accept_language(request):
    """The supported language an Accept-Language header asks for first, or "" when it names none."""
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return ""


class UserLanguageMiddleware:
    """Serve a signed-in user in their preferred language, whatever the browser asks for.

    The API is the exception: a program that names a language in Accept-Language gets it, even
    when it calls with the session of a user who prefers another (an integrator's script, the
    browsable API); without the header the user's preference still applies."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        language = getattr(user, "preferred_language", "") if user and user.is_authenticated else ""
        if request.path_info.startswith(API_PATH_PREFIX):
            language = accept_language(request) or language
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
