"""The default rules that flag an underperforming region (issue 7): target attainment below
0.80, a region score below 60, revenue falling 3 months in a row, a cross-territory share
above 0.15. Staff edit the thresholds afterwards."""

from decimal import Decimal

from django.db import migrations

RULES = [
    ("attainment_below", "0.80"),
    ("score_below", "60"),
    ("revenue_decline", "3"),
    ("cross_territory_above", "0.15"),
]


def create(apps, schema_editor):
    Rule = apps.get_model("performance", "FlagRule")
    for code, threshold in RULES:
        Rule.objects.get_or_create(code=code, defaults={"threshold": Decimal(threshold)})


def remove(apps, schema_editor):
    apps.get_model("performance", "FlagRule").objects.filter(code__in=[code for code, _t in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("performance", "0005_region_flags")]

    operations = [migrations.RunPython(create, remove)]
