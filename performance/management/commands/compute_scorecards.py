"""`python manage.py compute_scorecards --period 2026-10`: compute a month's performance figures
through the same service as the scheduled job and the pages. Scorecards are not built yet: for
now it computes the month's KPI snapshots, and says so."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from prm.jobs import job_run

from ... import services


class Command(BaseCommand):
    help = "Compute a month's KPI snapshots (scorecards come later)."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="The month, e.g. 2026-10.")

    def handle(self, *args, **options):
        try:
            with job_run("performance.compute_scorecards") as progress:
                run = services.snapshots_compute(period=options["period"], job_run=progress.run)
                progress.wrote(run.rows)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(
            _("Computed %(rows)s KPI snapshots for %(period)s. Scorecards are not computed yet.")
            % {"rows": run.rows, "period": run.period}
        )
