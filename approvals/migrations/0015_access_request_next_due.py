# The case list's first sort key stored on the request (issue 18), its index, and the dates of the
# requests already there.

from django.db import migrations, models

from portal.db_operations import PostgresOnlyAddIndex


def fill_next_due(apps, schema_editor):
    AccessRequest = apps.get_model("approvals", "AccessRequest")
    Referral = apps.get_model("approvals", "Referral")
    running = (
        Referral.objects.filter(
            access_request=models.OuterRef("pk"), status__in=("open", "drafted"), clock_stopped_at__isnull=True
        )
        .order_by("due_date")
        .values("due_date")[:1]
    )
    AccessRequest.objects.using(schema_editor.connection.alias).update(next_due=models.Subquery(running))


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0014_letters_without_pdf"),
    ]

    operations = [
        migrations.AddField(
            model_name="accessrequest",
            name="next_due",
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill_next_due, migrations.RunPython.noop, elidable=True),
        PostgresOnlyAddIndex(
            model_name="accessrequest",
            index=models.Index(
                models.OrderBy(models.F("next_due"), nulls_last=True),
                models.OrderBy(models.F("submitted_at"), descending=True),
                models.OrderBy(models.F("id"), descending=True),
                name="access_request_next_due",
            ),
        ),
    ]
