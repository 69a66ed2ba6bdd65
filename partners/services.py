"""Writes to the partner registry. Each service validates, writes in one transaction, records
history, and raises a ValidationError naming the field and the reason when the input is wrong."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from integrations.choices import EventType
from prm.api.authentication import api_key_generate
from prm.api.scopes import scopes_clean
from prm.api.upserts import UpsertResult
from prm.audit import audit_record, diff, snapshot
from prm.models import AuditEntry
from prm.roles import Role
from prm.tree import tree_check_parent

from .access import require_manage_api_keys
from .choices import (
    MAX_NETWORK_DEPTH,
    PARTNER_STATUS_TRANSITIONS,
    ContactRole,
    PartnerStatus,
    PartnerType,
    RegionKind,
)
from .events import partner_event
from .invitations import invitation_send
from .models import ApiKey, Partner, PartnerContact, PartnerTier, Region

# Fields a plain update may change; status and network position have their own services.
PARTNER_UPDATABLE_FIELDS = (
    "code",
    "name",
    "legal_name",
    "partner_type",
    "tier",
    "region",
    "owner",
    "external_id",
    "email",
    "phone",
    "website",
    "address",
    "credit_rating",
    "notes",
)
REGION_UPDATABLE_FIELDS = ("code", "name", "kind", "parent")
TIER_UPDATABLE_FIELDS = (
    "name",
    "rank",
    "description",
    "min_annual_revenue",
    "min_certified_staff",
    "min_scorecard_score",
    "discount_percent",
    "rebate_multiplier",
    "mdf_allowance_percent",
)
CONTACT_UPDATABLE_FIELDS = ("name", "email", "phone", "job_role", "title", "is_primary", "external_id")


def _normalise_code(value):
    return (value or "").strip().upper()


def _save(instance, *, exclude=None):
    """Validate every field and constraint, then save; a race on a unique value is still a clear
    field error, never a 500."""
    instance.full_clean(exclude=exclude)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        raise ValidationError(
            _("Another change to the same data was saved at the same moment; reload and try again.")
        ) from error


def _apply(instance, data, allowed):
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    for name, value in data.items():
        setattr(instance, name, value)


# Regions ------------------------------------------------------------------------------------


@transaction.atomic
def region_create(*, code, name, kind=RegionKind.PROVINCE, parent=None, by=None):
    """Create a region under `parent` (or a root region); a province unless `kind` says otherwise."""
    region = Region(code=_normalise_code(code), name=(name or "").strip(), kind=kind, parent=parent)
    _save(region)
    audit_record(instance=region, action=AuditEntry.Action.CREATE, by=by)
    return region


@transaction.atomic
def region_update(*, region, by=None, **data):
    """Change a region; moving it under one of its own sub-regions is refused."""
    if "code" in data:
        data["code"] = _normalise_code(data["code"])
    region = Region.objects.select_for_update().get(pk=region.pk)
    if "parent" in data:
        tree_check_parent(region, data["parent"])
    before = snapshot(region, REGION_UPDATABLE_FIELDS)
    _apply(region, data, REGION_UPDATABLE_FIELDS)
    _save(region)
    changes = diff(before, snapshot(region, REGION_UPDATABLE_FIELDS))
    if changes:
        audit_record(instance=region, action=AuditEntry.Action.UPDATE, by=by, changes=changes)
    return region


@transaction.atomic
def region_delete(*, region, by=None):
    """Delete a region that has no sub-regions and no partners; the deletion is recorded."""
    region = Region.objects.select_for_update().get(pk=region.pk)
    if region.children.exists():
        raise ValidationError(_("%(region)s has sub-regions; delete or move them first.") % {"region": region})
    if region.partners.exists():
        raise ValidationError(_("%(region)s is the primary region of partners; move them first.") % {"region": region})
    audit_record(instance=region, action=AuditEntry.Action.DELETE, by=by, changes={"code": [region.code, None]})
    region.delete()


# Tiers --------------------------------------------------------------------------------------


@transaction.atomic
def tier_create(*, by=None, **data):
    """Create a partner tier; names and ranks are unique."""
    tier = PartnerTier()
    _apply(tier, data, TIER_UPDATABLE_FIELDS)
    _save(tier)
    audit_record(instance=tier, action=AuditEntry.Action.CREATE, by=by)
    return tier


@transaction.atomic
def tier_update(*, tier, by=None, **data):
    """Change a tier's requirements or benefits; the change is recorded."""
    tier = PartnerTier.objects.select_for_update().get(pk=tier.pk)
    before = snapshot(tier, TIER_UPDATABLE_FIELDS)
    _apply(tier, data, TIER_UPDATABLE_FIELDS)
    _save(tier)
    changes = diff(before, snapshot(tier, TIER_UPDATABLE_FIELDS))
    if changes:
        audit_record(instance=tier, action=AuditEntry.Action.UPDATE, by=by, changes=changes)
    return tier


