from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = _("Sales")

    def ready(self):
        from prm.api.scopes import register_area

        register_area("sales", _("Sales"))
        self.register_sync()

    def register_sync(self):
        """Deleted rows of the API's sales lists leave tombstones (prm.sync)."""
        from prm.sync import sync_register

        from .models import Product, ProductLine, SalesLine

        sync_register(ProductLine, area="sales", partner_readable=True)
        sync_register(Product, area="sales", partner_readable=True)
        sync_register(SalesLine, area="sales", partner="partner_id", partner_readable=True)
