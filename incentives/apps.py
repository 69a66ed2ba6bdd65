from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncentivesConfig(AppConfig):
    name = "incentives"
    verbose_name = _("Incentives")

    def ready(self):
        from prm.api.scopes import register_area

        register_area("incentives", _("Incentives"))

        from prm.dashboard import register_panel as register_staff_panel
        from prm.dashboard import register_partner_section

        from .dashboard import incentives_home_panel, partner_incentives_section

        register_staff_panel(incentives_home_panel)
        register_partner_section(partner_incentives_section)

        from prm.dashboard import register_panel

        from .portal import portal_incentives_panel

        register_panel(portal_incentives_panel, page="portal")
