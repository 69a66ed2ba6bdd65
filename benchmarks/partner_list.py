"""How the partner list, its CSV export and the partners API scale with the size of the registry.

    .venv/bin/python benchmarks/partner_list.py [--partners 20000] [--repeat 5]

Builds a throw-away test database (SQLite by default, PostgreSQL with DATABASE_URL), fills it
with a three-level network spread over a region tree, then prints for each request the number of
SQL queries and the median time over the repeats. Not part of the test run.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prm.settings")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(args, connection, CaptureQueriesContext)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def build(count):
    from django.contrib.auth import get_user_model

    from partners.choices import PartnerType, RegionKind
    from partners.models import Partner, PartnerTier, Region

    country = Region.objects.create(code="CN", name="China", kind=RegionKind.COUNTRY)
    provinces = []
    for a in range(6):
        area = Region.objects.create(code=f"A{a}", name=f"Area {a}", kind=RegionKind.AREA, parent=country)
        provinces += [Region.objects.create(code=f"A{a}P{p}", name=f"Province {a}.{p}", parent=area) for p in range(6)]
    tiers = [PartnerTier.objects.create(name=f"Tier {r}", rank=r) for r in range(1, 5)]
    owners = [get_user_model().objects.create(username=f"m{i}", is_staff=True) for i in range(10)]
    # Level by level: a tenth distributors, then sub-distributors, the rest resellers.
    levels = [count // 10, count // 5, count - count // 10 - count // 5]
    parents, made = [None], 0
    for depth, size in enumerate(levels, start=1):
        rows = []
        for i in range(size):
            parent = parents[i % len(parents)]
            rows.append(
                Partner(
                    code=f"B{made + i:06d}",
                    name=f"Partner {made + i}",
                    depth=depth,
                    parent=parent,
                    partner_type=PartnerType.DISTRIBUTOR if depth < 3 else PartnerType.RESELLER,
                    region=provinces[i % len(provinces)],
                    tier=tiers[i % 4],
                    owner=owners[i % 10],
                    status="active",
                    path="",
                )
            )
        created = Partner.objects.bulk_create(rows, batch_size=2000)
        for partner in created:
            partner.path = f"{partner.parent.path if partner.parent else '/'}{partner.pk}/"
        Partner.objects.bulk_update(created, ["path"], batch_size=2000)
        parents, made = created, made + size
    return owners[0], Region.objects.get(code="A1")


def run(args, connection, capture):
    from django.test import Client

    started = time.perf_counter()
    user, area = build(args.partners)
    user.is_staff = True
    user.save()
    print(f"built {args.partners} partners in {time.perf_counter() - started:.1f}s on {connection.vendor}")
    client = Client()
    client.force_login(user)
    requests = [
        ("partner list page", "/partners/"),
        ("partner list, area filter, sorted by tier", f"/partners/?region={area.pk}&sort=-tier"),
        ("partner list, free text", "/partners/?q=Partner%201999"),
        ("partner API list (50 rows)", "/api/v1/partners/"),
        ("partner API list (500 rows)", "/api/v1/partners/?page_size=500"),
        ("CSV export of one area", f"/partners/?region={area.pk}&export=csv"),
    ]
    print(f"{'request':45} {'rows/bytes':>12} {'queries':>8} {'median ms':>10}")
    for label, url in requests:
        timings = []
        for _ in range(args.repeat):
            with capture(connection) as queries:
                start = time.perf_counter()
                response = client.get(url)
                body = b"".join(response.streaming_content) if response.streaming else response.content
                timings.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        print(f"{label:45} {len(body):>12} {len(queries):>8} {statistics.median(timings):>10.1f}")


if __name__ == "__main__":
    main()
