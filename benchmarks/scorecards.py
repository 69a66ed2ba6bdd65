"""How computing a month of KPI snapshots, scorecards and region flags scales with the sales.

    .venv/bin/python benchmarks/scorecards.py                 # 10,000 partners, 5,000,000 lines
    .venv/bin/python benchmarks/scorecards.py --scale 0.002   # the quick run (CI), under a minute

Drops and recreates its own PostgreSQL database (`bench_prm` on 127.0.0.1:5432 by default,
`--database-url` to change it), migrates it, and fills it with a region tree (country → sales
areas → provinces → cities), partners, agreements (territories, minimum prices, targets) for a
share of them and the sales lines of `--months` months, loaded with COPY. Then, for the last
month, it times and compares:

- the job: `performance.services.month_compute` (snapshots + scorecards + flags, one
  transaction), again with PostgreSQL's JIT off (it costs seconds on the sales aggregate), its
  parts, and the per-area split that performance.tasks runs in parallel (here in sequence,
  in-process);
- the floor: the one SQL aggregate every computation needs (revenue per partner of the month);
- a naive per-partner ORM loop (separate queries per partner and KPI) on a sample, scaled up.

It prints the times, the ratios job/floor and naive/job, the statements the job runs (first on a
tenth of the partners, then on all, to show the reads do not grow with partners) and the peak
memory. The database is kept afterwards for inspection. Not part of the test run.
"""

import argparse
import io
import os
import random
import resource
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prm.settings")

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_prm"
FULL = {"partners": 10_000, "regions": 300, "lines": 5_000_000, "months": 24}
PRODUCT_LINES = 8
COPY_CHUNK = 250_000
NAIVE_SAMPLE = 200
SEASON = {1: 0.75, 2: 0.6, 3: 0.95, 4: 1.0, 5: 1.15, 6: 1.35, 7: 0.9, 8: 0.95, 9: 1.05, 10: 1.0, 11: 1.45, 12: 1.3}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies partners, regions and lines")
    parser.add_argument("--partners", type=int)
    parser.add_argument("--regions", type=int)
    parser.add_argument("--lines", type=int)
    parser.add_argument("--months", type=int, default=FULL["months"])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of the floor and of the job")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args()
    sizes = {
        "partners": args.partners or max(20, round(FULL["partners"] * args.scale)),
        "regions": args.regions or max(12, round(FULL["regions"] * args.scale)),
        "lines": args.lines or max(2_000, round(FULL["lines"] * args.scale)),
        "months": max(13, args.months),
    }
    recreate_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.PRM_PERFORMANCE_SPLIT_REGIONS = 0  # always measure the split path too
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"migrated bench database in {time.perf_counter() - started:.1f}s")
    run(sizes, args)


