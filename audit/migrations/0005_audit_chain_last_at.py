"""The time of each chain's newest event on its head (issue 9 item 5).

``audit.trail.instant`` lets a transaction read its events' time before it writes the row those
events record (the transparency report's first times go into the decision's own UPDATE instead
of a second row version written by the audit trigger); the batch keeps that time only if the
chain's newest event is not later, which the head now says without reading the events. Nullable,
no backfill: a head from before this migration has events of unknown time, and its next append
reads its time after the lock as before (then stores it here).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_no_pattern_ops_twins"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditchain",
            name="last_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
