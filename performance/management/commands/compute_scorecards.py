"""`python manage.py compute_scorecards --period 2026-10`: compute a month's performance figures
through the same services as the scheduled job and the pages: the month's KPI snapshots, then
its scorecards, then its region flags."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from prm.jobs import job_run

from ...tasks import month_compute


class Command(BaseCommand):
    help = "Compute a month's KPI snapshots, then its scorecards and region flags."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="The month, e.g. 2026-10.")

    def handle(self, *args, **options):
        try:
            with job_run("performance.compute_scorecards") as progress:
                counts = month_compute(options["period"], progress)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(
            _(
                "Computed %(snapshots)s KPI snapshots, %(scorecards)s partner scorecards and "
                "%(region_scorecards)s region scorecards for %(period)s; %(flags_opened)s region "
                "flags opened, %(flags_updated)s updated."
            )
            % {**counts, "period": options["period"]}
        )
