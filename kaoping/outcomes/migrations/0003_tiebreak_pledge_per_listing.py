from django.db import migrations


class Migration(migrations.Migration):
    """One pledge per listing: a subject listed again while an earlier pledge is open gets its
    own (each accepted pledge ends its own listing's carry-over only)."""

    dependencies = [
        ("outcomes", "0002_payout_sheet"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="pledge", name="pledge_one_open"),
    ]
