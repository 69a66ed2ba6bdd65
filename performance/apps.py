from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PerformanceConfig(AppConfig):
    name = "performance"
    verbose_name = _("Performance")

    def ready(self):
        from prm.api.scopes import register_area

        register_area("performance", _("Performance"))

        from prm.dashboard import register_panel, register_partner_section

        from .dashboard import partner_performance_section, performance_home_panel

        register_panel(performance_home_panel)
        register_partner_section(partner_performance_section)

        from .portal import portal_performance_panel

        register_panel(portal_performance_panel, page="portal")
