"""API keys for integrations: the vendor's CRM, or a partner's own system.

A key reads `prm_<prefix>_<secret>`. The prefix is its public name, shown in lists; only the
SHA-256 of the secret is stored (the secret is random and long, so a slow hash adds nothing), and
the key itself is shown once, when it is created. A caller sends `Authorization: Api-Key <key>`.

`prm` knows no business app: the model is named by the `PRM_API_KEY_MODEL` setting and must have
`prefix`, `secret_hash`, `scopes` (a list), `partner` (a nullable foreign key: the partner the
key is bound to), `expires_at`, `revoked_at` and `last_used_at`.

The request then acts as an `ApiKeyPrincipal`, which the role and tenancy code understand:
- a vendor key (no partner) is vendor staff with the integration role: it reads like staff and
  writes only in the areas its scopes allow writing (prm.api.permissions);
- a key bound to a partner acts like a user of that partner: `visible_to` shows it that partner's
  rows only, and it writes only where a viewset allows it (`partner_writable_actions`).
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from ..roles import INTEGRATION_ROLE, Role

KEY_PREFIX = "prm"
# `last_used_at` is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_key_generate():
    """A new key: (prefix, secret hash, plaintext). The plaintext is shown once and never stored."""
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    return prefix, api_key_hash(secret), f"{KEY_PREFIX}_{prefix}_{secret}"


def api_key_hash(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_parse(plaintext):
    """(prefix, secret) from `prm_<prefix>_<secret>`, or None when it does not have that shape."""
    start, _sep, rest = plaintext.partition("_")
    prefix, _sep, secret = rest.partition("_")
    if start != KEY_PREFIX or not prefix or not secret:
        return None
    return prefix, secret


class ApiKeyPrincipal:
    """Who a request made with an API key acts as (see the module docstring). Not a user: it has
    no primary key, no password and no session."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_superuser = False
    pk = id = None
    preferred_language = ""

    def __init__(self, key):
        self.api_key = key
        self.partner = key.partner
        self.scopes = frozenset(key.scopes)
        self.is_staff = key.partner_id is None
        self.username = f"{KEY_PREFIX}_{key.prefix}"
        # Read by prm.tenancy.partner_of and prm.roles.user_roles, which cache them under these names.
        self._prm_partner = key.partner
        self._prm_roles = frozenset({INTEGRATION_ROLE} if self.is_staff else {Role.PARTNER_USER})

    def __str__(self):
        return str(self.api_key)

    def has_perm(self, perm, obj=None):
        return False

    def has_perms(self, perm_list, obj=None):
        return False

    def has_module_perms(self, app_label):
        return False


class ApiKeyAuthenticationFailed(exceptions.AuthenticationFailed):
    """A refused API key: answered 401 with the Api-Key challenge (see prm.api.exceptions)."""

    challenge = "Api-Key"


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Api-Key prm_<prefix>_<secret>`. An unknown, malformed, revoked or expired
    key is refused with 401; a request without this header is left to the other methods."""

    keyword = "Api-Key"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise ApiKeyAuthenticationFailed(
                _("Send the API key as “Authorization: Api-Key <key>”, with no spaces in the key.")
            )
        try:
            parsed = api_key_parse(parts[1].decode("ascii"))
        except UnicodeDecodeError:
            parsed = None
        if parsed is None:
            raise ApiKeyAuthenticationFailed(_("This is not an API key: a key reads prm_<prefix>_<secret>."))
        return self.authenticate_key(*parsed)

    def authenticate_key(self, prefix, secret):
        model = apps.get_model(settings.PRM_API_KEY_MODEL)
        key = model._default_manager.select_related("partner").filter(prefix=prefix).first()
        if key is None or not hmac.compare_digest(key.secret_hash, api_key_hash(secret)):
            raise ApiKeyAuthenticationFailed(_("Unknown API key."))
        now = timezone.now()
        if key.revoked_at is not None:
            raise ApiKeyAuthenticationFailed(_("This API key has been revoked."))
        if key.expires_at is not None and key.expires_at <= now:
            raise ApiKeyAuthenticationFailed(_("This API key has expired."))
        if getattr(key, "partner_ended", False):
            raise ApiKeyAuthenticationFailed(_("The partner this API key belongs to is no longer a partner."))
        if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
            model._default_manager.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
        return ApiKeyPrincipal(key), key

    def authenticate_header(self, request):
        return self.keyword


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents the scheme in the OpenAPI schema (/api/schema/ and the docs pages)."""

    target_class = ApiKeyAuthentication
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": _(
                "An API key created by a channel admin under API keys, sent as "
                "“Authorization: Api-Key prm_<prefix>_<secret>”. Its scopes (<area>:read or "
                "<area>:write) decide what it may read and change; a key bound to a partner sees "
                "only that partner's data."
            ),
        }
