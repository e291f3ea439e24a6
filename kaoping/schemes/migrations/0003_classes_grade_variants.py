import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("schemes", "0002_node_linear"),
    ]

    operations = [
        migrations.CreateModel(
            name="SchemeGradeVariant",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("variant", models.CharField(max_length=32)),
                (
                    "grade",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="variants",
                        to="schemes.schemegrade",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("grade", "variant"), name="scheme_grade_variant_unique")
                ],
            },
        ),
    ]
