"""The five role groups exist from the first migrate on. Their model permissions are kept in step
with the models after every migrate by prm.roles.sync_role_permissions."""

from django.db import migrations

ROLES = ["channel_admin", "channel_manager", "analyst", "partner_admin", "partner_user"]


def create_role_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("prm", "0002_security_log_actions"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_role_groups, migrations.RunPython.noop)]
