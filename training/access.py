"""Who may change what in training. Reading is `visible_to` (prm.tenancy: the catalogue is open to
everyone signed in, a training record belongs to its person's partner); changing is here.

- The catalogue (courses, tier requirements, materials, sessions) is changed by staff writers:
  channel admins and channel managers (prm.roles.can_write_as_staff), and a vendor API key
  allowed to write training. Analysts and partner users read it.
- Training records of a partner (enrolments, results, withdrawals, imports) are changed by whoever
  may change that partner (partners.access.can_manage_partner: a channel admin, a writing API
  key, the partner's channel manager or the manager of its region).
- A partner's portal users (admin or user) enrol their own partner's contacts and withdraw those
  enrolments before the course starts; they never record results.
- A material with a `min_tier` is seen by staff and by partners of that tier or a higher one.
- A certificate is downloaded by whoever sees the record, once it is passed (or expired).
"""

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from partners.access import can_manage_partner
from prm.roles import can_write_as_staff, is_integration, is_staff_user
from prm.tenancy import is_portal_user, partner_of

from .choices import RecordStatus


def can_manage_training(user):
    """Change the catalogue: courses, tier requirements, materials, sessions; import results."""
    return can_write_as_staff(user) or is_integration(user)


def can_manage_partner_training(user, partner):
    """Enrol, record results and withdraw for the people of `partner` as staff."""
    return is_staff_user(user) and can_manage_partner(user, partner)


def is_own_partner(user, partner):
    """A portal user of `partner` itself."""
    if not is_portal_user(user):
        return False
    own = partner_of(user)
    return own is not None and own.pk == partner.pk


def can_enrol(user, partner):
    """Enrol people of `partner`: staff who manage the partner, or the partner's own portal users."""
    return can_manage_partner_training(user, partner) or is_own_partner(user, partner)


def can_record_results(user, record):
    return can_manage_partner_training(user, record.contact.partner)


def can_withdraw(user, record):
    """Staff who manage the partner withdraw any open attempt; the partner's own portal users
    withdraw an enrolment that has not started."""
    if can_manage_partner_training(user, record.contact.partner):
        return True
    not_started = record.session is None or record.session.starts_at > timezone.now()
    return record.status == RecordStatus.ENROLLED and not_started and is_own_partner(user, record.contact.partner)


def can_see_material(user, material, partner=None):
    """Staff see every material; a partner sees one without `min_tier`, or whose tier ranks at or
    above it. `partner` defaults to the user's own."""
    if is_staff_user(user):
        return True
    if material.min_tier_id is None:
        return bool(getattr(user, "is_authenticated", False))
    partner = partner or partner_of(user)
    tier = partner.tier if partner is not None else None
    return tier is not None and tier.rank >= material.min_tier.rank


def can_download_certificate(user, record):
    """Whoever may see the record, once it carries a certificate (passed, or passed then expired).
    The caller gets the record through TrainingRecord.objects.visible_to(user)."""
    return bool(record.certificate_number) and record.status in (RecordStatus.PASSED, RecordStatus.EXPIRED)


def require_manage_training(user):
    if not can_manage_training(user):
        raise PermissionDenied(_("Only a channel admin or a channel manager can change the training catalogue."))


def require_enrol(user, partner):
    if not can_enrol(user, partner):
        raise PermissionDenied(
            _("You can enrol only people of your own organisation, or of partners you own or that are in your regions.")
        )


def require_record_results(user, record):
    if not can_record_results(user, record):
        raise PermissionDenied(
            _("You can change only the training records of partners you own or that are in your regions.")
        )


def require_withdraw(user, record):
    if not can_withdraw(user, record):
        raise PermissionDenied(
            _("You can withdraw only your own organisation's enrolments, before the course has started.")
        )
