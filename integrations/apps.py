from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self):
        from prm.api.scopes import register_area
        from prm.sync import sync_register

        from .models import WebhookDelivery, WebhookEndpoint

        register_area("webhooks", _("Webhooks"))
        # A deleted endpoint (and its deliveries) leaves tombstones for a system syncing them.
        sync_register(WebhookEndpoint, area="webhooks")
        sync_register(WebhookDelivery, area="webhooks")
