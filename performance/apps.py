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
        self.register_sync()

    def register_sync(self):
        """Deleted rows of the API's performance lists leave tombstones (prm.sync). A month's
        snapshots and scorecards are replaced wholesale by their services, which record the
        tombstones in bulk (`bulk=True`)."""
        from prm.sync import sync_register

        from .models import (
            CustomerSatisfaction,
            KpiSnapshot,
            RegionFlag,
            RegionScorecard,
            Scorecard,
            ScorecardTemplate,
        )

        sync_register(KpiSnapshot, area="performance", partner="partner_id", partner_readable=True, bulk=True)
        sync_register(Scorecard, area="performance", partner="partner_id", partner_readable=True, bulk=True)
        sync_register(RegionScorecard, area="performance", bulk=True)
        sync_register(RegionFlag, area="performance")
        sync_register(ScorecardTemplate, area="performance")
        sync_register(CustomerSatisfaction, area="performance", partner="partner_id", partner_readable=True)
