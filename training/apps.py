from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = _("Training")

    def ready(self):
        from prm.api.scopes import register_area
        from prm.dashboard import register_panel, register_partner_section

        from .dashboard import partner_training_section, training_home_panel
        from .portal import portal_training_panel

        register_area("training", _("Training"))
        register_panel(training_home_panel)
        register_partner_section(partner_training_section)
        register_panel(portal_training_panel, page="portal")
        self.register_sync()

    def register_sync(self):
        """Deleted rows of the API's training lists leave tombstones (prm.sync)."""
        from prm.sync import sync_register

        from .models import Course, CourseMaterial, TrainingRecord, TrainingSession

        sync_register(Course, area="training", partner_readable=True)
        sync_register(CourseMaterial, area="training", partner_readable=True)
        sync_register(TrainingSession, area="training", partner_readable=True)
        sync_register(TrainingRecord, area="training", partner="contact__partner_id", partner_readable=True)
