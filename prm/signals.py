"""The security log: sign-ins (successful, failed, locked out), sign-outs, password changes and
changes to what a user may do (staff and superuser flags, active, groups, permissions).

Entries go into the same history as every other change (AuditEntry), with the user as the object,
so staff read them on the security log page and in the admin. Passwords and hashes are never
written; a failed attempt records the name that was typed.
"""

from axes.helpers import get_client_ip_address
from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.dispatch import receiver

from .audit import current_actor
from .models import AuditEntry

User = get_user_model()

# Flags that change what a user may do; a change to any of them is a permission change.
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "is_active")


def _ip(request):
    if request is None:
        return ""
    try:
        return get_client_ip_address(request) or ""
    except Exception:  # a request without the usual META (a test's RequestFactory) has no address
        return request.META.get("REMOTE_ADDR", "") if hasattr(request, "META") else ""


def _actor(default=None):
    actor = current_actor.get()
    if actor is not None and getattr(actor, "is_authenticated", False) and getattr(actor, "pk", None):
        return actor
    return default


def _record(*, user=None, username="", action, actor=None, changes=None):
    return AuditEntry.objects.create(
        actor=actor,
        object_type=User._meta.label_lower,
        object_id=str(user.pk) if user is not None else "",
        object_repr=(str(user) if user is not None else username)[:200],
        action=action,
        changes=changes or {},
    )


def _user_for(typed):
    typed = (typed or "").strip()
    if not typed:
        return None
    field = "email__iexact" if "@" in typed else "username__iexact"
    return User.objects.filter(**{field: typed}).first()


@receiver(user_logged_in, dispatch_uid="prm.security.logged_in")
def record_login(sender, request, user, **kwargs):
    _record(user=user, action=AuditEntry.Action.LOGIN, actor=user, changes={"ip_address": _ip(request)})


@receiver(user_logged_out, dispatch_uid="prm.security.logged_out")
def record_logout(sender, request, user, **kwargs):
    if user is not None and user.is_authenticated:
        _record(user=user, action=AuditEntry.Action.LOGOUT, actor=user, changes={"ip_address": _ip(request)})


@receiver(user_login_failed, dispatch_uid="prm.security.login_failed")
def record_login_failed(sender, credentials, request=None, **kwargs):
    typed = (credentials or {}).get("username", "")
    _record(
        user=_user_for(typed),
        username=typed,
        action=AuditEntry.Action.LOGIN_FAILED,
        changes={"username": typed[:150], "ip_address": _ip(request)},
    )


@receiver(user_locked_out, dispatch_uid="prm.security.locked_out")
def record_locked_out(sender, request, username, ip_address, **kwargs):
    _record(
        user=_user_for(username),
        username=username or "",
        action=AuditEntry.Action.LOCKED_OUT,
        changes={"username": (username or "")[:150], "ip_address": ip_address or ""},
    )


@receiver(pre_save, sender=User, dispatch_uid="prm.security.user_before")
def remember_privileges(sender, instance, update_fields=None, **kwargs):
    if instance.pk is None or kwargs.get("raw"):
        return
    watched = set(PRIVILEGE_FIELDS) | {"password"}
    if update_fields is not None and not watched & set(update_fields):
        return  # e.g. last_login on every sign-in
    instance._prm_before = User.objects.filter(pk=instance.pk).values(*PRIVILEGE_FIELDS, "password").first()


@receiver(post_save, sender=User, dispatch_uid="prm.security.user_after")
def record_privileges(sender, instance, created, update_fields=None, **kwargs):
    before = instance.__dict__.pop("_prm_before", None)
    if created or before is None:
        return
    changes = {
        name: [before[name], getattr(instance, name)]
        for name in PRIVILEGE_FIELDS
        if before[name] != getattr(instance, name)
    }
    if changes:
        _record(user=instance, action=AuditEntry.Action.PERMISSIONS, actor=_actor(), changes=changes)
    # Django re-hashes a password on sign-in when the hasher's settings change, saving with
    # update_fields=["password"]: that is not the person changing their password.
    rehash = update_fields is not None and set(update_fields) == {"password"}
    if before["password"] != instance.password and not rehash:
        _record(user=instance, action=AuditEntry.Action.PASSWORD, actor=_actor(instance))


def record_permission_change(*, user, changes):
    """For other apps whose data decides what a user may do (a manager's regions, say)."""
    return _record(user=user, action=AuditEntry.Action.PERMISSIONS, actor=_actor(), changes=changes)


def _names(related_model, pks):
    field = "name" if related_model._meta.model_name == "group" else "codename"
    return sorted(related_model.objects.filter(pk__in=pks).values_list(field, flat=True))


def _membership_changed(field_name, instance, action, reverse, model, pk_set, **kwargs):
    if action not in ("pre_clear", "post_add", "post_remove", "post_clear"):
        return
    if action == "pre_clear":
        # What is about to be removed, for the post_clear entry.
        if reverse:
            instance._prm_cleared = list(User.objects.filter(**{field_name: instance}).values_list("pk", flat=True))
        else:
            instance._prm_cleared = list(getattr(instance, field_name).values_list("pk", flat=True))
        return
    if action == "post_clear":
        pk_set = set(instance.__dict__.pop("_prm_cleared", []))
        action = "post_remove"
    if not pk_set:
        return
    if reverse:  # group.user_set.add(user): the users changed; one entry per user
        users = User.objects.filter(pk__in=pk_set)
        for user in users:
            _record_membership(field_name, user, action, [instance.pk], type(instance))
    else:
        _record_membership(field_name, instance, action, pk_set, model)


def _record_membership(field_name, user, action, changed_pks, related_model):
    now = set(getattr(user, field_name).values_list("pk", flat=True))
    before = now - set(changed_pks) if action == "post_add" else now | set(changed_pks)
    _record(
        user=user,
        action=AuditEntry.Action.PERMISSIONS,
        actor=_actor(),
        changes={field_name: [", ".join(_names(related_model, before)), ", ".join(_names(related_model, now))]},
    )


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="prm.security.groups")
def record_groups(sender, **kwargs):
    _membership_changed("groups", **kwargs)


@receiver(m2m_changed, sender=User.user_permissions.through, dispatch_uid="prm.security.permissions")
def record_user_permissions(sender, **kwargs):
    _membership_changed("user_permissions", **kwargs)


@receiver(m2m_changed, sender=Group.permissions.through, dispatch_uid="prm.security.role_permissions")
def record_role_permissions(sender, instance, action, reverse, model, pk_set, **kwargs):
    """What a whole role may do changed (in the admin). Role groups are kept in step with the
    models after every migrate (prm.roles.sync_role_permissions): those runs have no actor and
    are not recorded."""
    if reverse or action not in ("post_add", "post_remove") or not pk_set or _actor() is None:
        return
    names = ", ".join(_names(model, pk_set))
    AuditEntry.objects.create(
        actor=_actor(),
        object_type=Group._meta.label_lower,
        object_id=str(instance.pk),
        object_repr=instance.name[:200],
        action=AuditEntry.Action.PERMISSIONS,
        changes={"permissions_added" if action == "post_add" else "permissions_removed": names},
    )
