from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class PrmConfig(AppConfig):
    name = "prm"
    verbose_name = _("PRM core")

    def ready(self):
        from . import signals  # noqa: F401  (the security log)
        from .roles import sync_role_permissions

        post_migrate.connect(sync_role_permissions, dispatch_uid="prm.sync_role_permissions")
