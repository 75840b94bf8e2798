"""Fewer index entries per row version of a request (issue 9 item 5).

Every version of a request's row that is not a HOT update (all four a submission writes: the
intake's INSERT, the claim, the decision, the first acknowledgement: each changes an indexed
column) is inserted into every index of the table: 21 at migration 0029, 84 entries per
submission. Gone or narrowed here, each redundant with another index or written for rows that
no query reads through it:

- ``authority_id`` (Django's foreign key index): ``req_authority_recent`` leads with the same
  column and serves the same lookups (the API list, the PROTECT check of an authority's delete);
- ``assigned_to_id``: ``queue_assignee_urgency`` leads with it (the queue's "mine" and
  "unassigned" filters, NULLs included, and the PROTECT check of a user's delete);
- ``linked_request_id``: now partial, ``WHERE linked_request_id IS NOT NULL`` (only Annex V/VI
  follow-ups have one; ``= x`` implies NOT NULL, so the same lookups use it);
- ``req_case_reference``: the queue searches case references by prefix
  (``req_case_reference_prefix``, ``varchar_pattern_ops``, which has ``=`` as well); nothing
  compares or orders by the database's collation;
- ``req_report_dsa_times``: partial, the DSA orders only (``reports._dsa_times`` reads nothing
  else through it; its ``instrument IN (…)`` implies the condition);
- ``target_value`` on the targets: equality and prefix both use ``target_value_prefix``;
- the ``varchar_pattern_ops`` twin Django creates for ``Notification.key`` (unique): keys are
  looked up whole, never by ``LIKE``.

21 → 18 indexes on the requests, and for a request that follows no order and is not a DSA order
15 entries per row version instead of 20. The foreign keys keep their constraints; only Django's
state says ``db_index=False`` (SeparateDatabaseAndState: on SQLite an AlterField would rebuild
the table and lose the report triggers of migration 0025). Reversible: backwards recreates each
index as Django had named it.
"""

from django.conf import settings
from django.db import migrations, models

# Django's own names for the foreign keys' indexes at migration 0001 (the same on both databases).
FK_INDEXES = {
    "authority_id": "requests_app_legalrequest_authority_id_962d2042",
    "assigned_to_id": "requests_app_legalrequest_assigned_to_id_fa759b44",
    "linked_request_id": "requests_app_legalrequest_linked_request_id_596f3307",
}
NOTIFICATION_KEY_LIKE = "requests_app_notification_key_45a8afc4_like"


def drop_duplicates(apps, schema_editor):
    for name in FK_INDEXES.values():
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NOTIFICATION_KEY_LIKE}")


def restore_duplicates(apps, schema_editor):
    for column, name in FK_INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON requests_app_legalrequest ({column})")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {NOTIFICATION_KEY_LIKE} "
                              "ON requests_app_notification (key varchar_pattern_ops)")


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0007_authority_region'),
        ('requests_app', '0029_report_facts_row_trigger'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_duplicates, restore_duplicates, elidable=False)],
            state_operations=[
                migrations.AlterField(
                    model_name='legalrequest',
                    name='assigned_to',
                    field=models.ForeignKey(blank=True, db_index=False, null=True,
                                            on_delete=models.deletion.PROTECT, related_name='assigned_requests',
                                            to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='legalrequest',
                    name='authority',
                    field=models.ForeignKey(db_index=False, on_delete=models.deletion.PROTECT,
                                            related_name='requests', to='accounts.authority'),
                ),
                migrations.AlterField(
                    model_name='legalrequest',
                    name='linked_request',
                    field=models.ForeignKey(blank=True, db_index=False, null=True,
                                            on_delete=models.deletion.PROTECT, related_name='follow_ups',
                                            to='requests_app.legalrequest'),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name='legalrequest',
            index=models.Index(condition=models.Q(('linked_request__isnull', False)), fields=['linked_request'],
                               name='req_linked_request'),
        ),
        migrations.RemoveIndex(
            model_name='legalrequest',
            name='req_case_reference',
        ),
        migrations.RemoveIndex(
            model_name='legalrequest',
            name='req_report_dsa_times',
        ),
        migrations.AddIndex(
            model_name='legalrequest',
            index=models.Index(condition=models.Q(('instrument__in', ('dsa_information_order', 'dsa_removal_order'))),
                               fields=['instrument', 'received_at'],
                               include=('country', 'data_categories', 'first_acknowledged_at', 'first_produced_at'),
                               name='req_report_dsa_times'),
        ),
        migrations.RemoveIndex(
            model_name='target',
            name='target_value',
        ),
    ]
