"""The default scorecard template (issue 7): weights sum to 100; cross_territory_share is lower
is better (its floor 0.30 lies above its target 0.00)."""

from decimal import Decimal

from django.db import migrations

NAME = "Standard"
ITEMS = [
    # kpi, weight, floor (scores 0), target (scores 100)
    ("target_attainment", "30", "0.5", "1.0"),
    ("growth_yoy", "15", "-0.1", "0.2"),
    ("price_compliance", "15", "0.8", "1.0"),
    ("cross_territory_share", "10", "0.3", "0.0"),
    ("training_completion", "10", "0.5", "1.0"),
    ("customer_satisfaction", "10", "60", "90"),
    ("incentive_return", "10", "5", "20"),
]


def create(apps, schema_editor):
    Template = apps.get_model("performance", "ScorecardTemplate")
    Item = apps.get_model("performance", "ScorecardItem")
    if Template.objects.filter(is_default=True).exists():
        return
    template, _created = Template.objects.get_or_create(name=NAME, defaults={"is_default": True})
    Item.objects.filter(template=template).delete()
    Item.objects.bulk_create(
        Item(template=template, kpi=kpi, weight=Decimal(weight), floor=Decimal(floor), target=Decimal(target))
        for kpi, weight, floor, target in ITEMS
    )


def remove(apps, schema_editor):
    apps.get_model("performance", "ScorecardTemplate").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("performance", "0003_scorecards")]

    operations = [migrations.RunPython(create, remove)]
