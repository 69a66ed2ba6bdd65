from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncentivesConfig(AppConfig):
    name = "incentives"
    verbose_name = _("Incentives")

    def ready(self):
        from prm.api.scopes import register_area

        register_area("incentives", _("Incentives"))
        self.register_sync()

        from prm.dashboard import register_panel as register_staff_panel
        from prm.dashboard import register_partner_section

        from .dashboard import incentives_home_panel, partner_incentives_section

        register_staff_panel(incentives_home_panel)
        register_partner_section(partner_incentives_section)

        from prm.dashboard import register_panel

        from .portal import portal_incentives_panel

        register_panel(portal_incentives_panel, page="portal")

    def register_sync(self):
        """Deleted rows of the API's incentive lists leave tombstones (prm.sync). Policies are
        never deleted (retired with is_active), statements are cancelled: listed for completeness."""
        from prm.sync import sync_register

        from .models import MdfBudget, MdfRequest, OverridePolicy, RebatePolicy, RebateStatement

        sync_register(RebatePolicy, area="incentives")
        sync_register(OverridePolicy, area="incentives")
        sync_register(RebateStatement, area="incentives", partner="partner_id", partner_readable=True)
        sync_register(MdfBudget, area="incentives", partner="partner_id", partner_readable=True)
        sync_register(MdfRequest, area="incentives", partner="partner_id", partner_readable=True)
