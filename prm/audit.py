"""Record changes made by services, so every page can show who changed what and when."""

from decimal import Decimal

from .models import AuditEntry


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "pk"):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def snapshot(instance, fields):
    """The current values of `fields`, to diff against after a change."""
    return {name: _plain(getattr(instance, name)) for name in fields}


def diff(before, after):
    return {name: [before[name], after[name]] for name in after if before.get(name) != after[name]}


def audit_record(*, instance, action, by=None, changes=None):
    """Write one history entry for `instance`."""
    return AuditEntry.objects.create(
        actor=by if by is not None and by.is_authenticated else None,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        action=action,
        changes=changes or {},
    )


def history_for(instance):
    return AuditEntry.objects.filter(object_type=instance._meta.label_lower, object_id=str(instance.pk)).select_related(
        "actor"
    )
