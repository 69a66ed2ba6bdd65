"""Deletions a syncing system must learn of: a tombstone for every deleted row an API list serves.

A CRM that pages through a list with `updated_since` sees new and changed rows, never a row that
is gone; without a tombstone it would keep a ghost. `prm` knows no business app: each app
registers the models its API lists in its AppConfig.ready() with `sync_register`, naming the API
area whose read scope may see their tombstones and the partner a row belongs to. A deleted row
then leaves a `Tombstone` (in the same transaction as the deletion, cascades included), listed by
`GET /api/v1/deletions/`.

Rows a service replaces wholesale (a month's KPI snapshots and scorecards: many thousands of rows
at once) are registered with `bulk=True`: no per-row signal (it would make Django load and delete
them one by one); the service calls `tombstones_record(queryset)` before deleting them.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import BigIntegerField, CharField, DateTimeField, F, Q, Value
from django.db.models.functions import Cast
from django.db.models.signals import post_delete, pre_delete
from django.utils import timezone

from .api.authentication import ApiKeyPrincipal
from .api.scopes import scope_grants
from .models import Tombstone
from .roles import is_staff_user


@dataclass(frozen=True)
class SyncedModel:
    """A model an API list serves. `partner`: how to find the partner a row belongs to, as a
    field path ("partner_id", "agreement__partner_id", "pk" for the partner itself) or a function
    of the row (None when the row belongs to no partner); `partner_readable`: whether a key bound
    to that partner may read the model's list, and so its tombstones."""

    model: type
    area: str
    partner: object = None
    partner_readable: bool = False
    bulk: bool = False

    @property
    def label(self):
        return self.model._meta.label_lower

    @property
    def has_external_id(self):
        return any(field.name == "external_id" for field in self.model._meta.concrete_fields)

    def partner_of(self, instance):
        if self.partner is None:
            return None
        if callable(self.partner):
            return self.partner(instance)
        value = instance
        for name in self.partner.split("__"):
            value = getattr(value, name, None)
            if value is None:
                return None
        return value

    def tombstone(self, instance):
        return Tombstone(
            model=self.label,
            object_id=str(instance.pk),
            external_id=(getattr(instance, "external_id", "") or "") if self.has_external_id else "",
            partner_id=self.partner_of(instance),
        )


_synced = {}


def sync_register(model, *, area, partner=None, partner_readable=False, bulk=False):
    """Record a tombstone whenever a row of `model` is deleted (see the module docstring)."""
    entry = SyncedModel(model, area, partner, partner_readable, bulk)
    _synced[entry.label] = entry
    if not bulk:
        uid = f"prm.sync.tombstone.{entry.label}"
        pre_delete.connect(_tombstone_prepare, sender=model, dispatch_uid=uid, weak=False)
        post_delete.connect(_tombstone_save, sender=model, dispatch_uid=uid, weak=False)


def synced_models():
    """{model label: SyncedModel}, for every registered model."""
    return dict(_synced)


def tombstone_types():
    """[(model label, verbose name)] of the registered models, for the `type` filter."""
    return sorted((label, str(entry.model._meta.verbose_name)) for label, entry in _synced.items())


def _tombstone_prepare(sender, instance, **kwargs):
    # Before the deletion: the rows a partner is reached through (an agreement) still exist,
    # even when the deletion cascades to them.
    instance._prm_tombstone = _synced[sender._meta.label_lower].tombstone(instance)


def _tombstone_save(sender, instance, **kwargs):
    tombstone = getattr(instance, "_prm_tombstone", None) or _synced[sender._meta.label_lower].tombstone(instance)
    tombstone.save()


def tombstones_record(queryset):
    """A tombstone for every row of `queryset`, in one INSERT … SELECT, before a service deletes
    them in bulk. Returns nothing; call it in the deleting transaction."""
    entry = _synced[queryset.model._meta.label_lower]
    if callable(entry.partner):
        raise ValueError("A model whose partner is found by a function cannot record tombstones in bulk.")
    partner = F(entry.partner) if entry.partner else Value(None, output_field=BigIntegerField())
    rows = (
        queryset.order_by()
        .annotate(
            tombstone_model=Value(entry.label, output_field=CharField()),
            tombstone_object=Cast("pk", output_field=CharField()),
            tombstone_external=F("external_id") if entry.has_external_id else Value("", output_field=CharField()),
            tombstone_partner=partner,
            tombstone_at=Value(timezone.now(), output_field=DateTimeField()),
        )
        .values_list("tombstone_model", "tombstone_object", "tombstone_external", "tombstone_partner", "tombstone_at")
    )
    select, params = rows.query.sql_with_params()
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in ("model", "object_id", "external_id", "partner_id", "deleted_at"))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(Tombstone._meta.db_table)} ({columns}) {select}", params)


def tombstones_purge():
    """Forget the tombstones older than PRM_TOMBSTONE_RETENTION_DAYS; returns how many. A system
    that has not synced for longer than that runs a full pass and drops the rows it no longer
    receives. Idempotent."""
    cutoff = timezone.now() - timedelta(days=settings.PRM_TOMBSTONE_RETENTION_DAYS)
    deleted, _by_model = Tombstone.objects.filter(deleted_at__lt=cutoff).delete()
    return deleted


def tombstones_visible_to(user):
    """The tombstones `user` may see. Vendor staff: all. A vendor API key: those of the areas it
    has a read scope for. A key bound to a partner, of the models it may read: its partner's rows,
    and rows of reference data that belong to no partner (regions, products, courses). Anyone
    else: none."""
    queryset = Tombstone.objects.all()
    if not isinstance(user, ApiKeyPrincipal):
        return queryset if is_staff_user(user) else queryset.none()
    readable = [entry for entry in _synced.values() if scope_grants(user.scopes, entry.area, write=False)]
    if user.partner is None:
        return queryset.filter(model__in=[entry.label for entry in readable])
    owned = [entry.label for entry in readable if entry.partner_readable and entry.partner is not None]
    shared = [entry.label for entry in readable if entry.partner_readable and entry.partner is None]
    return queryset.filter(Q(model__in=owned, partner_id=user.partner.pk) | Q(model__in=shared))
