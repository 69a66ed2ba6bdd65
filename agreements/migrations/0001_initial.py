# The agreements module starts with no tables; its models arrive in later migrations.
from django.db import migrations


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = []
