"""Sign-in by username or by email address, with the same password."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class UsernameOrEmailBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        User = get_user_model()
        field = "email__iexact" if "@" in username else "username__iexact"
        user = User.objects.filter(**{field: username.strip()}).first()
        if user is None:
            User().set_password(password)  # same cost as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def canonical_username(request, credentials=None):
    """The account a sign-in attempt is aimed at, however it was typed: failed attempts with
    "Wang", "wang" and "wang@example.com" all count against the same account's lockout."""
    typed = (credentials or {}).get("username")
    if typed is None and request is not None:
        typed = getattr(request, "data", request.POST).get("username")
    typed = (typed or "").strip()
    if not typed:
        return ""
    User = get_user_model()
    field = "email__iexact" if "@" in typed else "username__iexact"
    username = User.objects.filter(**{field: typed}).values_list("username", flat=True).first()
    return (username or typed).lower()
