"""Metric values keyed by (scheme, period label) instead of the period row; sealed spans.

Both let the ledger stand below `periods`: the data is moved here from the period rows, and the
finalised periods of today become sealed spans.
"""

import django.db.models.deletion
from django.db import migrations, models


def forwards(apps, schema_editor):
    Period = apps.get_model("periods", "Period")
    MetricValue = apps.get_model("ledger", "MetricValue")
    SealedSpan = apps.get_model("ledger", "SealedSpan")
    for period in Period.objects.all().only("id", "scheme_id", "label", "start", "end", "status"):
        MetricValue.objects.filter(period_id=period.pk).update(
            scheme_id=period.scheme_id, period_label=period.label
        )
        if period.status == "final":
            SealedSpan.objects.create(
                scheme_id=period.scheme_id,
                start=period.start,
                end=period.end,
                reason=f"period:{period.label}",
            )


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0005_correction_source"),
        ("periods", "0006_result_rows_written_once"),
        ("schemes", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="metricvalue", name="metric_value_unique"),
        migrations.AddField(
            model_name="metricvalue",
            name="scheme",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="schemes.scheme",
            ),
        ),
        migrations.AddField(
            model_name="metricvalue",
            name="period_label",
            field=models.CharField(default="", max_length=16),
            preserve_default=False,
        ),
        migrations.CreateModel(
            name="SealedSpan",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("start", models.DateField()),
                ("end", models.DateField()),
                ("reason", models.CharField(max_length=64)),
                (
                    "scheme",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="schemes.scheme",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("scheme", "reason"), name="sealed_span_unique")
                ]
            },
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RemoveField(model_name="metricvalue", name="period"),
        migrations.AlterField(
            model_name="metricvalue",
            name="scheme",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="schemes.scheme",
            ),
        ),
        migrations.AddConstraint(
            model_name="metricvalue",
            constraint=models.UniqueConstraint(
                fields=("scheme", "period_label", "subject", "metric"), name="metric_value_unique"
            ),
        ),
    ]
