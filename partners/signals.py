"""A channel manager's region assignments decide which partners they may change: adding or
removing one is a permission change, recorded in the security log on the manager."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from prm.signals import record_permission_change

from .models import ManagerRegion


@receiver(post_save, sender=ManagerRegion, dispatch_uid="partners.manager_region_added")
def record_region_assigned(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        record_permission_change(user=instance.manager, changes={"managed_region": [None, str(instance.region)]})


@receiver(post_delete, sender=ManagerRegion, dispatch_uid="partners.manager_region_removed")
def record_region_unassigned(sender, instance, **kwargs):
    record_permission_change(user=instance.manager, changes={"managed_region": [str(instance.region), None]})
