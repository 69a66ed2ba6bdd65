from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PerformanceConfig(AppConfig):
    name = "performance"
    verbose_name = _("Performance")

    def ready(self):
        from prm.api.scopes import register_area

        register_area("performance", _("Performance"))