@transaction.atomic
def tier_delete(*, tier, by=None):
    """Delete a tier no partner is in; the deletion is recorded."""
    tier = PartnerTier.objects.select_for_update().get(pk=tier.pk)
    if tier.partners.exists():
        raise ValidationError(_("Partners are in the %(tier)s tier; move them to another tier first.") % {"tier": tier})
    audit_record(instance=tier, action=AuditEntry.Action.DELETE, by=by, changes={"name": [tier.name, None]})
    tier.delete()


# Partners -----------------------------------------------------------------------------------


def partner_check_network_parent(partner, parent):
    """A sub-partner sits under a distributor that is not terminated, with no cycle, and the
    network is at most MAX_NETWORK_DEPTH levels deep (distributor → sub-distributor → reseller)."""
    if parent is None:
        return
    if parent.partner_type != PartnerType.DISTRIBUTOR:
        raise ValidationError(
            {
                "parent": _("Only a distributor can have sub-partners; %(parent)s is of type “%(type)s”.")
                % {"parent": parent, "type": parent.get_partner_type_display()}
            }
        )
    if parent.status == PartnerStatus.TERMINATED:
        raise ValidationError(
            {"parent": _("%(parent)s is terminated and cannot take sub-partners.") % {"parent": parent}}
        )
    tree_check_parent(partner, parent, max_depth=MAX_NETWORK_DEPTH)


@transaction.atomic
def partner_create(*, by=None, parent=None, status=PartnerStatus.PROSPECT, **data):
    """Register a partner, as a prospect unless another starting status is given (prospect,
    onboarding or active: imports of existing partners start active)."""
    if status not in (PartnerStatus.PROSPECT, PartnerStatus.ONBOARDING, PartnerStatus.ACTIVE):
        raise ValidationError({"status": _("A new partner starts as prospect, onboarding or active.")})
    partner = Partner(status=status, status_changed_at=timezone.now())
    data.setdefault("external_id", "")
    data["code"] = _normalise_code(data.get("code"))
    data["external_id"] = (data["external_id"] or "").strip()
    _apply(partner, data, PARTNER_UPDATABLE_FIELDS)
    partner_check_network_parent(partner, parent)
    partner.parent = parent
    _save(partner)
    audit_record(instance=partner, action=AuditEntry.Action.CREATE, by=by)
    partner_event(EventType.PARTNER_CREATED, partner)
    return partner


@transaction.atomic
def partner_update(*, partner, by=None, **data):
    """Change a partner's profile. Status and network position change only through
    `partner_change_status` and `partner_move`. The row is re-read under a lock, so a stale copy
    never writes back a status or network position changed in the meantime."""
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    if "code" in data:
        data["code"] = _normalise_code(data["code"])
    if "external_id" in data:
        data["external_id"] = (data["external_id"] or "").strip()
    before = snapshot(partner, PARTNER_UPDATABLE_FIELDS)
    _apply(partner, data, PARTNER_UPDATABLE_FIELDS)
    if partner.partner_type != PartnerType.DISTRIBUTOR and partner.children.exists():
        raise ValidationError({"partner_type": _("This partner has sub-partners, so it must stay a distributor.")})
    _save(partner)
    changes = diff(before, snapshot(partner, PARTNER_UPDATABLE_FIELDS))
    if changes:
        audit_record(instance=partner, action=AuditEntry.Action.UPDATE, by=by, changes=changes)
        partner_event(EventType.PARTNER_UPDATED, partner)
    return partner


def _external_id(value):
    value = (value or "").strip()
    if not value:
        raise ValidationError({"external_id": _("Enter an external ID.")})
    return value


def _differs(instance, data):
    """Whether any value in `data` is not the instance's already (related objects by their id)."""
    for name, value in data.items():
        field = instance._meta.get_field(name)
        wanted = value.pk if field.is_relation and value is not None else value
        if getattr(instance, field.attname) != wanted:
            return True
    return False


@transaction.atomic
def partner_upsert(*, external_id, by=None, **data):
    """Create the partner the CRM knows by `external_id` (as `partner_create`), or update it (as
    `partner_update`); returns (partner, UpsertResult). When every value given is the partner's
    already, nothing is written: no `updated_at` change, no history entry, no event."""
    external_id = _external_id(external_id)
    partner = Partner.objects.select_for_update().filter(external_id=external_id).first()
    if partner is None:
        return partner_create(by=by, external_id=external_id, **data), UpsertResult.CREATED
    if "code" in data:
        data["code"] = _normalise_code(data["code"])
    if not _differs(partner, data):
        return partner, UpsertResult.UNCHANGED
    return partner_update(partner=partner, by=by, **data), UpsertResult.UPDATED


def partner_allowed_statuses(partner):
    return PARTNER_STATUS_TRANSITIONS[PartnerStatus(partner.status)]


@transaction.atomic
def partner_change_status(*, partner, status, by=None, reason=""):
    """Move a partner along its lifecycle: prospect → onboarding → active ⇄ suspended →
    terminated. Any other move is refused, as is terminating a partner that still has
    sub-partners that are not terminated."""
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    if status not in PartnerStatus.values:
        raise ValidationError({"status": _("“%(status)s” is not a partner status.") % {"status": status}})
    if status not in partner_allowed_statuses(partner):
        raise ValidationError(
            {
                "status": _("A partner cannot go from %(current)s to %(new)s.")
                % {"current": partner.get_status_display(), "new": PartnerStatus(status).label}
            }
        )
    if status == PartnerStatus.TERMINATED:
        open_children = list(partner.children.exclude(status=PartnerStatus.TERMINATED).order_by("code"))
        if open_children:
            raise ValidationError(
                {
                    "status": ngettext(
                        "Move or terminate its sub-partner first (%(names)s).",
                        "Move or terminate its %(count)s sub-partners first (%(names)s).",
                        len(open_children),
                    )
                    % {"count": len(open_children), "names": ", ".join(c.code for c in open_children[:5])}
                }
            )
    previous = partner.status
    partner.status = status
    partner.status_changed_at = timezone.now()
    partner.save(update_fields=["status", "status_changed_at", "updated_at"])
    audit_record(
        instance=partner,
        action=AuditEntry.Action.STATUS,
        by=by,
        changes={"status": [previous, status], **({"reason": [None, reason]} if reason else {})},
    )
    partner_event(EventType.PARTNER_UPDATED, partner)
    return partner


@transaction.atomic
def partner_move(*, partner, parent, by=None):
    """Place a partner (with its whole sub-network) under `parent`, or at the top with None."""
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    if parent is not None:
        parent = Partner.objects.get(pk=parent.pk)
    partner_check_network_parent(partner, parent)
    previous = partner.parent
    if (previous and previous.pk) == (parent and parent.pk):
        return partner
    partner.parent = parent
    partner.save(update_fields=["parent", "updated_at"])
    audit_record(
        instance=partner,
        action=AuditEntry.Action.MOVE,
        by=by,
        changes={"parent": [str(previous) if previous else None, str(parent) if parent else None]},
    )
    partner_event(EventType.PARTNER_UPDATED, partner)
    return partner


# Contacts -----------------------------------------------------------------------------------


def _demote_other_primaries(contact):
    if contact.is_primary:
        PartnerContact.objects.filter(partner=contact.partner, is_primary=True).exclude(pk=contact.pk).update(
            is_primary=False, updated_at=timezone.now()
        )


@transaction.atomic
def contact_create(*, partner, by=None, **data):
    """Add a person to a partner; a new primary contact replaces the previous one."""
    contact = PartnerContact(partner=partner)
    _apply(contact, data, CONTACT_UPDATABLE_FIELDS)
    contact.email = (contact.email or "").strip().lower()
    _demote_other_primaries(contact)
    _save(contact, exclude=["user"])
    audit_record(instance=partner, action=AuditEntry.Action.UPDATE, by=by, changes={"contact": [None, contact.name]})
    return contact


@transaction.atomic
def contact_update(*, contact, by=None, **data):
    """Change a contact; making it primary demotes the partner's previous primary contact."""
    contact = PartnerContact.objects.select_for_update().select_related("partner").get(pk=contact.pk)
    before = snapshot(contact, CONTACT_UPDATABLE_FIELDS)
    _apply(contact, data, CONTACT_UPDATABLE_FIELDS)
    contact.email = (contact.email or "").strip().lower()
    _demote_other_primaries(contact)
    _save(contact, exclude=["user"])
    changes = diff(before, snapshot(contact, CONTACT_UPDATABLE_FIELDS))
    if changes:
        audit_record(
            instance=contact.partner,
            action=AuditEntry.Action.UPDATE,
            by=by,
            # "<model>:<field>" keys let the history show the contact's field names translated.
            changes={"contact": [contact.name, contact.name]}
            | {f"{PartnerContact._meta.label_lower}:{name}": value for name, value in changes.items()},
        )
    return contact


@transaction.atomic
def contact_upsert(*, external_id, partner, by=None, **data):
    """Create the contact the CRM knows by `external_id` at `partner` (as `contact_create`), or
    update it (as `contact_update`; a contact stays at its partner); returns (contact,
    UpsertResult). Nothing is written when every value given is the contact's already."""
    external_id = _external_id(external_id)
    contact = PartnerContact.objects.select_for_update().filter(external_id=external_id).first()
    if contact is None:
        return contact_create(partner=partner, by=by, external_id=external_id, **data), UpsertResult.CREATED
    if contact.partner_id != partner.pk:
        raise ValidationError({"partner": _("A contact cannot be moved to another partner.")})
    if "email" in data:
        data["email"] = (data["email"] or "").strip().lower()
    if not _differs(contact, data):
        return contact, UpsertResult.UNCHANGED
    return contact_update(contact=contact, by=by, **data), UpsertResult.UPDATED


@transaction.atomic
def contact_delete(*, contact, by=None):
    """Remove a contact. One with a portal login must have the login deactivated first."""
    if contact.user_id and contact.user.is_active:
        raise ValidationError(_("%(name)s has an active portal login; deactivate it first.") % {"name": contact.name})
    partner, name = contact.partner, contact.name
    contact.delete()
    audit_record(instance=partner, action=AuditEntry.Action.UPDATE, by=by, changes={"contact": [name, None]})


# Portal: a partner's own profile and portal users ---------------------------------------------

# What a partner admin may change about their own partner in the portal. Code, name, type, tier,
# status, region, channel manager, network position, external ID and credit rating stay the
# vendor's.
PORTAL_PROFILE_FIELDS = ("legal_name", "email", "phone", "website", "address")


def partner_update_profile(*, partner, by, **data):
    """A partner admin's change to their own partner's contact details: PORTAL_PROFILE_FIELDS
    only; naming any other field is a field error and changes nothing."""
    unknown = sorted(set(data) - set(PORTAL_PROFILE_FIELDS))
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    return partner_update(partner=partner, by=by, **data)


def _portal_role_group(is_admin):
    return Group.objects.get_or_create(name=Role.PARTNER_ADMIN if is_admin else Role.PARTNER_USER)[0]


@transaction.atomic
def portal_user_invite(*, partner, by, name, email, site_url, job_role=ContactRole.OTHER, is_admin=False, language=""):
    """Give a person at `partner` a portal login and email them an invitation (in `language`) to
    choose their password. The login signs in with the email address and has no usable password
    until then. A contact of the partner with this email and no login yet is linked rather than
    duplicated; an email address that any login already uses is a field error."""
    User = get_user_model()
    email = (email or "").strip().lower()
    name = (name or "").strip()
    if email and User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists():
        raise ValidationError({"email": _("A login with this email address already exists.")})
    contact = (
        PartnerContact.objects.select_for_update()
        .filter(partner=partner, email__iexact=email, user__isnull=True)
        .order_by("pk")
        .first()
    ) or PartnerContact(partner=partner, email=email)
    contact.name, contact.job_role, contact.is_partner_admin = name, job_role, is_admin
    contact.full_clean(exclude=["user"])
    user = User(username=email, email=email, display_name=name, preferred_language=language)
    user.set_unusable_password()
    _save(user)
    user.groups.add(_portal_role_group(is_admin))
    contact.user = user
    _save(contact)
    audit_record(
        instance=partner,
        action=AuditEntry.Action.UPDATE,
        by=by,
        changes={"contact": [None, contact.name], f"{PartnerContact._meta.label_lower}:user": [None, email]},
    )
    transaction.on_commit(lambda: invitation_send(contact=contact, invited_by=by, site_url=site_url))
    return contact


