"""Notifications: a message for people, kept in their notifications list and, when asked,
emailed to them, each in their own language.

`notify` renders nothing itself: callers pass lazy translated strings (`gettext_lazy`,
`format_lazy`) or callables returning text, and each is turned into text with the recipient's
preferred language active. A `dedupe_key` makes a repeated call a no-op for every recipient who
already has a notification with that key (a daily job may run twice).
"""

import logging

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.functional import SimpleLazyObject

from .models import Notification

logger = logging.getLogger(__name__)

SUBJECT_MAX = Notification._meta.get_field("subject").max_length


def _text(value):
    return str(value() if callable(value) else value)


def notify(*, recipients, subject, message, url="", email=True, dedupe_key=""):
    """Give each recipient (users; None and repeats are skipped) a notification, and email those
    with an address when `email` is true (once the transaction commits). Returns the
    notifications created: none for recipients who already have one with `dedupe_key`."""
    return notify_many(
        [
            {
                "recipients": recipients,
                "subject": subject,
                "message": message,
                "url": url,
                "email": email,
                "dedupe_key": dedupe_key,
            }
        ]
    )


def notify_many(notices):
    """`notify` for many notices at once (each a dict of notify's arguments), in two queries
    however many there are: what a job sending reminders uses."""
    wanted = []  # (user, notice)
    for notice in notices:
        people = {user.pk: user for user in notice["recipients"] if user is not None and user.pk is not None}
        wanted.extend((user, notice) for user in people.values())
    keys = {notice.get("dedupe_key", "") for _user, notice in wanted} - {""}
    if keys:
        seen = set(
            Notification.objects.filter(
                recipient__in={user.pk for user, _notice in wanted}, dedupe_key__in=keys
            ).values_list("recipient_id", "dedupe_key")
        )
        wanted = [(user, notice) for user, notice in wanted if (user.pk, notice.get("dedupe_key", "")) not in seen]
    rows, mails, taken = [], [], set()
    for user, notice in wanted:
        key, url = notice.get("dedupe_key", ""), notice.get("url", "")
        if key and (user.pk, key) in taken:
            continue
        taken.add((user.pk, key))
        with translation.override(user.preferred_language or settings.LANGUAGE_CODE):
            subject, message = _text(notice["subject"])[:SUBJECT_MAX], _text(notice["message"])
        wants_mail = bool(notice.get("email", True) and user.email)
        rows.append(
            Notification(recipient=user, subject=subject, message=message, url=url, emailed=wants_mail, dedupe_key=key)
        )
        if wants_mail:
            link = f"{settings.PRM_SITE_URL.rstrip('/')}{url}" if url else ""
            mails.append((subject, f"{message}\n\n{link}".strip(), user.email))
    if not rows:
        return []
    # A run racing this one loses on the unique constraint and writes nothing twice.
    created = Notification.objects.bulk_create(rows, ignore_conflicts=bool(keys))
    if mails:
        transaction.on_commit(lambda: _send(mails))
    return created


def _send(mails):
    """One connection for all; a mail server that fails is logged, not raised: the notification
    is in the list anyway."""
    try:
        with get_connection() as connection:
            for subject, body, address in mails:
                try:
                    send_mail(subject, body, None, [address], connection=connection)
                except Exception:
                    logger.exception("Sending a notification email to %s failed", address)
    except Exception:
        logger.exception("Opening the mail connection for notifications failed")


def notifications_for(user):
    return Notification.objects.filter(recipient=user)


def notifications_mark_read(*, user, notification=None):
    """Mark one of the user's notifications (or, without one, all of them) read."""
    unread = notifications_for(user).filter(read_at__isnull=True)
    if notification is not None:
        unread = unread.filter(pk=notification.pk)
    return unread.update(read_at=timezone.now())


def unread_count(request):
    """Context processor: `unread_notifications`, the signed-in user's unread count, counted with
    one query and only when a template uses it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": SimpleLazyObject(lambda: notifications_for(user).filter(read_at__isnull=True).count())
    }


def page_url(name, *args):
    """The link a notification carries, or "" when the page is not installed in this deployment."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""
