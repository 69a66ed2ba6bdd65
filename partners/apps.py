from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = _("Partners")

    def ready(self):
        from prm.api.scopes import register_area
        from prm.dashboard import register_panel
        from prm.tenancy import set_partner_resolver

        from . import signals  # noqa: F401  (region assignments in the security log)
        from .access import partner_of_user
        from .dashboard import partner_overview_panel

        register_panel(partner_overview_panel)
        set_partner_resolver(partner_of_user)
        register_area("partners", _("Partners"))
        self.register_sync()

    def register_sync(self):
        """Deleted rows of the API's partner lists leave tombstones (prm.sync)."""
        from prm.sync import sync_register

        from .models import ManagerRegion, Partner, PartnerContact, PartnerTier, Region

        sync_register(Region, area="partners", partner_readable=True)
        sync_register(PartnerTier, area="partners", partner_readable=True)
        sync_register(Partner, area="partners", partner="pk", partner_readable=True)
        sync_register(PartnerContact, area="partners", partner="partner_id", partner_readable=True)
        sync_register(ManagerRegion, area="partners")