def portal_user_invitation_resend(*, contact, by, site_url):
    """Email a new invitation link to a portal user who has not chosen a password yet."""
    user = contact.user
    if user is None or not user.is_active:
        raise ValidationError(_("%(name)s has no active portal login.") % {"name": contact.name})
    if user.has_usable_password():
        raise ValidationError(_("%(name)s has already chosen a password.") % {"name": contact.name})
    transaction.on_commit(lambda: invitation_send(contact=contact, invited_by=by, site_url=site_url))
    return contact


def _portal_user_set_active(*, contact, active, by):
    contact = PartnerContact.objects.select_related("partner").get(pk=contact.pk)
    User = get_user_model()
    user = User.objects.select_for_update().filter(pk=contact.user_id).first()
    if user is None:
        raise ValidationError(_("%(name)s has no portal login.") % {"name": contact.name})
    if user.is_active == active:
        return contact
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit_record(
        instance=contact.partner,
        action=AuditEntry.Action.UPDATE,
        by=by,
        changes={"contact": [contact.name, contact.name], f"{User._meta.label_lower}:is_active": [not active, active]},
    )
    return contact


@transaction.atomic
def portal_user_deactivate(*, contact, by):
    """Close a portal login: the user can no longer sign in (their open sessions end) and an
    invitation not yet used stops working. Nobody closes their own login."""
    if by is not None and by.pk is not None and contact.user_id == by.pk:
        raise ValidationError(_("You cannot deactivate your own login."))
    return _portal_user_set_active(contact=contact, active=False, by=by)


@transaction.atomic
def portal_user_reactivate(*, contact, by):
    """Open a closed portal login again."""
    return _portal_user_set_active(contact=contact, active=True, by=by)


@transaction.atomic
def portal_invitation_accept(*, user, password):
    """The invitee chooses their password (already checked by the password validators). This
    uses the invitation up: a second use, even at the same moment, is refused."""
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    if user.has_usable_password() or not user.is_active:
        raise ValidationError(_("This invitation has already been used or is no longer valid."))
    user.set_password(password)
    user.save()
    return user


# API keys -----------------------------------------------------------------------------------


@transaction.atomic
def api_key_create(*, name, scopes, partner=None, by, expires_at=None):
    """Create an API key and return (key, plaintext). The plaintext is shown once and never
    stored: only the hash of its secret is. Only a channel admin creates keys. The name is
    required, every scope must be a registered one (`<area>:read` or `<area>:write`), an expiry
    lies in the future, and a key is not bound to a terminated partner."""
    require_manage_api_keys(by)
    name = (name or "").strip()
    errors = {}
    try:
        scopes = scopes_clean(scopes)
    except ValidationError as error:
        errors.update(error.message_dict)
    if not name:
        errors["name"] = _("Give the key a name that says what uses it.")
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = _("The expiry must lie in the future.")
    if partner is not None and partner.status == PartnerStatus.TERMINATED:
        errors["partner"] = _("%(partner)s is terminated; its systems cannot get a key.") % {"partner": partner}
    if errors:
        raise ValidationError(errors)
    prefix, secret_hash, plaintext = api_key_generate()
    while ApiKey.objects.filter(prefix=prefix).exists():
        prefix, secret_hash, plaintext = api_key_generate()
    key = ApiKey(
        name=name,
        prefix=prefix,
        secret_hash=secret_hash,
        scopes=scopes,
        partner=partner,
        created_by=by,
        expires_at=expires_at,
    )
    _save(key)
    recorded = snapshot(key, ("name", "prefix", "scopes", "partner", "expires_at"))
    audit_record(
        instance=key,
        action=AuditEntry.Action.CREATE,
        by=by,
        changes={field: [None, value] for field, value in recorded.items() if value not in (None, "")},
    )
    return key, plaintext


@transaction.atomic
def api_key_revoke(*, key, by):
    """Revoke an API key: from now on every request made with it answers 401. Only a channel
    admin revokes keys; a revoked key stays revoked."""
    require_manage_api_keys(by)
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is not None:
        raise ValidationError(_("This API key is already revoked."))
    key.revoked_at, key.revoked_by = timezone.now(), by
    key.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        instance=key, action=AuditEntry.Action.STATUS, by=by, changes={"revoked_at": [None, key.revoked_at.isoformat()]}
    )
    return key
