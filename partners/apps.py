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
