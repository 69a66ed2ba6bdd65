from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgreementsConfig(AppConfig):
    name = "agreements"
    verbose_name = _("Agreements")

    def ready(self):
        from prm.api.scopes import register_area
        from prm.dashboard import register_panel, register_partner_section

        from .dashboard import agreements_home_panel, partner_agreements_section
        from .portal import portal_agreements_panel

        register_area("agreements", _("Agreements"))
        register_panel(agreements_home_panel)
        register_partner_section(partner_agreements_section)
        register_panel(portal_agreements_panel, page="portal")
