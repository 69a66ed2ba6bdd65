"""`manage.py seed_demo`: load the demo channel. Each installed app may ship a `demo` module with
`seed(*, log)`; they run in INSTALLED_APPS order, so later modules build on earlier ones.
Idempotent: running it again adds nothing."""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Load the demo channel (regions, tiers, partners, users). Safe to run more than once."

    def handle(self, *args, **options):
        for config in apps.get_app_configs():
            if find_spec(f"{config.name}.demo") is None:
                continue
            self.stdout.write(f"Seeding {config.label}…")
            import_module(f"{config.name}.demo").seed(log=lambda line: self.stdout.write(f"  {line}"))
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
