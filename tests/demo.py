"""The demo data in tests: `seed()` runs `manage.py seed_demo` (the conftest's module-scoped `demo`
fixture seeds once per module), `row_counts()` proves a second run adds nothing."""

from io import StringIO

from django.apps import apps
from django.core.management import call_command


def seed():
    call_command("seed_demo", stdout=StringIO())


def row_counts():
    return {model._meta.label: model._base_manager.count() for model in apps.get_models()}
