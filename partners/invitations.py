"""Invitations to the partner portal: a signed, expiring, single-use link to choose a password.

The link is built on Django's password-reset tokens with a salt of its own (a password-reset
token never opens an invitation, nor the reverse). The token hashes the user's password, so it
stops working once the invitee has chosen one; it also expires after
`settings.PRM_INVITATION_TTL_HOURS`.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode

logger = logging.getLogger(__name__)


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "partners.invitations.InvitationTokenGenerator"

    @property
    def timeout(self):
        """Seconds an invitation stays valid."""
        return int(settings.PRM_INVITATION_TTL_HOURS * 60 * 60)

    def check_token(self, user, token):
        """Django's check, with the invitation's lifetime instead of PASSWORD_RESET_TIMEOUT."""
        if not (user and token):
            return False
        try:
            timestamp_b36, _hash = token.split("-")
            timestamp = base36_to_int(timestamp_b36)
        except ValueError:
            return False
        signed = any(
            constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        )
        return signed and self._num_seconds(self._now()) - timestamp <= self.timeout


invitation_token_generator = InvitationTokenGenerator()


def invitation_path(user):
    return reverse(
        "portal:invitation",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": invitation_token_generator.make_token(user),
        },
    )


def invitation_send(*, contact, invited_by, site_url):
    """Email the contact's user a fresh invitation link, in the user's language. `site_url` is
    the scheme and host the link starts with. A mail server that fails is logged, not raised: the
    partner admin can send the invitation again."""
    user = contact.user
    language = user.preferred_language or settings.LANGUAGE_CODE
    expires = timezone.localtime() + timedelta(hours=settings.PRM_INVITATION_TTL_HOURS)
    context = {
        "name": contact.name,
        "partner": contact.partner.name,
        "inviter": str(invited_by) if invited_by is not None else "",
        "url": site_url.rstrip("/") + invitation_path(user),
        "expires": expires,
        "login_name": user.email,
    }
    with translation.override(language):
        subject = " ".join(render_to_string("portal/email/invitation_subject.txt", context).split())
        body = render_to_string("portal/email/invitation_body.txt", context)
    try:
        send_mail(subject, body, None, [user.email])
    except Exception:
        logger.exception("Sending the portal invitation to user %s failed", user.pk)