def recreate_database(url):
    import psycopg2
    from dj_database_url import parse

    config = parse(url)
    admin = psycopg2.connect(
        dbname="postgres",
        user=config["USER"],
        host=config["HOST"],
        port=config["PORT"] or 5432,
        password=config["PASSWORD"],
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{config["NAME"]}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{config["NAME"]}"')
    admin.close()


# Building the world ----------------------------------------------------------------------------


def months_ending(last, count):
    from prm.periods import Period

    return Period.containing(last).trailing(count)


def build_regions(count):
    """Country → areas → provinces → cities, `count` regions in all. [(Region, ...)] per level."""
    from partners.choices import RegionKind
    from partners.models import Region

    areas = max(2, round(count * 0.025))
    provinces = max(areas, round(count * 0.14))
    cities = max(provinces, count - 1 - areas - provinces)
    country = Region(code="CN", name="China", kind=RegionKind.COUNTRY, path="", depth=1)
    country.save()
    levels = [[country]]
    for kind, size, prefix in (
        (RegionKind.AREA, areas, "A"),
        (RegionKind.PROVINCE, provinces, "P"),
        (RegionKind.CITY, cities, "C"),
    ):
        parents = levels[-1]
        rows = [
            Region(code=f"{prefix}{i:04d}", name=f"{kind.label} {i}", kind=kind, parent=parents[i % len(parents)])
            for i in range(size)
        ]
        created = Region.objects.bulk_create(rows, batch_size=2000)
        for region in created:
            region.path, region.depth = f"{region.parent.path}{region.pk}/", region.parent.depth + 1
        Region.objects.bulk_update(created, ["path", "depth"], batch_size=2000)
        levels.append(created)
    return levels


def build_partners(count, cities, rng):
    from django.contrib.auth import get_user_model

    from partners.choices import PartnerStatus, PartnerType
    from partners.models import Partner, PartnerTier

    tiers = [PartnerTier.objects.create(name=f"Tier {r}", rank=r) for r in range(1, 5)]
    users = get_user_model().objects
    owners = [users.get_or_create(username=f"manager{i}", defaults={"is_staff": True})[0] for i in range(10)]
    rows = [
        Partner(
            code=f"B{i:06d}",
            name=f"Partner {i}",
            partner_type=PartnerType.DISTRIBUTOR if i % 10 == 0 else PartnerType.RESELLER,
            status=PartnerStatus.SUSPENDED if rng.random() < 0.03 else PartnerStatus.ACTIVE,
            region=cities[i % len(cities)],
            tier=tiers[i % 4],
            owner=owners[i % 10],
            path="",
            depth=1,
        )
        for i in range(count)
    ]
    created = Partner.objects.bulk_create(rows, batch_size=2000)
    for partner in created:
        partner.path = f"/{partner.pk}/"
    Partner.objects.bulk_update(created, ["path"], batch_size=2000)
    return created


def build_agreements(partners, lines, months, rng):
    """An active agreement for 70 % of the partners over the whole range: territory = its
    province; minimum prices on two lines for half of them; a year target for 60 %, monthly
    targets for some."""
    from agreements.choices import AgreementStatus, AgreementType
    from agreements.models import Agreement, AgreementTarget, AgreementTerritory, MinimumPrice
    from prm.periods import Period

    start, end = months[0].start, months[-1].end + timedelta(days=365)
    chosen = [p for p in partners if rng.random() < 0.7]
    agreements = Agreement.objects.bulk_create(
        [
            Agreement(
                partner=p,
                number=f"AG-{p.pk:07d}",
                agreement_type=AgreementType.RESELLER,
                status=AgreementStatus.ACTIVE,
                start_date=start,
                end_date=end,
            )
            for p in chosen
        ],
        batch_size=2000,
    )
    territories, prices, targets = [], [], []
    years = sorted({m.start.year for m in months})
    for agreement, partner in zip(agreements, chosen, strict=True):
        territories.append(AgreementTerritory(agreement=agreement, region_id=partner.region.parent_id))
        if rng.random() < 0.5:
            for line in rng.sample(lines, 2):
                prices.append(MinimumPrice(agreement=agreement, product_line=line, min_unit_price=line.base_price))
        if rng.random() < 0.6:
            for year in years:
                period = Period.year_of(year)
                targets.append(
                    AgreementTarget(
                        agreement=agreement,
                        period=period.code,
                        period_start=period.start,
                        period_end=period.end,
                        revenue=Decimal(rng.randrange(200, 2000) * 1000),
                    )
                )
        if rng.random() < 0.1:
            for month in months[-6:]:
                targets.append(
                    AgreementTarget(
                        agreement=agreement,
                        period=month.code,
                        period_start=month.start,
                        period_end=month.end,
                        revenue=Decimal(rng.randrange(20, 200) * 1000),
                    )
                )
    AgreementTerritory.objects.bulk_create(territories, batch_size=5000)
    MinimumPrice.objects.bulk_create(prices, batch_size=5000)
    AgreementTarget.objects.bulk_create(targets, batch_size=5000)
    return len(agreements), len(territories), len(prices), len(targets)


def build_product_lines():
    from sales.models import ProductLine

    lines = ProductLine.objects.bulk_create(
        [ProductLine(code=f"PL{i}", name=f"Product line {i}") for i in range(PRODUCT_LINES)]
    )
    for i, line in enumerate(lines):
        line.base_price = Decimal(50 * (i + 1))
    return lines


COLUMNS = (
    "partner_id, product_line_id, customer_id, customer_name, customer_region_id, sold_on, quantity, "
    "unit_price, amount, currency, source, external_id, created_at, updated_at"
)


def sales_rows(count, partners, lines, months, cities, rng):
    """Tab-separated rows of sales lines, lazily: partners weighted (a few big ones), months
    weighted by season and a yearly growth, 85 % of customers in the partner's own city."""
    from django.conf import settings

    weights = [1.0 / (1 + (i % 97)) ** 0.6 for i in range(len(partners))]
    month_weights = [SEASON[m.start.month] * (1.2 ** (i / 12)) for i, m in enumerate(months)]
    partner_ids = [p.pk for p in partners]
    partner_city = [p.region_id for p in partners]
    city_ids = [c.pk for c in cities]
    line_ids = [line.pk for line in lines]
    base = [float(line.base_price) for line in lines]
    month_days = [(m.start, (m.end - m.start).days + 1) for m in months]
    tail = f"\t{settings.PRM_CURRENCY}\timport\t\t2026-01-01 00:00:00+00\t2026-01-01 00:00:00+00\n"
    done = 0
    while done < count:
        size = min(COPY_CHUNK, count - done)
        who = rng.choices(range(len(partners)), weights=weights, k=size)
        when = rng.choices(range(len(months)), weights=month_weights, k=size)
        out = io.StringIO()
        write = out.write
        rand = rng.random
        for p, m in zip(who, when, strict=True):
            line = int(rand() * PRODUCT_LINES)
            start, days = month_days[m]
            region = partner_city[p] if rand() < 0.85 else city_ids[int(rand() * len(city_ids))]
            quantity = 1 + int(rand() * 40)
            price = round(base[line] * (0.9 + rand() * 0.4), 2)
            write(
                f"{partner_ids[p]}\t{line_ids[line]}\tC{partner_ids[p]}-{int(rand() * 40)}\t\t{region}\t"
                f"{start + timedelta(days=int(rand() * days))}\t{quantity}\t{price:.2f}\t{quantity * price:.2f}{tail}"
            )
        out.seek(0)
        yield out, size
        done += size


def load_sales(connection, rows):
    """COPY the sales lines with the table's secondary indexes dropped and its triggers (foreign
    keys) off, then recreate the indexes exactly as the migrations made them, and ANALYZE."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'sales_salesline' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'sales_salesline'::regclass)"
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET session_replication_role = replica")
        raw = cursor.connection
        copied = 0
        for buffer, size in rows:
            with raw.cursor() as copy:
                copy.copy_expert(f"COPY sales_salesline ({COLUMNS}) FROM STDIN", buffer)
            copied += size
        cursor.execute("SET session_replication_role = DEFAULT")
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute("ANALYZE")
    return copied, len(indexes)


def build(sizes, seed, connection):
    """The whole world at `sizes`; returns (partners, the month to compute)."""
    from django.db import transaction
    from django.utils import timezone

    rng = random.Random(seed)
    # Ending with the last closed month: a month still running is not judged for flags.
    months = months_ending(timezone.localdate().replace(day=1) - timedelta(days=1), sizes["months"])
    started = time.perf_counter()
    with transaction.atomic():
        levels = build_regions(sizes["regions"])
        cities = levels[-1]
        partners = build_partners(sizes["partners"], cities, rng)
        lines = build_product_lines()
        counts = build_agreements(partners, lines, months, rng)
    regions = sum(len(level) for level in levels)
    print(
        f"  {regions} regions, {len(partners)} partners, {counts[0]} agreements ({counts[1]} territories, "
        f"{counts[2]} minimum prices, {counts[3]} targets) in {time.perf_counter() - started:.1f}s"
    )
    started = time.perf_counter()
    with transaction.atomic():
        copied, indexes = load_sales(connection, sales_rows(sizes["lines"], partners, lines, months, cities, rng))
    print(
        f"  {copied:,} sales lines over {len(months)} months (COPY, {indexes} indexes rebuilt) in "
        f"{time.perf_counter() - started:.1f}s"
    )
    return partners, months[-1]


def wipe(connection):
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE partners_region, partners_partner, partners_partnertier, sales_productline, "
            "performance_periodcomputation, performance_snapshotrun RESTART IDENTITY CASCADE"
        )


# Measuring ---------------------------------------------------------------------------------------


class StatementCounter:
    """Counts the statements run, by their first word (SELECT, INSERT...)."""

    def __init__(self):
        self.counts = Counter()

    def __call__(self, execute, sql, params, many, context):
        text = sql.decode() if isinstance(sql, bytes) else sql  # psycopg2's execute_values sends bytes
        self.counts[text.lstrip().split(None, 1)[0].upper()] += 1
        return execute(sql, params, many, context)

    def __str__(self):
        return f"{sum(self.counts.values())} ({', '.join(f'{k} {v}' for k, v in sorted(self.counts.items()))})"


def show(label, seconds, extra=""):
    print(f"{label:64} {seconds * 1000:11.1f} ms  {extra}".rstrip())


def timed(function, repeat=1):
    """(median seconds, last result) over `repeat` runs."""
    timings, result = [], None
    for _i in range(repeat):
        started = time.perf_counter()
        result = function()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), result


def count_statements(connection, function):
    counter = StatementCounter()
    with connection.execute_wrapper(counter):
        function()
    return counter


def job(month):
    from performance import services

    return services.month_compute(period=month)


def floor(connection, month):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT partner_id, SUM(amount) FROM sales_salesline WHERE sold_on BETWEEN %s AND %s GROUP BY partner_id",
            [month.start, month.end],
        )
        return len(cursor.fetchall())


def split_job(month):
    """performance.tasks' split path in sequence: one part per sales area, then the rest, then
    the month written from the parts (what month_finish does)."""
    from performance import kpis, services, tasks

    areas = tasks._areas()
    parts = [kpis.figures_to_json(*kpis.partner_figures(month, kpis.area_scope(path))) for path in areas]
    parts.append(kpis.figures_to_json(*kpis.partner_figures(month, kpis.area_scope(None, areas))))
    return services.month_compute(period=month, figures=kpis.figures_from_json(parts)), len(areas)


def naive_partner(partner, month):
    """The month of one partner the naive way: one ORM query per figure (what a loop over
    partners would do), reads only, nothing written."""
    from django.db.models import Count, Q, Sum

    from agreements.models import AgreementTarget, AgreementTerritory, MinimumPrice
    from performance.models import CustomerSatisfaction
    from sales.models import SalesLine
    from training.models import TrainingRecord

    lines = SalesLine.objects.filter(partner=partner, sold_on__gte=month.start, sold_on__lte=month.end)
    revenue = lines.aggregate(v=Sum("amount"))["v"]
    lines.aggregate(v=Sum("quantity"))
    lines.exclude(customer_id="").aggregate(v=Count("customer_id", distinct=True))
    previous, last_year = month.previous(), month.same_period_last_year()
    SalesLine.objects.filter(partner=partner, sold_on__gte=previous.start, sold_on__lte=previous.end).aggregate(
        v=Sum("amount")
    )
    SalesLine.objects.filter(partner=partner, sold_on__gte=last_year.start, sold_on__lte=last_year.end).aggregate(
        v=Sum("amount")
    )
    in_force = {
        "agreement__partner": partner,
        "agreement__start_date__lte": month.end,
        "agreement__end_date__gte": month.start,
    }
    paths = list(AgreementTerritory.objects.filter(**in_force).values_list("region__path", flat=True))
    if paths:
        inside = Q()
        for path in paths:
            inside |= Q(customer_region__path__startswith=path)
        lines.filter(customer_region__isnull=False).exclude(inside).aggregate(v=Sum("amount"))
    for line_id, minimum in MinimumPrice.objects.filter(**in_force).values_list("product_line_id", "min_unit_price"):
        lines.filter(product_line_id=line_id, unit_price__lt=minimum).aggregate(v=Sum("amount"))
    list(AgreementTarget.objects.filter(period_start__lte=month.start, period_end__gte=month.end, **in_force))
    TrainingRecord.objects.certified(month.end).filter(contact__partner=partner).values("contact_id").distinct().count()
    CustomerSatisfaction.objects.filter(partner=partner, period=month.code).first()
    return revenue


def run(sizes, args):
    from django.db import connection

    from prm.periods import Period  # noqa: F401  (Django is set up)

    print(f"PostgreSQL {connection.cursor().connection.server_version}, sizes {sizes}")
    small = dict(sizes, partners=max(5, sizes["partners"] // 10), lines=max(1000, sizes["lines"] // 10))
    print(f"building a tenth of the partners first (queries at two sizes): {small}")
    _partners, month = build(small, args.seed, connection)
    job(month)
    queries_small = count_statements(connection, lambda: job(month))
    wipe(connection)

    print(f"building {sizes}")
    partners, month = build(sizes, args.seed, connection)
    print(f"\nmonth {month.code}")
    floor_s, rows = timed(lambda: floor(connection, month), args.repeat)
    show(f"floor: one GROUP BY of the month's revenue ({rows} partners)", floor_s)
    first_s, result = timed(lambda: job(month))
    job_s, result = timed(lambda: job(month), args.repeat)
    show("job: month_compute, first run (empty month)", first_s)
    show(
        f"job: month_compute, median of {args.repeat} (month already computed)",
        job_s,
        f"{result.snapshots} snapshots, {result.scorecards} scorecards, {result.region_scorecards} region "
        f"scorecards, {result.flags_opened + result.flags_updated} flags",
    )
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    nojit_s, _result = timed(lambda: job(month), args.repeat)
    with connection.cursor() as cursor:
        cursor.execute("RESET jit")
    show(f"job: month_compute with jit = off, median of {args.repeat}", nojit_s)
    parts(month, connection)
    split_s, (split_result, areas) = timed(lambda: split_job(month))
    show(f"split: {areas} areas + the rest in sequence, then the month", split_s)

    sample = random.Random(args.seed).sample(partners, min(NAIVE_SAMPLE, len(partners)))
    naive_sample_s, _r = timed(lambda: [naive_partner(p, month) for p in sample])
    naive_statements = count_statements(connection, lambda: naive_partner(sample[0], month))
    naive_s = naive_sample_s / len(sample) * len(partners)
    show(
        f"naive: per-partner ORM loop, {len(sample)} partners scaled to {len(partners)}",
        naive_s,
        f"{naive_sample_s:.2f}s for the sample; {naive_statements} statements for one partner, reads only",
    )

    queries_full = count_statements(connection, lambda: job(month))
    tracemalloc.start()
    job(month)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print("\nsummary")
    print(f"  job / floor           {job_s / floor_s:8.1f}x   (target ≤ 3x; {nojit_s / floor_s:.1f}x with jit = off)")
    print(f"  naive / job           {naive_s / job_s:8.1f}x   (target ≥ 50x; {naive_s / nojit_s:.1f}x with jit = off)")
    print(f"  statements of the job at {small['partners']:>6} partners: {queries_small}")
    print(f"  statements of the job at {sizes['partners']:>6} partners: {queries_full}")
    print(f"  peak Python memory of one job (tracemalloc): {peak / 2**20:.1f} MiB")
    print(f"  peak RSS of the whole process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def parts(month, connection):
    """The job's steps one by one, to see what dominates."""
    from django.db import transaction

    from performance import flags, kpis, services

    def read():
        return kpis.partner_figures(month)

    read_s, (figures, paths) = timed(read)
    sales_s, _rows = timed(lambda: list(kpis._sales(month)))
    compute_s, values = timed(lambda: kpis.compute_month(month, (figures, paths)))
    with transaction.atomic():
        snap_s, _run = timed(lambda: services.snapshots_compute(period=month, figures=(figures, paths)))
        cards_s, _cards = timed(lambda: services.scorecards_compute(period=month))
        flags_s, _flags = timed(lambda: services.flags_evaluate(period=month))
    show("  part: the sales aggregate alone (kpis._sales)", sales_s)
    show("  part: partner figures (12 reads, the aggregates included)", read_s)
    show(f"  part: KPI values in memory ({len(values)} rows)", compute_s)
    show("  part: snapshots replaced (figures given)", snap_s)
    show("  part: scorecards", cards_s)
    show(f"  part: flags ({len(flags.active_rules())} rules)", flags_s)


if __name__ == "__main__":
    main()
