"""Cross-cutting tables: users, the change history and the record of background job runs."""

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who signs in: vendor staff or a partner's user. Signs in by username or email."""

    email = models.EmailField(_("email"), blank=True)
    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Language of the interface; empty follows the browser."),
    )

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]
        constraints = [
            models.UniqueConstraint(Lower("email"), condition=~models.Q(email=""), name="user_email_unique_ci"),
        ]

    def __str__(self):
        return self.display_name or self.get_full_name() or self.username

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)


class AuditEntry(models.Model):
    """Who changed what and when: one row per change made through a service."""

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Updated")
        STATUS = "status", _("Status changed")
        MOVE = "move", _("Moved")
        DELETE = "delete", _("Deleted")
        LOGIN = "login", _("Signed in")
        LOGIN_FAILED = "login_failed", _("Sign-in failed")
        LOCKED_OUT = "locked_out", _("Locked out")
        LOGOUT = "logout", _("Signed out")
        PASSWORD = "password", _("Password changed")
        PERMISSIONS = "permissions", _("Permissions changed")

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    object_type = models.CharField(_("object type"), max_length=100)
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=200)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("history entry")
        verbose_name_plural = _("history")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "-at"])]

    def __str__(self):
        return f"{self.object_repr}: {self.get_action_display()}"

    # Keys that services record which are not model fields.
    EXTRA_LABELS = {
        "contact": _("contact"),
        "reason": _("reason"),
        "ip_address": _("IP address"),
        "username": _("username"),
        "api_key": _("API key"),
        "permissions_added": _("permissions added"),
        "permissions_removed": _("permissions removed"),
        "managed_region": _("managed region"),
        # Parts of an agreement recorded on the agreement's history (agreements.services).
        "territories": _("territories"),
        "minimum_prices": _("minimum resale prices"),
        "target": _("target"),
        "document": _("document"),
        "successors": _("successor"),
        # Parts of a course recorded on the course's history (training.services).
        "tier_requirement": _("tier requirement"),
        "material": _("course material"),
        # Parts of incentives recorded on their history (incentives.services); "rebate_policy" on an agreement's.
        "brackets": _("brackets"),
        "rates": _("override rates"),
        "adjustment": _("adjustment"),
        "proof": _("proof of performance"),
        "rebate_policy": _("rebate policy"),
    }

    def readable_changes(self):
        """[(label, before, after)] in the user's language: field names become their verbose
        names and stored choice values their labels. A key "<app.model>:<field>" names a field
        of a related model (a partner's contact, say)."""
        rows = []
        for key, change in self.changes.items():
            before, after = change if isinstance(change, list) and len(change) == 2 else (None, change)
            model_label, _sep, name = key.rpartition(":")
            model = _model_or_none(model_label or self.object_type)
            field = _field_or_none(model, name)
            if field is None:
                label = self.EXTRA_LABELS.get(name, name)
            else:
                label = field.verbose_name if not model_label else f"{model._meta.verbose_name}: {field.verbose_name}"
                if field.choices:
                    labels = dict(field.flatchoices)
                    before, after = labels.get(before, before), labels.get(after, after)
            rows.append((label, before, after))
        return rows


def _model_or_none(label):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _field_or_none(model, name):
    if model is None:
        return None
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    # A reverse relation (an agreement's "territories") has no label of its own: EXTRA_LABELS names it.
    return None if field.auto_created and not field.concrete else field


class JobRun(models.Model):
    """One run of a background job: when it started and finished, what it wrote, what failed."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    job = models.CharField(_("job"), max_length=100, db_index=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
    rows_written = models.PositiveIntegerField(_("rows written"), default=0)
    error = models.TextField(_("error"), blank=True)
    # A run started from a page shows its progress there: `done` of `total` steps.
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    total = models.PositiveIntegerField(_("steps"), null=True, blank=True)
    done = models.PositiveIntegerField(_("steps done"), default=0)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"{self.job} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_finished(self):
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def percent(self):
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(100, int(self.done * 100 / self.total))


class Notification(models.Model):
    """A message for one person, shown on their notifications page (and, when asked, emailed):
    reminders such as an agreement about to expire. `dedupe_key` makes sending the same
    notification twice a no-op for that person."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    subject = models.CharField(_("subject"), max_length=200)
    message = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed = models.BooleanField(_("emailed"), default=False)
    dedupe_key = models.CharField(_("deduplication key"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], condition=~models.Q(dedupe_key=""), name="notification_dedupe"
            ),
        ]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self):
        return self.subject

    @property
    def is_read(self):
        return self.read_at is not None


class Tombstone(models.Model):
    """A row that was deleted, kept so that a system syncing with `updated_since` learns of the
    deletion instead of keeping a ghost. `model` is the app label and model name
    ("partners.partnercontact"); `partner_id` is the partner the row belonged to (a plain number:
    `prm` knows no business app), which decides who may see the tombstone."""

    model = models.CharField(_("type"), max_length=100, db_index=True)
    object_id = models.CharField(_("object ID"), max_length=64)
    external_id = models.CharField(_("external ID"), max_length=100, blank=True)
    partner_id = models.BigIntegerField(_("partner"), null=True, blank=True, db_index=True)
    deleted_at = models.DateTimeField(_("deleted at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("deleted object")
        verbose_name_plural = _("deleted objects")
        ordering = ["id"]

    def __str__(self):
        return f"{self.model} {self.object_id}"


class IdempotencyRecord(models.Model):
    """The first answer to an API write sent with an `Idempotency-Key` header. A retry with the
    same key (from the same caller) gets this answer back instead of writing again; the same key
    with a different request is refused. `status_code` is empty while the first request runs."""

    principal = models.CharField(_("caller"), max_length=100)
    key = models.CharField(_("idempotency key"), max_length=255)
    method = models.CharField(_("HTTP method"), max_length=10)
    path = models.CharField(_("path"), max_length=500)
    request_hash = models.CharField(_("request hash"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    response_body = models.JSONField(_("response body"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="idempotency_record_unique_key"),
        ]

    def __str__(self):
        return f"{self.principal} {self.key}"
