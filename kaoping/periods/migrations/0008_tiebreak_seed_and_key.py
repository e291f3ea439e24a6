import django.db.models.deletion
from django.db import migrations, models


def carried_from_fill(apps, schema_editor):
    """A carried row carries the listing its subject had on the list in the period before,
    itself fresh or carried: followed back period by period (a fresh row there is the origin)."""
    Membership = apps.get_model("periods", "ListMembership")
    Period = apps.get_model("periods", "Period")
    carried = Membership.objects.filter(carried=True, carried_from__isnull=True)
    periods = {}
    for period in Period.objects.filter(
        pk__in=carried.values_list("period_id", flat=True).distinct()
    ).order_by("start"):
        periods[period.pk] = period
    for row in carried.order_by("period__start"):
        period = periods[row.period_id]
        earlier = (
            Membership.objects.filter(
                subject_id=row.subject_id,
                list_code=row.list_code,
                period__scheme_id=period.scheme_id,
                period__cadence=period.cadence,
                period__start__lt=period.start,
            )
            .order_by("-period__start")
            .first()
        )
        if earlier is not None:
            origin = earlier.carried_from_id if earlier.carried else earlier.period_id
            Membership.objects.filter(pk=row.pk).update(carried_from_id=origin)


class Migration(migrations.Migration):
    dependencies = [
        ("periods", "0007_list_shortfalls"),
    ]

    operations = [
        migrations.AddField(
            model_name="period",
            name="tie_seed",
            field=models.CharField(blank=True, db_default="", max_length=32, verbose_name="lot seed"),
        ),
        migrations.AddField(
            model_name="period",
            name="tie_breaks",
            field=models.JSONField(blank=True, default=list, verbose_name="ties broken"),
        ),
        migrations.AddField(
            model_name="listmembership",
            name="tie_break",
            field=models.CharField(blank=True, db_default="", max_length=80, verbose_name="tie broken by"),
        ),
        migrations.AddField(
            model_name="listmembership",
            name="carried_from",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="periods.period",
                verbose_name="carried from",
            ),
        ),
        migrations.RemoveConstraint(model_name="listmembership", name="membership_unique"),
        migrations.AddConstraint(
            model_name="listmembership",
            constraint=models.UniqueConstraint(
                condition=models.Q(("carried", False)),
                fields=("period", "list_code", "subject"),
                name="membership_unique",
            ),
        ),
        migrations.AddConstraint(
            model_name="listmembership",
            constraint=models.UniqueConstraint(
                condition=models.Q(("carried", True)),
                fields=("period", "list_code", "subject", "carried_from"),
                name="membership_carried_unique",
            ),
        ),
        # Carried rows written before: the period of the listing they carry, followed back.
        migrations.RunPython(carried_from_fill, migrations.RunPython.noop),
    ]
