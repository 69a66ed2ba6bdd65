"""Record changes made by services, so every page can show who changed what and when."""

from contextvars import ContextVar
from decimal import Decimal

from .models import AuditEntry

# Who is making the current request, for changes recorded by signals rather than by services
# (sign-ins, group memberships changed in the admin). Set by prm.middleware.AuditActorMiddleware.
current_actor = ContextVar("prm_current_actor", default=None)


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
    """Write one history entry for `instance`. A change made with an API key (whose principal is
    not a user, see prm.api.authentication) names the key in the changes."""
    api_key = getattr(by, "api_key", None)
    if api_key is not None:
        by, changes = None, {**(changes or {}), "api_key": [None, str(api_key)]}
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


def acting_user(by):
    """The person to record as having acted (created_by, uploaded_by...): None for the system
    (`by=None`) and for an API key, whose principal is not a user (see prm.api.authentication)."""
    if by is None or getattr(by, "api_key", None) is not None or not getattr(by, "is_authenticated", False):
        return None
    return by
