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
        self.register_sync()

    def register_sync(self):
        """Deleted rows of the API's agreement lists leave tombstones (prm.sync). The partner sees
        those of what its portal shows: no drafts, only the documents shared with it."""
        from prm.sync import sync_register

        from .choices import AgreementStatus
        from .models import Agreement, AgreementDocument, AgreementTarget, RegionTarget

        def shown(agreement):
            return agreement.partner_id if agreement.status != AgreementStatus.DRAFT else None

        sync_register(Agreement, area="agreements", partner=shown, partner_readable=True)
        sync_register(
            AgreementTarget, area="agreements", partner=lambda row: shown(row.agreement), partner_readable=True
        )
        sync_register(
            AgreementDocument,
            area="agreements",
            partner=lambda row: shown(row.agreement) if row.visible_to_partner else None,
            partner_readable=True,
        )
        sync_register(RegionTarget, area="agreements")
