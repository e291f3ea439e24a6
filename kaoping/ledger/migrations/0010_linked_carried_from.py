import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0009_alter_entry_source"),
    ]

    operations = [
        migrations.AddField(
            model_name="entry",
            name="carried_from",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="carried",
                to="ledger.entry",
                verbose_name="carried from",
            ),
        ),
        migrations.AlterField(
            model_name="entry",
            name="source",
            field=models.CharField(
                choices=[
                    ("declared", "declared by the household"),
                    ("collected", "collected by a grid member"),
                    ("department", "entered by a department"),
                    ("computed", "computed from a metric"),
                    ("imported", "imported"),
                    ("console", "entered in the console"),
                    ("correction", "correction after an upheld objection"),
                    ("evaluation", "result of an evaluation"),
                    ("linked", "carried from a linked subject"),
                ],
                default="console",
                max_length=12,
                verbose_name="source",
            ),
        ),
    ]
