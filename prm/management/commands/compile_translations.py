"""`manage.py compile_translations`: build the .mo files from locale/*/LC_MESSAGES/*.po.

Like Django's compilemessages, but pure Python (polib), so a fresh machine needs no GNU gettext.
Fuzzy entries are left out, as msgfmt does.
"""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compile the project's .po translation catalogues into .mo files."

    def handle(self, *args, **options):
        compiled = 0
        for locale_dir in settings.LOCALE_PATHS:
            for po_path in sorted(Path(locale_dir).glob("*/LC_MESSAGES/*.po")):
                try:
                    catalogue = polib.pofile(str(po_path))
                except (OSError, ValueError) as error:
                    raise CommandError(f"{po_path}: {error}") from error
                for entry in [e for e in catalogue if "fuzzy" in e.flags]:
                    catalogue.remove(entry)
                catalogue.save_as_mofile(str(po_path.with_suffix(".mo")))
                compiled += 1
                if options["verbosity"] > 1:
                    self.stdout.write(f"{po_path}: {len(catalogue.translated_entries())} messages")
        if options["verbosity"] > 0:
            self.stdout.write(f"Compiled {compiled} catalogue(s).")
